/**
 * Errors that end a request before any target is acted on. Each carries the HTTP status
 * the sender sees, chosen by whether a retry of the same request could ever succeed.
 */
export abstract class ResponderError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
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
