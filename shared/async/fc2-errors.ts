import { answeredError, networkFailure } from './hand-off-input.ts';
import { InvokeError } from './invoker.ts';

/** What FC 2.0's answers mean, as `@alicloud/fc2` reports them: a duplicate, or an InvokeError. */

/** The error code FC answers (with 409) for a stateful async invocation ID already used. */
const DUPLICATE_INVOCATION_CODE = 'StatefulAsyncInvocationAlreadyExists';

export type Fc2Outcome = { duplicate: true; requestId?: string | undefined } | InvokeError;

/**
 * An error thrown by fc2 (or by the network under it) as an outcome: `duplicate` for a reused
 * stateful invocation ID, else an {@link InvokeError} that says whether a retry can help.
 *
 * fc2 throws for a non-2xx answer an Error whose `code` is the body's `ErrorCode` and whose
 * message reads `POST <path> failed with <status>. requestid: <id>, message: <msg>.`: the status
 * and request ID are only in the message.
 */
export function classifyFc2Error(error: unknown): Fc2Outcome {
  const e = (typeof error === 'object' && error !== null ? error : {}) as {
    name?: unknown;
    code?: unknown;
    message?: unknown;
  };
  const message = typeof e.message === 'string' ? e.message : String(error);
  const code = typeof e.code === 'string' && e.code !== '' && e.code !== 'undefined' ? e.code : undefined;
  const status = /failed with (\d{3})\./.exec(message);
  const rawRequestId = /requestid: ([^,\s]+),/.exec(message)?.[1];
  const requestId = rawRequestId && rawRequestId !== 'undefined' ? rawRequestId : undefined;

  if (status?.[1]) {
    const httpStatus = Number(status[1]);
    const details = { httpStatus, platformCode: code, requestId, cause: error };
    if (
      code === DUPLICATE_INVOCATION_CODE ||
      (httpStatus === 409 && (code === undefined || /AlreadyExist/i.test(code)))
    ) {
      return { duplicate: true, requestId };
    }
    return answeredError(`FC answered ${httpStatus}${code ? ` ${code}` : ''}: ${message}`, details);
  }

  const name = typeof e.name === 'string' ? e.name : '';
  if (/Timeout/i.test(name) || code === 'ETIMEDOUT' || code === 'ESOCKETTIMEDOUT') {
    return new InvokeError('Timeout', `the FC invoke call timed out: ${message}`, { retryable: true, cause: error });
  }
  const network = networkFailure(code, message, error);
  if (network) return network;
  if (error instanceof SyntaxError) {
    return new InvokeError('BadResponse', `unreadable answer from FC: ${message}`, { retryable: true, cause: error });
  }
  return new InvokeError('ClientError', `the FC client failed: ${message}`, { retryable: false, cause: error });
}
