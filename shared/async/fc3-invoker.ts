import { randomUUID } from 'node:crypto';
import type { Credentials } from '../core/invocation.ts';
import { canonicalQueryString } from '../elasticsearch/acs3-signer.ts';
import { createNodeTransport, type Transport, type WireResponse } from '../elasticsearch/transport.ts';
import {
  answerError,
  errorFields,
  exchangeError,
  FAILED_FOR_GOOD,
  type Fc3RequestInput,
  fc3Origin,
  getAsyncTaskRequest,
  invokeFunctionRequest,
  type SignedFcRequest,
  taskIdTaken,
} from './fc3-wire.ts';
import { checkInvokerOptions, handOffCredentials, handOffPayload } from './hand-off-input.ts';
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
 * Both are signed by the project's own signer (fc3-wire.ts) and sent over node's https: no SDK is
 * loaded, nothing weighs on the cold path.
 */

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

const DEFAULT_MAX_GENERATIONS = 4;

function validateOptions(options: Fc3InvokerOptions): void {
  checkInvokerOptions(options);
  const generations = options.maxGenerations ?? DEFAULT_MAX_GENERATIONS;
  if (!Number.isInteger(generations) || generations < 1 || generations > 20) {
    throw new TypeError('maxGenerations must be a whole number from 1 to 20');
  }
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

  /** What both requests are signed with: this function, the time, a fresh nonce. */
  const requestInput = (credentials: Credentials, taskId: string): Fc3RequestInput & { taskId: string } => ({
    host: origin.host,
    functionName: options.functionName,
    qualifier: options.qualifier,
    credentials,
    date: now(),
    nonce: nonce(),
    taskId,
  });

  /** The task's state, or why it could not be read (never thrown: the caller decides). */
  async function readTask(credentials: Credentials, taskId: string): Promise<TaskState> {
    const request = getAsyncTaskRequest(requestInput(credentials, taskId));
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
        const request = invokeFunctionRequest({ ...requestInput(credentials, taskId), body: payload });
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
