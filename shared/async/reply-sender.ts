import { UpstreamError } from '../errors.ts';
import { REPLY_HOSTS } from '../sources/registry.ts';

/**
 * The port of chat reports, and what every sender of them checks first: a JSON POST over https
 * (https-reply-sender.ts), or local mode's capture (capturing-reply-sender.ts). Which URL a report
 * of each source may go to is decided before it gets here (chat-replier.ts, reply-target.ts: each
 * platform's own reply shape only); this is the second line: https only, to an allow-list of the
 * chat platforms' hosts, anything else refused before any connection is made.
 */

export interface ReplySender {
  /**
   * POSTs `body` as JSON to `url`, with extra `headers` (an authorization; never recorded), and
   * resolves with the answer parsed as JSON (undefined when it is not JSON). Rejects with
   * {@link ReplyError} only.
   */
  send(url: string, body: unknown, headers?: Record<string, string>): Promise<unknown>;
}

export type ReplyErrorCode =
  /** Not https, not an allowed host, or not a URL: never fetched. */
  | 'ReplyUrlRefused'
  /** The body cannot be serialised as JSON. */
  | 'ReplyInvalidBody'
  /** The chat platform answered with an error (HTTP status, or an error code in a 200 body). */
  | 'ReplyFailed'
  | 'ReplyTimeout'
  | 'ReplyNetworkError';

export class ReplyError extends UpstreamError {
  declare readonly code: ReplyErrorCode;

  constructor(
    code: ReplyErrorCode,
    message: string,
    options: { retryable: boolean; httpStatus?: number | undefined; cause?: unknown },
  ) {
    super(code, message, options);
  }
}

const MAX_URL_LENGTH = 2048;

/** The parsed URL when a reply may be posted to it; else throws `ReplyUrlRefused`. */
export function checkReplyUrl(url: string, hosts: readonly string[] = REPLY_HOSTS): URL {
  const refuse = (why: string) => new ReplyError('ReplyUrlRefused', `reply URL refused: ${why}`, { retryable: false });
  if (typeof url !== 'string' || url.length === 0) throw refuse('empty');
  if (url.length > MAX_URL_LENGTH) throw refuse(`longer than ${MAX_URL_LENGTH} characters`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw refuse('not a URL');
  }
  if (parsed.protocol !== 'https:') throw refuse(`${parsed.protocol} is not https:`);
  if (parsed.username || parsed.password) throw refuse('user info is not allowed');
  if (parsed.port !== '') throw refuse('an explicit port is not allowed');
  if (!hosts.includes(parsed.hostname)) throw refuse(`host ${parsed.hostname} is not on the allow-list`);
  return parsed;
}

/** The body as the JSON a reply sends; else a `ReplyInvalidBody` error. */
export function serialiseReply(body: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(body);
  } catch (error) {
    throw new ReplyError('ReplyInvalidBody', `the reply body cannot be serialised: ${(error as Error).message}`, {
      retryable: false,
      cause: error,
    });
  }
  if (typeof text !== 'string')
    throw new ReplyError('ReplyInvalidBody', 'the reply body is not JSON', { retryable: false });
  return text;
}
