import { randomUUID } from 'node:crypto';
import { API_VERSION } from '../actions.ts';
import type { Credentials } from '../config.ts';
import { canonicalQueryString, signRequest } from './acs3-signer.ts';
import { ApiError, isRetryableApiFailure } from './api-error.ts';

/** One ROA call: everything the signer and the wire need, and what a dry run reports. */
export interface ApiCall {
  operation: string;
  method: 'GET' | 'POST';
  path: string;
  query: Record<string, string>;
  regionId: string;
}

export interface ApiSuccess {
  requestId: string | undefined;
  body: Record<string, unknown>;
}

/** The port the core calls; the emulator and the real API both sit behind it. */
export interface ElasticsearchApi {
  call(call: ApiCall, credentials: Credentials): Promise<ApiSuccess>;
}

export interface ElasticsearchClientOptions {
  /** `host`, `host:port` or `http(s)://host[:port]`; default `https://elasticsearch.<region>.aliyuncs.com`. */
  endpoint?: string | undefined;
  /** Per-attempt timeout. */
  timeoutMs: number;
  fetch?: typeof fetch;
  now?: () => Date;
  nonce?: () => string;
}

const USER_AGENT = 'es-change-responder/1 (+ACS3-HMAC-SHA256)';

function resolveBase(endpoint: string | undefined, regionId: string): URL {
  if (!endpoint) return new URL(`https://elasticsearch.${regionId}.aliyuncs.com`);
  return new URL(/^https?:\/\//.test(endpoint) ? endpoint : `https://${endpoint}`);
}

const asRecord = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

function networkFailure(error: unknown): ApiError {
  const err = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError' || err.name === 'AbortError') {
    return new ApiError({ code: 'RequestTimeout', message: 'the API did not answer in time', retryable: true });
  }
  // The request may have been applied before the connection broke: only a retry with the same token is safe.
  const detail = err.cause?.code ?? err.cause?.message ?? err.message ?? 'unknown';
  return new ApiError({
    code: 'ConnectionLost',
    message: `the connection to the API failed (${detail})`,
    retryable: true,
  });
}

/** A lean ROA client: signs with ACS3-HMAC-SHA256, one attempt per call, errors classified. */
export function createElasticsearchClient(options: ElasticsearchClientOptions): ElasticsearchApi {
  if (!(options.timeoutMs > 0)) throw new TypeError('timeoutMs must be positive');
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? (() => new Date());
  const nonce = options.nonce ?? randomUUID;

  return {
    async call(call, credentials) {
      const base = resolveBase(options.endpoint, call.regionId);
      // The wire query uses the signer's encoding, so what is signed is exactly what is sent.
      const search = canonicalQueryString(call.query);
      const url = `${base.origin}${call.path}${search ? `?${search}` : ''}`;
      const headers = signRequest({
        method: call.method,
        host: base.host,
        path: call.path,
        query: call.query,
        action: call.operation,
        version: API_VERSION,
        credentials,
        date: now(),
        nonce: nonce(),
        extraHeaders: { accept: 'application/json', 'user-agent': USER_AGENT },
      });
      let response: Response;
      let text: string;
      try {
        response = await doFetch(url, {
          method: call.method,
          headers,
          signal: AbortSignal.timeout(options.timeoutMs),
        });
        text = await response.text();
      } catch (error) {
        throw networkFailure(error);
      }
      let body: Record<string, unknown> = {};
      try {
        body = asRecord(JSON.parse(text));
      } catch {
        // An unreadable body is treated by its status below.
      }
      const requestId = typeof body.RequestId === 'string' ? body.RequestId : undefined;
      if (response.ok) return { requestId, body };
      const code = typeof body.Code === 'string' ? body.Code : `HTTP${response.status}`;
      const message = typeof body.Message === 'string' ? body.Message : `the API answered ${response.status}`;
      const retryAfter = Number.parseInt(response.headers.get('x-acs-retry-after') ?? '', 10);
      throw new ApiError({
        code,
        message,
        httpStatus: response.status,
        requestId,
        retryable: isRetryableApiFailure(code, response.status),
        retryAfterMs: Number.isNaN(retryAfter) ? undefined : retryAfter,
      });
    },
  };
}
