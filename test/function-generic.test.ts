import { describe, expect, it } from 'vitest';
import { LOCAL_EMULATOR_CREDENTIALS } from '../emulator/credentials.ts';
import { DEMO_INSTANCES } from '../emulator/seed.ts';
import { localContext } from '../local/fc-invoke.ts';
import type { FunctionName } from '../shared/actions.ts';
import type { Env } from '../shared/config.ts';
import type { ResponseBody } from '../shared/core/result.ts';
import { createFunctionHandler } from '../shared/create-function.ts';
import { SOURCE_NAMES } from '../shared/sources/registry.ts';
import { startEmulator } from './support/emulator-server.ts';
import { useEmulator, wireFunction } from './support/function-harness.ts';
import {
  genericRequest,
  invokeHttp,
  ROTATED_WEBHOOK_SECRET,
  standardWebhookHeaders,
  TEST_BEARER,
  TEST_WEBHOOK_SECRET,
} from './support/invoke.ts';
import { commandRequester } from './support/requester.ts';
import { HAS_OPENSSL, startUntrustedTlsServer } from './support/untrusted-tls.ts';

const upstream = useEmulator();
const { state } = upstream;

/** A function wired like in the cloud, with a fetch that counts upstream calls (see function-harness.ts). */
const setup = (name: FunctionName = 'interrupt-elasticsearch-task', env: Env = {}) =>
  wireFunction(upstream.url, name, 'generic', {
    GENERIC_WEBHOOK_SECRETS: `${ROTATED_WEBHOOK_SECRET},${TEST_WEBHOOK_SECRET}`,
    GENERIC_BEARER_TOKENS: TEST_BEARER,
    // Faults here are permanent: give up quickly and let the test's own "sender" retry.
    RETRY_DEADLINE_MS: '300',
    COMMAND_DEADLINE_MS: '300',
    ...env,
  });

const payload = (instanceIds: string[], extra: Record<string, unknown> = {}) =>
  JSON.stringify({ instanceIds, ...extra });
const valid = payload(['es-cn-demo-activating']);
const oversized = payload(['es-cn-demo-activating'], { reason: 'x'.repeat(300 * 1024) });

describe('Function: interrupt-elasticsearch-task, generic source', () => {
  it('interrupts an activating instance once, and a retried delivery changes nothing', async () => {
    const { post, calls } = setup();
    const body = payload(['es-cn-demo-activating'], { reason: 'change went wrong' });
    const headers = standardWebhookHeaders(body, { id: 'msg_retry_1' });

    const first = await post(body, headers);
    expect(first.status).toBe(200);
    expect(first.body.results).toEqual([
      expect.objectContaining({
        instanceId: 'es-cn-demo-activating',
        outcome: 'applied',
        clientToken: expect.stringMatching(/^ies1-[0-9a-f]{40}$/),
        requestId: expect.any(String),
      }),
    ]);
    expect(state('es-cn-demo-activating')?.status).toBe('suspended');

    const retry = await post(body, headers);
    expect(retry.status).toBe(200);
    expect(retry.body.results[0]?.clientToken).toBe(first.body.results[0]?.clientToken);
    expect(retry.body.results[0]?.outcome).toBe('applied');
    expect(state('es-cn-demo-activating')?.history).toHaveLength(1);
    expect(state('es-cn-demo-activating')?.history[0]?.clientToken).toBe(first.body.results[0]?.clientToken);
    expect(calls).toHaveLength(2);
  });

  it('accepts a bearer token with an Idempotency-Key, and eventId as the last resort', async () => {
    const { post } = setup();
    const viaHeader = await post(payload(['es-cn-demo-activating']), {
      'content-type': 'application/json',
      authorization: `Bearer ${TEST_BEARER}`,
      'idempotency-key': 'change-42',
    });
    expect(viaHeader.status).toBe(200);
    const viaBody = await post(payload(['es-cn-demo-activating'], { eventId: 'change-42' }), {
      'content-type': 'application/json',
      authorization: `Bearer ${TEST_BEARER}`,
    });
    // Same key, same token: the second is a replay, not a second change.
    expect(viaBody.body.results[0]?.clientToken).toBe(viaHeader.body.results[0]?.clientToken);
    expect(state('es-cn-demo-activating')?.history).toHaveLength(1);
  });

  it('accepts a rotated secret', async () => {
    const { post } = setup();
    const body = payload(['es-cn-demo-activating']);
    const response = await post(body, standardWebhookHeaders(body, { secret: ROTATED_WEBHOOK_SECRET }));
    expect(response.status).toBe(200);
  });

  const signed = (body: string, extra: Record<string, string> = {}) => ({ ...standardWebhookHeaders(body), ...extra });
  it.each<[string, string, () => Record<string, string>, number, string]>([
    ['unsigned', valid, () => ({ 'content-type': 'application/json' }), 401, 'Unauthorized'],
    [
      'signed with a wrong secret',
      valid,
      () => standardWebhookHeaders(valid, { secret: `whsec_${Buffer.from('x'.repeat(32)).toString('base64')}` }),
      401,
      'Unauthorized',
    ],
    [
      'stale',
      valid,
      () => standardWebhookHeaders(valid, { timestamp: Math.floor(Date.now() / 1000) - 301 }),
      401,
      'Unauthorized',
    ],
    [
      'from the future',
      valid,
      () => standardWebhookHeaders(valid, { timestamp: Math.floor(Date.now() / 1000) + 301 }),
      401,
      'Unauthorized',
    ],
    [
      'with an altered body',
      valid.replace('activating', 'active'),
      () => standardWebhookHeaders(valid),
      401,
      'Unauthorized',
    ],
    [
      'with a wrong bearer token',
      valid,
      () => ({ 'content-type': 'application/json', authorization: 'Bearer nope', 'idempotency-key': 'k' }),
      401,
      'Unauthorized',
    ],
    ['oversized', oversized, () => signed(oversized), 413, 'PayloadTooLarge'],
    ['malformed JSON', '{"instanceIds": [', () => signed('{"instanceIds": ['), 400, 'InvalidPayload'],
    ['not an instance ID', payload(['../../etc']), () => signed(payload(['../../etc'])), 400, 'InvalidPayload'],
    ['without targets', payload([]), () => signed(payload([])), 400, 'InvalidPayload'],
    [
      'with an unknown key',
      '{"instanceIDs":["es-cn-demo-activating"]}',
      () => signed('{"instanceIDs":["es-cn-demo-activating"]}'),
      400,
      'InvalidPayload',
    ],
    [
      'not JSON by media type',
      valid,
      () => ({ ...standardWebhookHeaders(valid), 'content-type': 'text/plain' }),
      415,
      'UnsupportedMediaType',
    ],
  ])('refuses a request %s with no upstream call, and keeps serving', async (_case, body, headers, status, code) => {
    const { post, calls } = setup();
    const response = await post(body, headers());
    expect(response.status).toBe(status);
    expect(response.body.error?.code).toBe(code);
    expect(response.body.results).toEqual([]);
    expect(calls).toHaveLength(0);
    expect(state('es-cn-demo-activating')?.history).toHaveLength(0);
    // The same process still serves a good request.
    expect((await post(valid, standardWebhookHeaders(valid))).status).toBe(200);
  });

  it('names the bad field in a 400', async () => {
    const { post } = setup();
    const body = payload(['es-cn-demo-activating', 'EVIL'], { regionId: 'cn hangzhou' });
    const response = await post(body, standardWebhookHeaders(body));
    expect(response.status).toBe(400);
    expect(response.body.error?.message).toMatch(/instanceIds\[1\]: must be an instance ID/);
    expect(response.body.error?.message).toMatch(/regionId: must be a region ID/);
  });

  it.each<[FunctionName, 'firing' | 'resolved' | undefined, string]>([
    ['interrupt-elasticsearch-task', undefined, 'applied'],
    ['interrupt-elasticsearch-task', 'firing', 'applied'],
    ['interrupt-elasticsearch-task', 'resolved', 'refused'],
    ['resume-elasticsearch-task', 'firing', 'refused'],
    ['cancel-migration-task', 'resolved', 'refused'],
  ])('%s: state %s makes the target %s', async (name, alertState, outcome) => {
    const instanceId = name === 'cancel-migration-task' ? 'es-cn-demo-migrating' : 'es-cn-demo-activating';
    const { post, calls } = setup(name);
    const body = payload([instanceId], alertState ? { state: alertState } : {});
    const response = await post(body, standardWebhookHeaders(body));
    expect(response.status).toBe(200);
    expect(response.body.results[0]).toMatchObject(
      outcome === 'refused' ? { instanceId, outcome, code: 'AlertStateIgnored' } : { instanceId, outcome },
    );
    expect(calls).toHaveLength(outcome === 'refused' ? 0 : 1);
  });

  it.each([['FIRING'], ['ok'], ['other'], [''], [true], [['firing']]])(
    'refuses state %j with a 400 naming the field',
    async (value) => {
      const { post, calls } = setup();
      const body = payload(['es-cn-demo-activating'], { state: value });
      const response = await post(body, standardWebhookHeaders(body));
      expect(response.status).toBe(400);
      expect(response.body.error?.message).toMatch(/state: must be "firing" or "resolved"/);
      expect(calls).toHaveLength(0);
    },
  );

  it('refuses with 400 when no event key is given', async () => {
    const { post, calls } = setup();
    const response = await post(valid, { 'content-type': 'application/json', authorization: `Bearer ${TEST_BEARER}` });
    expect(response.status).toBe(400);
    expect(response.body.error?.message).toMatch(/event key is required/);
    expect(calls).toHaveLength(0);
  });

  it('fails closed when the source has no secret configured', async () => {
    const { post, calls } = setup('interrupt-elasticsearch-task', {
      GENERIC_WEBHOOK_SECRETS: '',
      GENERIC_BEARER_TOKENS: '',
    });
    const response = await post(valid, {
      'content-type': 'application/json',
      authorization: 'Bearer ',
      'idempotency-key': 'k',
    });
    expect(response.status).toBe(401);
    expect(calls).toHaveLength(0);
  });

  it.each(['alertmanager', 'slack'])('fails closed for the %s source while it has no secret', async (source) => {
    const { post, calls } = setup();
    const response = await post(valid, standardWebhookHeaders(valid), source);
    expect(response.status).toBe(401);
    expect(calls).toHaveLength(0);
  });

  it.each<[string, string, string, RegExp]>([
    ['an unknown source', 'POST', '/interrupt-elasticsearch-task/pagerduty', /^unknown source "pagerduty": /],
    [
      'another function’s path',
      'POST',
      '/resume-elasticsearch-task/generic',
      /^this is interrupt-elasticsearch-task, /,
    ],
    ['the function without a source', 'POST', '/interrupt-elasticsearch-task', /^no source in the path: /],
    [
      'a GET',
      'GET',
      '/interrupt-elasticsearch-task/generic',
      /^no route for GET \/interrupt-elasticsearch-task\/generic: /,
    ],
    ['a deeper path', 'POST', '/interrupt-elasticsearch-task/generic/extra', /^no route for POST /],
  ])('answers %s with a JSON 404 that lists the valid sources', async (_case, method, path, message) => {
    const { handler, calls } = setup();
    const response = await invokeHttp(
      handler,
      new Request(`https://fc.example.test${path}`, {
        method,
        headers: standardWebhookHeaders(valid),
        ...(method === 'GET' ? {} : { body: valid }),
      }),
    );
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await response.json()) as ResponseBody;
    expect(body.results).toEqual([]);
    expect(body.error).toEqual({
      code: 'NotFound',
      message: expect.stringMatching(message),
      functions: ['interrupt-elasticsearch-task'],
      sources: [...SOURCE_NAMES],
    });
    expect(body.error?.message).toContain(
      "POST /interrupt-elasticsearch-task/<source> (or POST /<source> on this function's own trigger URL), with source one of generic, alertmanager, grafana, cloudmonitor, slack, dingtalk, feishu",
    );
    expect(calls).toHaveLength(0);
  });

  it('echoes an unknown source name only short and printable', async () => {
    const { handler } = setup();
    const response = await invokeHttp(
      handler,
      genericRequest('interrupt-elasticsearch-task', valid, {}, `${'x'.repeat(300)}%E2%80%AE`),
    );
    const body = (await response.json()) as ResponseBody;
    expect(body.error?.message).toMatch(/^unknown source "x{40}": /);
    expect(body.source).toBe('');
  });

  it('never echoes a secret or signature in a response', async () => {
    const { post } = setup();
    const headers = standardWebhookHeaders(valid);
    const texts = [
      JSON.stringify((await post(valid, headers)).body),
      JSON.stringify((await post(`${valid} `, headers)).body),
      JSON.stringify(
        (
          await post(valid, {
            'content-type': 'application/json',
            authorization: 'Bearer guess',
            'idempotency-key': 'k',
          })
        ).body,
      ),
    ].join('\n');
    for (const secret of [
      TEST_WEBHOOK_SECRET,
      ROTATED_WEBHOOK_SECRET,
      TEST_BEARER,
      headers['webhook-signature'] as string,
      'guess',
      LOCAL_EMULATOR_CREDENTIALS.accessKeySecret,
    ]) {
      expect(texts).not.toContain(secret);
    }
  });
});

describe('Function: policy before any call', () => {
  it('refuses every target when ALLOWED_INSTANCES is unset', async () => {
    const { post, calls } = setup('interrupt-elasticsearch-task', { ALLOWED_INSTANCES: undefined });
    const response = await post(valid, standardWebhookHeaders(valid));
    expect(response.status).toBe(403);
    expect(response.body.results[0]).toMatchObject({ outcome: 'refused', code: 'NotAllowed' });
    expect(calls).toHaveLength(0);
  });

  it('acts only on allowed instances of its own kind', async () => {
    const { post, calls } = setup('interrupt-elasticsearch-task', { ALLOWED_INSTANCES: 'es-cn-demo-activating' });
    const body = payload(['es-cn-demo-activating', 'es-cn-demo-migrating', 'ls-cn-demo-activating']);
    const response = await post(body, standardWebhookHeaders(body));
    expect(response.status).toBe(200);
    expect(response.body.results.map((r) => [r.instanceId, r.outcome, r.code])).toEqual([
      ['es-cn-demo-activating', 'applied', undefined],
      ['es-cn-demo-migrating', 'refused', 'NotAllowed'],
      ['ls-cn-demo-activating', 'refused', 'WrongInstanceKind'],
    ]);
    expect(calls).toHaveLength(1);
    expect(state('es-cn-demo-migrating')?.status).toBe('activating');
  });

  it('answers 400 when every target is of the wrong kind', async () => {
    const { post } = setup('interrupt-logstash-task');
    const body = payload(['es-cn-demo-activating']);
    const response = await post(body, standardWebhookHeaders(body));
    expect(response.status).toBe(400);
    expect(response.body.results[0]?.message).toMatch(/logstash instances \(ls-…\) only/);
  });

  it('refuses a whole event over MAX_TARGETS_PER_EVENT', async () => {
    const { post, calls } = setup('interrupt-elasticsearch-task', { MAX_TARGETS_PER_EVENT: '2' });
    const body = payload(['es-cn-demo-activating', 'es-cn-demo-migrating', 'es-cn-demo-active']);
    const response = await post(body, standardWebhookHeaders(body));
    expect(response.status).toBe(403);
    expect(response.body.results).toHaveLength(3);
    expect(response.body.results.every((r) => r.outcome === 'refused' && r.code === 'TooManyTargets')).toBe(true);
    expect(calls).toHaveLength(0);
  });

  it('reports the exact call under DRY_RUN and makes none', async () => {
    const { post, calls } = setup('cancel-migration-task', { DRY_RUN: 'true' });
    const body = payload(['es-cn-demo-migrating']);
    const response = await post(body, standardWebhookHeaders(body));
    expect(response.status).toBe(200);
    const [result] = response.body.results;
    expect(result).toMatchObject({
      outcome: 'dry-run',
      call: {
        operation: 'CancelTask',
        method: 'POST',
        path: '/openapi/instances/es-cn-demo-migrating/actions/cancel-task',
        query: { taskType: 'MigrateData', clientToken: result?.clientToken },
      },
    });
    expect(response.body.dryRun).toBe(true);
    expect(calls).toHaveLength(0);
    expect(state('es-cn-demo-migrating')?.migrating).toBe(true);
  });
});

describe('Function: the five actions against the emulator', () => {
  it.each<[FunctionName, string, (s: ReturnType<typeof state>) => unknown, unknown]>([
    ['interrupt-elasticsearch-task', 'es-cn-demo-activating', (s) => s?.status, 'suspended'],
    ['resume-elasticsearch-task', 'es-cn-demo-suspended', (s) => s?.status, 'activating'],
    ['interrupt-logstash-task', 'ls-cn-demo-activating', (s) => s?.status, 'suspended'],
    ['resume-logstash-task', 'ls-cn-demo-suspended', (s) => s?.status, 'activating'],
    ['cancel-migration-task', 'es-cn-demo-migrating', (s) => s?.migrating, false],
  ])('%s changes %s', async (name, instanceId, read, expected) => {
    const { post } = setup(name);
    const body = payload([instanceId]);
    const response = await post(body, standardWebhookHeaders(body));
    expect(response.status).toBe(200);
    expect(response.body.results[0]?.outcome).toBe('applied');
    expect(read(state(instanceId))).toBe(expected);
  });

  it('reports nothing to interrupt as already, and a documented refusal of the API as failed, not retryable, 200', async () => {
    const { post } = setup('interrupt-elasticsearch-task');
    const body = payload(['es-cn-demo-active', 'es-cn-demo-gone']);
    const response = await post(body, standardWebhookHeaders(body));
    expect(response.status).toBe(200);
    expect(response.body.results).toEqual([
      expect.objectContaining({
        outcome: 'already',
        code: 'InstanceStatusNotSupportCurrentAction',
        message: 'no change is running (the instance is active): nothing to interrupt',
      }),
      expect.objectContaining({ outcome: 'failed', code: 'InstanceNotFound', retryable: false }),
    ]);
  });

  it.each([
    ['throttling', { throttle: 1 }, 503, 'Throttling.User'],
    ['a server error', { serverError: 1 }, 502, 'InternalError'],
    ['a lost response', { dropResponse: 1 }, 502, 'ConnectionLost'],
  ])('answers 5xx on %s so the sender retries, and the retry is safe', async (_case, faults, status, code) => {
    const { post } = setup();
    const body = payload(['es-cn-demo-activating']);
    const headers = standardWebhookHeaders(body);
    upstream.emulator.setFaults(faults);
    const first = await post(body, headers);
    expect(first.status).toBe(status);
    expect(first.body.results[0]).toMatchObject({ outcome: 'failed', code, retryable: true });

    upstream.emulator.setFaults({});
    const retry = await post(body, headers);
    expect(retry.status).toBe(200);
    expect(retry.body.results[0]).toMatchObject({
      outcome: 'applied',
      clientToken: first.body.results[0]?.clientToken,
    });
    expect(state('es-cn-demo-activating')?.history).toHaveLength(1);
  });

  // A retry meets the same certificate: the sender is told it failed for good (200), and the
  // function does not try again within its deadline either.
  it.skipIf(!HAS_OPENSSL)(
    'answers 200 with a failed, not retryable TlsFailure when the API endpoint presents an untrusted certificate',
    async () => {
      const untrusted = await startUntrustedTlsServer();
      try {
        const handler = createFunctionHandler('interrupt-elasticsearch-task', {
          env: {
            GENERIC_BEARER_TOKENS: TEST_BEARER,
            ALLOWED_INSTANCES: '*',
            ALIBABA_CLOUD_REGION: 'cn-hangzhou',
            ELASTICSEARCH_ENDPOINT: untrusted.url,
          },
        });
        const response = await invokeHttp(
          handler,
          genericRequest('interrupt-elasticsearch-task', valid, {
            'content-type': 'application/json',
            authorization: `Bearer ${TEST_BEARER}`,
            'idempotency-key': 'tls-1',
          }),
          { ...localContext('interrupt-elasticsearch-task'), credentials: LOCAL_EMULATOR_CREDENTIALS },
        );
        expect(response.status).toBe(200);
        const body = (await response.json()) as ResponseBody;
        expect(body.results).toEqual([
          expect.objectContaining({ outcome: 'failed', code: 'TlsFailure', retryable: false }),
        ]);
        expect(body.results[0]?.message).not.toContain('127.0.0.1');
        expect(untrusted.connections()).toBe(1);
        expect(untrusted.requests()).toBe(0);
      } finally {
        await untrusted.close();
      }
    },
  );

  it('signs with the STS credentials of the FC context when there are some', async () => {
    const sts = { accessKeyId: 'STS.NUgYrLnoC37mZZCNnAbez2Zy', accessKeySecret: 'sts-secret-for-tests' };
    const stsUpstream = await startEmulator({ credentials: [sts] });
    try {
      const handler = createFunctionHandler('interrupt-elasticsearch-task', {
        env: {
          GENERIC_BEARER_TOKENS: TEST_BEARER,
          ALLOWED_INSTANCES: '*',
          ALIBABA_CLOUD_REGION: 'cn-hangzhou',
          ELASTICSEARCH_ENDPOINT: stsUpstream.url,
        },
      });
      const context = {
        ...localContext('interrupt-elasticsearch-task'),
        credentials: { ...sts, securityToken: 'CAIS-token' },
      };
      const response = await invokeHttp(
        handler,
        genericRequest('interrupt-elasticsearch-task', valid, {
          'content-type': 'application/json',
          authorization: `Bearer ${TEST_BEARER}`,
          'idempotency-key': 'sts-1',
        }),
        context,
      );
      expect(response.status).toBe(200);
      expect(((await response.json()) as ResponseBody).results[0]?.outcome).toBe('applied');
    } finally {
      await stsUpstream.close();
    }
  });

  it('fails closed with a 500 naming the variable when the configuration is invalid', async () => {
    const { post, calls } = setup('interrupt-elasticsearch-task', { MAX_TARGETS_PER_EVENT: 'lots' });
    const response = await post(valid, standardWebhookHeaders(valid));
    expect(response.status).toBe(500);
    expect(response.body.error?.message).toMatch(/MAX_TARGETS_PER_EVENT/);
    expect(calls).toHaveLength(0);
  });

  it('says so when it has no credentials at all', async () => {
    const { post, calls } = setup('interrupt-elasticsearch-task', {
      ALIBABA_CLOUD_ACCESS_KEY_ID: undefined,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: undefined,
    });
    const response = await post(valid, standardWebhookHeaders(valid));
    expect(response.status).toBe(500);
    expect(response.body.error?.message).toMatch(/no credentials/);
    expect(calls).toHaveLength(0);
  });
});

describe('Function: timer and internal command events', () => {
  const timerEvent = (time: string) =>
    Buffer.from(
      JSON.stringify({
        triggerTime: time,
        triggerName: 'nightly',
        payload: JSON.stringify({ instanceIds: ['es-cn-demo-activating'] }),
      }),
    );

  it('runs the generic payload of a timer trigger; a redelivered tick is the same event', async () => {
    const { handler } = setup();
    const first = (await handler(timerEvent('2026-11-25T02:00:00Z'), localContext('t'))) as ResponseBody;
    expect(first.results[0]?.outcome).toBe('applied');
    const again = (await handler(timerEvent('2026-11-25T02:00:00Z'), localContext('t'))) as ResponseBody;
    expect(again.results[0]?.clientToken).toBe(first.results[0]?.clientToken);
    const next = (await handler(timerEvent('2026-11-26T02:00:00Z'), localContext('t'))) as ResponseBody;
    expect(next.results[0]?.clientToken).not.toBe(first.results[0]?.clientToken);
    expect(state('es-cn-demo-activating')?.history).toHaveLength(1);
  });

  it('refuses a timer payload with a state: a tick is a command, not an alert', async () => {
    const { handler, calls } = setup();
    const event = Buffer.from(
      JSON.stringify({
        triggerTime: '2026-11-25T02:00:00Z',
        triggerName: 'nightly',
        payload: JSON.stringify({ instanceIds: ['es-cn-demo-activating'], state: 'firing' }),
      }),
    );
    const result = (await handler(event, localContext('t'))) as ResponseBody;
    expect(result.error).toEqual({
      code: 'InvalidPayload',
      message: expect.stringMatching(/timer payload: state: a schedule is not an alert/),
    });
    expect(calls).toHaveLength(0);
  });

  it('throws on a retryable timer failure so FC retries the invocation', async () => {
    const { handler } = setup();
    upstream.emulator.setFaults({ serverError: 1 });
    await expect(handler(timerEvent('2026-11-25T03:00:00Z'), localContext('t'))).rejects.toThrow(/502/);
  });

  it('runs an internal command with policy applied again', async () => {
    const { handler, calls } = setup('interrupt-elasticsearch-task', {
      ALLOWED_INSTANCES: 'es-cn-demo-activating',
      SLACK_ALLOWED_USERS: 'U-test',
    });
    const command = {
      responderCommand: 1,
      function: 'interrupt-elasticsearch-task',
      source: 'slack',
      targets: [
        { instanceId: 'es-cn-demo-activating', eventKey: 'slack:1234.5678' },
        { instanceId: 'es-cn-demo-migrating', eventKey: 'slack:1234.5678' },
      ],
      ...commandRequester('slack'),
    };
    const result = (await handler(Buffer.from(JSON.stringify(command)), localContext('c'))) as ResponseBody;
    expect(result.results.map((r) => r.outcome)).toEqual(['applied', 'refused']);
    expect(calls).toHaveLength(1);
  });

  it('refuses a command meant for another function', async () => {
    const { handler, calls } = setup();
    const command = {
      responderCommand: 1,
      function: 'resume-elasticsearch-task',
      source: 'slack',
      targets: [{ instanceId: 'es-cn-demo-activating', eventKey: 'k' }],
    };
    const result = (await handler(JSON.stringify(command), localContext('c'))) as ResponseBody;
    expect(result.error?.code).toBe('InvalidPayload');
    expect(calls).toHaveLength(0);
  });

  it('cannot be reached through HTTP: a posted timer-shaped body is just a generic payload', async () => {
    const { post, calls } = setup();
    const body = JSON.stringify({ triggerTime: 'x', triggerName: 'y', payload: '{}' });
    const response = await post(body, standardWebhookHeaders(body), 'timer');
    expect(response.status).toBe(404);
    expect(calls).toHaveLength(0);
  });
});

describe('Function: demo seed', () => {
  it('holds an instance in every state the five actions need', () => {
    const ids = DEMO_INSTANCES.map((i) => i.instanceId);
    expect(ids).toEqual(
      expect.arrayContaining([
        'es-cn-demo-activating',
        'es-cn-demo-suspended',
        'es-cn-demo-migrating',
        'ls-cn-demo-activating',
        'ls-cn-demo-suspended',
      ]),
    );
  });
});
