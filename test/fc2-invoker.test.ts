import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LOCAL_EMULATOR_CREDENTIALS } from '../emulator/credentials.ts';
import { createFcInvokeApi, type FcInvokeApi } from '../emulator/fc-invoke-api.ts';
import { classifyFc2Error } from '../shared/async/fc2-errors.ts';
import { createFc2Invoker, type Fc2ClientConstructor, type Fc2InvokerOptions } from '../shared/async/fc2-invoker.ts';
import { INVOCATION_ID_PATTERN, InvokeError, invocationIdFor } from '../shared/async/invoker.ts';
import { closedPort, type ServedApp, serveApp } from './support/fc-server.ts';

const ACCOUNT = '1234567890123456';
const SERVICE = 'es-change-responder';
const FUNCTION = 'interrupt-elasticsearch-task';
const KEY = LOCAL_EMULATOR_CREDENTIALS;
const ROTATED = { accessKeyId: 'LTAI5tRotatedKey', accessKeySecret: 'rotated-secret' };
const STS = { accessKeyId: 'LTAI5tWithToken', accessKeySecret: 'sts-secret', securityToken: 'sts-token-value' };

const options = (overrides: Partial<Fc2InvokerOptions> = {}): Fc2InvokerOptions => ({
  accountId: ACCOUNT,
  region: 'cn-hangzhou',
  serviceName: SERVICE,
  functionName: FUNCTION,
  timeoutMs: 5000,
  ...overrides,
});

async function rejection(promise: Promise<unknown>): Promise<InvokeError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(InvokeError);
    return error as InvokeError;
  }
  throw new Error('expected the invoke to fail');
}

describe('Function: invocationIdFor', () => {
  it('keeps a clientToken of this project readable', () => {
    const token = `ies1-${'0123456789abcdef'.repeat(3).slice(0, 40)}`;
    expect(invocationIdFor(token)).toBe(`rsp1_${token}`);
  });

  it.each([[''], ['with space'], ['ünïcödé'], ['a'.repeat(124)], ['line\nbreak'], ['../../etc']])(
    'hashes %j into the pattern',
    (token) => {
      expect(invocationIdFor(token)).toMatch(/^rsp1h_[0-9a-f]{64}$/);
    },
  );

  it('always matches FC’s pattern, for any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (token) => {
        expect(invocationIdFor(token)).toMatch(INVOCATION_ID_PATTERN);
      }),
      { numRuns: 1000 },
    );
  });

  it('is deterministic and gives distinct tokens distinct IDs', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(
          fc.oneof(
            fc.string({ unit: 'grapheme-ascii', maxLength: 70 }),
            fc.stringMatching(/^[A-Za-z0-9_-]{1,130}$/),
            fc.stringMatching(/^(ies|res|ils|rls|cmt)1-[0-9a-f]{40}$/),
          ),
          { maxLength: 50 },
        ),
        (tokens) => {
          const ids = tokens.map(invocationIdFor);
          expect(new Set(ids).size).toBe(tokens.length);
          expect(tokens.map(invocationIdFor)).toEqual(ids);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('Function: createFc2Invoker (real fc2 against the emulated invoke API)', () => {
  let api: FcInvokeApi;
  let served: ServedApp;
  const events: unknown[] = [];

  beforeAll(async () => {
    api = createFcInvokeApi({
      credentials: [KEY, ROTATED, STS],
      accountId: ACCOUNT,
      serviceName: SERVICE,
      functions: [FUNCTION],
      runner: async (_, event) => {
        events.push(JSON.parse(event.toString('utf8')));
      },
    });
    served = await serveApp(api.app);
  });
  afterAll(() => served.close());

  it('accepts a hand-off, returns FC’s request ID and delivers the event', async () => {
    const result = await createFc2Invoker(options({ endpoint: served.url })).invoke(
      { responderCommand: 1, n: 1 },
      'rsp1_accept',
      KEY,
    );
    expect(result).toEqual({ status: 'accepted', requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    await api.idle();
    expect(events).toContainEqual({ responderCommand: 1, n: 1 });
    expect(api.invocations().find((i) => i.invocationId === 'rsp1_accept')?.requestId).toBe(result.requestId);
  });

  it('signs each call with the credentials it is given (STS rotates), with the security token when there is one', async () => {
    const invoker = createFc2Invoker(options({ endpoint: served.url }));
    for (const [id, credentials] of [
      ['rsp1_rot_1', KEY],
      ['rsp1_rot_2', ROTATED],
      ['rsp1_rot_3', STS],
    ] as const) {
      expect((await invoker.invoke({ id }, id, credentials)).status).toBe('accepted');
    }
  });

  it('is refused for good with a wrong secret (Refused, not retryable)', async () => {
    const error = await rejection(
      createFc2Invoker(options({ endpoint: `${served.url}/` })).invoke({}, 'rsp1_wrong_secret', {
        ...KEY,
        accessKeySecret: 'wrong',
      }),
    );
    expect(error).toMatchObject({
      code: 'Refused',
      retryable: false,
      httpStatus: 403,
      platformCode: 'SignatureNotMatch',
      requestId: expect.any(String),
    });
  });

  it('maps a missing security token (an STS pair without it) to Refused', async () => {
    const { securityToken: _, ...withoutToken } = STS;
    const error = await rejection(
      createFc2Invoker(options({ endpoint: served.url })).invoke({}, 'rsp1_no_tok', withoutToken),
    );
    expect(error).toMatchObject({ code: 'Refused', platformCode: 'InvalidSecurityToken' });
  });
});

describe('Function: createFc2Invoker (error mapping through fc2)', () => {
  const answers: Record<string, { status: number; body: string; type?: string }> = {
    throttled: { status: 429, body: '{"ErrorCode":"ResourceThrottled","ErrorMessage":"slow down"}' },
    exhausted: { status: 503, body: '{"ErrorCode":"ResourceExhausted","ErrorMessage":"no capacity"}' },
    internal: { status: 500, body: '{"ErrorCode":"InternalServerError","ErrorMessage":"oops"}' },
    htmlgateway: { status: 502, body: '<html>bad gateway</html>', type: 'text/html' },
    notfound: { status: 404, body: '{"ErrorCode":"ServiceNotFound","ErrorMessage":"no service"}' },
    toolarge: { status: 400, body: '{"ErrorCode":"EntityTooLarge","ErrorMessage":"too big"}' },
    dup409: { status: 409, body: '{"ErrorCode":"StatefulAsyncInvocationAlreadyExists","ErrorMessage":"exists"}' },
    dup400: { status: 400, body: '{"ErrorCode":"StatefulAsyncInvocationAlreadyExists","ErrorMessage":"exists"}' },
    conflict: { status: 409, body: '{"ErrorCode":"ConcurrentUpdateError","ErrorMessage":"busy"}' },
    badjson: { status: 202, body: '{not json', type: 'application/json' },
  };
  let stub: ServedApp;

  beforeAll(async () => {
    const app = new Hono();
    app.post('/2016-08-15/services/:service/functions/:fn/invocations', (c) => {
      const answer = answers[c.req.param('fn')];
      if (!answer) return c.text('unknown', 500);
      return new Response(answer.body, {
        status: answer.status,
        headers: { 'content-type': answer.type ?? 'application/json', 'x-fc-request-id': `req-${c.req.param('fn')}` },
      });
    });
    stub = await serveApp(app);
  });
  afterAll(() => stub.close());

  const invoke = (functionName: string) =>
    createFc2Invoker(options({ endpoint: stub.url, functionName })).invoke({ a: 1 }, 'rsp1_map', KEY);

  it.each([
    ['throttled', 'Throttled', true, 429],
    ['exhausted', 'Throttled', true, 503],
    ['internal', 'ServerError', true, 500],
    ['htmlgateway', 'ServerError', true, 502],
    ['notfound', 'Refused', false, 404],
    ['toolarge', 'Refused', false, 400],
    ['conflict', 'Refused', false, 409],
  ])('maps %s to %s (retryable %s)', async (functionName, code, retryable, httpStatus) => {
    const error = await rejection(invoke(functionName));
    expect(error).toMatchObject({ code, retryable, httpStatus, requestId: `req-${functionName}` });
  });

  it.each([['dup409'], ['dup400']])('maps %s (StatefulAsyncInvocationAlreadyExists) to duplicate', async (fn) => {
    await expect(invoke(fn)).resolves.toEqual({ status: 'duplicate', requestId: `req-${fn}` });
  });

  it('maps an unreadable answer to a retryable BadResponse', async () => {
    expect(await rejection(invoke('badjson'))).toMatchObject({ code: 'BadResponse', retryable: true });
  });

  it('maps a refused connection to a retryable NetworkError', async () => {
    const port = await closedPort();
    const error = await rejection(
      createFc2Invoker(options({ endpoint: `http://127.0.0.1:${port}` })).invoke({}, 'rsp1_net', KEY),
    );
    expect(error).toMatchObject({ code: 'NetworkError', retryable: true });
  });

  it('maps no answer within timeoutMs to a retryable Timeout', async () => {
    const silent: Server = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as AddressInfo;
      const error = await rejection(
        createFc2Invoker(options({ endpoint: `http://127.0.0.1:${port}`, timeoutMs: 150 })).invoke(
          {},
          'rsp1_slow',
          KEY,
        ),
      );
      expect(error).toMatchObject({ code: 'Timeout', retryable: true });
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it.each([
    ['a fc2 HTTP error without status', Object.assign(new Error('weird'), { code: 'Whatever' }), 'ClientError', false],
    ['a DNS failure', Object.assign(new Error('getaddrinfo'), { code: 'ENOTFOUND' }), 'NetworkError', true],
    ['a TLS failure', Object.assign(new Error('cert'), { code: 'CERT_HAS_EXPIRED' }), 'NetworkError', false],
    [
      'a TLS record error',
      Object.assign(new Error('bad record mac'), { code: 'ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC' }),
      'NetworkError',
      true,
    ],
    ['an httpx timeout', Object.assign(new Error('ReadTimeout(10)'), { name: 'RequestTimeoutError' }), 'Timeout', true],
  ])('classifies %s', (_, error, code, retryable) => {
    expect(classifyFc2Error(error)).toMatchObject({ code, retryable });
  });
});

describe('Function: createFc2Invoker (inputs, options and lazy loading)', () => {
  const fakeClient = () => {
    const constructed: Array<{ accountId: string; config: Record<string, unknown> }> = [];
    const invokes: unknown[][] = [];
    const Client = class {
      constructor(accountId: string, config: Record<string, unknown>) {
        constructed.push({ accountId, config });
      }
      async invokeFunction(...args: unknown[]) {
        invokes.push(args);
        return { headers: { 'x-fc-request-id': 'fake-req' }, data: '' };
      }
    } as unknown as Fc2ClientConstructor;
    const loadClient = vi.fn(async () => Client);
    return { constructed, invokes, loadClient };
  };

  it('loads the client only on the first hand-off, once, and sends the async headers', async () => {
    const fake = fakeClient();
    const invoker = createFc2Invoker(options({ loadClient: fake.loadClient, qualifier: 'prod' }));
    expect(fake.loadClient).not.toHaveBeenCalled();
    await invoker.invoke({ a: 1 }, 'rsp1_one', KEY);
    await invoker.invoke({ a: 2 }, 'rsp1_two', KEY);
    expect(fake.loadClient).toHaveBeenCalledTimes(1);
    expect(fake.invokes[0]).toEqual([
      SERVICE,
      FUNCTION,
      '{"a":1}',
      {
        'x-fc-invocation-type': 'Async',
        'x-fc-stateful-async-invocation-id': 'rsp1_one',
        'x-fc-stateful-async-invocation-enable': 'true',
      },
      'prod',
    ]);
    expect(fake.constructed[0]).toEqual({
      accountId: ACCOUNT,
      config: {
        accessKeyID: KEY.accessKeyId,
        accessKeySecret: KEY.accessKeySecret,
        region: 'cn-hangzhou',
        secure: true,
        timeout: 5000,
      },
    });
  });

  it('retries loading after a failed import instead of caching the failure', async () => {
    const fake = fakeClient();
    const Client = await fake.loadClient();
    const loadClient = vi
      .fn<() => Promise<Fc2ClientConstructor>>()
      .mockRejectedValueOnce(new Error('cannot find module'))
      .mockResolvedValue(Client);
    const invoker = createFc2Invoker(options({ loadClient }));
    expect(await rejection(invoker.invoke({}, 'rsp1_a', KEY))).toMatchObject({ code: 'ClientError', retryable: false });
    await expect(invoker.invoke({}, 'rsp1_a', KEY)).resolves.toEqual({ status: 'accepted', requestId: 'fake-req' });
  });

  it.each([
    ['http://127.0.0.1:9000', { endpoint: 'http://127.0.0.1:9000', secure: false }],
    ['http://127.0.0.1:9000/', { endpoint: 'http://127.0.0.1:9000', secure: false }],
    [
      '1234.cn-hangzhou-internal.fc.aliyuncs.com',
      { endpoint: 'https://1234.cn-hangzhou-internal.fc.aliyuncs.com', secure: true },
    ],
    ['https://fc.example.com:8443', { endpoint: 'https://fc.example.com:8443', secure: true }],
  ])('normalises the endpoint %s', async (endpoint, expected) => {
    const fake = fakeClient();
    await createFc2Invoker(options({ endpoint, loadClient: fake.loadClient })).invoke({}, 'rsp1_e', KEY);
    expect(fake.constructed[0]?.config).toMatchObject(expected);
  });

  it('sends the security token itself, whatever the key looks like', async () => {
    const fake = fakeClient();
    await createFc2Invoker(options({ loadClient: fake.loadClient })).invoke({}, 'rsp1_t', STS);
    expect(fake.constructed[0]?.config).toMatchObject({ securityToken: STS.securityToken });
    expect(fake.invokes[0]?.[3]).toMatchObject({ 'x-fc-security-token': STS.securityToken });
  });

  it.each([
    ['an invocation ID of the wrong shape', {}, '9-starts-with-digit', 'InvalidInvocationId'],
    ['an event over maxEventBytes', { a: 'x'.repeat(200) }, 'rsp1_big', 'InvalidEvent'],
    ['an event that is not serialisable', { n: 1n }, 'rsp1_bigint', 'InvalidEvent'],
  ])('refuses %s without loading fc2', async (_, event, id, code) => {
    const fake = fakeClient();
    const error = await rejection(
      createFc2Invoker(options({ loadClient: fake.loadClient, maxEventBytes: 100 })).invoke(event, id, KEY),
    );
    expect(error).toMatchObject({ code, retryable: false });
    expect(fake.loadClient).not.toHaveBeenCalled();
  });

  it.each([
    ['no credentials', undefined],
    ['empty credentials', { accessKeyId: '', accessKeySecret: '' }],
  ])('refuses %s with ClientError, without loading fc2', async (_, credentials) => {
    const fake = fakeClient();
    const error = await rejection(
      createFc2Invoker(options({ loadClient: fake.loadClient })).invoke({}, 'rsp1_c', credentials as typeof KEY),
    );
    expect(error).toMatchObject({ code: 'ClientError', retryable: false });
    expect(fake.loadClient).not.toHaveBeenCalled();
  });

  it.each([
    ['accountId', { accountId: '' }],
    ['accountId', { accountId: 'acc' }],
    ['region', { region: 'Hangzhou' }],
    ['serviceName', { serviceName: 'has space' }],
    ['functionName', { functionName: '' }],
    ['qualifier', { qualifier: 'a.b' }],
    ['timeoutMs', { timeoutMs: 0 }],
    ['endpoint', { endpoint: 'ftp://x' }],
    ['endpoint', { endpoint: 'https://x/path' }],
    ['endpoint', { endpoint: 'https://user:pw@x' }],
  ])('refuses a bad %s at creation', (_, overrides) => {
    expect(() => createFc2Invoker(options(overrides as Partial<Fc2InvokerOptions>))).toThrow(TypeError);
  });

  it('does not load @alicloud/fc2 when the module is imported, only when a hand-off happens', async () => {
    const script = `
      import { createRequire } from 'node:module';
      const require = createRequire(import.meta.url);
      const loaded = () => Object.keys(require.cache).some((p) => p.includes('@alicloud/fc2') || p.includes('@alicloud+fc2'));
      const mod = await import('./shared/async/fc2-invoker.ts');
      const invoker = mod.createFc2Invoker({ accountId: '1', region: 'cn-hangzhou', serviceName: 's', functionName: 'f',
        endpoint: 'http://127.0.0.1:1', timeoutMs: 1000 });
      const afterImport = loaded();
      await invoker.invoke({}, 'rsp1_x', { accessKeyId: 'a', accessKeySecret: 'b' }).catch(() => undefined);
      console.log(JSON.stringify({ afterImport, afterInvoke: loaded() }));
    `;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { cwd: process.cwd(), timeout: 30_000 },
    );
    expect(JSON.parse(stdout.trim().split('\n').pop() ?? '')).toEqual({ afterImport: false, afterInvoke: true });
  });
});
