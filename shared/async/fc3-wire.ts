import type { Credentials } from '../core/invocation.ts';
import { percentEncode, signRequest } from '../elasticsearch/acs3-signer.ts';
import { AttemptTimeoutError, type WireResponse } from '../elasticsearch/transport.ts';
import { answeredError, endpointOrigin, networkFailure } from './hand-off-input.ts';
import { InvokeError } from './invoker.ts';

/**
 * Function Compute 3.0's invoke API (2023-03-30) on the wire: the two signed requests the invoker
 * sends, where they go, and what FC's answers mean. Signed with ACS3-HMAC-SHA256 by the project's
 * own signer, exactly as the official `@alicloud/fc20230330` SDK signs them
 * (test/fc3-invoker-oracle.test.ts).
 */

const FC3_API_VERSION = '2023-03-30';

/**
 * AsyncTask states (the SDK's AsyncTask model) after which the task failed and will never run
 * again, so a sender's retry may run it anew. Not `Stopped`: that is a person's StopAsyncTask, and a
 * retried delivery must never undo a person's decision.
 */
export const FAILED_FOR_GOOD: ReadonlySet<string> = new Set(['Failed', 'Invalid', 'Expired']);

const USER_AGENT = 'es-change-responder/1 (+ACS3-HMAC-SHA256)';
const EVENT_CONTENT_TYPE = 'application/octet-stream';

const functionPath = (functionName: string) => `/${FC3_API_VERSION}/functions/${percentEncode(functionName)}`;

export interface SignedFcRequest {
  method: 'POST' | 'GET';
  path: string;
  query: Record<string, string>;
  /** Every header to send, `authorization` included. */
  headers: Record<string, string>;
  body?: string;
}

export interface Fc3RequestInput {
  host: string;
  functionName: string;
  qualifier?: string | undefined;
  credentials: Credentials;
  date: Date;
  nonce: string;
  /** Further headers; `x-acs-*` ones are signed (the oracle test passes the SDK's own here). */
  extraHeaders?: Record<string, string> | undefined;
}

function signedRequest(
  input: Fc3RequestInput,
  method: 'POST' | 'GET',
  action: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): SignedFcRequest {
  const query: Record<string, string> = input.qualifier ? { qualifier: input.qualifier } : {};
  const signed = signRequest({
    method,
    host: input.host,
    path,
    query,
    action,
    version: FC3_API_VERSION,
    ...(body === undefined ? {} : { body, contentType: EVENT_CONTENT_TYPE }),
    credentials: input.credentials,
    date: input.date,
    nonce: input.nonce,
    extraHeaders: { accept: 'application/json', 'user-agent': USER_AGENT, ...headers, ...input.extraHeaders },
  });
  return { method, path, query, headers: signed, ...(body === undefined ? {} : { body }) };
}

/** The signed `InvokeFunction` request (Async, with a task ID): the one place its shape is decided. */
export const invokeFunctionRequest = (input: Fc3RequestInput & { taskId: string; body: string }): SignedFcRequest =>
  signedRequest(
    input,
    'POST',
    'InvokeFunction',
    `${functionPath(input.functionName)}/invocations`,
    { 'x-fc-invocation-type': 'Async', 'x-fc-async-task-id': input.taskId },
    input.body,
  );

/** The signed `GetAsyncTask` request. */
export const getAsyncTaskRequest = (input: Fc3RequestInput & { taskId: string }): SignedFcRequest =>
  signedRequest(
    input,
    'GET',
    'GetAsyncTask',
    `${functionPath(input.functionName)}/async-tasks/${percentEncode(input.taskId)}`,
    {},
  );

/** `https://<account>.<region>.fc.aliyuncs.com` (FC 3.0's documented invoke endpoint), or the override. */
export function fc3Origin(options: { accountId: string; region: string; endpoint?: string | undefined }): URL {
  return endpointOrigin(options.endpoint) ?? new URL(`https://${options.accountId}.${options.region}.fc.aliyuncs.com`);
}

/**
 * The fields of FC's error body. FC documents `errorCode`/`errorMessage`; the official SDK reads
 * `Code`/`code`: every spelling is read, so a change of casing never hides a code.
 */
export function errorFields(response: WireResponse): { code?: string; message?: string; requestId?: string } {
  let body: Record<string, unknown> = {};
  try {
    body = Object(JSON.parse(response.body));
  } catch {
    // An unreadable error body is classified by its status alone.
  }
  const pick = (...names: string[]) =>
    names.map((name) => body[name]).find((value): value is string => typeof value === 'string' && value !== '');
  return {
    code: pick('errorCode', 'ErrorCode', 'Code', 'code'),
    message: pick('errorMessage', 'ErrorMessage', 'Message', 'message'),
    requestId: response.headers?.['x-fc-request-id'] ?? pick('requestId', 'RequestId'),
  };
}

/** A task ID FC already knows: 409 (documented), or an `…AlreadyExist…` code under another 4xx. */
export function taskIdTaken(response: WireResponse, code: string | undefined): boolean {
  if (response.status === 409) return true;
  return response.status >= 400 && response.status < 500 && code !== undefined && /AlreadyExist/i.test(code);
}

/** A non-2xx answer as an InvokeError that says whether a retry (same task ID) can help. */
export function answerError(operation: string, response: WireResponse): InvokeError {
  const { code, message, requestId } = errorFields(response);
  const httpStatus = response.status;
  // The platform's message goes to the log through `message`; the responder never shows it to a sender.
  const summary = `${operation}: FC answered ${httpStatus}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}`;
  return answeredError(summary, { httpStatus, platformCode: code, requestId });
}

/** A failure of the HTTP exchange itself (no answer) as an InvokeError. */
export function exchangeError(operation: string, error: unknown): InvokeError {
  const e = (typeof error === 'object' && error !== null ? error : {}) as { code?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : undefined;
  const message = typeof e.message === 'string' ? e.message : String(error);
  if (error instanceof AttemptTimeoutError || code === 'ETIMEDOUT') {
    return new InvokeError('Timeout', `${operation}: no answer from FC in time`, { retryable: true, cause: error });
  }
  const network = networkFailure(code, message, error, `${operation}: `);
  if (network) return network;
  return new InvokeError('ClientError', `${operation}: the HTTP client failed: ${message}`, {
    retryable: false,
    cause: error,
  });
}
