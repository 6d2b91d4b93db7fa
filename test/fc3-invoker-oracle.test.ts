import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import sdk, { GetAsyncTaskRequest, InvokeFunctionHeaders, InvokeFunctionRequest } from '@alicloud/fc20230330';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LOCAL_EMULATOR_CREDENTIALS } from '../emulator/credentials.ts';
import { createFcInvokeApi, type FcInvokeApi, type FcRunner } from '../emulator/fc-invoke-api.ts';
import { createFc3Invoker } from '../shared/async/fc3-invoker.ts';
import { getAsyncTaskRequest, invokeFunctionRequest } from '../shared/async/fc3-wire.ts';
import type { Transport } from '../shared/elasticsearch/transport.ts';
import { type Captured, type CaptureServer, startCaptureServer } from './support/capture-server.ts';
import { type ServedApp, serveApp } from './support/fc-server.ts';

/**
 * The official FC 3.0 SDK (`@alicloud/fc20230330`) is the oracle, as the Elasticsearch SDK is for
 * the ES client: (1) for the same inputs, the project's InvokeFunction and GetAsyncTask requests
 * carry exactly the SDK's signature; (2) the emulated FC 3.0 API satisfies the SDK itself.
 */

// TypeScript (NodeNext) types a CJS default import as module.exports; vitest may already unwrap it.
const Client = ('default' in sdk ? sdk.default : sdk) as typeof sdk.default;
type SdkClient = InstanceType<typeof Client>;

const FUNCTION = 'interrupt-elasticsearch-task';
const KEY = LOCAL_EMULATOR_CREDENTIALS;

const sdkClient = (
  endpoint: string,
  credentials: { accessKeyId: string; accessKeySecret: string; securityToken?: string | undefined } = KEY,
): SdkClient =>
  new Client(new $OpenApiUtil.Config({ ...credentials, endpoint, protocol: 'http', regionId: 'cn-hangzhou' }));

/** The SDK reads a few optional fields of its RuntimeOptions; none is needed here. */
const runtime = {} as Parameters<SdkClient['invokeFunctionWithOptions']>[3];

const asyncInvoke = (client: SdkClient, body: string, taskId: string, qualifier?: string) =>
  client.invokeFunctionWithOptions(
    FUNCTION,
    new InvokeFunctionRequest({ body: Readable.from(Buffer.from(body, 'utf8')), ...(qualifier ? { qualifier } : {}) }),
    new InvokeFunctionHeaders({ xFcInvocationType: 'Async', xFcAsyncTaskId: taskId }),
    runtime,
  );

describe('Function: invokeFunctionRequest / getAsyncTaskRequest (signature oracle)', () => {
  let wireServer: CaptureServer;
  let host: string;
  let captured: Captured[];

  beforeAll(async () => {
    wireServer = await startCaptureServer((req, res) => {
      res.writeHead(req.method === 'GET' ? 200 : 202, { 'content-type': 'application/json' });
      res.end(req.method === 'GET' ? JSON.stringify({ taskId: 't', status: 'Running' }) : '');
    });
    host = wireServer.host;
    captured = wireServer.captured;
  });
  afterAll(() => wireServer.close());

  const single = (headers: IncomingHttpHeaders, name: string): string => {
    const value = headers[name];
    if (typeof value !== 'string') throw new Error(`header ${name} missing from the SDK request`);
    return value;
  };

  /** The SDK's `x-acs-*` headers our requests do not send themselves (`x-acs-credentials-provider`), passed through. */
  const sdkExtras = (wire: Captured): Record<string, string> => {
    const own = new Set([
      'x-acs-version',
      'x-acs-action',
      'x-acs-date',
      'x-acs-signature-nonce',
      'x-acs-content-sha256',
      'x-acs-accesskey-id',
      'x-acs-security-token',
    ]);
    return Object.fromEntries(
      Object.keys(wire.headers)
        .filter((name) => name.startsWith('x-acs-') && !own.has(name))
        .map((name) => [name, single(wire.headers, name)]),
    );
  };

  const sts = { ...KEY, securityToken: 'CAIS-sts/token+with=odd chars' };

  it.each([
    { name: 'a plain key', credentials: KEY, qualifier: undefined, body: '{"responderCommand":1}' },
    { name: 'STS credentials', credentials: sts, qualifier: undefined, body: '{"responderCommand":1}' },
    { name: 'a qualifier', credentials: KEY, qualifier: 'prod', body: '{"reason":"voilà — ünïcødé"}' },
    { name: 'STS and a qualifier', credentials: sts, qualifier: 'LATEST', body: '{}' },
  ])('signs InvokeFunction with $name exactly as the SDK', async ({ credentials, qualifier, body }) => {
    const before = captured.length;
    await asyncInvoke(sdkClient(host, credentials), body, 'rsp1_ies1-oracle', qualifier);
    const wire = captured[before] as Captured;
    const ours = invokeFunctionRequest({
      host,
      functionName: FUNCTION,
      qualifier,
      credentials,
      date: new Date(single(wire.headers, 'x-acs-date')),
      nonce: single(wire.headers, 'x-acs-signature-nonce'),
      taskId: 'rsp1_ies1-oracle',
      body,
      extraHeaders: sdkExtras(wire),
    });
    expect(`${wire.method} ${wire.url}`).toBe(
      `${ours.method} ${ours.path}${qualifier ? `?qualifier=${qualifier}` : ''}`,
    );
    expect(wire.body).toBe(body);
    expect(ours.headers.authorization).toBe(single(wire.headers, 'authorization'));
    // Every header we send that the SDK also sends has the SDK's value (user-agent aside).
    for (const [name, value] of Object.entries(ours.headers)) {
      if (name !== 'user-agent') expect(single(wire.headers, name), name).toBe(value);
    }
  });

  it.each([
    { name: 'a plain key', credentials: KEY },
    { name: 'STS credentials', credentials: sts },
  ])('signs GetAsyncTask with $name exactly as the SDK', async ({ credentials }) => {
    const before = captured.length;
    await sdkClient(host, credentials).getAsyncTask(FUNCTION, 'g2_rsp1_ies1-oracle', new GetAsyncTaskRequest({}));
    const wire = captured[before] as Captured;
    const ours = getAsyncTaskRequest({
      host,
      functionName: FUNCTION,
      credentials,
      date: new Date(single(wire.headers, 'x-acs-date')),
      nonce: single(wire.headers, 'x-acs-signature-nonce'),
      taskId: 'g2_rsp1_ies1-oracle',
      extraHeaders: sdkExtras(wire),
    });
    expect(`${wire.method} ${wire.url}`).toBe(`GET ${ours.path}`);
    expect(ours.headers.authorization).toBe(single(wire.headers, 'authorization'));
  });

  it('differs from the SDK when any input differs (the comparison is not vacuous)', async () => {
    const before = captured.length;
    await asyncInvoke(sdkClient(host), '{"a":1}', 'rsp1_x');
    const wire = captured[before] as Captured;
    const inputs = {
      host,
      functionName: FUNCTION,
      credentials: KEY,
      date: new Date(single(wire.headers, 'x-acs-date')),
      nonce: single(wire.headers, 'x-acs-signature-nonce'),
      taskId: 'rsp1_x',
      body: '{"a":1}',
      extraHeaders: sdkExtras(wire),
    };
    expect(invokeFunctionRequest(inputs).headers.authorization).toBe(single(wire.headers, 'authorization'));
    for (const changed of [{ body: '{"a":2}' }, { qualifier: 'prod' }, { functionName: 'other' }]) {
      expect(invokeFunctionRequest({ ...inputs, ...changed }).headers.authorization).not.toBe(
        single(wire.headers, 'authorization'),
      );
    }
  });

  it('puts on the wire what it signed: the invoker’s request matches the SDK’s but for the SDK’s own extras', async () => {
    const before = captured.length;
    await asyncInvoke(sdkClient(host), '{"a":1}', 'rsp1_wire');
    const sdkWire = captured[before] as Captured;
    const fixed: Transport = async (url, request) => {
      const response = await fetch(url, { method: request.method, headers: request.headers, body: request.body });
      return { status: response.status, retryAfter: undefined, body: await response.text() };
    };
    await createFc3Invoker({
      accountId: '1234567890123456',
      region: 'cn-hangzhou',
      functionName: FUNCTION,
      endpoint: `http://${host}`,
      timeoutMs: 5000,
      transport: fixed,
      now: () => new Date(single(sdkWire.headers, 'x-acs-date')),
      nonce: () => single(sdkWire.headers, 'x-acs-signature-nonce'),
    }).invoke({ a: 1 }, 'rsp1_wire', KEY);
    const ourWire = captured[before + 1] as Captured;
    expect(`${ourWire.method} ${ourWire.url}`).toBe(`${sdkWire.method} ${sdkWire.url}`);
    expect(ourWire.body).toBe(sdkWire.body);
    for (const name of ['x-fc-invocation-type', 'x-fc-async-task-id', 'content-type', 'x-acs-content-sha256', 'host']) {
      expect(ourWire.headers[name], name).toBe(sdkWire.headers[name]);
    }
  });
});

describe('Function: the emulated FC 3.0 API (satisfies @alicloud/fc20230330)', () => {
  let api: FcInvokeApi;
  let served: ServedApp;
  let runner: FcRunner;
  let runs: Array<{ event: string; taskId: string | undefined }>;

  beforeAll(async () => {
    api = createFcInvokeApi({
      credentials: [KEY],
      runner: (fn, event, context) => runner(fn, event, context),
      accountId: '1234567890123456',
      region: 'cn-hangzhou',
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
      runs.push({ event: event.toString('utf8'), taskId: context.invocationId });
      return 'done';
    };
  });

  const client = (credentials: { accessKeyId: string; accessKeySecret: string } = KEY) =>
    sdkClient(served.url.replace('http://', ''), credentials);

  async function sdkFailure(promise: Promise<unknown>) {
    try {
      await promise;
    } catch (error) {
      return error as { statusCode?: number; data?: Record<string, unknown> };
    }
    throw new Error('expected the SDK call to fail');
  }

  it('accepts the SDK’s async invoke with a task ID (202) and runs the exact event', async () => {
    const response = await asyncInvoke(client(), '{"responderCommand":1}', 'rsp1_sdk');
    expect(response.statusCode).toBe(202);
    expect(response.headers?.['x-fc-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers?.['x-fc-async-task-id']).toBe('rsp1_sdk');
    await api.idle();
    expect(runs).toEqual([{ event: '{"responderCommand":1}', taskId: 'rsp1_sdk' }]);
  });

  it('refuses a duplicate task ID with 409 in FC 3.0’s error shape, and runs once', async () => {
    await asyncInvoke(client(), '{"n":1}', 'rsp1_dup');
    const error = await sdkFailure(asyncInvoke(client(), '{"n":2}', 'rsp1_dup'));
    expect(error.statusCode).toBe(409);
    expect(error.data).toEqual({
      errorCode: expect.any(String),
      errorMessage: expect.stringContaining('rsp1_dup'),
      requestId: expect.any(String),
    });
    await api.idle();
    expect(runs.map((r) => r.event)).toEqual(['{"n":1}']);
  });

  it.each([
    ['a wrong secret', { accessKeyId: KEY.accessKeyId, accessKeySecret: 'wrong' }, 403, 'SignatureNotMatch'],
    [
      'an unknown key',
      { accessKeyId: 'LTAI5tUnknown', accessKeySecret: KEY.accessKeySecret },
      403,
      'InvalidAccessKeyID',
    ],
  ])('refuses %s (%i %s), and the refused call does not burn the task ID', async (_, credentials, status, code) => {
    const error = await sdkFailure(asyncInvoke(client(credentials), '{}', 'rsp1_auth'));
    expect(error.statusCode).toBe(status);
    expect(error.data?.errorCode).toBe(code);
    await api.idle();
    expect(runs).toEqual([]);
    expect((await asyncInvoke(client(), '{}', 'rsp1_auth')).statusCode).toBe(202);
  });

  it('lets the SDK read a task’s state: succeeded, and failed after FC’s retries', async () => {
    await asyncInvoke(client(), '{"ok":true}', 'rsp1_read');
    await api.idle();
    const done = await client().getAsyncTask(FUNCTION, 'rsp1_read', new GetAsyncTaskRequest({}));
    expect(done.statusCode).toBe(200);
    expect(done.body).toMatchObject({
      taskId: 'rsp1_read',
      status: 'Succeeded',
      alreadyRetriedTimes: 0,
      functionArn: `acs:fc:cn-hangzhou:1234567890123456:functions/${FUNCTION}`,
      taskPayload: '{"ok":true}',
    });

    runner = async () => {
      throw new Error('the API stayed down');
    };
    await asyncInvoke(client(), '{"ok":false}', 'rsp1_fails');
    await api.idle();
    const failed = await client().getAsyncTask(FUNCTION, 'rsp1_fails', new GetAsyncTaskRequest({}));
    expect(failed.body).toMatchObject({
      status: 'Failed',
      alreadyRetriedTimes: 3,
      taskErrorMessage: 'the API stayed down',
    });
  });

  it('answers 404 for a task it does not know, and for a function that does not exist', async () => {
    const unknownTask = await sdkFailure(client().getAsyncTask(FUNCTION, 'rsp1_never', new GetAsyncTaskRequest({})));
    expect(unknownTask.statusCode).toBe(404);
    const unknownFunction = await sdkFailure(
      client().invokeFunctionWithOptions(
        'no-such-function',
        new InvokeFunctionRequest({ body: Readable.from(Buffer.from('{}')) }),
        new InvokeFunctionHeaders({ xFcInvocationType: 'Async' }),
        runtime,
      ),
    );
    expect(unknownFunction.statusCode).toBe(404);
    expect(unknownFunction.data?.errorCode).toBe('FunctionNotFound');
  });

  it('runs a sync invoke at once and returns the result', async () => {
    const response = await client().invokeFunctionWithOptions(
      FUNCTION,
      new InvokeFunctionRequest({ body: Readable.from(Buffer.from('{"sync":true}')) }),
      new InvokeFunctionHeaders({ xFcInvocationType: 'Sync' }),
      runtime,
    );
    expect(response.statusCode).toBe(200);
    const chunks: Buffer[] = [];
    for await (const chunk of response.body as Readable) chunks.push(Buffer.from(chunk));
    expect(Buffer.concat(chunks).toString()).toBe('done');
  });
});
