import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACTIONS } from '../shared/actions.ts';
import { type CommandEvent, commandEventSchema } from '../shared/async/command-event.ts';
import { createDeploymentInvoker } from '../shared/async/deployment.ts';
import { createHandOffExecutor, MAX_TARGETS_PER_COMMAND, packCommands } from '../shared/async/hand-off-executor.ts';
import {
  type AsyncInvokeResult,
  type AsyncInvoker,
  handOffIdFor,
  InvokeError,
  MAX_HAND_OFF_EVENT_BYTES,
} from '../shared/async/invoker.ts';
import { type Env, parseConfig } from '../shared/config.ts';
import type { Invocation } from '../shared/core/invocation.ts';
import { createResponder } from '../shared/core/responder.ts';
import type { SourceEvent } from '../shared/core/target.ts';
import { createFunctionHandler } from '../shared/create-function.ts';
import { createRootLogger, requestLog } from '../shared/logger.ts';
import { genericRequest, invokeHttp, TEST_BEARER } from './support/invoke.ts';

/**
 * How an event is handed off: one command carrying all of its runnable targets (several only past
 * FC's 128 KiB event limit), under an ID derived from their clientTokens.
 */

const ACTION = ACTIONS['interrupt-elasticsearch-task'];
const config = parseConfig({
  ALLOWED_INSTANCES: 'es-cn-ok*',
  ALIBABA_CLOUD_REGION: 'cn-hangzhou',
  MAX_TARGETS_PER_EVENT: '1000',
});
const credentials = { accessKeyId: 'AK', accessKeySecret: 'S' };
const invocation: Invocation = {
  requestId: 'r-1',
  credentials,
  logger: requestLog(createRootLogger('test', { POWERTOOLS_LOG_LEVEL: 'SILENT' }), {}),
  deadline: Date.now() + 60_000,
};

function recordingInvoker(answer: (event: object, id: string) => Promise<AsyncInvokeResult>) {
  const invoked: Array<{ command: CommandEvent; id: string; credentials: unknown }> = [];
  const invoker: AsyncInvoker = {
    invoke: (event, id, given) => {
      invoked.push({ command: event as CommandEvent, id, credentials: given });
      return answer(event, id);
    },
  };
  return { invoked, invoker };
}

/** The responder of the test's function, its event handed off through `invoker`. */
function handOff(event: SourceEvent, source: string, invoker: AsyncInvoker) {
  const responder = createResponder({
    action: ACTION,
    policy: config.policy,
    chat: config.chat,
    region: config.region,
  });
  const executor = createHandOffExecutor({ action: ACTION, invoker, concurrency: config.fanOutConcurrency });
  return responder.respond(event, source, executor, invocation);
}

const event = (ids: string[], eventKey = 'slack:1.2.3'): SourceEvent => ({
  items: ids.map((instanceId) => ({ instanceId, eventKey })),
  reason: 'rollout stuck',
  reply: { url: 'https://hooks.slack.com/commands/T1/2/abc' },
});

describe('Function: createHandOffExecutor', () => {
  it('hands off one command for all runnable targets, under the ID of their tokens, and reports each target', async () => {
    const { invoked, invoker } = recordingInvoker(async () => ({ status: 'accepted', requestId: 'r1' }));
    const outcome = await handOff(event(['es-cn-ok-1', 'es-cn-denied', 'es-cn-ok-2']), 'slack', invoker);
    expect(outcome.status).toBe(202);
    expect(outcome.body.results.map((r) => [r.instanceId, r.outcome])).toEqual([
      ['es-cn-ok-1', 'accepted'],
      ['es-cn-denied', 'refused'],
      ['es-cn-ok-2', 'accepted'],
    ]);
    expect(invoked).toHaveLength(1);
    const [{ command, id, credentials: given }] = invoked as [
      { command: CommandEvent; id: string; credentials: unknown },
    ];
    expect(commandEventSchema().safeParse(command).success).toBe(true);
    expect(command.targets.map((t) => t.instanceId)).toEqual(['es-cn-ok-1', 'es-cn-ok-2']);
    expect(command.reply).toEqual({ url: 'https://hooks.slack.com/commands/T1/2/abc' });
    const tokens = outcome.body.results.filter((r) => r.outcome === 'accepted').map((r) => r.clientToken as string);
    expect(id).toBe(handOffIdFor(tokens));
    // The invoker is the function's; the credentials are the invocation's.
    expect(given).toBe(credentials);
  });

  it.each([
    ['slack', { url: 'https://hooks.slack.com/commands/T1/2/abc' }, true],
    ['slack', { url: 'https://open.feishu.cn/open-apis/im/v1/messages/om_x1/reply' }, false],
    ['slack', { url: 'https://hooks.slack.com/services/T1/B2/xyz' }, false],
    ['slack', { messageId: 'om_x1' }, false],
    ['dingtalk', { url: 'https://oapi.dingtalk.com/robot/sendBySession?session=c0ffee' }, true],
    ['dingtalk', { url: 'https://hooks.slack.com/commands/T1/2/abc' }, false],
    ['feishu', { messageId: 'om_x1' }, true],
    ['feishu', { url: 'https://open.feishu.cn/open-apis/im/v1/messages/om_x1/reply' }, false],
    ['generic', { url: 'https://hooks.slack.com/commands/T1/2/abc' }, false],
  ])('puts into a %s command only a reply target of its own platform: %j', async (source, reply, kept) => {
    const { invoked, invoker } = recordingInvoker(async () => ({ status: 'accepted' }));
    const outcome = await handOff(
      { items: [{ instanceId: 'es-cn-ok-1', eventKey: `${source}:1` }], reply },
      source,
      invoker,
    );
    const command = invoked[0]?.command as CommandEvent;
    expect(commandEventSchema().safeParse(command).success).toBe(true);
    expect(command.reply).toEqual(kept ? reply : undefined);
    expect(outcome.body.results[0]?.message?.includes('the outcome will be posted here')).toBe(kept);
  });

  it('tells every target of a duplicate that it runs once', async () => {
    const { invoker } = recordingInvoker(async () => ({ status: 'duplicate', taskStatus: 'Running' }));
    const outcome = await handOff({ ...event(['es-cn-ok-1', 'es-cn-ok-2']), reply: undefined }, 'slack', invoker);
    expect(outcome.body.results.map((r) => r.message)).toEqual([
      'InterruptElasticsearchTask was already handed off for this event; it runs once',
      'InterruptElasticsearchTask was already handed off for this event; it runs once',
    ]);
  });

  it.each([
    [
      new InvokeError('Throttled', 'FC answered 429 at 123.cn-hangzhou.fc.aliyuncs.com', {
        retryable: true,
        httpStatus: 429,
      }),
      503,
    ],
    [
      new InvokeError('Refused', 'FC answered 403 AccessDenied: acs:fc:cn-hangzhou:123:functions/x', {
        retryable: false,
        httpStatus: 403,
        platformCode: 'AccessDenied',
      }),
      200,
    ],
    [new InvokeError('RunsExhausted', 'ran 4 times', { retryable: false, platformCode: 'Failed' }), 200],
  ])('reports a failed hand-off (%s) on every target, in our words', async (error, status) => {
    const { invoker } = recordingInvoker(() => Promise.reject(error));
    const outcome = await handOff(event(['es-cn-ok-1', 'es-cn-ok-2']), 'slack', invoker);
    expect(outcome.status).toBe(status);
    for (const result of outcome.body.results) {
      expect(result).toMatchObject({ outcome: 'failed', code: error.code, retryable: error.retryable });
      expect(result.message).not.toContain('123');
      expect(result.message).not.toContain('aliyuncs');
      if (error.platformCode) expect(result.message).toContain(error.platformCode);
    }
  });

  it('hands nothing off, and needs no credentials, when the plan leaves nothing to run', async () => {
    const { invoked, invoker } = recordingInvoker(async () => ({ status: 'accepted' }));
    const executor = createHandOffExecutor({ action: ACTION, invoker, concurrency: 4 });
    const results = await executor.run(
      [],
      { source: 'slack', event: event([]) },
      { ...invocation, credentials: undefined },
    );
    expect(results).toEqual([]);
    expect(invoked).toEqual([]);
  });

  it('refuses to hand off without credentials (500: the function has no role)', async () => {
    const { invoked, invoker } = recordingInvoker(async () => ({ status: 'accepted' }));
    const responder = createResponder({
      action: ACTION,
      policy: config.policy,
      chat: config.chat,
      region: config.region,
    });
    const executor = createHandOffExecutor({ action: ACTION, invoker, concurrency: 4 });
    await expect(
      responder.respond(event(['es-cn-ok-1']), 'slack', executor, { ...invocation, credentials: undefined }),
    ).rejects.toMatchObject({ status: 500, code: 'InvalidConfiguration' });
    expect(invoked).toEqual([]);
  });

  it('splits an event of hundreds of targets into commands that each fit FC’s limit, every target once', async () => {
    const { invoked, invoker } = recordingInvoker(async () => ({ status: 'accepted' }));
    const ids = Array.from({ length: 900 }, (_, i) => `es-cn-ok-${String(i).padStart(4, '0')}`);
    const longKey = `grafana:${'k'.repeat(240)}`;
    const outcome = await handOff(event(ids, longKey), 'grafana', invoker);
    expect(outcome.body.results.every((r) => r.outcome === 'accepted')).toBe(true);
    expect(invoked.length).toBeGreaterThan(1);
    for (const { command } of invoked)
      expect(Buffer.byteLength(JSON.stringify(command))).toBeLessThanOrEqual(MAX_HAND_OFF_EVENT_BYTES);
    expect(invoked.flatMap(({ command }) => command.targets.map((t) => t.instanceId)).sort()).toEqual(ids);
  });
});

describe('Function: createFunctionHandler, choosing the hand-off', () => {
  const env = (extra: Env): Env => ({
    ALLOWED_INSTANCES: 'es-cn-ok*',
    ALIBABA_CLOUD_REGION: 'cn-hangzhou',
    ALIBABA_CLOUD_ACCESS_KEY_ID: 'AK',
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'S',
    GENERIC_BEARER_TOKENS: TEST_BEARER,
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    ...extra,
  });
  const delivery = (key: string) =>
    genericRequest('interrupt-elasticsearch-task', JSON.stringify({ instanceIds: ['es-cn-ok-1'] }), {
      authorization: `Bearer ${TEST_BEARER}`,
      'idempotency-key': key,
      'content-type': 'application/json',
    });

  it.each([
    ['a handed-off source', { ASYNC_SOURCES: 'generic' }, 1, 'accepted'],
    ['a handed-off source under DRY_RUN', { ASYNC_SOURCES: 'generic', DRY_RUN: 'true' }, 0, 'dry-run'],
  ])('hands off %s only when it is to act: %i hand-off, outcome %s', async (_, extra, handOffs, outcome) => {
    const { invoked, invoker } = recordingInvoker(async () => ({ status: 'accepted' }));
    const handler = createFunctionHandler('interrupt-elasticsearch-task', { env: env(extra), invoker });
    const response = await invokeHttp(handler, delivery(`k-${outcome}`));
    const body = (await response.json()) as { results: Array<{ outcome: string }> };
    expect(body.results.map((r) => r.outcome)).toEqual([outcome]);
    expect(invoked).toHaveLength(handOffs);
  });
});

describe('Function: packCommands', () => {
  const runnable = (n: number) =>
    Array.from({ length: n }, (_, i) => ({
      target: { instanceId: `es-cn-x${i}`, regionId: 'cn-hangzhou', eventKey: 'e' },
      clientToken: `ies1-${(i * 7919).toString(16).padStart(40, '0')}`,
    }));

  it('packs the same targets into the same commands whatever their order, keeping the event’s order inside', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 80 }), fc.integer({ min: 1, max: 20 }), (n, per) => {
        const targets = runnable(n);
        const batches = packCommands(targets, per);
        const again = packCommands([...targets].reverse(), per);
        const membership = (bs: typeof batches) => bs.map((b) => b.map((p) => p.clientToken).sort()).sort();
        expect(membership(again)).toEqual(membership(batches));
        expect(batches.flat().length).toBe(n);
        expect(batches.length).toBe(Math.ceil(n / per));
        for (const batch of batches) {
          const positions = batch.map((p) => targets.indexOf(p));
          expect(positions).toEqual([...positions].sort((a, b) => a - b));
        }
      }),
    );
  });

  it('keeps an ordinary event in one command', () => {
    expect(packCommands(runnable(MAX_TARGETS_PER_COMMAND))).toHaveLength(1);
    expect(packCommands(runnable(MAX_TARGETS_PER_COMMAND + 1))).toHaveLength(2);
  });

  it('fits FC’s event limit with the largest command it can build', () => {
    // Every field at its longest, and made of the characters JSON spends the most bytes on.
    const worst: CommandEvent = {
      responderCommand: 1,
      function: 'interrupt-elasticsearch-task',
      source: 'generic',
      reason: '\u0001'.repeat(1000),
      targets: Array.from({ length: MAX_TARGETS_PER_COMMAND }, (_, i) => ({
        instanceId: `es-${String(i).padStart(3, '0')}${'a'.repeat(60)}`,
        regionId: 'cn-heyuan-acdr-1',
        eventKey: `!${'"\\'.repeat(127)}!`,
      })),
      requester: {
        platform: 'feishu',
        userIds: ['\u0001'.repeat(256), '\u0001'.repeat(256), '\u0001'.repeat(256)],
        userName: '\u0001'.repeat(256),
        placeId: '\u0001'.repeat(256),
        placeName: '\u0001'.repeat(256),
        command: '\u0001'.repeat(256),
      },
      reply: { url: `https://hooks.slack.com/${'a'.repeat(2048 - 24)}` },
    };
    expect(commandEventSchema().safeParse(worst).success).toBe(true);
    expect(Buffer.byteLength(JSON.stringify(worst))).toBeLessThanOrEqual(MAX_HAND_OFF_EVENT_BYTES);
  });
});

describe('Function: createDeploymentInvoker', () => {
  it('turns coordinates it cannot use (an account ID the configuration would refuse, given directly) into a non-retryable InvokeError, never a bare error', async () => {
    const invoker = createDeploymentInvoker(
      {
        api: 'fc3',
        accountId: 'not-an-account',
        region: 'cn-hangzhou',
        qualifier: undefined,
        endpoint: undefined,
        timeoutMs: 1000,
        functionName: undefined,
      },
      'interrupt-elasticsearch-task',
    );
    const error = await invoker
      .invoke({ responderCommand: 1 }, 'rsp1_x', { accessKeyId: 'a', accessKeySecret: 'b' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvokeError);
    expect(error).toMatchObject({ code: 'ClientError', retryable: false });
  });
});
