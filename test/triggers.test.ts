import { describe, expect, it } from 'vitest';
import { ACTIONS } from '../shared/actions.ts';
import type { ChatReplier } from '../shared/async/chat-replier.ts';
import { ReplyError } from '../shared/async/reply-sender.ts';
import { parseConfig } from '../shared/config.ts';
import type { InvocationStart } from '../shared/core/invocation.ts';
import type { PlannedTarget } from '../shared/core/plan.ts';
import { createResponder, type Executor } from '../shared/core/responder.ts';
import type { TargetResult } from '../shared/core/result.ts';
import { createRootLogger } from '../shared/logger.ts';
import { CHAT_SOURCE_NAMES, createSources } from '../shared/sources/registry.ts';
import { createCommandHandler } from '../shared/triggers/command.ts';
import { createTimerHandler } from '../shared/triggers/timer.ts';
import { FAKE_CREDENTIALS } from './support/fakes.ts';
import { captureOutput, outputLines } from './support/log-capture.ts';
import { commandRequester } from './support/requester.ts';
import { CHAT_SOURCES } from './support/senders.ts';

/**
 * The timer and command handlers, driven directly as the FC adapter drives them (a tick or a
 * decoded command, and what the adapter knows of the invocation), with an executor that records
 * what it was asked to act on.
 */

const FN = 'interrupt-elasticsearch-task';
const config = parseConfig({
  ALLOWED_INSTANCES: 'es-cn-ok*',
  ALIBABA_CLOUD_REGION: 'cn-hangzhou',
  SLACK_ALLOWED_USERS: 'U-test',
});
const start: InvocationStart = { requestId: 'fc-req-7', credentials: FAKE_CREDENTIALS };

function recordingExecutor(outcome: (t: PlannedTarget) => Partial<TargetResult> = () => ({ outcome: 'applied' })) {
  const runs: Array<{ targets: readonly PlannedTarget[]; source: string; requestId: string }> = [];
  const executor: Executor = {
    guardrails: 'decide',
    async run(targets, { source }, invocation) {
      runs.push({ targets, source, requestId: invocation.requestId });
      return targets.map((t) => ({
        instanceId: t.instanceId,
        clientToken: t.clientToken,
        outcome: 'applied',
        ...outcome(t),
      }));
    },
  };
  return { executor, runs };
}

function options(executor: Executor, maxBodyBytes = 4096) {
  return {
    responder: createResponder({
      action: ACTIONS[FN],
      policy: config.policy,
      chat: config.chat,
      region: config.region,
    }),
    executor,
    logger: createRootLogger(FN, { POWERTOOLS_LOG_LEVEL: 'INFO' }),
    maxBodyBytes,
    deadlineMs: 20_000,
  };
}

const tick = (payload: unknown, name = 'nightly') => ({
  name,
  time: '2026-11-25T02:00:00Z',
  payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
});

describe('Function: createTimerHandler', () => {
  it('runs the payload’s targets directly, each under the tick’s event key, and logs what it received', async () => {
    const { executor, runs } = recordingExecutor();
    const timer = createTimerHandler(options(executor));
    const { value: answer, text } = await captureOutput(() =>
      timer(tick({ instanceIds: ['es-cn-ok-1', 'es-cn-no-2'], reason: 'window closes' }), start),
    );
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ function: FN, source: 'timer', summary: '1 applied, 1 refused' });
    expect(runs).toEqual([
      {
        source: 'timer',
        requestId: 'fc-req-7',
        targets: [
          expect.objectContaining({ instanceId: 'es-cn-ok-1', eventKey: 'timer:nightly@2026-11-25T02:00:00Z' }),
        ],
      },
    ]);
    const received = outputLines(text)
      .map((l) => JSON.parse(l))
      .find((l) => l.message === 'received');
    expect(received).toMatchObject({ requestId: 'fc-req-7', source: 'timer', trigger: 'nightly', targets: 2 });
  });

  it.each([
    ['a payload that is not JSON', '{"instanceIds": [', 400, 'InvalidPayload', /not valid JSON/],
    [
      'a payload with a state',
      { instanceIds: ['es-cn-ok-1'], state: 'firing' },
      400,
      'InvalidPayload',
      /a schedule is not an alert/,
    ],
    ['a payload naming no instance', { instanceIds: [] }, 400, 'InvalidPayload', /instanceIds/],
    [
      'a payload over the size limit',
      { instanceIds: ['es-cn-ok-1'], reason: 'x'.repeat(5000) },
      413,
      'PayloadTooLarge',
      /limit/,
    ],
  ])('answers %s with its refusal, acting on nothing', async (_, payload, status, code, message) => {
    const { executor, runs } = recordingExecutor();
    const { value: answer } = await captureOutput(() => createTimerHandler(options(executor))(tick(payload), start));
    expect(answer.status).toBe(status);
    expect(answer.body.error).toEqual({ code, message: expect.stringMatching(message) });
    expect(runs).toEqual([]);
  });

  it('answers a bug with a 500 that says nothing of it, and logs it', async () => {
    const executor: Executor = {
      guardrails: 'decide',
      run: () => Promise.reject(new Error('at https://internal.example/x')),
    };
    const { value: answer, text } = await captureOutput(() =>
      createTimerHandler(options(executor))(tick({ instanceIds: ['es-cn-ok-1'] }), start),
    );
    expect(answer).toMatchObject({
      status: 500,
      body: { error: { code: 'InternalError', message: 'internal error' } },
    });
    expect(JSON.stringify(answer.body)).not.toContain('internal.example');
    expect(text).toContain('unexpected error');
  });
});

describe('Function: createCommandHandler', () => {
  const command = (extra: Record<string, unknown> = {}) => ({
    responderCommand: 1,
    function: FN,
    source: 'slack',
    reason: 'handed off',
    targets: [{ instanceId: 'es-cn-ok-1', regionId: 'cn-hangzhou', eventKey: 'slack:1.2' }],
    ...commandRequester('slack'),
    ...extra,
  });
  /** The function's senders; a Slack report is Slack's message shape. */
  const sources = createSources(parseConfig({ SLACK_SIGNING_SECRETS: 'test-secret' }));

  function recordingReplier(fail?: Error) {
    const reports: Array<{ source: string; target: unknown; body: unknown }> = [];
    const replier: ChatReplier = {
      async report(source, target, body) {
        reports.push({ source, target, body });
        if (fail) throw fail;
      },
    };
    return { replier, reports };
  }

  it('runs the command’s targets directly under their own event keys, and reports in the platform’s shape', async () => {
    const { executor, runs } = recordingExecutor();
    const { replier, reports } = recordingReplier();
    const handler = createCommandHandler({ ...options(executor), sources, replier });
    const reply = { url: 'https://hooks.slack.com/commands/T1/2/abc' };
    const { value: answer } = await captureOutput(() => handler(command({ reply }), start));
    expect(answer.body).toMatchObject({ source: 'slack', summary: '1 applied' });
    expect(runs[0]?.targets).toEqual([expect.objectContaining({ instanceId: 'es-cn-ok-1', eventKey: 'slack:1.2' })]);
    const slack = await sources.slack();
    expect(reports).toEqual([{ source: 'slack', target: reply, body: slack.replyBody?.(answer.body) }]);
    expect(JSON.stringify(reports[0]?.body)).toContain('es-cn-ok-1');
  });

  it('keeps the result when the report fails, and logs why (FC must not run the command again)', async () => {
    const { executor } = recordingExecutor();
    const { replier } = recordingReplier(
      new ReplyError('ReplyTimeout', 'hooks.slack.com timed out', { retryable: true }),
    );
    const handler = createCommandHandler({ ...options(executor), sources, replier });
    const { value: answer, text } = await captureOutput(() =>
      handler(command({ reply: { url: 'https://hooks.slack.com/commands/T1/2/abc' } }), start),
    );
    expect(answer.status).toBe(200);
    expect(outputLines(text).map((l) => JSON.parse(l))).toContainEqual(
      expect.objectContaining({ message: 'report failed', code: 'ReplyTimeout', source: 'slack' }),
    );
  });

  it.each([
    [
      'another function’s command',
      command({ function: 'resume-elasticsearch-task' }),
      /is for resume-elasticsearch-task/,
    ],
    ['a command of an unknown source', command({ source: 'email' }), /^invalid internal command: source: /],
    ['a command with no target', command({ targets: [] }), /^invalid internal command: targets: /],
    ['a command with an extra key', command({ extra: 1 }), /^invalid internal command: /],
    // Forged by whoever may invoke the function: a chat command that names no one skips no allow-list.
    ['a Slack command that names no one', command({ requester: undefined }), /a slack command must name who asked/],
    [
      'a DingTalk command that names no one',
      command({ source: 'dingtalk', requester: undefined }),
      /a dingtalk command must name who asked/,
    ],
    [
      'a Feishu command that names no one',
      command({ source: 'feishu', requester: undefined }),
      /a feishu command must name who asked/,
    ],
  ])('refuses %s (400), acting on nothing and reporting nothing', async (_, event, message) => {
    const { executor, runs } = recordingExecutor();
    const { replier, reports } = recordingReplier();
    const handler = createCommandHandler({ ...options(executor), sources, replier });
    const { value: answer } = await captureOutput(() => handler(event, start));
    expect(answer).toMatchObject({ status: 400, body: { source: '', error: { code: 'InvalidPayload' } } });
    expect(answer.body.error?.message).toMatch(message);
    expect(runs).toEqual([]);
    expect(reports).toEqual([]);
  });

  it.each([
    ['a user not in SLACK_ALLOWED_USERS', commandRequester('slack', 'U-mallory'), 'UserNotAllowed'],
    [
      'another function’s Slack command',
      commandRequester('slack', 'U-test', 'resume-elasticsearch-task'),
      'WrongCommand',
    ],
  ])('refuses a handed-off command from %s, as the HTTP invocation would, calling nothing', async (_, who, code) => {
    const { executor, runs } = recordingExecutor();
    const handler = createCommandHandler({ ...options(executor), sources });
    const { value: answer } = await captureOutput(() => handler(command(who), start));
    expect(answer.body.results).toEqual([expect.objectContaining({ outcome: 'refused', code })]);
    expect(runs.flatMap((r) => r.targets)).toEqual([]);
  });
});

describe('Constant: CHAT_SOURCE_NAMES', () => {
  it('is the senders a command is reported back to (a reply target): the chat platforms, no alerting sender', () => {
    expect([...CHAT_SOURCE_NAMES].sort()).toEqual(['dingtalk', 'feishu', 'slack']);
    expect([...CHAT_SOURCE_NAMES].sort()).toEqual([...CHAT_SOURCES].sort());
  });
});
