import { UpstreamError, type UpstreamErrorOptions } from '../errors.ts';

/**
 * A failed Elasticsearch API call, classified once here so every caller agrees on whether
 * a retry (with the same clientToken) can help.
 */
export class ApiError extends UpstreamError {
  constructor(init: UpstreamErrorOptions & { code: string; message: string }) {
    const { code, message, ...options } = init;
    super(code, message, options);
  }
}

/** Codes a later attempt can succeed on: throttling, service-side trouble, and the documented update conflict. */
const RETRYABLE_CODES = new Set(['ServiceUnavailable', 'InternalError', 'ConcurrencyUpdateInstanceConflict']);

export function isRetryableApiFailure(code: string, httpStatus: number): boolean {
  return httpStatus >= 500 || code.startsWith('Throttling') || RETRYABLE_CODES.has(code);
}
