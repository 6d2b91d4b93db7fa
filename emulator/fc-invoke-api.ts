import { randomUUID } from 'node:crypto';
import { type Context, Hono } from 'hono';
import type { EmulatorEnv } from './app.ts';
import {
  contentMd5Matches,
  FC_API_VERSION,
  fcSignature,
  fcStringToSign,
  parseFcAuthorization,
  signaturesEqual,
} from './fc2-signature.ts';
import { wireTarget } from './wire-target.ts';

/**
 * The emulated Function Compute invoke API (2016-08-15, the one `@alicloud/fc2` calls), for
 * local mode and tests: `POST /2016-08-15/services/{service[.qualifier]}/functions/{function}/invocations`.
 *
 * - verifies fc2's signature (see fc2-signature.ts) with the configured access keys, and the
 *   `Date` header within 15 minutes;
 * - `x-fc-invocation-type: Async` → 202 with `x-fc-request-id`; the event is queued and run on a
 *   later turn of the event loop (never before the reply), retried like FC's async retry
 *   (3 retries by default) when the runner throws;
 * - `x-fc-stateful-async-invocation-id` used before for the function → 409
 *   `StatefulAsyncInvocationAlreadyExists`, and nothing runs again;
 * - otherwise (sync) → runs once and answers 200 with the result as the body; a runner error
 *   answers 200 with `x-fc-error-type: UnhandledInvocationError`, as FC does.
 *
 * Errors are FC's JSON shape `{"ErrorCode", "ErrorMessage"}` (what fc2 reads).
 */

export interface FcInvokeCredential {
  accessKeyId: string;
  accessKeySecret: string;
  /** When set, requests signed with this key must carry it in `x-fc-security-token`. */
  securityToken?: string | undefined;
}

export interface FcRunnerContext {
  /** The `x-fc-request-id` the invoke call answered with, the same for every attempt. */
  requestId: string;
  invocationId?: string | undefined;
  serviceName: string;
  qualifier?: string | undefined;
  /** 1 for the first run, 2 for the first retry… */
  attempt: number;
  /** FC's `context.retryCount`: `attempt - 1`. */
  retryCount: number;
  /** What FC would hand the function as its role credentials (`functionCredentials`). */
  credentials?: FcInvokeCredential | undefined;
}

/** Runs one invocation of `functionName` with the event bytes, as FC would call the handler. */
export type FcRunner = (functionName: string, event: Buffer, context: FcRunnerContext) => Promise<unknown>;

export type FcInvocationStatus = 'queued' | 'running' | 'succeeded' | 'failed';

export interface FcInvocation {
  requestId: string;
  invocationId?: string;
  serviceName: string;
  qualifier?: string;
  functionName: string;
  type: 'Async' | 'Sync';
  status: FcInvocationStatus;
  /** Runs so far (a retried async invocation counts each run). */
  attempts: number;
  result?: unknown;
  /** The last run's error. */
  error?: { name: string; message: string };
  /** When the invocation was accepted (ISO 8601). */
  at: string;
  finishedAt?: string;
}

export interface FcInvokeApiOptions {
  credentials: readonly FcInvokeCredential[];
  runner: FcRunner;
  now?: (() => number) | undefined;
  /** When set, `x-fc-account-id` must equal it. */
  accountId?: string | undefined;
  /** When set, any other service answers 404 ServiceNotFound. */
  serviceName?: string | undefined;
  /** When set, any other function answers 404 FunctionNotFound. */
  functions?: readonly string[] | undefined;
  /** Retries of an async invocation whose runner throws (FC default 3, range 0–8). */
  maxAsyncRetryAttempts?: number | undefined;
  /** FC: 128 KiB for async payloads. */
  maxAsyncEventBytes?: number | undefined;
  /** FC: 32 MiB for sync payloads. */
  maxSyncEventBytes?: number | undefined;
  /** Handed to the runner as the function's role credentials. */
  functionCredentials?: FcInvokeCredential | undefined;
  /** Invocation records kept (oldest forgotten first); stateful IDs are kept separately. */
  maxRecords?: number | undefined;
}

export interface FcInvokeApi {
  app: Hono<EmulatorEnv>;
  /** Every invocation accepted, oldest first (copies). */
  invocations(): FcInvocation[];
  /** Resolves once no invocation is queued or running (including ones queued meanwhile). */
  idle(): Promise<void>;
  /** Forgets records and used stateful IDs (in-flight runs still finish). */
  reset(): void;
}

/** Allowed clock skew of `Date`, either way. */
export const FC_DATE_WINDOW_MS = 15 * 60 * 1000;
export const DEFAULT_MAX_ASYNC_EVENT_BYTES = 128 * 1024;
export const DEFAULT_MAX_SYNC_EVENT_BYTES = 32 * 1024 * 1024;
const MAX_STATEFUL_IDS = 100_000;

const INVOCATION_ID_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;
const INVOKE_PATH = `/${FC_API_VERSION}/services/:service/functions/:function/invocations`;

type Ctx = Context<EmulatorEnv>;

function fcError(requestId: string, status: number, code: string, message: string): Response {
  return new Response(JSON.stringify({ ErrorCode: code, ErrorMessage: message }), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'x-fc-request-id': requestId },
  });
}

function describeError(error: unknown): { name: string; message: string } {
  try {
    if (error instanceof Error) return { name: error.name, message: error.message };
    return { name: 'Error', message: typeof error === 'string' ? error : JSON.stringify(error) };
  } catch {
    return { name: 'Error', message: 'unprintable error' };
  }
}

function resultBody(result: unknown): string | Uint8Array<ArrayBuffer> {
  if (result === undefined || result === null) return '';
  if (typeof result === 'string') return result;
  if (result instanceof Uint8Array) return new Uint8Array(result);
  return JSON.stringify(result);
}

export function createFcInvokeApi(options: FcInvokeApiOptions): FcInvokeApi {
  const now = options.now ?? Date.now;
  const secrets = new Map(options.credentials.map((c) => [c.accessKeyId, c]));
  const maxRetries = options.maxAsyncRetryAttempts ?? 3;
  if (!Number.isInteger(maxRetries) || maxRetries < 0 || maxRetries > 8) {
    throw new TypeError('maxAsyncRetryAttempts must be a whole number from 0 to 8');
  }
  const maxAsyncBytes = options.maxAsyncEventBytes ?? DEFAULT_MAX_ASYNC_EVENT_BYTES;
  const maxSyncBytes = options.maxSyncEventBytes ?? DEFAULT_MAX_SYNC_EVENT_BYTES;
  const maxRecords = options.maxRecords ?? 1000;
  const functions = options.functions ? new Set(options.functions) : undefined;

  let records: FcInvocation[] = [];
  /** `service/function/id` → the request ID that first used it. */
  let statefulIds = new Map<string, string>();
  const pending = new Set<Promise<void>>();

  const iso = () => new Date(now()).toISOString();

  const record = (entry: FcInvocation): FcInvocation => {
    records.push(entry);
    if (records.length > maxRecords) records = records.slice(records.length - maxRecords);
    return entry;
  };

  /** Tracks work for idle(); the promise given never rejects. */
  const track = (work: Promise<void>): void => {
    pending.add(work);
    void work.then(() => pending.delete(work));
  };

  const contextFor = (entry: FcInvocation, attempt: number): FcRunnerContext => ({
    requestId: entry.requestId,
    invocationId: entry.invocationId,
    serviceName: entry.serviceName,
    qualifier: entry.qualifier,
    attempt,
    retryCount: attempt - 1,
    credentials: options.functionCredentials ? { ...options.functionCredentials } : undefined,
  });

  /** One run; never throws. */
  async function runOnce(entry: FcInvocation, event: Uint8Array, attempt: number): Promise<boolean> {
    entry.status = 'running';
    entry.attempts = attempt;
    try {
      const result = await options.runner(entry.functionName, Buffer.from(event), contextFor(entry, attempt));
      entry.status = 'succeeded';
      entry.result = result;
      delete entry.error;
      entry.finishedAt = iso();
      return true;
    } catch (error) {
      entry.error = describeError(error);
      return false;
    }
  }

  async function runAsync(entry: FcInvocation, event: Uint8Array): Promise<void> {
    for (let attempt = 1; attempt <= maxRetries + 1; attempt++) {
      if (await runOnce(entry, event, attempt)) return;
    }
    entry.status = 'failed';
    entry.finishedAt = iso();
  }

  /** Signature, key, token, date and body checks; a Response when the request is refused. */
  function authenticate(c: Ctx, requestId: string, body: Uint8Array): Response | undefined {
    const headers = c.req.header();
    const auth = parseFcAuthorization(headers.authorization);
    if (!auth) return fcError(requestId, 403, 'AccessDenied', 'required HTTP header Authorization was not specified');
    const date = headers.date;
    if (!date) return fcError(requestId, 400, 'MissingRequiredHeader', 'required HTTP header Date was not specified');
    const credential = secrets.get(auth.accessKeyId);
    if (!credential)
      return fcError(requestId, 403, 'InvalidAccessKeyID', `invalid access key ID '${auth.accessKeyId}'`);

    const { path, rawQuery } = wireTarget(c);
    let signedPath: string;
    try {
      signedPath = decodeURIComponent(path);
    } catch {
      return fcError(requestId, 400, 'InvalidArgument', 'the request path is not valid percent-encoding');
    }
    let queries: Record<string, string[]> | null = null;
    if (signedPath.startsWith(`/${FC_API_VERSION}/proxy/`)) {
      queries = {};
      for (const [key, value] of new URLSearchParams(rawQuery)) {
        const values = queries[key] ?? [];
        values.push(value);
        queries[key] = values;
      }
    }
    const expected = fcSignature(
      credential.accessKeySecret,
      fcStringToSign(c.req.method, signedPath, headers, queries),
    );
    if (!signaturesEqual(expected, auth.signature)) {
      return fcError(
        requestId,
        403,
        'SignatureNotMatch',
        'The request signature we calculated does not match the signature you provided. Check your access key and signing method',
      );
    }
    const sent = Date.parse(date);
    if (Number.isNaN(sent))
      return fcError(requestId, 400, 'InvalidArgument', `the Date header "${date}" is not a date`);
    if (Math.abs(now() - sent) > FC_DATE_WINDOW_MS) {
      return fcError(
        requestId,
        403,
        'RequestTimeTooSkewed',
        `the difference between the request time ${date} and the server time is over 15 minutes`,
      );
    }
    if (credential.securityToken !== undefined && headers['x-fc-security-token'] !== credential.securityToken) {
      return fcError(requestId, 403, 'InvalidSecurityToken', 'the security token is missing or not valid');
    }
    const md5 = headers['content-md5'];
    if (md5 !== undefined && !contentMd5Matches(md5, body)) {
      return fcError(requestId, 400, 'InvalidArgument', 'the Content-MD5 header does not match the body');
    }
    if (options.accountId !== undefined && headers['x-fc-account-id'] !== options.accountId) {
      return fcError(
        requestId,
        403,
        'AccessDenied',
        'the x-fc-account-id header does not name the account of this endpoint',
      );
    }
    return undefined;
  }

  const app = new Hono<EmulatorEnv>();

  app.post(INVOKE_PATH, async (c) => {
    const requestId = randomUUID();
    const body = new Uint8Array(await c.req.arrayBuffer());
    const refused = authenticate(c, requestId, body);
    if (refused) return refused;

    const serviceParam = c.req.param('service');
    const functionName = c.req.param('function');
    const dot = serviceParam.indexOf('.');
    const serviceName = dot === -1 ? serviceParam : serviceParam.slice(0, dot);
    const qualifier = dot === -1 ? undefined : serviceParam.slice(dot + 1);
    if (options.serviceName !== undefined && serviceName !== options.serviceName) {
      return fcError(requestId, 404, 'ServiceNotFound', `service '${serviceName}' does not exist`);
    }
    if (functions && !functions.has(functionName)) {
      return fcError(
        requestId,
        404,
        'FunctionNotFound',
        `function '${functionName}' does not exist in service '${serviceName}'`,
      );
    }

    const invocationType = c.req.header('x-fc-invocation-type') ?? 'Sync';
    if (invocationType !== 'Async' && invocationType !== 'Sync') {
      return fcError(
        requestId,
        400,
        'InvalidArgument',
        `x-fc-invocation-type must be Sync or Async, not ${invocationType}`,
      );
    }
    const limit = invocationType === 'Async' ? maxAsyncBytes : maxSyncBytes;
    if (body.byteLength > limit) {
      return fcError(requestId, 400, 'EntityTooLarge', `payload size exceeds maximum allowed size (${limit} bytes)`);
    }

    const base = {
      requestId,
      serviceName,
      ...(qualifier !== undefined ? { qualifier } : {}),
      functionName,
      attempts: 0,
      status: 'queued' as const,
      at: iso(),
    };

    if (invocationType === 'Async') {
      const invocationId = c.req.header('x-fc-stateful-async-invocation-id');
      if (invocationId !== undefined) {
        if (!INVOCATION_ID_PATTERN.test(invocationId)) {
          return fcError(
            requestId,
            400,
            'InvalidArgument',
            'x-fc-stateful-async-invocation-id must match ^[A-Za-z_][A-Za-z0-9_-]{0,127}$',
          );
        }
        // IDs are per function (GetStatefulAsyncInvocation is addressed by service/function/id).
        const key = `${serviceName}/${functionName}/${invocationId}`;
        const first = statefulIds.get(key);
        if (first !== undefined) {
          return fcError(
            requestId,
            409,
            'StatefulAsyncInvocationAlreadyExists',
            `the stateful async invocation ${invocationId} of ${serviceName}/${functionName} already exists (request ${first})`,
          );
        }
        statefulIds.set(key, requestId);
        if (statefulIds.size > MAX_STATEFUL_IDS) {
          const oldest = statefulIds.keys().next().value;
          if (oldest !== undefined) statefulIds.delete(oldest);
        }
      }
      const entry = record({ ...base, type: 'Async', ...(invocationId !== undefined ? { invocationId } : {}) });
      // Never before the reply: the run starts on a later turn of the event loop.
      track(
        new Promise<void>((resolve) => {
          setImmediate(() => {
            void runAsync(entry, body).then(resolve, resolve);
          });
        }),
      );
      return new Response(null, { status: 202, headers: { 'x-fc-request-id': requestId } });
    }

    const entry = record({ ...base, type: 'Sync' });
    const run = runOnce(entry, body, 1);
    track(run.then(() => undefined));
    if (await run) {
      return new Response(resultBody(entry.result), {
        status: 200,
        headers: { 'content-type': 'application/octet-stream', 'x-fc-request-id': requestId },
      });
    }
    entry.status = 'failed';
    entry.finishedAt = iso();
    return new Response(
      JSON.stringify({ errorMessage: entry.error?.message ?? 'error', errorType: entry.error?.name ?? 'Error' }),
      {
        status: 200,
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'x-fc-request-id': requestId,
          'x-fc-error-type': 'UnhandledInvocationError',
        },
      },
    );
  });

  app.all(`/${FC_API_VERSION}/*`, (c) =>
    fcError(
      randomUUID(),
      400,
      'PathNotSupported',
      `'${c.req.method} ${wireTarget(c).path}' against '${FC_API_VERSION}' is not supported by the local emulator`,
    ),
  );

  return {
    app,
    invocations: () => records.map((entry) => ({ ...entry })),
    async idle() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
    reset() {
      records = [];
      statefulIds = new Map();
    },
  };
}
