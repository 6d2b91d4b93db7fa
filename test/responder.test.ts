import { describe, expect, it } from 'vitest';
import { ACTIONS } from '../shared/actions.ts';
import { parseConfig } from '../shared/config.ts';
import type { PlannedTarget } from '../shared/core/plan.ts';
import { createResponder, type Executor } from '../shared/core/responder.ts';
import { ApiError } from '../shared/elasticsearch/api-error.ts';
import { NotFoundError, PayloadError } from '../shared/errors.ts';
import { fakeInvocation, recordingLog } from './support/fakes.ts';

/** The skeleton every entry point shares: plan, then the chosen executor, then the answer. */

const FN = 'interrupt-elasticsearch-task';
const config = parseConfig({
  ALLOWED_INSTANCES: 'es-cn-ok*',
  ALIBABA_CLOUD_REGION: 'cn-hangzhou',
  MAX_TARGETS_PER_EVENT: '2',
  SLACK_ALLOWED_USERS: 'U1',
});
const responder = createResponder({
  action: ACTIONS[FN],
  policy: config.policy,
  chat: config.chat,
  region: config.region,
});

function recordingExecutor(answered?: number) {
  const asked: PlannedTarget[][] = [];
  const executor: Executor = {
    guardrails: 'decide',
    async run(targets) {
      asked.push([...targets]);
      return targets
        .slice(0, answered ?? targets.length)
        .map((t) => ({ instanceId: t.instanceId, clientToken: t.clientToken, outcome: 'applied' as const }));
    },
  };
  return { executor, asked };
}

const item = (instanceId: string, alertState?: 'firing' | 'resolved') => ({ instanceId, eventKey: 'am:k', alertState });

describe('Function: createResponder, respond', () => {
  it('hands the executor only the runnable targets, and answers every item in the event’s order', async () => {
    const { executor, asked } = recordingExecutor();
    const invocation = fakeInvocation();
    const outcome = await responder.respond(
      {
        items: [item('es-cn-no-1'), item('es-cn-ok-2'), item('es-cn-ok-3', 'resolved')],
        notes: ['one alert had no label'],
      },
      'alertmanager',
      executor,
      invocation,
    );
    expect(asked.map((targets) => targets.map((t) => t.instanceId))).toEqual([['es-cn-ok-2']]);
    expect(outcome.status).toBe(200);
    expect(outcome.body).toMatchObject({
      function: FN,
      source: 'alertmanager',
      dryRun: false,
      summary: '2 refused, 1 applied',
      notes: ['one alert had no label'],
    });
    expect(outcome.body.results.map((r) => [r.instanceId, r.outcome, r.code])).toEqual([
      ['es-cn-no-1', 'refused', 'NotAllowed'],
      ['es-cn-ok-2', 'applied', undefined],
      ['es-cn-ok-3', 'refused', 'AlertStateIgnored'],
    ]);
    // Each refusal is one line of the log, the set-aside item at info.
    expect(invocation.lines.map((l) => [l.level, l.message, l.attributes.code])).toEqual([
      ['info', 'refused', 'AlertStateIgnored'],
      ['warn', 'refused', 'NotAllowed'],
    ]);
  });

  it('answers a refused event with its reason as the summary and its status, the executor given nothing', async () => {
    const { executor, asked } = recordingExecutor();
    const outcome = await responder.respond(
      { items: [item('es-cn-ok-1'), item('es-cn-ok-2'), item('es-cn-ok-3')] },
      'generic',
      executor,
      fakeInvocation(),
    );
    expect(asked).toEqual([[]]);
    expect(outcome.status).toBe(403);
    expect(outcome.body.summary).toMatch(/MAX_TARGETS_PER_EVENT=2/);
  });

  it('names who asked in a chat command’s answer', async () => {
    const requester = { platform: 'slack' as const, userIds: ['U1'], userName: 'steve', command: '/es-interrupt' };
    const outcome = await responder.respond(
      { items: [item('es-cn-ok-1')], requester },
      'slack',
      recordingExecutor().executor,
      fakeInvocation(),
    );
    expect(outcome.body.requestedBy).toEqual({ userId: 'U1', userName: 'steve' });
  });

  it('refuses an executor that does not answer every target it was given (a bug, never a partial answer)', async () => {
    await expect(
      responder.respond({ items: [item('es-cn-ok-1')] }, 'generic', recordingExecutor(0).executor, fakeInvocation()),
    ).rejects.toThrow(/answered 0 of 1/);
  });
});

describe('Function: createResponder, fail', () => {
  it('answers a request-ending error with its status and words, a 404 with what exists, and logs why', () => {
    const { log, lines } = recordingLog();
    const notFound = responder.fail(new NotFoundError('no such source', { sources: ['generic'] }), '', log);
    expect(notFound).toMatchObject({
      status: 404,
      body: { results: [], error: { code: 'NotFound', message: 'no such source', sources: ['generic'] } },
    });
    expect(responder.fail(new PayloadError('instanceIds: required'), 'generic', log).status).toBe(400);
    expect(lines.map((l) => [l.level, l.message, l.attributes.code])).toEqual([
      ['warn', 'refused', 'NotFound'],
      ['warn', 'refused', 'InvalidPayload'],
    ]);
  });

  it.each([
    ['a bug', new TypeError('cannot read https://internal.example/x')],
    [
      'a platform failure that escaped its executor',
      new ApiError({ code: 'Forbidden', message: 'account 1234567890123456 at es.internal.example', retryable: false }),
    ],
  ])('answers %s with a 500 that says nothing of it, logged whole', (_, error) => {
    const { log, lines } = recordingLog();
    const answer = responder.fail(error, 'generic', log);
    expect(answer).toMatchObject({
      status: 500,
      body: { error: { code: 'InternalError', message: 'internal error' } },
    });
    expect(JSON.stringify(answer.body)).not.toMatch(/internal\.example|1234567890123456/);
    expect(lines).toEqual([{ level: 'error', message: 'unexpected error', attributes: { error } }]);
  });
});

describe('Function: createResponder, respond with guardrails', () => {
  it('gives back every allowed target’s claim when the executor throws before any call', async () => {
    const settled: Array<{ instanceId: string; outcome: string }> = [];
    const guarded = createResponder({
      action: ACTIONS[FN],
      policy: config.policy,
      chat: config.chat,
      region: config.region,
      guard: {
        ownResumptions: async () => new Set(),
        callDeadline: (deadline) => deadline,
        async check() {
          return {
            allowed: true,
            notes: [],
            async settle(result) {
              settled.push({ instanceId: result.instanceId, outcome: result.outcome });
              return undefined;
            },
          };
        },
        preview: () => Promise.reject(new Error('a real run previews nothing')),
      },
    });
    const throwing: Executor = {
      guardrails: 'decide',
      run: () => Promise.reject(new Error('no credentials')),
    };
    await expect(
      guarded.respond({ items: [item('es-cn-ok-1'), item('es-cn-ok-2')] }, 'alertmanager', throwing, fakeInvocation()),
    ).rejects.toThrow('no credentials');
    // Settled as not made: the store releases the budget claim and drops the flip.
    expect(settled).toEqual([
      { instanceId: 'es-cn-ok-1', outcome: 'failed' },
      { instanceId: 'es-cn-ok-2', outcome: 'failed' },
    ]);
  });
});
