import { randomUUID } from 'node:crypto';
import fc2 from '@alicloud/fc2';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LOCAL_EMULATOR_CREDENTIALS } from '../emulator/credentials.ts';
import {
  createFcInvokeApi,
  type FcInvocation,
  type FcInvokeApi,
  type FcRunner,
  type FcRunnerContext,
} from '../emulator/fc-invoke-api.ts';
import { fcSignature, fcStringToSign } from '../emulator/fc2-signature.ts';
import { taskStatus } from '../emulator/fc3-invoke-wire.ts';
import { createFc2Invoker } from '../shared/async/fc2-invoker.ts';
import { getAsyncTaskRequest, invokeFunctionRequest } from '../shared/async/fc3-wire.ts';
import { type ServedApp, serveApp } from './support/fc-server.ts';

/** The real `@alicloud/fc2` client is the oracle: the emulated invoke API must satisfy it. */

// TypeScript (NodeNext) types a CJS default import as module.exports; the runtime may already unwrap it.
const FC = ('default' in fc2 ? (fc2 as unknown as { default: typeof fc2 }).default : fc2) as typeof fc2;

const ACCOUNT = '1234567890123456';
const SERVICE = 'es-change-responder';
const FUNCTION = 'interrupt-elasticsearch-task';
const KEY = LOCAL_EMULATOR_CREDENTIALS;

type Call = { functionName: string; event: Buffer; context: FcRunnerContext };

let api: FcInvokeApi;
let served: ServedApp;
let calls: Call[];
let runner: FcRunner;

beforeAll(async () => {
  api = createFcInvokeApi({
    credentials: [KEY],
    runner: (functionName, event, context) => runner(functionName, event, context),
    accountId: ACCOUNT,
    serviceName: SERVICE,
    functions: [FUNCTION, 'resume-elasticsearch-task'],
  });
  served = await serveApp(api.app);
});
afterAll(() => served.close());
beforeEach(async () => {
  await api.idle();
  api.reset();
  calls = [];
  runner = async (functionName, event, context) => {
    calls.push({ functionName, event, context });
    return { ok: true, echo: JSON.parse(event.toString('utf8')) };
  };
});

const client = (credentials: { accessKeyId: string; accessKeySecret: string } = KEY) =>
  new FC(ACCOUNT, {
    accessKeyID: credentials.accessKeyId,
    accessKeySecret: credentials.accessKeySecret,
    region: 'cn-hangzhou',
    endpoint: served.url,
    timeout: 5000,
  });

const invoker = () =>
  createFc2Invoker({
    accountId: ACCOUNT,
    region: 'cn-hangzhou',
    serviceName: SERVICE,
    functionName: FUNCTION,
    endpoint: served.url,
    timeoutMs: 5000,
  });

const asyncHeaders = (invocationId?: string) => ({
  'x-fc-invocation-type': 'Async',
  ...(invocationId ? { 'x-fc-stateful-async-invocation-id': invocationId } : {}),
});

async function failure(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected the call to fail');
}

const command = { responderCommand: 1, function: FUNCTION, source: 'slack', targets: [{ instanceId: 'es-cn-x' }] };

describe('Function: createFcInvokeApi (async invocations through @alicloud/fc2)', () => {
  it('answers 202 with a request ID and hands the runner the exact event bytes', async () => {
    const event = JSON.stringify(command);
    const response = await client().invokeFunction(SERVICE, FUNCTION, event, asyncHeaders('rsp1_ies1-abc'));
    const requestId = response.headers['x-fc-request-id'];
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    await api.idle();
    expect(calls).toHaveLength(1);
    expect(calls[0]?.functionName).toBe(FUNCTION);
    expect(Buffer.isBuffer(calls[0]?.event)).toBe(true);
    expect(calls[0]?.event.equals(Buffer.from(event))).toBe(true);
    expect(calls[0]?.context).toMatchObject({ requestId, invocationId: 'rsp1_ies1-abc', attempt: 1, retryCount: 0 });
    expect(api.invocations()).toEqual([
      expect.objectContaining({
        requestId,
        invocationId: 'rsp1_ies1-abc',
        serviceName: SERVICE,
        functionName: FUNCTION,
        type: 'Async',
        status: 'succeeded',
        attempts: 1,
        result: { ok: true, echo: command },
      }),
    ]);
  });

  it('answers 202 before the runner finishes (the reply never waits for the work)', async () => {
    let release: () => void = () => undefined;
    runner = () => new Promise((resolve) => (release = () => resolve('done')));
    await client().invokeFunction(SERVICE, FUNCTION, '{}', asyncHeaders('rsp1_slow'));
    expect(api.invocations()[0]?.status).toMatch(/^(queued|running)$/);
    let drained = false;
    const idle = api.idle().then(() => (drained = true));
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(drained).toBe(false);
    release();
    await idle;
    expect(api.invocations()[0]).toMatchObject({ status: 'succeeded', result: 'done' });
  });

  it('refuses a reused stateful invocation ID with 409 StatefulAsyncInvocationAlreadyExists and runs once', async () => {
    await client().invokeFunction(SERVICE, FUNCTION, '{"n":1}', asyncHeaders('rsp1_same'));
    const error = await failure(client().invokeFunction(SERVICE, FUNCTION, '{"n":2}', asyncHeaders('rsp1_same')));
    expect(error.code).toBe('StatefulAsyncInvocationAlreadyExists');
    expect(error.message).toContain('failed with 409');
    await api.idle();
    expect(calls.map((c) => c.event.toString())).toEqual(['{"n":1}']);
    expect(api.invocations()).toHaveLength(1);
  });

  it('maps the refusal of a reused ID to duplicate through createFc2Invoker', async () => {
    const first = await invoker().invoke(command, 'rsp1_ies1-0123', KEY);
    const second = await invoker().invoke(command, 'rsp1_ies1-0123', KEY);
    expect(first).toEqual({ status: 'accepted', requestId: expect.any(String) });
    expect(second).toEqual({ status: 'duplicate', requestId: expect.any(String) });
    expect(second.requestId).not.toBe(first.requestId);
    await api.idle();
    expect(calls).toHaveLength(1);
    expect(JSON.parse(calls[0]?.event.toString() ?? '')).toEqual(command);
  });

  it('scopes stateful IDs to the function, and invocations without an ID are never deduplicated', async () => {
    await client().invokeFunction(SERVICE, FUNCTION, '{}', asyncHeaders('rsp1_x'));
    await client().invokeFunction(SERVICE, 'resume-elasticsearch-task', '{}', asyncHeaders('rsp1_x'));
    await client().invokeFunction(SERVICE, FUNCTION, '{}', asyncHeaders());
    await client().invokeFunction(SERVICE, FUNCTION, '{}', asyncHeaders());
    await api.idle();
    expect(calls.map((c) => c.functionName).sort()).toEqual([
      FUNCTION,
      FUNCTION,
      FUNCTION,
      'resume-elasticsearch-task',
    ]);
  });

  it('routes a qualifier (service.qualifier in the path) and records it', async () => {
    await client().invokeFunction(SERVICE, FUNCTION, '{}', asyncHeaders('rsp1_q'), 'LATEST');
    await api.idle();
    expect(api.invocations()[0]).toMatchObject({ serviceName: SERVICE, qualifier: 'LATEST', status: 'succeeded' });
    expect(calls[0]?.context.qualifier).toBe('LATEST');
  });

  it('retries a runner that throws, with the same event, and marks it failed after the retries', async () => {
    runner = async (functionName, event, context) => {
      calls.push({ functionName, event, context });
      throw new Error(`boom ${context.attempt}`);
    };
    await client().invokeFunction(SERVICE, FUNCTION, '{"k":"v"}', asyncHeaders('rsp1_fails'));
    await api.idle();
    expect(calls.map((c) => c.context.retryCount)).toEqual([0, 1, 2, 3]);
    expect(new Set(calls.map((c) => c.event.toString()))).toEqual(new Set(['{"k":"v"}']));
    expect(new Set(calls.map((c) => c.context.requestId)).size).toBe(1);
    expect(api.invocations()[0]).toMatchObject({
      status: 'failed',
      attempts: 4,
      error: { name: 'Error', message: 'boom 4' },
    });
  });

  it('stops retrying once a run succeeds', async () => {
    runner = async (functionName, event, context) => {
      calls.push({ functionName, event, context });
      if (context.attempt < 3) throw new Error('transient');
      return 'third time';
    };
    await client().invokeFunction(SERVICE, FUNCTION, '{}', asyncHeaders('rsp1_flaky'));
    await api.idle();
    expect(calls).toHaveLength(3);
    expect(api.invocations()[0]).toMatchObject({ status: 'succeeded', attempts: 3, result: 'third time' });
    expect(api.invocations()[0]?.error).toBeUndefined();
  });

  it('survives runners that throw synchronously or reject with non-errors (no unhandled rejection)', async () => {
    runner = (() => {
      throw 'not an error';
    }) as unknown as FcRunner;
    await client().invokeFunction(SERVICE, FUNCTION, '{}', asyncHeaders('rsp1_sync_throw'));
    await api.idle();
    expect(api.invocations()[0]).toMatchObject({ status: 'failed', attempts: 4, error: { message: 'not an error' } });
  });

  it('honours maxAsyncRetryAttempts', async () => {
    let runs = 0;
    const local = createFcInvokeApi({
      credentials: [KEY],
      maxAsyncRetryAttempts: 0,
      runner: async () => {
        runs++;
        throw new Error('no');
      },
    });
    const server = await serveApp(local.app);
    try {
      await new FC(ACCOUNT, {
        accessKeyID: KEY.accessKeyId,
        accessKeySecret: KEY.accessKeySecret,
        region: 'cn-hangzhou',
        endpoint: server.url,
      }).invokeFunction(SERVICE, FUNCTION, '{}', asyncHeaders());
      await local.idle();
      expect(runs).toBe(1);
      expect(local.invocations()[0]).toMatchObject({ status: 'failed', attempts: 1 });
    } finally {
      await server.close();
    }
  });

  it('idle() resolves at once when nothing is queued', async () => {
    await expect(api.idle()).resolves.toBeUndefined();
  });
});

describe('Function: createFcInvokeApi (sync invocations)', () => {
  it('runs once and returns the runner result as the body', async () => {
    const response = await client().invokeFunction(SERVICE, FUNCTION, JSON.stringify({ a: 1 }));
    expect(JSON.parse(String(response.data))).toEqual({ ok: true, echo: { a: 1 } });
    expect(response.headers['x-fc-request-id']).toBeTruthy();
    expect(api.invocations()[0]).toMatchObject({ type: 'Sync', status: 'succeeded', attempts: 1 });
  });

  it.each([
    ['a string', 'hello', 'hello'],
    ['a Buffer', Buffer.from('bytes'), 'bytes'],
    ['undefined', undefined, ''],
  ])('returns %s as is', async (_, result, body) => {
    runner = async () => result;
    const response = await client().invokeFunction(SERVICE, FUNCTION, '{}');
    expect(String(response.data)).toBe(body);
  });

  it('answers a runner error like FC: 200 with x-fc-error-type, no retry', async () => {
    runner = async (functionName, event, context) => {
      calls.push({ functionName, event, context });
      throw new TypeError('bad handler');
    };
    const response = await client().invokeFunction(SERVICE, FUNCTION, '{}');
    expect(response.headers['x-fc-error-type']).toBe('UnhandledInvocationError');
    expect(response.data).toEqual({ errorMessage: 'bad handler', errorType: 'TypeError' });
    expect(calls).toHaveLength(1);
    expect(api.invocations()[0]).toMatchObject({ type: 'Sync', status: 'failed' });
  });
});

describe('Function: createFcInvokeApi (refusals)', () => {
  it.each([
    ['a wrong secret', 'SignatureNotMatch', { accessKeyId: KEY.accessKeyId, accessKeySecret: 'wrong' }],
    ['an unknown key', 'InvalidAccessKeyID', { accessKeyId: 'LTAI5tUnknown', accessKeySecret: KEY.accessKeySecret }],
  ])('refuses %s with 403 %s and never runs the runner', async (_, code, credentials) => {
    const error = await failure(client(credentials).invokeFunction(SERVICE, FUNCTION, '{}', asyncHeaders('rsp1_a')));
    expect(error.code).toBe(code);
    expect(error.message).toContain('failed with 403');
    await api.idle();
    expect(calls).toHaveLength(0);
    expect(api.invocations()).toHaveLength(0);
    // The refused call did not burn the ID.
    await client().invokeFunction(SERVICE, FUNCTION, '{}', asyncHeaders('rsp1_a'));
  });

  it.each([
    ['an unknown service', 'other-service', FUNCTION, 'ServiceNotFound', 404],
    ['an unknown function', SERVICE, 'no-such-function', 'FunctionNotFound', 404],
  ])('refuses %s', async (_, service, functionName, code, status) => {
    const error = await failure(client().invokeFunction(service, functionName, '{}', asyncHeaders()));
    expect(error.code).toBe(code);
    expect(error.message).toContain(`failed with ${status}`);
  });

  it.each([
    [
      'an invocation ID of the wrong shape',
      { ...asyncHeaders(), 'x-fc-stateful-async-invocation-id': '1-starts-with-digit' },
    ],
    ['an unknown invocation type', { 'x-fc-invocation-type': 'Later' }],
  ])('refuses %s with 400 InvalidArgument', async (_, headers) => {
    const error = await failure(client().invokeFunction(SERVICE, FUNCTION, '{}', headers));
    expect(error.code).toBe('InvalidArgument');
  });

  it('refuses an async payload over 128 KiB with EntityTooLarge', async () => {
    const error = await failure(
      client().invokeFunction(SERVICE, FUNCTION, 'x'.repeat(128 * 1024 + 1), asyncHeaders('rsp1_big')),
    );
    expect(error.code).toBe('EntityTooLarge');
  });

  it('refuses a request whose Date is more than 15 minutes off', async () => {
    const skewed = createFcInvokeApi({ credentials: [KEY], runner, now: () => Date.now() + 16 * 60 * 1000 });
    const server = await serveApp(skewed.app);
    try {
      const error = await failure(
        new FC(ACCOUNT, {
          accessKeyID: KEY.accessKeyId,
          accessKeySecret: KEY.accessKeySecret,
          region: 'cn-hangzhou',
          endpoint: server.url,
        }).invokeFunction(SERVICE, FUNCTION, '{}', asyncHeaders()),
      );
      expect(error.code).toBe('RequestTimeTooSkewed');
      expect(skewed.invocations()).toHaveLength(0);
    } finally {
      await server.close();
    }
  });

  it('refuses a body that does not match its Content-MD5, and a missing Authorization', async () => {
    const path = `/2016-08-15/services/${SERVICE}/functions/${FUNCTION}/invocations`;
    const headers: Record<string, string> = {
      date: new Date().toUTCString(),
      'content-type': 'application/octet-stream',
      'content-md5': Buffer.from('0'.repeat(32)).toString('base64'),
      'x-fc-account-id': ACCOUNT,
      'x-fc-invocation-type': 'Async',
    };
    const authorization = `FC ${KEY.accessKeyId}:${fcSignature(KEY.accessKeySecret, fcStringToSign('POST', path, headers))}`;
    const tampered = await fetch(`${served.url}${path}`, {
      method: 'POST',
      headers: { ...headers, authorization },
      body: '{"tampered":true}',
    });
    expect(tampered.status).toBe(400);
    expect(await tampered.json()).toMatchObject({ ErrorCode: 'InvalidArgument' });

    const anonymous = await fetch(`${served.url}${path}`, { method: 'POST', headers, body: '{}' });
    expect(anonymous.status).toBe(403);
    expect(await anonymous.json()).toMatchObject({ ErrorCode: 'AccessDenied' });
    await api.idle();
    expect(calls).toHaveLength(0);
  });

  it('answers other 2016-08-15 paths with PathNotSupported', async () => {
    const response = await fetch(`${served.url}/2016-08-15/services/${SERVICE}`);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ ErrorCode: 'PathNotSupported' });
  });
});

describe('Function: fcStringToSign', () => {
  const headerName = fc.stringMatching(/^x-fc-[a-z0-9-]{1,12}$/);
  const headerValue = fc.stringMatching(/^[A-Za-z0-9 ._:/=+-]{0,24}$/);

  it('signs exactly as @alicloud/fc2 does (headers, paths, /proxy/ queries)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'),
        fc.stringMatching(/^(\/[A-Za-z0-9._-]{1,10}){1,5}$/),
        fc.dictionary(headerName, headerValue, { maxKeys: 5 }),
        fc.option(fc.dictionary(fc.stringMatching(/^[a-z]{1,6}$/), fc.stringMatching(/^[a-z0-9]{0,6}$/)), {
          nil: null,
        }),
        fc.boolean(),
        (method, path, fcHeaders, queries, withBody) => {
          const headers: Record<string, string> = {
            date: 'Mon, 09 Nov 2020 09:46:33 GMT',
            accept: 'application/json',
            ...(withBody ? { 'content-md5': 'bWQ1', 'content-type': 'application/octet-stream' } : {}),
            ...fcHeaders,
          };
          const expected = FC.getSignature(
            'AK',
            'secret',
            method,
            path,
            { ...headers },
            queries ? { ...queries } : null,
          );
          expect(`FC AK:${fcSignature('secret', fcStringToSign(method, path, headers, queries))}`).toBe(expected);
        },
      ),
    );
  });
});

describe('Function: createFcInvokeApi (the FC 3.0 route)', () => {
  const signed = (
    request: {
      method: string;
      path: string;
      query: Record<string, string>;
      headers: Record<string, string>;
      body?: string;
    },
    overrides: Record<string, string> = {},
  ) => {
    const search = new URLSearchParams(request.query).toString();
    return fetch(`${served.url}${request.path}${search ? `?${search}` : ''}`, {
      method: request.method,
      headers: { ...request.headers, ...overrides },
      body: request.body,
    });
  };
  const host = () => served.url.replace('http://', '');
  const invoke = (taskId: string, body = '{}', extraHeaders: Record<string, string> = {}) =>
    invokeFunctionRequest({
      host: host(),
      functionName: FUNCTION,
      credentials: KEY,
      date: new Date(),
      nonce: randomUUID(),
      taskId,
      body,
      extraHeaders,
    });
  const readTask = async (taskId: string) => {
    const response = await signed(
      getAsyncTaskRequest({
        host: host(),
        functionName: FUNCTION,
        credentials: KEY,
        date: new Date(),
        nonce: randomUUID(),
        taskId,
      }),
    );
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it('reports a task’s state as FC 3.0 names it while it runs, is retried and is done', async () => {
    const gates: Array<(fail: boolean) => void> = [];
    runner = (_fn, _event) =>
      new Promise((resolve, reject) => gates.push((fail) => (fail ? reject(new Error('run fails')) : resolve('done'))));
    const nextGate = async () => {
      while (gates.length === 0) await new Promise((resolve) => setImmediate(resolve));
      return gates.shift() as (fail: boolean) => void;
    };
    try {
      expect((await signed(invoke('rsp1_states'))).status).toBe(202);
      const first = await nextGate();
      expect((await readTask('rsp1_states')).body).toMatchObject({ status: 'Running', alreadyRetriedTimes: 0 });
      first(true);
      const second = await nextGate();
      expect((await readTask('rsp1_states')).body).toMatchObject({ status: 'Retrying', alreadyRetriedTimes: 1 });
      second(false);
      await api.idle();
      expect((await readTask('rsp1_states')).body).toMatchObject({
        status: 'Succeeded',
        destinationStatus: 'Succeeded',
        taskPayload: '{}',
      });
    } finally {
      // Never leave a run hanging for the next test's idle().
      for (const gate of gates.splice(0)) gate(false);
    }
  });

  it.each([
    ['queued', 0, 'Enqueued'],
    ['running', 1, 'Running'],
    ['running', 2, 'Retrying'],
    ['succeeded', 1, 'Succeeded'],
    ['failed', 4, 'Failed'],
  ] as const)('names a %s invocation after %i runs %s', (status, attempts, expected) => {
    expect(taskStatus({ status, attempts } as FcInvocation)).toBe(expected);
  });

  it('gives an async invocation without a task ID one of its own, readable like any other', async () => {
    const request = invoke('unused');
    delete request.headers['x-fc-async-task-id'];
    const response = await signed(request);
    expect(response.status).toBe(202);
    const taskId = response.headers.get('x-fc-async-task-id') as string;
    expect(taskId).toMatch(/^[A-Za-z_][A-Za-z0-9_-]{0,127}$/);
    await api.idle();
    expect((await readTask(taskId)).body).toMatchObject({ taskId, status: 'Succeeded' });
  });

  it.each([
    [
      'a request signed as another API',
      () => signed(invoke('rsp1_x', '{}', { 'x-acs-action': 'GetAsyncTask' })),
      400,
      'InvalidArgument',
    ],
    [
      'a task ID of the wrong shape',
      () => signed(invoke('rsp1_y'), { 'x-fc-async-task-id': '9-digit-first' }),
      400,
      'InvalidArgument',
    ],
    [
      'an async payload over 128 KiB',
      () => signed(invoke('rsp1_z', 'x'.repeat(128 * 1024 + 1))),
      400,
      'EntityTooLarge',
    ],
    [
      'an unsigned request',
      () => fetch(`${served.url}/2023-03-30/functions/${FUNCTION}/invocations`, { method: 'POST', body: '{}' }),
      400,
      'InvalidArgument',
    ],
    [
      'an API the emulator does not serve',
      () => fetch(`${served.url}/2023-03-30/functions/${FUNCTION}`),
      400,
      'PathNotSupported',
    ],
  ])('refuses %s (%i %s) in FC 3.0’s error shape, and runs nothing', async (_, send, status, code) => {
    const response = await send();
    expect(response.status).toBe(status);
    expect(await response.json()).toEqual({
      errorCode: code,
      errorMessage: expect.any(String),
      requestId: expect.any(String),
    });
    await api.idle();
    expect(calls).toEqual([]);
  });

  it('keeps one queue for both APIs, with task IDs per API and function', async () => {
    await client().invokeFunction(SERVICE, FUNCTION, '{"v":2}', asyncHeaders('rsp1_both'));
    expect((await signed(invoke('rsp1_both', '{"v":3}'))).status).toBe(202);
    await api.idle();
    expect(api.invocations().map((i) => [i.api, i.invocationId, i.status])).toEqual([
      ['2016-08-15', 'rsp1_both', 'succeeded'],
      ['2023-03-30', 'rsp1_both', 'succeeded'],
    ]);
  });
});
