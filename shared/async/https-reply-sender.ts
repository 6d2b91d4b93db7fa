import type { ClientRequest, IncomingMessage } from 'node:http';
import type { RequestOptions } from 'node:https';
import { isTlsFailure } from '../errors.ts';
import { REPLY_HOSTS } from '../sources/registry.ts';
import { checkReplyUrl, ReplyError, type ReplySender, serialiseReply } from './reply-sender.ts';

/** Chat reports over https, to the chat platforms' hosts only (checked before any connection). */

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
  // `node:https` (and `tls`) load on the first reply, not with the function.
  const requestFn = (): Promise<ReplyRequestFn> =>
    options.request ? Promise.resolve(options.request) : import('node:https').then((https) => https.request);

  return {
    async send(url, body, headers) {
      const target = checkReplyUrl(url, hosts);
      const payload = Buffer.from(serialiseReply(body), 'utf8');
      const doRequest = await requestFn();

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
              retryable: !isTlsFailure(error.code),
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
