import { type Context, Hono } from 'hono';
// FC's documented ID syntax (a task ID is an invocation ID's), as the product checks it (the one copy of that fact).
import { INVOCATION_ID_PATTERN } from '../shared/async/invoker.ts';
import { Acs3Verifier } from './acs3-verifier.ts';
import type { EmulatorEnv } from './app.ts';
import { type FcInvocation, type FcInvokeCredential, type FcQueue, newFcRequestId } from './fc-async-queue.ts';
import { syncAnswer } from './fc2-invoke-wire.ts';
import { wireTarget } from './wire-target.ts';

/**
 * The FC 3.0 invoke API on the wire (version 2023-03-30, what `@alicloud/fc20230330` and the
 * project's own FC 3.0 invoker call), over the shared queue. Routed from the table below, written
 * from FC 3.0's API reference (InvokeFunction, GetAsyncTask), not from the product's own code:
 *
 * - ACS3-HMAC-SHA256 verified with the configured keys (the same verifier as the emulated
 *   Elasticsearch API), the `x-acs-action` and `x-acs-version` the path calls for, and the STS
 *   token when the key has one;
 * - `InvokeFunction` with `x-fc-invocation-type: Async` → 202 with `x-fc-request-id` and
 *   `x-fc-async-task-id`; a task ID the function has seen → 409, and nothing runs again; Sync →
 *   the result, at once;
 * - `GetAsyncTask` → the task in the shape of the SDK's `AsyncTask` model.
 *
 * Errors are FC 3.0's body `{"errorCode", "errorMessage", "requestId"}` (lower camel case).
 *
 * Over 200 lines on purpose: InvokeFunction and GetAsyncTask share one verification path and one
 * error vocabulary, which read best beside the routes that use them.
 */

export const FC3_API_VERSION = '2023-03-30';

/**
 * FC 3.0's documentation gives the status of a reused task ID (409) but no code; this is the
 * code FC 2.0 documents for the same refusal. Clients must not depend on it (the project's do not).
 */
export const TASK_EXISTS_CODE = 'StatefulAsyncInvocationAlreadyExists';
/** Likewise undocumented: an unknown task ID. */
export const TASK_NOT_FOUND_CODE = 'AsyncTaskNotFound';

export interface Fc3WireOptions {
  queue: FcQueue;
  credentials: readonly FcInvokeCredential[];
  now: () => number;
  /** For the tasks' `functionArn`. */
  accountId: string;
  region: string;
  /** When set, any other function answers 404 FunctionNotFound. */
  functions?: ReadonlySet<string> | undefined;
  maxAsyncEventBytes: number;
  maxSyncEventBytes: number;
}

type Ctx = Context<EmulatorEnv>;

function fcError(requestId: string, status: number, code: string, message: string): Response {
  return new Response(JSON.stringify({ errorCode: code, errorMessage: message, requestId }), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'x-fc-request-id': requestId },
  });
}

/** The verifier speaks the Elasticsearch API's gateway; FC answers with its own documented codes. */
const VERIFIER_CODES: Record<string, { status: number; code: string }> = {
  SignatureDoesNotMatch: { status: 403, code: 'SignatureNotMatch' },
  'InvalidAccessKeyId.NotFound': { status: 403, code: 'InvalidAccessKeyID' },
  'InvalidTimeStamp.Expired': { status: 403, code: 'RequestTimeTooSkewed' },
  MissingParameter: { status: 400, code: 'MissingRequiredHeader' },
};

/** FC 3.0's states of a task, from the emulator's record. */
export function taskStatus(entry: FcInvocation): string {
  switch (entry.status) {
    case 'queued':
      return 'Enqueued';
    case 'running':
      return entry.attempts > 1 ? 'Retrying' : 'Running';
    case 'succeeded':
      return 'Succeeded';
    case 'failed':
      return 'Failed';
  }
}

/** A task as `GetAsyncTask` answers it (the fields of the SDK's AsyncTask model that apply). */
export function asyncTaskBody(entry: FcInvocation, functionArn: string): Record<string, unknown> {
  const started = entry.startedAt ? Date.parse(entry.startedAt) : undefined;
  const ended = entry.finishedAt ? Date.parse(entry.finishedAt) : undefined;
  const status = taskStatus(entry);
  return {
    taskId: entry.invocationId,
    requestId: entry.requestId,
    functionArn,
    ...(entry.qualifier !== undefined ? { qualifier: entry.qualifier } : {}),
    status,
    alreadyRetriedTimes: Math.max(0, entry.attempts - 1),
    ...(started !== undefined ? { startedTime: started } : {}),
    ...(ended !== undefined ? { endTime: ended } : {}),
    ...(started !== undefined && ended !== undefined ? { durationMs: ended - started } : {}),
    ...(status === 'Succeeded' || status === 'Failed' ? { destinationStatus: status } : {}),
    ...(entry.error && status === 'Failed' ? { taskErrorMessage: entry.error.message } : {}),
    taskPayload: entry.payload,
    events: [{ eventId: 1, status: 'Enqueued', timestamp: Date.parse(entry.at) }],
  };
}

export function createFc3InvokeWire(options: Fc3WireOptions): Hono<EmulatorEnv> {
  const { queue, now, functions } = options;
  const tokens = new Map(options.credentials.map((c) => [c.accessKeyId, c.securityToken]));
  const verifier = new Acs3Verifier({ credentials: options.credentials, now });
  const scope = (functionName: string) => `${FC3_API_VERSION}/${functionName}`;
  const arn = (functionName: string) => `acs:fc:${options.region}:${options.accountId}:functions/${functionName}`;

  /** Signature, action, version and token checks; a Response when the request is refused. */
  function authenticate(c: Ctx, requestId: string, action: string, body: Uint8Array): Response | undefined {
    const { path, rawQuery } = wireTarget(c);
    const headers = c.req.header();
    const verified = verifier.verify({ method: c.req.method, path, rawQuery, headers, body });
    if (!verified.ok) {
      const { Code, Message } = verified.reply.body as { Code: string; Message: string };
      const mapped = VERIFIER_CODES[Code] ?? { status: 400, code: 'InvalidArgument' };
      return fcError(requestId, mapped.status, mapped.code, Message);
    }
    const expectedToken = tokens.get(verified.accessKeyId);
    if (expectedToken !== undefined && verified.securityToken !== expectedToken) {
      return fcError(requestId, 403, 'InvalidSecurityToken', 'the security token is missing or not valid');
    }
    if (headers['x-acs-action'] !== action || headers['x-acs-version'] !== FC3_API_VERSION) {
      return fcError(
        requestId,
        400,
        'InvalidArgument',
        `${c.req.method} ${path} is ${action} of version ${FC3_API_VERSION}, not ${headers['x-acs-action'] ?? '(none)'} of ${headers['x-acs-version'] ?? '(none)'}`,
      );
    }
    return undefined;
  }

  function unknownFunction(requestId: string, functionName: string): Response | undefined {
    if (!functions || functions.has(functionName)) return undefined;
    return fcError(requestId, 404, 'FunctionNotFound', `function '${functionName}' does not exist`);
  }

  async function invokeFunction(c: Ctx, requestId: string): Promise<Response> {
    const body = new Uint8Array(await c.req.arrayBuffer());
    const refused = authenticate(c, requestId, 'InvokeFunction', body);
    if (refused) return refused;
    const functionName = c.req.param('functionName') ?? '';
    const missing = unknownFunction(requestId, functionName);
    if (missing) return missing;
    const qualifier = c.req.query('qualifier') || undefined;

    const invocationType = c.req.header('x-fc-invocation-type') ?? 'Sync';
    if (invocationType !== 'Async' && invocationType !== 'Sync') {
      return fcError(requestId, 400, 'InvalidArgument', `x-fc-invocation-type must be Sync or Async`);
    }
    const limit = invocationType === 'Async' ? options.maxAsyncEventBytes : options.maxSyncEventBytes;
    if (body.byteLength > limit) {
      return fcError(requestId, 400, 'EntityTooLarge', `payload size exceeds maximum allowed size (${limit} bytes)`);
    }
    const base = {
      api: FC3_API_VERSION,
      requestId,
      functionName,
      ...(qualifier !== undefined ? { qualifier } : {}),
    } as const;
    if (invocationType === 'Sync') return syncAnswer(await queue.runSync({ ...base, type: 'Sync' }, body));

    const given = c.req.header('x-fc-async-task-id');
    if (given !== undefined && !INVOCATION_ID_PATTERN.test(given)) {
      return fcError(
        requestId,
        400,
        'InvalidArgument',
        `x-fc-async-task-id must match ${INVOCATION_ID_PATTERN.source}`,
      );
    }
    // Without a task ID, FC makes one up; the request ID serves (it is unique).
    const taskId = given ?? `_${requestId.replace(/[^A-Za-z0-9_-]/g, '')}`;
    const queued = queue.enqueue({ ...base, type: 'Async', invocationId: taskId }, body, scope(functionName));
    if ('taken' in queued) {
      return fcError(
        requestId,
        409,
        TASK_EXISTS_CODE,
        `the async task ${taskId} of function ${functionName} already exists (request ${queued.taken.requestId})`,
      );
    }
    return new Response(null, {
      status: 202,
      headers: { 'x-fc-request-id': requestId, 'x-fc-async-task-id': taskId },
    });
  }

  async function getAsyncTask(c: Ctx, requestId: string): Promise<Response> {
    const refused = authenticate(c, requestId, 'GetAsyncTask', new Uint8Array(await c.req.arrayBuffer()));
    if (refused) return refused;
    const functionName = c.req.param('functionName') ?? '';
    const missing = unknownFunction(requestId, functionName);
    if (missing) return missing;
    const taskId = c.req.param('taskId') ?? '';
    const task = queue.task(scope(functionName), taskId);
    if (!task) {
      return fcError(
        requestId,
        404,
        TASK_NOT_FOUND_CODE,
        `async task '${taskId}' of function '${functionName}' does not exist`,
      );
    }
    return new Response(JSON.stringify(asyncTaskBody(task, arn(functionName))), {
      status: 200,
      headers: { 'content-type': 'application/json; charset=utf-8', 'x-fc-request-id': requestId },
    });
  }

  /** The documented operations this emulator serves (FC 3.0 API reference, version 2023-03-30). */
  const ROUTES: ReadonlyArray<{
    method: 'GET' | 'POST';
    path: string;
    handle: (c: Ctx, requestId: string) => Promise<Response>;
  }> = [
    { method: 'POST', path: `/${FC3_API_VERSION}/functions/:functionName/invocations`, handle: invokeFunction },
    { method: 'GET', path: `/${FC3_API_VERSION}/functions/:functionName/async-tasks/:taskId`, handle: getAsyncTask },
  ];

  const app = new Hono<EmulatorEnv>();
  for (const route of ROUTES) {
    app.on(route.method, route.path, (c) => route.handle(c, newFcRequestId()));
  }
  app.all(`/${FC3_API_VERSION}/*`, (c) =>
    fcError(
      newFcRequestId(),
      400,
      'PathNotSupported',
      `'${c.req.method} ${wireTarget(c).path}' against '${FC3_API_VERSION}' is not supported by the local emulator`,
    ),
  );
  return app;
}
