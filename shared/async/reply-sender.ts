import type { ClientRequest, IncomingMessage } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { UpstreamError } from '../errors.ts';
import { REPLY_HOSTS } from '../sources/registry.ts';

/**
 * The transport of chat reports: a JSON POST over https. Which URL a report of each source may go
 * to is decided before it gets here (chat-replier.ts, reply-target.ts: each platform's own reply
 * shape only); this is the second line: https only, to an allow-list of the chat platforms' hosts,
 * anything else refused before any connection is made.
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

function serialise(body: unknown): string {
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

/**
 * DingTalk and Feishu answer 200 with an error code in the body (`errcode`, `code`/`StatusCode`);
 * Slack answers `ok` or a non-2xx. Returns the error description, if any.
 */
export function bodyLevelError(text: string): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.errcode === 'number' && v.errcode !== 0) return `errcode ${v.errcode}: ${String(v.errmsg ?? '')}`;
  if (typeof v.code === 'number' && v.code !== 0) return `code ${v.code}: ${String(v.msg ?? '')}`;
  if (typeof v.StatusCode === 'number' && v.StatusCode !== 0) {
    return `StatusCode ${v.StatusCode}: ${String(v.StatusMessage ?? '')}`;
  }
  if (v.ok === false) return `ok=false: ${String(v.error ?? '')}`;
  return undefined;
}

/** How a request is made: `https.request` by default; tests inject their own. */
export type ReplyRequestFn = (url: URL, options: RequestOptions) => ClientRequest;

export interface HttpsReplySenderOptions {
  /** Deadline of one POST, connect to last byte. */
  timeoutMs: number;
  hosts?: readonly string[] | undefined;
  /** Most of the answer read (it is only inspected for errors). */
  maxResponseBytes?: number | undefined;
  request?: ReplyRequestFn | undefined;
}

export function createHttpsReplySender(options: HttpsReplySenderOptions): ReplySender {
  if (!Number.isInteger(options.timeoutMs) || options.timeoutMs < 1) {
    throw new TypeError('timeoutMs must be a positive whole number');
  }
  const hosts = options.hosts ?? REPLY_HOSTS;
  const maxResponseBytes = options.maxResponseBytes ?? 16 * 1024;
  const doRequest: ReplyRequestFn = options.request ?? ((url, requestOptions) => httpsRequest(url, requestOptions));

  return {
    async send(url, body, headers) {
      const target = checkReplyUrl(url, hosts);
      const payload = Buffer.from(serialise(body), 'utf8');

      return new Promise<unknown>((resolve, reject) => {
        let settled = false;
        let req: ClientRequest | undefined;
        const finish = (error?: ReplyError, answer?: unknown) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          if (error) {
            req?.destroy();
            reject(error);
          } else resolve(answer);
        };
        const timer = setTimeout(
          () =>
            finish(
              new ReplyError('ReplyTimeout', `no answer from ${target.hostname} within ${options.timeoutMs} ms`, {
                retryable: true,
              }),
            ),
          options.timeoutMs,
        );

        try {
          req = doRequest(target, {
            method: 'POST',
            headers: {
              ...headers,
              'content-type': 'application/json; charset=utf-8',
              'content-length': String(payload.byteLength),
              'user-agent': 'es-change-responder',
            },
            timeout: options.timeoutMs,
          });
        } catch (error) {
          finish(
            new ReplyError('ReplyNetworkError', `cannot post to ${target.hostname}: ${(error as Error).message}`, {
              retryable: true,
              cause: error,
            }),
          );
          return;
        }
        req.on('timeout', () =>
          finish(new ReplyError('ReplyTimeout', `${target.hostname} timed out`, { retryable: true })),
        );
        req.on('error', (error: Error & { code?: string }) =>
          finish(
            new ReplyError('ReplyNetworkError', `posting to ${target.hostname} failed: ${error.message}`, {
              retryable: !/(CERT|TLS|SSL)/.test(error.code ?? ''),
              cause: error,
            }),
          ),
        );
        req.on('response', (response: IncomingMessage) => {
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            if (size < maxResponseBytes) chunks.push(chunk);
            size += chunk.byteLength;
          });
          response.on('error', (error) =>
            finish(
              new ReplyError('ReplyNetworkError', `reading the answer of ${target.hostname} failed: ${error.message}`, {
                retryable: true,
                cause: error,
              }),
            ),
          );
          response.on('end', () => {
            const status = response.statusCode ?? 0;
            const text = Buffer.concat(chunks).subarray(0, maxResponseBytes).toString('utf8');
            if (status < 200 || status >= 300) {
              finish(
                new ReplyError('ReplyFailed', `${target.hostname} answered ${status}: ${text.slice(0, 200)}`, {
                  retryable: status === 429 || status >= 500,
                  httpStatus: status,
                }),
              );
              return;
            }
            const problem = bodyLevelError(text);
            if (problem) {
              finish(
                new ReplyError('ReplyFailed', `${target.hostname} refused the reply: ${problem.slice(0, 200)}`, {
                  retryable: false,
                  httpStatus: status,
                }),
              );
              return;
            }
            let answer: unknown;
            try {
              answer = JSON.parse(text);
            } catch {
              answer = undefined;
            }
            finish(undefined, answer);
          });
        });
        req.end(payload);
      });
    },
  };
}

export interface CapturedReply {
  url: string;
  body: unknown;
  /** ISO 8601 */
  at: string;
}

export interface CapturingReplySender extends ReplySender {
  /** Captured replies, oldest first (copies of the list). */
  replies(): CapturedReply[];
  clear(): void;
}

/**
 * Local mode: records `{url, body, at}` instead of sending, after the same URL check as the
 * real sender (so a refused URL is refused locally too). Keeps the last `limit` replies.
 */
export function createCapturingReplySender(
  options: { now?: () => Date; limit?: number; hosts?: readonly string[]; enforceAllowList?: boolean } = {},
): CapturingReplySender {
  const now = options.now ?? (() => new Date());
  const limit = options.limit ?? 1000;
  const enforce = options.enforceAllowList ?? true;
  let captured: CapturedReply[] = [];
  return {
    async send(url, body) {
      if (enforce) checkReplyUrl(url, options.hosts ?? REPLY_HOSTS);
      // Stored as it would be sent: a JSON round trip, so later mutation of `body` changes nothing.
      const stored: unknown = JSON.parse(serialise(body));
      captured.push({ url, body: stored, at: now().toISOString() });
      if (captured.length > limit) captured = captured.slice(captured.length - limit);
    },
    replies: () => captured.map((reply) => ({ ...reply })),
    clear() {
      captured = [];
    },
  };
}
