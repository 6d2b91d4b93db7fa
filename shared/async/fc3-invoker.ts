import { randomUUID } from 'node:crypto';
import type { Credentials } from '../core/invocation.ts';
import { canonicalQueryString, percentEncode, signRequest } from '../elasticsearch/acs3-signer.ts';
import {
  AttemptTimeoutError,
  createNodeTransport,
  type Transport,
  type WireResponse,
} from '../elasticsearch/transport.ts';
import {
  checkInvokerOptions,
  endpointOrigin,
  handOffCredentials,
  handOffPayload,
  networkFailure,
  THROTTLE_CODE,
} from './hand-off-input.ts';
import {
  type AsyncInvokeResult,
  type AsyncInvoker,
  InvokeError,
  MAX_HAND_OFF_EVENT_BYTES,
  taskIdForGeneration,
} from './invoker.ts';

/**
 * The async hand-off over Function Compute 3.0's own API (2023-03-30), for functions deployed
 * with the fc3 component, where services no longer exist:
 *
 * - `InvokeFunction`: `POST /2023-03-30/functions/{function}/invocations[?qualifier=…]` with
 *   `x-fc-invocation-type: Async` and `x-fc-async-task-id`; FC refuses a task ID it has seen
 *   (409), which is how a retried delivery is told from a new one;
 * - `GetAsyncTask`: `GET /2023-03-30/functions/{function}/async-tasks/{taskId}`, read only after
 *   a 409 (never on the happy path): a task that failed for good (`Failed`, `Stopped`, `Invalid`,
 *   `Expired`) is handed off again under the next generation of its ID
 *   ({@link taskIdForGeneration}), so a sender's retry after a failure runs; any other state means
 *   the hand-off is under way or done, and is reported as a duplicate.
 *
 * Both are signed with ACS3-HMAC-SHA256 by the project's own signer, exactly as the official
 * `@alicloud/fc20230330` SDK signs them (test/fc3-invoker-oracle.test.ts), over node's https: no
 * SDK is loaded, nothing weighs on the cold path.
 */

export const FC3_API_VERSION = '2023-03-30';

export interface Fc3InvokerOptions {
  /** The Alibaba Cloud account (main account UID) that owns the function: part of the endpoint. */
  accountId: string;
  region: string;
  functionName: string;
  /** Version or alias (`qualifier` query). */
  qualifier?: string | undefined;
  /**
   * Override of `https://<account>.<region>.fc.aliyuncs.com`, e.g. the VPC endpoint
   * `<account>.<region>-internal.fc.aliyuncs.com`, or `http://127.0.0.1:9000` in local mode.
   * Without a protocol, https is assumed; plain http only when written out.
   */
  endpoint?: string | undefined;
  /** Deadline of one call (connect and answer), in ms. */
  timeoutMs: number;
  /** Largest serialised event; FC refuses async payloads over 128 KiB. */
  maxEventBytes?: number | undefined;
  /** How many runs of one hand-off may fail for good before a sender's retry is refused (default 4). */
  maxGenerations?: number | undefined;
  /** The HTTP client (default: node's https with keep-alive, shared by the invokers of a process). */
  transport?: Transport | undefined;
  now?: (() => Date) | undefined;
  nonce?: (() => string) | undefined;
}

export const DEFAULT_MAX_GENERATIONS = 4;

/** AsyncTask states (the SDK's AsyncTask model) after which the task will never run again. */
export const FAILED_FOR_GOOD: ReadonlySet<string> = new Set(['Failed', 'Stopped', 'Invalid', 'Expired']);

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

function validateOptions(options: Fc3InvokerOptions): void {
  checkInvokerOptions(options);
  const generations = options.maxGenerations ?? DEFAULT_MAX_GENERATIONS;
  if (!Number.isInteger(generations) || generations < 1 || generations > 20) {
    throw new TypeError('maxGenerations must be a whole number from 1 to 20');
  }
}

/**
 * The fields of FC's error body. FC documents `errorCode`/`errorMessage`; the official SDK reads
 * `Code`/`code`: every spelling is read, so a change of casing never hides a code.
 */
function errorFields(response: WireResponse): { code?: string; message?: string; requestId?: string } {
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
function taskIdTaken(response: WireResponse, code: string | undefined): boolean {
  if (response.status === 409) return true;
  return response.status >= 400 && response.status < 500 && code !== undefined && /AlreadyExist/i.test(code);
}

/** A non-2xx answer as an InvokeError that says whether a retry (same task ID) can help. */
function answerError(operation: string, response: WireResponse): InvokeError {
  const { code, message, requestId } = errorFields(response);
  const httpStatus = response.status;
  // The platform's message goes to the log through `message`; the responder never shows it to a sender.
  const summary = `${operation}: FC answered ${httpStatus}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}`;
  const details = { httpStatus, platformCode: code, requestId };
  if (httpStatus === 429 || (code !== undefined && THROTTLE_CODE.test(code))) {
    return new InvokeError('Throttled', summary, { ...details, retryable: true });
  }
  if (httpStatus >= 500) return new InvokeError('ServerError', summary, { ...details, retryable: true });
  return new InvokeError('Refused', summary, { ...details, retryable: false });
}

/** A failure of the HTTP exchange itself (no answer) as an InvokeError. */
function exchangeError(operation: string, error: unknown): InvokeError {
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

let sharedTransport: Transport | undefined;

/** One keep-alive pool per process, shared by the invokers of every function it serves (local mode has five). */
function defaultTransport(): Transport {
  sharedTransport ??= createNodeTransport(4);
  return sharedTransport;
}

type TaskState = { status: string } | { error: string };

export function createFc3Invoker(options: Fc3InvokerOptions): AsyncInvoker {
  validateOptions(options);
  const origin = fc3Origin(options);
  const maxEventBytes = options.maxEventBytes ?? MAX_HAND_OFF_EVENT_BYTES;
  const maxGenerations = options.maxGenerations ?? DEFAULT_MAX_GENERATIONS;
  const transport = options.transport ?? defaultTransport();
  const now = options.now ?? (() => new Date());
  const nonce = options.nonce ?? randomUUID;

  async function send(request: SignedFcRequest): Promise<WireResponse> {
    // The wire query uses the signer's encoding, so what is signed is exactly what is sent.
    const search = canonicalQueryString(request.query);
    const url = new URL(`${origin.origin}${request.path}${search ? `?${search}` : ''}`);
    return transport(url, {
      method: request.method,
      headers: request.headers,
      timeoutMs: options.timeoutMs,
      body: request.body,
    });
  }

  /** The task's state, or why it could not be read (never thrown: the caller decides). */
  async function readTask(credentials: Credentials, taskId: string): Promise<TaskState> {
    const request = getAsyncTaskRequest({
      host: origin.host,
      functionName: options.functionName,
      qualifier: options.qualifier,
      credentials,
      date: now(),
      nonce: nonce(),
      taskId,
    });
    let response: WireResponse;
    try {
      response = await send(request);
    } catch (error) {
      return { error: exchangeError('GetAsyncTask', error).message };
    }
    if (response.status < 200 || response.status >= 300)
      return { error: answerError('GetAsyncTask', response).message };
    try {
      const task = JSON.parse(response.body) as { status?: unknown };
      if (typeof task.status === 'string' && task.status !== '') return { status: task.status };
    } catch {
      // Falls through: a 2xx without a readable state.
    }
    return { error: 'GetAsyncTask: the answer carries no task status' };
  }

  return {
    async invoke(event: object, invocationId: string, given: Credentials): Promise<AsyncInvokeResult> {
      const payload = handOffPayload(event, invocationId, maxEventBytes);
      const credentials = handOffCredentials(given);

      let lastStatus = '';
      for (let generation = 1; generation <= maxGenerations; generation++) {
        const taskId = taskIdForGeneration(invocationId, generation);
        const request = invokeFunctionRequest({
          host: origin.host,
          functionName: options.functionName,
          qualifier: options.qualifier,
          credentials,
          date: now(),
          nonce: nonce(),
          taskId,
          body: payload,
        });
        let response: WireResponse;
        try {
          response = await send(request);
        } catch (error) {
          throw exchangeError('InvokeFunction', error);
        }
        const { code, requestId } = errorFields(response);
        const ids = {
          ...(requestId ? { requestId } : {}),
          ...(generation > 1 ? { taskId } : {}),
        };
        if (response.status >= 200 && response.status < 300) return { status: 'accepted', ...ids };
        if (!taskIdTaken(response, code)) throw answerError('InvokeFunction', response);

        // Off the happy path: FC knows this task ID. Did its run fail for good?
        const state = await readTask(credentials, taskId);
        // Unknown state (no permission for GetAsyncTask, network…): the task exists, so it is not
        // handed off again; at most once wins over at least once when FC cannot tell.
        if ('error' in state) return { status: 'duplicate', ...ids, taskReadError: state.error };
        if (!FAILED_FOR_GOOD.has(state.status)) return { status: 'duplicate', ...ids, taskStatus: state.status };
        lastStatus = state.status;
      }
      throw new InvokeError(
        'RunsExhausted',
        `the hand-off has run ${maxGenerations} times and ended ${lastStatus} each time; it is not handed off again`,
        { retryable: false, platformCode: lastStatus },
      );
    },
  };
}
