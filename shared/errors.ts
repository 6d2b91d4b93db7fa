/**
 * Errors that end a request before any target is acted on. Each carries the HTTP status
 * the sender sees, chosen by whether a retry of the same request could ever succeed.
 */
export abstract class ResponderError extends Error {
  abstract readonly status: number;
  abstract readonly code: string;
}

/** Missing, wrong or stale credentials or signature (401). Never says which check failed. */
export class UnauthorizedError extends ResponderError {
  readonly status = 401;
  readonly code = 'Unauthorized';
  constructor(message = 'the request is not authenticated for this source') {
    super(message);
    this.name = 'UnauthorizedError';
  }
}

/** The payload cannot be understood (400); the message names the field. */
export class PayloadError extends ResponderError {
  readonly status = 400;
  readonly code = 'InvalidPayload';
  constructor(message: string) {
    super(message);
    this.name = 'PayloadError';
  }
}

export class PayloadTooLargeError extends ResponderError {
  readonly status = 413;
  readonly code = 'PayloadTooLarge';
  constructor(limit: number) {
    super(`the body is larger than the limit of ${limit} bytes`);
    this.name = 'PayloadTooLargeError';
  }
}

export class UnsupportedMediaTypeError extends ResponderError {
  readonly status = 415;
  readonly code = 'UnsupportedMediaType';
  constructor(expected: string) {
    super(`the body must be ${expected}`);
    this.name = 'UnsupportedMediaTypeError';
  }
}

export class NotFoundError extends ResponderError {
  readonly status = 404;
  readonly code = 'NotFound';
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

/** The deployment's configuration is invalid (500): every request fails closed until it is fixed. */
export class ConfigError extends ResponderError {
  readonly status = 500;
  readonly code = 'InvalidConfiguration';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}
