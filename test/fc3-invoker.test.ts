import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LOCAL_EMULATOR_CREDENTIALS } from '../emulator/credentials.ts';
import { createFcInvokeApi, type FcInvokeApi, type FcRunner } from '../emulator/fc-invoke-api.ts';
import { createFc3Invoker, type Fc3InvokerOptions } from '../shared/async/fc3-invoker.ts';
import { fc3Origin } from '../shared/async/fc3-wire.ts';
import {
  handOffIdFor,
  INVOCATION_ID_PATTERN,
  InvokeError,
  invocationIdFor,
  taskIdForGeneration,
} from '../shared/async/invoker.ts';
import type { ResponseBody } from '../shared/core/result.ts';
import { createFunctionHandler } from '../shared/create-function.ts';
import { createNodeTransport, type Transport, type WireResponse } from '../shared/elasticsearch/transport.ts';
import { closedPort, type ServedApp, serveApp } from './support/fc-server.ts';
import { genericRequest, invokeHttp, TEST_BEARER } from './support/invoke.ts';
import { captureOutput } from './support/log-capture.ts';

const ACCOUNT = '1234567890123456';
const FUNCTION = 'interrupt-elasticsearch-task';
const KEY = LOCAL_EMULATOR_CREDENTIALS;
const STS = { accessKeyId: 'STS.LTAI5tRoleKey', accessKeySecret: 'role-secret', securityToken: 'CAIS-role-token' };
const TOKEN = `ies1-${'0123456789abcdef'.repeat(3).slice(0, 40)}`;
const command = { responderCommand: 1, function: FUNCTION, source: 'slack', targets: [{ instanceId: 'es-cn-x' }] };

let api: FcInvokeApi;
let served: ServedApp;
let runner: FcRunner;
let runs: Array<{ event: string; taskId: string | undefined; qualifier: string | undefined; attempt: number }>;

beforeAll(async () => {
  api = createFcInvokeApi({
    credentials: [KEY, STS],
    runner: (fn, event, context) => runner(fn, event, context),
    accountId: ACCOUNT,
    functions: [FUNCTION],
  });
  served = await serveApp(api.app);
});
afterAll(() => served.close());
beforeEach(async () => {
  await api.idle();
  api.reset();
  runs = [];
  runner = async (_fn, event, context) => {
    runs.push({
      event: event.toString('utf8'),
      taskId: context.invocationId,
      qualifier: context.qualifier,
      attempt: context.attempt,
    });
    return 'ok';
  };
});

/** Every exchange an invoker makes, over node's real transport. */
function recording(): {
  transport: Transport;
  calls: Array<{ url: URL; method: string; headers: Record<string, string> }>;
} {
  const calls: Array<{ url: URL; method: string; headers: Record<string, string> }> = [];
  const node = createNodeTransport(2);
  return {
    calls,
    transport: (url, request) => {
      calls.push({ url, method: request.method, headers: request.headers });
      return node(url, request);
    },
  };
}

const options = (overrides: Partial<Fc3InvokerOptions> = {}): Fc3InvokerOptions => ({
  accountId: ACCOUNT,
  region: 'cn-hangzhou',
  functionName: FUNCTION,
  endpoint: served.url,
  timeoutMs: 5000,
  ...overrides,
});

const failingRunner: FcRunner = async (_fn, event, context) => {
  runs.push({
    event: event.toString('utf8'),
    taskId: context.invocationId,
    qualifier: undefined,
    attempt: context.attempt,
  });
  throw new Error(`boom ${context.attempt}`);
};

async function rejection(promise: Promise<unknown>): Promise<InvokeError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(InvokeError);
    return error as InvokeError;
  }
  throw new Error('expected the hand-off to fail');
}

describe('Function: taskIdForGeneration', () => {
  it('keeps the first generation as is and marks later ones', () => {
    const base = invocationIdFor(TOKEN);
    expect(taskIdForGeneration(base, 1)).toBe(base);
    expect(taskIdForGeneration(base, 2)).toBe(`g2_${base}`);
    expect(taskIdForGeneration('a'.repeat(128), 3)).toMatch(/^g3h_[0-9a-f]{64}$/);
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses generation %s', (generation) => {
    expect(() => taskIdForGeneration('rsp1_x', generation)).toThrow(TypeError);
  });

  it('stays in FC’s pattern and never gives two (ID, generation) pairs the same task ID', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ unit: 'binary', maxLength: 140 }), { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 1, max: 30 }),
        (tokens, generations) => {
          const seen = new Set<string>();
          for (const token of tokens) {
            for (let g = 1; g <= generations; g++) {
              const id = taskIdForGeneration(invocationIdFor(token), g);
              expect(id).toMatch(INVOCATION_ID_PATTERN);
              expect(seen.has(id)).toBe(false);
              seen.add(id);
            }
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('Function: handOffIdFor', () => {
  it('is invocationIdFor for one token, and ignores the order of several', () => {
    expect(handOffIdFor([TOKEN])).toBe(invocationIdFor(TOKEN));
    expect(handOffIdFor(['ies1-b', 'ies1-a'])).toBe(handOffIdFor(['ies1-a', 'ies1-b']));
    expect(handOffIdFor(['ies1-a', 'ies1-b'])).toMatch(/^rsp1m_[0-9a-f]{64}$/);
    expect(() => handOffIdFor([])).toThrow(TypeError);
  });

  it('gives distinct sets of tokens distinct IDs, in FC’s pattern', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.uniqueArray(fc.string({ maxLength: 30 }), { minLength: 1, maxLength: 4 }), { maxLength: 20 }),
        (sets) => {
          const keys = new Set(sets.map((set) => JSON.stringify([...set].sort())));
          const ids = new Set(sets.map(handOffIdFor));
          for (const id of ids) expect(id).toMatch(INVOCATION_ID_PATTERN);
          expect(ids.size).toBe(keys.size);
        },
      ),
    );
  });
});

describe('Function: createFc3Invoker (against the emulated FC 3.0 API)', () => {
  it('queues the event under the task ID with one signed call, and FC runs it', async () => {
    const { transport, calls } = recording();
    const result = await createFc3Invoker(options({ transport })).invoke(command, invocationIdFor(TOKEN), KEY);
    expect(result).toEqual({ status: 'accepted', requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(calls).toHaveLength(1);
    expect(calls[0]?.method).toBe('POST');
    expect(calls[0]?.url.pathname).toBe(`/2023-03-30/functions/${FUNCTION}/invocations`);
    expect(calls[0]?.headers).toMatchObject({
      'x-fc-invocation-type': 'Async',
      'x-fc-async-task-id': `rsp1_${TOKEN}`,
      'x-acs-action': 'InvokeFunction',
      'x-acs-version': '2023-03-30',
      authorization: expect.stringMatching(/^ACS3-HMAC-SHA256 Credential=LTAI5tLocalEmulatorKey,/),
    });
    await api.idle();
    expect(runs).toEqual([
      { event: JSON.stringify(command), taskId: `rsp1_${TOKEN}`, qualifier: undefined, attempt: 1 },
    ]);
    expect(api.invocations()[0]).toMatchObject({ api: '2023-03-30', status: 'succeeded' });
  });

  it('sends the qualifier as a query parameter', async () => {
    await createFc3Invoker(options({ qualifier: 'prod' })).invoke(command, 'rsp1_q', KEY);
    await api.idle();
    expect(runs[0]?.qualifier).toBe('prod');
  });

  it('signs with STS credentials (x-acs-security-token), and FC refuses a wrong token', async () => {
    await expect(createFc3Invoker(options()).invoke(command, 'rsp1_sts', STS)).resolves.toMatchObject({
      status: 'accepted',
    });
    const error = await rejection(
      createFc3Invoker(options()).invoke(command, 'rsp1_sts2', { ...STS, securityToken: 'forged' }),
    );
    expect(error).toMatchObject({
      code: 'Refused',
      httpStatus: 403,
      platformCode: 'InvalidSecurityToken',
      retryable: false,
    });
  });

  it('reports a duplicate of a hand-off under way or done as duplicate, reading the task only after the 409', async () => {
    const { transport, calls } = recording();
    const invoker = createFc3Invoker(options({ transport }));
    await invoker.invoke(command, 'rsp1_dup', KEY);
    await api.idle();
    const second = await invoker.invoke(command, 'rsp1_dup', KEY);
    expect(second).toMatchObject({ status: 'duplicate', taskStatus: 'Succeeded' });
    expect(calls.map((c) => `${c.method} ${c.url.pathname}`)).toEqual([
      `POST /2023-03-30/functions/${FUNCTION}/invocations`,
      `POST /2023-03-30/functions/${FUNCTION}/invocations`,
      `GET /2023-03-30/functions/${FUNCTION}/async-tasks/rsp1_dup`,
    ]);
    await api.idle();
    expect(runs).toHaveLength(1);
  });

  it('hands off again, under the next generation, after a run that failed for good; never while one is under way', async () => {
    runner = failingRunner;
    const invoker = createFc3Invoker(options());
    await invoker.invoke(command, 'rsp1_retry', KEY);
    await api.idle();
    expect(runs.map((r) => r.attempt)).toEqual([1, 2, 3, 4]);

    runner = async (_fn, event, context) => {
      runs.push({
        event: event.toString('utf8'),
        taskId: context.invocationId,
        qualifier: undefined,
        attempt: context.attempt,
      });
      return 'ok';
    };
    const retry = await invoker.invoke(command, 'rsp1_retry', KEY);
    expect(retry).toMatchObject({ status: 'accepted', taskId: 'g2_rsp1_retry' });
    // A third delivery while (or after) generation 2 runs is the same hand-off.
    const third = await invoker.invoke(command, 'rsp1_retry', KEY);
    expect(third).toMatchObject({ status: 'duplicate', taskId: 'g2_rsp1_retry' });
    await api.idle();
    expect(runs.filter((r) => r.taskId === 'g2_rsp1_retry')).toEqual([
      { event: JSON.stringify(command), taskId: 'g2_rsp1_retry', qualifier: undefined, attempt: 1 },
    ]);
  });

  it('stops handing off once every allowed generation failed for good (not retryable)', async () => {
    runner = failingRunner;
    const invoker = createFc3Invoker(options({ maxGenerations: 2 }));
    for (let i = 0; i < 2; i++) {
      await invoker.invoke(command, 'rsp1_doomed', KEY);
      await api.idle();
    }
    const error = await rejection(invoker.invoke(command, 'rsp1_doomed', KEY));
    expect(error).toMatchObject({ code: 'RunsExhausted', retryable: false, platformCode: 'Failed' });
    await api.idle();
    expect(new Set(runs.map((r) => r.taskId))).toEqual(new Set(['rsp1_doomed', 'g2_rsp1_doomed']));
  });

  it.each([
    ['a wrong secret', { accessKeyId: KEY.accessKeyId, accessKeySecret: 'wrong' }, 'SignatureNotMatch'],
    ['an unknown key', { accessKeyId: 'LTAI5tUnknown', accessKeySecret: 'x' }, 'InvalidAccessKeyID'],
  ])('is refused for %s (403 %s, not retryable), and nothing runs', async (_, credentials, code) => {
    const error = await rejection(createFc3Invoker(options()).invoke(command, 'rsp1_a', credentials));
    expect(error).toMatchObject({ code: 'Refused', httpStatus: 403, platformCode: code, retryable: false });
    await api.idle();
    expect(runs).toHaveLength(0);
  });

  it('is refused for a function that does not exist', async () => {
    const error = await rejection(
      createFc3Invoker(options({ functionName: 'no-such-function' })).invoke(command, 'rsp1_b', KEY),
    );
    expect(error).toMatchObject({ code: 'Refused', httpStatus: 404, platformCode: 'FunctionNotFound' });
  });
});

/** A transport that answers from a table, recording what it was asked. */
function scripted(answers: Array<WireResponse | Error>): { transport: Transport; asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    transport: async (url, request) => {
      asked.push(`${request.method} ${url.pathname}`);
      const next = answers.shift();
      if (!next) throw new Error('no more answers');
      if (next instanceof Error) throw next;
      return next;
    },
  };
}

const answer = (status: number, body: object | string = '', headers: Record<string, string> = {}): WireResponse => ({
  status,
  retryAfter: undefined,
  body: typeof body === 'string' ? body : JSON.stringify(body),
  headers,
});

describe('Function: createFc3Invoker (classification)', () => {
  it.each([
    ['429', answer(429, { errorCode: 'TooManyRequests' }), 'Throttled', true],
    ['ResourceExhausted under 400', answer(400, { errorCode: 'ResourceExhausted' }), 'Throttled', true],
    ['500', answer(500, { errorCode: 'InternalServerError' }), 'ServerError', true],
    ['503 without a body', answer(503, 'Service Unavailable'), 'ServerError', true],
    [
      '403 AccessDenied',
      answer(403, { errorCode: 'AccessDenied', errorMessage: 'acs:fc:cn-hangzhou:1234:…' }),
      'Refused',
      false,
    ],
    ['400 EntityTooLarge', answer(400, { errorCode: 'EntityTooLarge' }), 'Refused', false],
    ['403 with the gateway’s Code spelling', answer(403, { Code: 'Forbidden.RAM', Message: 'no' }), 'Refused', false],
  ])('classifies %s as %s (retryable: %s)', async (_, response, code, retryable) => {
    const { transport } = scripted([response]);
    const error = await rejection(createFc3Invoker(options({ transport })).invoke(command, 'rsp1_c', KEY));
    expect(error).toMatchObject({ code, retryable, httpStatus: response.status });
  });

  it('reads the error code whatever its spelling', async () => {
    for (const body of [{ errorCode: 'X1' }, { ErrorCode: 'X1' }, { Code: 'X1' }, { code: 'X1' }]) {
      const { transport } = scripted([answer(403, body)]);
      expect(await rejection(createFc3Invoker(options({ transport })).invoke(command, 'rsp1_c', KEY))).toMatchObject({
        platformCode: 'X1',
      });
    }
  });

  it.each([
    [
      'a connection refused',
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      'NetworkError',
      true,
    ],
    ['a reset', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'NetworkError', true],
    ['a DNS failure', Object.assign(new Error('getaddrinfo'), { code: 'EAI_AGAIN' }), 'NetworkError', true],
    [
      'an expired certificate',
      Object.assign(new Error('certificate has expired'), { code: 'CERT_HAS_EXPIRED' }),
      'NetworkError',
      false,
    ],
    [
      'a TLS record error on a reused connection (the ID makes a retry a duplicate, never a second run)',
      Object.assign(new Error('decryption failed or bad record mac'), {
        code: 'ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC',
      }),
      'NetworkError',
      true,
    ],
    ['a bug under the client', new TypeError('x is not a function'), 'ClientError', false],
  ])('classifies %s as %s (retryable: %s)', async (_, thrown, code, retryable) => {
    const { transport } = scripted([thrown]);
    expect(await rejection(createFc3Invoker(options({ transport })).invoke(command, 'rsp1_c', KEY))).toMatchObject({
      code,
      retryable,
    });
  });

  it('times out (retryable) when FC does not answer', async () => {
    const server: Server = createServer(() => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const error = await rejection(
        createFc3Invoker(options({ endpoint, timeoutMs: 100 })).invoke(command, 'rsp1_t', KEY),
      );
      expect(error).toMatchObject({ code: 'Timeout', retryable: true });
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('fails over the network (retryable) when nothing listens', async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    expect(await rejection(createFc3Invoker(options({ endpoint })).invoke(command, 'rsp1_n', KEY))).toMatchObject({
      code: 'NetworkError',
      retryable: true,
    });
  });

  it.each([
    ['a 409', answer(409, { errorCode: 'AnyCodeAtAll' })],
    ['an …AlreadyExists code under 400', answer(400, { errorCode: 'AsyncTaskAlreadyExists' })],
  ])('takes %s for a known task ID and reads the task', async (_, taken) => {
    const { transport, asked } = scripted([taken, answer(200, { taskId: 'rsp1_c', status: 'Running' })]);
    const result = await createFc3Invoker(options({ transport })).invoke(command, 'rsp1_c', KEY);
    expect(result).toMatchObject({ status: 'duplicate', taskStatus: 'Running' });
    expect(asked[1]).toBe(`GET /2023-03-30/functions/${FUNCTION}/async-tasks/rsp1_c`);
  });

  it.each([
    ['the role may not read tasks', answer(403, { errorCode: 'AccessDenied' })],
    ['FC cannot find the task', answer(404, { errorCode: 'AsyncTaskNotFound' })],
    ['the answer has no state', answer(200, { taskId: 'rsp1_c' })],
    ['the answer is not JSON', answer(200, '<html>')],
    ['the read fails on the network', Object.assign(new Error('reset'), { code: 'ECONNRESET' })],
  ])('treats a 409 as a duplicate when %s (at most once when FC cannot tell)', async (_, read) => {
    const { transport, asked } = scripted([answer(409, { errorCode: 'X' }), read]);
    const result = await createFc3Invoker(options({ transport })).invoke(command, 'rsp1_c', KEY);
    expect(result).toMatchObject({ status: 'duplicate', taskReadError: expect.stringMatching(/^GetAsyncTask/) });
    expect(asked).toHaveLength(2);
  });

  it.each(['Failed', 'Invalid', 'Expired'])('goes on to the next generation after %s', async (status) => {
    const { transport, asked } = scripted([
      answer(409, {}),
      answer(200, { status }),
      answer(202, '', { 'x-fc-request-id': 'req-2' }),
    ]);
    const result = await createFc3Invoker(options({ transport })).invoke(command, 'rsp1_c', KEY);
    expect(result).toEqual({ status: 'accepted', requestId: 'req-2', taskId: 'g2_rsp1_c' });
    expect(asked).toHaveLength(3);
  });

  it.each(['Enqueued', 'Running', 'Retrying', 'Succeeded', 'Stopping', 'Stopped', 'SomethingNew'])(
    'does not hand off again while the task is %s (Stopped: a person stopped it)',
    async (status) => {
      const { transport } = scripted([answer(409, {}), answer(200, { status })]);
      expect(await createFc3Invoker(options({ transport })).invoke(command, 'rsp1_c', KEY)).toMatchObject({
        status: 'duplicate',
        taskStatus: status,
      });
    },
  );
});

describe('Function: createFc3Invoker (what it refuses to send)', () => {
  it.each([
    ['an invocation ID of the wrong shape', command, '9-starts-with-a-digit', 'InvalidInvocationId'],
    ['an event over 128 KiB', { ...command, reason: 'x'.repeat(128 * 1024) }, 'rsp1_big', 'InvalidEvent'],
    ['an event that is not JSON', { big: 10n }, 'rsp1_bigint', 'InvalidEvent'],
  ])('refuses %s before any call', async (_, event, id, code) => {
    const { transport, asked } = scripted([]);
    expect(await rejection(createFc3Invoker(options({ transport })).invoke(event, id, KEY))).toMatchObject({
      code,
      retryable: false,
    });
    expect(asked).toEqual([]);
  });

  it.each([
    ['no credentials', undefined],
    ['credentials without a secret', { accessKeyId: 'a', accessKeySecret: '' }],
  ])('fails with ClientError for %s, before any call', async (_, credentials) => {
    const { transport, asked } = scripted([]);
    expect(
      await rejection(
        createFc3Invoker(options({ transport })).invoke(command, 'rsp1_x', credentials as unknown as typeof KEY),
      ),
    ).toMatchObject({ code: 'ClientError', retryable: false });
    expect(asked).toEqual([]);
  });

  it.each([
    ['accountId', { accountId: 'acct' }],
    ['region', { region: 'Hangzhou' }],
    ['functionName', { functionName: '1-bad' }],
    ['qualifier', { qualifier: 'no spaces' }],
    ['timeoutMs', { timeoutMs: 0 }],
    ['maxGenerations', { maxGenerations: 0 }],
    ['endpoint', { endpoint: 'https://fc.example/path' }],
    ['endpoint', { endpoint: 'ftp://fc.example' }],
  ])('checks %s once, at creation', (_, bad) => {
    expect(() => createFc3Invoker(options(bad as Partial<Fc3InvokerOptions>))).toThrow(TypeError);
  });
});

describe('Function: fc3Origin', () => {
  it.each([
    [{}, 'https://1234567890123456.cn-shanghai.fc.aliyuncs.com'],
    [
      { endpoint: '1234567890123456.cn-shanghai-internal.fc.aliyuncs.com' },
      'https://1234567890123456.cn-shanghai-internal.fc.aliyuncs.com',
    ],
    [{ endpoint: 'http://127.0.0.1:9000' }, 'http://127.0.0.1:9000'],
  ])('resolves %j to %s', (override, origin) => {
    expect(fc3Origin({ accountId: ACCOUNT, region: 'cn-shanghai', ...override }).origin).toBe(origin);
  });
});

describe('Module: fc3-invoker', () => {
  it('loads no SDK, before or during a hand-off', async () => {
    const script = `
      import { createRequire } from 'node:module';
      const require = createRequire(import.meta.url);
      const sdk = () => Object.keys(require.cache).filter((p) => p.includes('@alicloud') || p.includes('@darabonba'));
      const mod = await import('./shared/async/fc3-invoker.ts');
      const invoker = mod.createFc3Invoker({ accountId: '1', region: 'cn-hangzhou', functionName: 'f',
        endpoint: 'http://127.0.0.1:1', timeoutMs: 1000 });
      await invoker.invoke({}, 'rsp1_x', { accessKeyId: 'a', accessKeySecret: 'b' }).catch(() => undefined);
      console.log(JSON.stringify(sdk()));
    `;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      {
        cwd: process.cwd(),
        timeout: 30_000,
      },
    );
    expect(JSON.parse(stdout.trim().split('\n').pop() ?? '')).toEqual([]);
  });
});

describe('Function: a failed FC 3.0 hand-off, as the sender sees it', () => {
  const HOST = `${ACCOUNT}.cn-hangzhou.fc.aliyuncs.com`;
  const ARN = `acs:fc:cn-hangzhou:${ACCOUNT}:functions/${FUNCTION}`;
  let stub: Server;
  let stubUrl: string;

  beforeAll(async () => {
    // FC refusing the role, with the kind of message RAM gives: it names the account and the ARN.
    stub = createServer((_req, res) => {
      res.writeHead(403, { 'content-type': 'application/json', 'x-fc-request-id': 'req-denied' });
      res.end(
        JSON.stringify({
          errorCode: 'AccessDenied',
          errorMessage: `the caller is not authorized to perform 'fc:InvokeFunction' on resource '${ARN}' at ${HOST}`,
          requestId: 'req-denied',
        }),
      );
    });
    await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', resolve));
    stubUrl = `http://127.0.0.1:${(stub.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    stub.closeAllConnections();
    await new Promise<void>((resolve) => stub.close(() => resolve()));
  });

  const env = (endpoint: string) => ({
    GENERIC_BEARER_TOKENS: TEST_BEARER,
    ALLOWED_INSTANCES: '*',
    ASYNC_SOURCES: 'generic',
    FC_ACCOUNT_ID: ACCOUNT,
    FC_REGION: 'cn-hangzhou',
    FC_FUNCTION_NAME: FUNCTION,
    ASYNC_INVOKE_ENDPOINT: endpoint,
    ALIBABA_CLOUD_ACCESS_KEY_ID: KEY.accessKeyId,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: KEY.accessKeySecret,
    POWERTOOLS_LOG_LEVEL: 'INFO',
  });
  const delivery = () =>
    genericRequest(FUNCTION, JSON.stringify({ instanceIds: ['es-cn-abc0001'] }), {
      authorization: `Bearer ${TEST_BEARER}`,
      'idempotency-key': 'denied-1',
      'content-type': 'application/json',
    });

  it.each([
    [
      'FC refuses it (403, a message naming the account, host and ARN)',
      () => createFunctionHandler(FUNCTION, { env: env(stubUrl) }),
      // Nothing a retry can change: 200, the failure in the result.
      200,
      false,
    ],
    [
      'FC cannot be reached (an error naming the endpoint)',
      () =>
        createFunctionHandler(FUNCTION, {
          env: env(''),
          invoker: createFc3Invoker({
            ...options({ endpoint: undefined }),
            transport: async () => {
              throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${HOST}`), { code: 'ENOTFOUND' });
            },
          }),
        }),
      502,
      true,
    ],
  ])('when %s, answers without the endpoint, host or account, and logs them', async (_, make, status, retryable) => {
    const handler = make();
    const { value: response, text: log } = await captureOutput(() => invokeHttp(handler, delivery()));
    expect(response.status).toBe(status);
    const text = await response.text();
    const body = JSON.parse(text) as ResponseBody;
    expect(body.results[0]).toMatchObject({ outcome: 'failed', retryable });
    expect(body.results[0]?.message).toMatch(/Function Compute/);
    for (const secret of [ACCOUNT, HOST, ARN, stubUrl, '127.0.0.1', 'fc.aliyuncs.com'])
      expect(text).not.toContain(secret);
    // The operator still learns what FC said.
    expect(log).toContain(retryable ? HOST : ARN);
  });
});
