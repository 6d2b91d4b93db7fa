/**
 * A failed Elasticsearch API call, classified once here so every caller agrees on whether
 * a retry (with the same clientToken) can help.
 */
export class ApiError extends Error {
  readonly code: string;
  readonly httpStatus: number | undefined;
  readonly requestId: string | undefined;
  readonly retryable: boolean;
  /** From `x-acs-retry-after` (milliseconds), when the API asked for a pause. */
  readonly retryAfterMs: number | undefined;
  /** What the network said (it names hosts and addresses): for the log only, never a response. */
  readonly detail: string | undefined;

  constructor(init: {
    code: string;
    message: string;
    httpStatus?: number | undefined;
    requestId?: string | undefined;
    retryable: boolean;
    retryAfterMs?: number | undefined;
    detail?: string | undefined;
  }) {
    super(init.message);
    this.name = 'ApiError';
    this.code = init.code;
    this.httpStatus = init.httpStatus;
    this.requestId = init.requestId;
    this.retryable = init.retryable;
    this.retryAfterMs = init.retryAfterMs;
    this.detail = init.detail;
  }
}

/** Codes a later attempt can succeed on: throttling, service-side trouble, and the documented update conflict. */
const RETRYABLE_CODES = new Set(['ServiceUnavailable', 'InternalError', 'ConcurrencyUpdateInstanceConflict']);

export function isRetryableApiFailure(code: string, httpStatus: number): boolean {
  return httpStatus >= 500 || code.startsWith('Throttling') || RETRYABLE_CODES.has(code);
}
