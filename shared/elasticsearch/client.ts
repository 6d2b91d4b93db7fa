import { randomUUID } from 'node:crypto';
import { API_VERSION } from '../actions.ts';
import type { Credentials } from '../core/invocation.ts';
import type { ReportedCall } from '../core/result.ts';
import { isCertificateFailure } from '../errors.ts';
import { canonicalQueryString, signRequest } from './acs3-signer.ts';
import { ApiError, isRetryableApiFailure } from './api-error.ts';
import { AttemptTimeoutError, createNodeTransport, fetchTransport, type Transport } from './transport.ts';

/** One ROA call: what a dry run reports, and the region whose endpoint it goes to. */
export interface ApiCall extends ReportedCall {
  regionId: string;
}

export interface ApiSuccess {
  requestId: string | undefined;
  body: Record<string, unknown>;
}

/** The port the core calls; the emulator and the real API both sit behind it. */
export interface ElasticsearchApi {
  /** One attempt; `timeoutMs` lowers the client's per-attempt timeout (what is left of a deadline). */
  call(call: ApiCall, credentials: Credentials, options?: { timeoutMs?: number }): Promise<ApiSuccess>;
}

export interface ElasticsearchClientOptions {
  /** `host`, `host:port` or `http(s)://host[:port]`; default `https://elasticsearch.<region>.aliyuncs.com`. */
  endpoint?: string | undefined;
  /** Per-attempt timeout. */
  timeoutMs: number;
  /** Connections kept per origin (the fan-out concurrency). */
  maxSockets?: number;
  /** Replaces node's http(s) with a `fetch` (tests); else `transport`, else node's http(s). */
  fetch?: typeof fetch;
  transport?: Transport;
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
  const err = error as { message?: string; code?: string; cause?: { code?: string; message?: string } };
  if (error instanceof AttemptTimeoutError) {
    return new ApiError({ code: 'RequestTimeout', message: 'the API did not answer in time', retryable: true });
  }
  // The caller reads the error code alone; what the network said (`getaddrinfo ENOTFOUND <host>`,
  // `connect ECONNREFUSED <address>`) names the endpoint and goes to the log only.
  const code = [err.code, err.cause?.code].find((c) => typeof c === 'string' && /^[A-Z][A-Z0-9_]{1,40}$/.test(c));
  const detail = [err.message, err.cause?.message].filter(Boolean).join(': ') || undefined;
  if (isCertificateFailure(code)) {
    // No request was sent (verification ends the handshake), and a retry meets the same certificate.
    // Other TLS errors (ERR_SSL_… on a reused keep-alive connection) can follow a request that was
    // applied: those stay ConnectionLost, retried with the same clientToken.
    return new ApiError({
      code: 'TlsFailure',
      message: `the TLS connection to the API failed (${code})`,
      retryable: false,
      detail,
    });
  }
  // The request may have been applied before the connection broke: only a retry with the same token is safe.
  return new ApiError({
    code: 'ConnectionLost',
    message: `the connection to the API failed${code ? ` (${code})` : ''}`,
    retryable: true,
    detail,
  });
}

/** A lean ROA client: signs with ACS3-HMAC-SHA256, one attempt per call, errors classified. */
export function createElasticsearchClient(options: ElasticsearchClientOptions): ElasticsearchApi {
  if (!(options.timeoutMs > 0)) throw new TypeError('timeoutMs must be positive');
  const transport =
    options.transport ??
    (options.fetch ? fetchTransport(options.fetch) : createNodeTransport(options.maxSockets ?? 16));
  const now = options.now ?? (() => new Date());
  const nonce = options.nonce ?? randomUUID;

  return {
    async call(call, credentials, callOptions) {
      const timeoutMs = Math.max(1, Math.min(options.timeoutMs, callOptions?.timeoutMs ?? options.timeoutMs));
      const base = resolveBase(options.endpoint, call.regionId);
      // The wire query uses the signer's encoding, so what is signed is exactly what is sent.
      const search = canonicalQueryString(call.query);
      const url = new URL(`${base.origin}${call.path}${search ? `?${search}` : ''}`);
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
      let response: Awaited<ReturnType<Transport>>;
      try {
        response = await transport(url, { method: call.method, headers, timeoutMs });
      } catch (error) {
        throw networkFailure(error);
      }
      let body: Record<string, unknown> = {};
      try {
        body = asRecord(JSON.parse(response.body));
      } catch {
        // An unreadable body is treated by its status below.
      }
      const requestId = typeof body.RequestId === 'string' ? body.RequestId : undefined;
      if (response.status >= 200 && response.status < 300) return { requestId, body };
      const code = typeof body.Code === 'string' ? body.Code : `HTTP${response.status}`;
      const message = typeof body.Message === 'string' ? body.Message : `the API answered ${response.status}`;
      const retryAfter = Number.parseInt(response.retryAfter ?? '', 10);
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
