import { type Context, Hono } from 'hono';
// FC's documented ID syntax, as the product checks it before a hand-off (the one copy of that fact).
import { INVOCATION_ID_PATTERN } from '../shared/async/invoker.ts';
import type { EmulatorEnv } from './app.ts';
import { type FcInvocation, type FcInvokeCredential, type FcQueue, newFcRequestId } from './fc-async-queue.ts';
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
 * The FC 2.0 invoke API on the wire (2016-08-15, the one `@alicloud/fc2` calls), over the shared
 * queue: `POST /2016-08-15/services/{service[.qualifier]}/functions/{function}/invocations`.
 *
 * - verifies fc2's signature (see fc2-signature.ts) with the configured access keys, and the
 *   `Date` header within 15 minutes;
 * - `x-fc-invocation-type: Async` → 202 with `x-fc-request-id`, the event queued;
 * - `x-fc-stateful-async-invocation-id` used before for the function → 409
 *   `StatefulAsyncInvocationAlreadyExists`, and nothing runs again;
 * - otherwise (sync) → runs once and answers 200 with the result as the body; a runner error
 *   answers 200 with `x-fc-error-type: UnhandledInvocationError`, as FC does.
 *
 * Errors are FC 2.0's JSON shape `{"ErrorCode", "ErrorMessage"}` (what fc2 reads).
 *
 * Over 200 lines on purpose: fc2's signature checks, the service/qualifier path and FC 2.0's error
 * shapes are one wire dialect, kept apart from the FC 3.0 one.
 */

export interface Fc2WireOptions {
  queue: FcQueue;
  credentials: readonly FcInvokeCredential[];
  now: () => number;
  /** When set, `x-fc-account-id` must equal it. */
  accountId?: string | undefined;
  /** When set, any other service answers 404 ServiceNotFound. */
  serviceName?: string | undefined;
  /** When set, any other function answers 404 FunctionNotFound. */
  functions?: ReadonlySet<string> | undefined;
  maxAsyncEventBytes: number;
  maxSyncEventBytes: number;
}

/** Allowed clock skew of `Date`, either way. */
export const FC_DATE_WINDOW_MS = 15 * 60 * 1000;

const INVOKE_PATH = `/${FC_API_VERSION}/services/:service/functions/:function/invocations`;

type Ctx = Context<EmulatorEnv>;

function fcError(requestId: string, status: number, code: string, message: string): Response {
  return new Response(JSON.stringify({ ErrorCode: code, ErrorMessage: message }), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'x-fc-request-id': requestId },
  });
}

/** A sync invocation's answer, as FC gives it: the result as the body, or the handler's error. */
export function syncAnswer(entry: FcInvocation): Response {
  if (entry.status === 'succeeded') {
    const result = entry.result;
    const body =
      result === undefined || result === null
        ? ''
        : typeof result === 'string'
          ? result
          : result instanceof Uint8Array
            ? new Uint8Array(result)
            : JSON.stringify(result);
    return new Response(body, {
      status: 200,
      headers: { 'content-type': 'application/octet-stream', 'x-fc-request-id': entry.requestId },
    });
  }
  return new Response(
    JSON.stringify({ errorMessage: entry.error?.message ?? 'error', errorType: entry.error?.name ?? 'Error' }),
    {
      status: 200,
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'x-fc-request-id': entry.requestId,
        'x-fc-error-type': 'UnhandledInvocationError',
      },
    },
  );
}

export function createFc2InvokeWire(options: Fc2WireOptions): Hono<EmulatorEnv> {
  const { queue, now, functions } = options;
  const secrets = new Map(options.credentials.map((c) => [c.accessKeyId, c]));

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
    const requestId = newFcRequestId();
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
    const limit = invocationType === 'Async' ? options.maxAsyncEventBytes : options.maxSyncEventBytes;
    if (body.byteLength > limit) {
      return fcError(requestId, 400, 'EntityTooLarge', `payload size exceeds maximum allowed size (${limit} bytes)`);
    }

    const base = {
      api: FC_API_VERSION,
      requestId,
      serviceName,
      ...(qualifier !== undefined ? { qualifier } : {}),
      functionName,
    } as const;

    if (invocationType === 'Sync') return syncAnswer(await queue.runSync({ ...base, type: 'Sync' }, body));

    const invocationId = c.req.header('x-fc-stateful-async-invocation-id');
    if (invocationId !== undefined && !INVOCATION_ID_PATTERN.test(invocationId)) {
      return fcError(
        requestId,
        400,
        'InvalidArgument',
        `x-fc-stateful-async-invocation-id must match ${INVOCATION_ID_PATTERN.source}`,
      );
    }
    // IDs are per function (GetStatefulAsyncInvocation is addressed by service/function/id).
    const queued = queue.enqueue(
      { ...base, type: 'Async', ...(invocationId !== undefined ? { invocationId } : {}) },
      body,
      `${FC_API_VERSION}/${serviceName}/${functionName}`,
    );
    if ('taken' in queued) {
      return fcError(
        requestId,
        409,
        'StatefulAsyncInvocationAlreadyExists',
        `the stateful async invocation ${invocationId} of ${serviceName}/${functionName} already exists (request ${queued.taken.requestId})`,
      );
    }
    return new Response(null, { status: 202, headers: { 'x-fc-request-id': requestId } });
  });

  app.all(`/${FC_API_VERSION}/*`, (c) =>
    fcError(
      newFcRequestId(),
      400,
      'PathNotSupported',
      `'${c.req.method} ${wireTarget(c).path}' against '${FC_API_VERSION}' is not supported by the local emulator`,
    ),
  );

  return app;
}
