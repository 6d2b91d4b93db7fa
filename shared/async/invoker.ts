import type { Credentials } from '../core/invocation.ts';
import { sha256Hex } from '../elasticsearch/acs3-signer.ts';
import { UpstreamError, type UpstreamErrorOptions } from '../errors.ts';

/**
 * The async hand-off port. An HTTP invocation authenticates, validates, applies policy and
 * derives the tokens, then hands the work to an asynchronous invocation of the same function
 * (an internal command event) and answers the sender at once: chat senders wait 3 s,
 * CloudMonitor 5 s, and an FC instance may be frozen as soon as it has answered.
 */

export interface AsyncInvokeResult {
  /**
   * `accepted`: the platform queued the invocation. `duplicate`: the platform refused it because
   * the stateful invocation ID was already used, i.e. the same hand-off was accepted before;
   * the caller treats it as accepted.
   */
  status: 'accepted' | 'duplicate';
  /** `x-fc-request-id` of the invoke call, when the platform sent one. */
  requestId?: string;
  /** The ID the invocation went under, when it differs from the one asked for (a later generation). */
  taskId?: string;
  /** For a duplicate, the state the platform reported for the existing task (FC 3.0 only). */
  taskStatus?: string;
  /** For a duplicate whose state could not be read: why (for the log). */
  taskReadError?: string;
}

export interface AsyncInvoker {
  /**
   * Queues `event` (serialised as JSON) for an asynchronous invocation whose stateful ID is
   * `invocationId` (see {@link invocationIdFor}), signed with the invocation's `credentials` (STS
   * credentials rotate: an invoker is built once, credentials come with each call). An invoker
   * that can read the state of earlier tasks may go on under {@link taskIdForGeneration} IDs when
   * the earlier ones failed for good. Rejects with {@link InvokeError} only.
   */
  invoke(event: object, invocationId: string, credentials: Credentials): Promise<AsyncInvokeResult>;
}

/** FC's limit on an async invocation's event, in FC 2.0 and 3.0 alike. */
export const MAX_HAND_OFF_EVENT_BYTES = 128 * 1024;

/** What FC accepts in `x-fc-stateful-async-invocation-id` (2.0) and `x-fc-async-task-id` (3.0). */
export const INVOCATION_ID_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;

/** A clientToken made only of these characters is used verbatim (after the prefix). */
const VERBATIM_TOKEN = /^[A-Za-z0-9_-]{1,123}$/;
const VERBATIM_PREFIX = 'rsp1_';
const HASHED_PREFIX = 'rsp1h_';
const MANY_PREFIX = 'rsp1m_';

/**
 * The stateful async invocation ID of a hand-off, as a pure function of its clientToken, so a
 * retried or duplicated delivery hands off under the same ID and the platform refuses the
 * second one.
 *
 * - a token of `[A-Za-z0-9_-]` (every token this project derives: `ies1-<40 hex>`) becomes
 *   `rsp1_<token>`, readable in the FC console next to the token it came from;
 * - anything else (other characters, empty, longer than 123) becomes
 *   `rsp1h_<SHA-256 hex of the UTF-8 token>`.
 *
 * The two prefixes differ at their fifth character, so the mapping stays injective (up to
 * SHA-256 collisions), and every result matches {@link INVOCATION_ID_PATTERN}.
 */
export function invocationIdFor(clientToken: string): string {
  if (VERBATIM_TOKEN.test(clientToken)) return `${VERBATIM_PREFIX}${clientToken}`;
  return `${HASHED_PREFIX}${sha256Hex(clientToken)}`;
}

/**
 * The ID of one hand-off that carries several targets: a pure function of the set of their
 * clientTokens (order does not matter), so a retried delivery hands off under the same ID. One
 * token gives exactly {@link invocationIdFor}; more give `rsp1m_<SHA-256 hex of the sorted tokens
 * as JSON>`, whose prefix differs from both single-token forms.
 */
export function handOffIdFor(clientTokens: readonly string[]): string {
  if (clientTokens.length === 0) throw new TypeError('a hand-off carries at least one clientToken');
  if (clientTokens.length === 1) return invocationIdFor(clientTokens[0] as string);
  return `${MANY_PREFIX}${sha256Hex(JSON.stringify([...clientTokens].sort()))}`;
}

/**
 * The task ID of the `generation`-th run of the hand-off whose first ID is `baseId`: generation 1
 * is `baseId` itself, a later one `g<n>_<baseId>` (or `g<n>h_<SHA-256 hex of baseId>` when that
 * would pass FC's 128 characters). A sender's retry after a run that failed for good goes under
 * the next generation, so FC runs it again; every generation carries the same event, hence the
 * same clientTokens, so the change itself still happens at most once.
 */
export function taskIdForGeneration(baseId: string, generation: number): string {
  if (!Number.isInteger(generation) || generation < 1) throw new TypeError('generation must be a whole number >= 1');
  if (generation === 1) return baseId;
  const plain = `g${generation}_${baseId}`;
  return plain.length <= 128 ? plain : `g${generation}h_${sha256Hex(baseId)}`;
}

export type InvokeErrorCode =
  /** The platform or the network throttled the call (429, `Throttling*`, `ResourceExhausted`…). */
  | 'Throttled'
  /** 5xx from the platform. */
  | 'ServerError'
  /** Connection refused/reset, DNS failure, TLS failure. */
  | 'NetworkError'
  /** No answer within the timeout: the invocation may or may not have been queued. */
  | 'Timeout'
  /** An answer that could not be read (e.g. malformed JSON). */
  | 'BadResponse'
  /** The platform refused the call for good (4xx: signature, access, not found, too large…). */
  | 'Refused'
  /** The event cannot be sent (too large, not serialisable). */
  | 'InvalidEvent'
  /** The invocation ID does not match {@link INVOCATION_ID_PATTERN}. */
  | 'InvalidInvocationId'
  /** The invoker is misconfigured or the client library could not be loaded. */
  | 'ClientError'
  /** Every allowed run of this hand-off already failed for good: it is not handed off again. */
  | 'RunsExhausted';

/**
 * A failed hand-off. `retryable` says whether trying again (with the same invocation ID, which
 * keeps it safe) can help; `platformCode` is the platform's own error code when it sent one.
 */
export class InvokeError extends UpstreamError {
  declare readonly code: InvokeErrorCode;
  readonly platformCode: string | undefined;

  constructor(
    code: InvokeErrorCode,
    message: string,
    options: Omit<UpstreamErrorOptions, 'retryAfterMs' | 'detail'> & { platformCode?: string | undefined },
  ) {
    const { platformCode, ...rest } = options;
    super(code, message, rest);
    this.platformCode = platformCode;
  }
}
