/**
 * The one error family. Every error this code raises carries the HTTP status a sender would see
 * and a code: the errors that end a request before any target is acted on, chosen by whether a
 * retry of the same request could ever succeed, and the upstream failures each adapter maps its
 * platform's errors to at its own edge (so the core tells them apart by class, never by name).
 */
export abstract class ResponderError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    // Not new.target.name: the bundle is minified, and the code names the error in logs anyway.
    this.name = `ResponderError(${code})`;
  }
}

/** Missing, wrong or stale credentials or signature (401). Never says which check failed. */
export class UnauthorizedError extends ResponderError {
  constructor(message = 'the request is not authenticated for this source') {
    super(401, 'Unauthorized', message);
  }
}

/** The payload cannot be understood (400); the message names the field. */
export class PayloadError extends ResponderError {
  constructor(message: string) {
    super(400, 'InvalidPayload', message);
  }
}

export class PayloadTooLargeError extends ResponderError {
  constructor(limit: number) {
    super(413, 'PayloadTooLarge', `the body is larger than the limit of ${limit} bytes`);
  }
}

export class UnsupportedMediaTypeError extends ResponderError {
  constructor(expected: string) {
    super(415, 'UnsupportedMediaType', `the body must be ${expected}`);
  }
}

/** No such route (404); `valid` lists what exists, so a typo in a URL is fixed at first try. */
export class NotFoundError extends ResponderError {
  constructor(
    message: string,
    readonly valid: { readonly functions?: readonly string[]; readonly sources?: readonly string[] } = {},
  ) {
    super(404, 'NotFound', message);
  }
}

/** The deployment's configuration is invalid (500): every request fails closed until it is fixed. */
export class ConfigError extends ResponderError {
  constructor(message: string) {
    super(500, 'InvalidConfiguration', message);
  }
}

/**
 * OpenSSL's certificate verification codes that name neither CERT nor CRL (Node reports them as the
 * error's `code`, e.g. a leaf signed by a CA no root vouches for).
 */
const VERIFY_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'PATH_LENGTH_EXCEEDED',
  'HOSTNAME_MISMATCH',
]);

/**
 * Whether a node error code is a certificate the client refused (not trusted, expired, revoked, for
 * another host). Verification ends the handshake, so no request byte was sent, and a retry meets
 * the same certificate: final, and nothing may have been applied.
 */
export const isCertificateFailure = (code: string | undefined): boolean =>
  code !== undefined && (/CERT|CRL/.test(code) || VERIFY_CODES.has(code));

/**
 * Whether a node error code is a TLS failure: a refused certificate, or a handshake or record-layer
 * error (`ERR_SSL_…`, `ERR_TLS_…`). The rule of the calls that treat any of them as final (FC's
 * invoke API, chat reports); the API client treats only a refused certificate as final, since a
 * record-layer error can end a connection after its request was sent (see elasticsearch/client.ts).
 */
export const isTlsFailure = (code: string | undefined): boolean =>
  isCertificateFailure(code) || (code !== undefined && /TLS|SSL/.test(code));

/** Codes by which a platform asks for a pause (throttling, time-outs): a later retry is likely to pass. */
const THROTTLED = /^(Throttling|Throttled|ServiceUnavailable|RequestTimeout|Timeout)/;

/**
 * What a sender is told when a failure a retry can fix decides the answer: 503 when the platform
 * asked for a pause, 502 for upstream faults and lost responses.
 */
export const upstreamStatus = (code: string): 502 | 503 => (THROTTLED.test(code) ? 503 : 502);

export interface UpstreamErrorOptions {
  /** Whether trying again (with the same clientToken or invocation ID, which keeps it safe) can help. */
  retryable: boolean;
  /** The platform's HTTP status, when it answered. */
  httpStatus?: number | undefined;
  /** The platform's request ID, when it sent one. */
  requestId?: string | undefined;
  /** The pause the platform asked for before a retry, in ms. */
  retryAfterMs?: number | undefined;
  /** What the platform or the network said (it can name hosts, addresses, accounts): the log only. */
  detail?: string | undefined;
  cause?: unknown;
}

/**
 * A call to a platform that failed (the Elasticsearch API, Function Compute's invoke API, a chat
 * platform): each adapter maps its own failures to a subclass of this, so the core's retries and
 * reports need nothing of the adapter but this class.
 */
export class UpstreamError extends ResponderError {
  readonly retryable: boolean;
  readonly httpStatus: number | undefined;
  readonly requestId: string | undefined;
  readonly retryAfterMs: number | undefined;
  readonly detail: string | undefined;

  constructor(code: string, message: string, options: UpstreamErrorOptions) {
    super(upstreamStatus(code), code, message, options);
    this.retryable = options.retryable;
    this.httpStatus = options.httpStatus;
    this.requestId = options.requestId;
    this.retryAfterMs = options.retryAfterMs;
    this.detail = options.detail;
  }
}

/**
 * Whether an error is one that ends a request and may be answered as it is (status, code and
 * message): any of the family but an upstream failure, whose text is the platform's.
 */
export const isAnswerable = (error: unknown): error is ResponderError =>
  error instanceof ResponderError && !(error instanceof UpstreamError);
