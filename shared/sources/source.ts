import type { AuthResult } from '../auth/auth-result.ts';
import type { ResponseBody } from '../core/result.ts';
import type { SourceEvent } from '../core/target.ts';

import { SOURCE_NAMES, type SourceName } from './source-names.ts';

export { SOURCE_NAMES, type SourceName };

export const isSourceName = (value: string): value is SourceName => (SOURCE_NAMES as readonly string[]).includes(value);

/** An inbound HTTP request as a source sees it: the raw bytes, before anything is parsed. */
export interface InboundRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: Headers;
  readonly body: Uint8Array;
  readonly receivedAt: Date;
  readonly sourceIp?: string | undefined;
}

/**
 * One sender: how it authenticates, what its payload looks like, and which targets and event
 * keys it names. One file per sender implements this; the core never knows which one it runs.
 */
export interface Source {
  readonly name: SourceName;
  /** False when no secret is configured: every request is refused (fail closed). */
  readonly enabled: boolean;
  /**
   * How long the sender waits for an answer, when shorter than RETRY_DEADLINE_MS: calls and
   * retries of a synchronous run stop in time for the answer to arrive.
   */
  readonly deadlineMs?: number;
  /** Media types the sender posts (`application/json`, `application/x-www-form-urlencoded`). */
  readonly mediaTypes: readonly string[];
  /**
   * Verifies the raw request, before the body is parsed. On any mismatch, the reason goes to the
   * log (never to the sender, and never holding a secret, signature or token).
   */
  authenticate(request: InboundRequest): AuthResult;
  /** Parses an authenticated request; throws PayloadError naming the field. */
  parse(request: InboundRequest): SourceEvent;
  /**
   * Answers a platform handshake after authentication and before any target is considered
   * (Slack `ssl_check`, Feishu `url_verification`); undefined for an ordinary request.
   */
  handshake?(request: InboundRequest): Reply | undefined;
  /**
   * Chat platforms need their own reply shape, and a 200 (Slack treats any other status as a
   * failure): renders what was done, after authentication, for successes and refusals alike.
   */
  render?(body: ResponseBody, status: number): Reply;
  /**
   * The body of a later report to the platform's reply URL (the async hand-off's outcome), when it
   * differs from what `render` answers inline (Feishu replies through its message API).
   */
  replyBody?(body: ResponseBody): unknown;
}

/** Slack and Feishu give 3 s, DingTalk about as much; leave room for the answer itself. */
export const CHAT_DEADLINE_MS = 2500;

export interface Reply {
  status: number;
  body: unknown;
}
