import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { FUNCTION_NAMES, type FunctionName } from '../shared/actions.ts';
import type { ResponseBody } from '../shared/core/result.ts';
import { createFunctionHandler } from '../shared/create-function.ts';
import { NO_STORE_WARNING } from '../shared/guardrails/open-store.ts';
import { createEmbeddedStore } from '../shared/state/embedded-store.ts';
import { type StateStore, StateStoreUnavailable } from '../shared/state/store.ts';
import { alertGroupBody, fixture } from './fixtures/alertmanager/kit.ts';
import { cloudEnv, useEmulator, wireFunction } from './support/function-harness.ts';
import { captureOutput, outputLines } from './support/log-capture.ts';
import { commandRequester } from './support/requester.ts';

/**
 * The guardrails as the functions use them: the status each refusal gives, a store that fails for
 * one target, hand-offs decided in the command invocation, the cold-start warning without a
 * store, and the Redis client kept off the cold path of requests that need no state.
 */

const TOKEN = 'am-wiring-token-8a2c';
const A = 'es-cn-demo-wire-a';
const B = 'es-cn-demo-wire-b';
const upstream = useEmulator({
  seed: () => [
    { instanceId: A, status: 'activating' },
    { instanceId: B, status: 'activating' },
  ],
});

/** An Alertmanager group naming `ids`, each a fresh firing (or resolved) alert. */
function group(ids: string[], status: 'firing' | 'resolved' = 'firing'): string {
  const bodies = ids.map((id) => alertGroupBody(fixture(status), id, status));
  const first = bodies[0] as ReturnType<typeof fixture>;
  return JSON.stringify({ ...first, alerts: bodies.flatMap((b) => b.alerts) });
}
const headers = { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` };
/** The log is what these tests read (the suite runs SILENT otherwise). */
const LOGGED = { POWERTOOLS_LOG_LEVEL: 'INFO' };

/** The embedded store, failing every operation on `instanceId`'s keys as a store that does not answer. */
function failingFor(instanceId: string): StateStore {
  const store = createEmbeddedStore();
  const fail = () => Promise.reject(new StateStoreUnavailable('timeout', 'test: no answer'));
  return {
    ...store,
    admitFlip: (key, ...rest) => (key.endsWith(instanceId) ? fail() : store.admitFlip(key, ...rest)),
  };
}

describe('Function: the guardrails in the request path', () => {
  it('answers 503 when the store fails for one target, even beside an applied one, so Alertmanager retries', async () => {
    const fn = wireFunction(
      upstream.url,
      'interrupt-elasticsearch-task',
      'alertmanager',
      { ALERTMANAGER_BEARER_TOKENS: TOKEN, ...LOGGED },
      { stateStore: failingFor(B) },
    );
    const { value: answer, text } = await captureOutput(() => fn.post(group([A, B]), headers));
    expect(answer.status).toBe(503);
    expect(answer.body.results.map((r) => [r.instanceId, r.outcome, r.code])).toEqual([
      [A, 'applied', undefined],
      [B, 'refused', 'StateStoreUnavailable'],
    ]);
    expect(upstream.state(B)?.status).toBe('activating');
    // The cause goes to the log, never to the sender.
    expect(JSON.stringify(answer.body)).not.toContain('test: no answer');
    expect(text).toContain('test: no answer');
  });

  it.each<[string, number, string]>([
    ['NotInterruptedByResponder', 200, 'a resolved alert for an instance nothing of ours interrupted'],
    ['ChangeBudgetExhausted', 200, 'an alert past the budget'],
  ])('answers %s with %i (%s)', async (code, status) => {
    const store = createEmbeddedStore();
    const env = { ALERTMANAGER_BEARER_TOKENS: TOKEN, FLEET_CHANGE_BUDGET: '1/10m' };
    if (code === 'ChangeBudgetExhausted') {
      const interrupt = wireFunction(upstream.url, 'interrupt-elasticsearch-task', 'alertmanager', env, {
        stateStore: store,
      });
      expect((await captureOutput(() => interrupt.post(group([A]), headers))).value.status).toBe(200);
      const { value } = await captureOutput(() => interrupt.post(group([B]), headers));
      expect([value.status, value.body.results[0]?.code]).toEqual([status, code]);
    } else {
      upstream.emulator.reset([{ instanceId: A, status: 'suspended' }]);
      const resume = wireFunction(upstream.url, 'resume-elasticsearch-task', 'alertmanager', env, {
        stateStore: store,
      });
      const { value } = await captureOutput(() => resume.post(group([A], 'resolved'), headers));
      expect([value.status, value.body.results[0]?.code]).toEqual([status, code]);
    }
  });

  it('logs a Flapping refusal as a warning', async () => {
    const store = createEmbeddedStore();
    const env = { ALERTMANAGER_BEARER_TOKENS: TOKEN, FLAP_GUARD: '1/10m', ...LOGGED };
    const interrupt = wireFunction(upstream.url, 'interrupt-elasticsearch-task', 'alertmanager', env, {
      stateStore: store,
    });
    const resume = wireFunction(upstream.url, 'resume-elasticsearch-task', 'alertmanager', env, { stateStore: store });
    await captureOutput(() => interrupt.post(group([A]), headers));
    await captureOutput(() => resume.post(group([A], 'resolved'), headers));
    const { value, text } = await captureOutput(() => interrupt.post(group([A]), headers));
    expect([value.status, value.body.results[0]?.code]).toEqual([200, 'Flapping']);
    const line = outputLines(text)
      .map((l) => JSON.parse(l) as { level: string; message: string; code?: string })
      .find((l) => l.code === 'Flapping');
    expect(line).toMatchObject({ level: 'WARN', message: 'refused' });
  });
});

describe('Function: a hand-off, decided and settled in the command invocation', () => {
  const command = (source: string, alertState?: 'firing', eventKey = 'slack:cmd-1') => ({
    responderCommand: 1,
    function: 'interrupt-elasticsearch-task',
    source,
    targets: [{ instanceId: A, regionId: 'cn-hangzhou', eventKey, ...(alertState ? { alertState } : {}) }],
    ...commandRequester(source),
  });

  it('counts a chat command past the budget and does not refuse it, once however often it runs, and says so', async () => {
    const store = createEmbeddedStore();
    const handler = createFunctionHandler('interrupt-elasticsearch-task', {
      env: {
        ...cloudEnv(upstream.url),
        FLEET_CHANGE_BUDGET: '1/10m',
        SLACK_ALLOWED_USERS: 'U-test',
        POWERTOOLS_LOG_LEVEL: 'SILENT',
      },
      stateStore: store,
    });
    // An alert's command, handed off, spends the one unit; the next alert's is refused, in the command invocation.
    expect(await handler(command('alertmanager', 'firing', 'alertmanager:f1@t'))).toMatchObject({
      results: [{ outcome: 'applied' }],
    });
    upstream.emulator.reset([{ instanceId: A, status: 'activating' }]);
    expect(await handler(command('alertmanager', 'firing', 'alertmanager:f2@t'))).toMatchObject({
      results: [{ outcome: 'refused', code: 'ChangeBudgetExhausted' }],
    });
    // A person's, from chat: counted (over the budget), never refused; FC's retry of it counts nothing more.
    for (let run = 0; run < 2; run++) {
      const body = (await handler(command('slack'))) as ResponseBody;
      expect(body.results[0]).toMatchObject({
        outcome: run === 0 ? 'applied' : expect.stringMatching(/applied|already/),
      });
      expect(body.results[0]?.message).toContain(
        'counted toward the fleet change budget (2 of 1/10m, over the budget)',
      );
      expect(body.results[0]?.message).toContain("a person's command is never refused by it");
    }
  });
});

describe('Function: the cold start and the state store', () => {
  const cold = (name: FunctionName, env: Record<string, string>) =>
    captureOutput(async () => createFunctionHandler(name, { env: { ...cloudEnv(upstream.url), ...LOGGED, ...env } }));

  it.each(FUNCTION_NAMES)('%s warns at cold start without STATE_STORE_URL, and not with it', async (name) => {
    expect((await cold(name, {})).text).toContain(NO_STORE_WARNING);
    expect((await cold(name, { STATE_STORE_URL: 'redis://127.0.0.1:1' })).text).not.toContain(NO_STORE_WARNING);
  });
});

const run = promisify(execFile);

describe('Function: the built bundles keep redis.js off requests that need no state', () => {
  const { dir } = inject('bundles');
  /** Runs `events` through a bundle in a fresh process, answering which loaded redis.js and each status. */
  async function through(
    name: FunctionName,
    env: Record<string, string>,
    bodies: Array<[string, string, Record<string, string>]>,
  ) {
    const script = `
      const mod = require(${JSON.stringify(join(dir, name, 'index.js'))});
      const { handler } = mod;
      // The loader compiles redis.js itself (with its code cache) and lists it among the siblings it ran.
      const loaded = () =>
        mod[Symbol.for('es-change-responder.code-cache')].siblings.has('./redis.js') ||
        Object.keys(require.cache).some((p) => p.endsWith('redis.js'));
      const events = ${JSON.stringify(bodies)};
      (async () => {
        const seen = [];
        for (const [path, body, headers] of events) {
          const event = { version: 'v1', rawPath: path, body, isBase64Encoded: false, headers, queryParameters: {},
            requestContext: { accountId: '1', domainName: 'x.fcapp.run', domainPrefix: 'x', requestId: 'r',
              http: { method: 'POST', path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 't' }, time: '', timeEpoch: '0' } };
          const result = await handler(Buffer.from(JSON.stringify(event)), { requestId: 'r', credentials: { accessKeyId: 'a', accessKeySecret: 'b' } });
          seen.push([result.statusCode, loaded()]);
        }
        process.stdout.write(JSON.stringify(seen));
        process.exit(0);
      })();
    `;
    const { stdout } = await run(process.execPath, ['-e', script], {
      env: { PATH: process.env.PATH ?? '', ...env, POWERTOOLS_LOG_LEVEL: 'SILENT' },
    });
    return JSON.parse(stdout) as Array<[number, boolean]>;
  }
  // A store nobody listens on: a request that touches it is refused 503, and has loaded the client.
  const base = {
    STATE_STORE_URL: 'redis://127.0.0.1:1',
    ALERTMANAGER_BEARER_TOKENS: TOKEN,
    GENERIC_BEARER_TOKENS: TOKEN,
    ALLOWED_INSTANCES: 'es-cn-demo-*',
    ALIBABA_CLOUD_REGION: 'cn-hangzhou',
  };
  const generic = (ids: string[], key: string): [string, string, Record<string, string>] => [
    '/interrupt-elasticsearch-task/generic',
    JSON.stringify({ instanceIds: ids }),
    { ...headers, 'idempotency-key': key },
  ];
  const alert = (ids: string[], status: 'firing' | 'resolved' = 'firing'): [string, string, Record<string, string>] => [
    '/interrupt-elasticsearch-task/alertmanager',
    group(ids, status),
    headers,
  ];

  it("loads no redis.js for a refused-by-policy request, an ignored alert state, or a dry run of a person's command; loads it for an alert that needs the store, dry run or not", async () => {
    expect(
      await through('interrupt-elasticsearch-task', base, [
        generic(['es-cn-prod-1'], 'k1'),
        alert(['es-cn-prod-2']),
        alert(['es-cn-demo-1'], 'resolved'),
      ]),
    ).toEqual([
      [403, false],
      [403, false],
      [200, false],
    ]);
    // A dry run previews what the guardrails would decide: an alert's needs the store (503 when it
    // is down, as a real run's), a person's generic command does not.
    expect(
      await through('interrupt-elasticsearch-task', { ...base, DRY_RUN: 'true' }, [
        generic(['es-cn-demo-2'], 'k2'),
        alert(['es-cn-demo-1']),
      ]),
    ).toEqual([
      [200, false],
      [503, true],
    ]);
    expect(await through('interrupt-elasticsearch-task', base, [alert(['es-cn-demo-1'])])).toEqual([[503, true]]);
  });
});
