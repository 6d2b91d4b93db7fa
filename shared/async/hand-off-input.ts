import type { Credentials } from '../core/invocation.ts';
import { REGION_PATTERN } from '../core/target.ts';
import { isCertificateFailure, isTlsFailure } from '../errors.ts';
import { INVOCATION_ID_PATTERN, InvokeError } from './invoker.ts';

/**
 * What both invokers (FC 3.0's own API, fc2 for FC 2.0 services) check the same way: their
 * options once at creation, and each hand-off's ID, event and credentials before any call.
 */

const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;
const QUALIFIER_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
const ACCOUNT_PATTERN = /^\d{1,32}$/;

/** Throws a TypeError naming the first option that is wrong (programmer or configuration error). */
export function checkInvokerOptions(
  options: {
    accountId: string;
    region: string;
    functionName: string;
    serviceName?: string | undefined;
    qualifier?: string | undefined;
    timeoutMs: number;
  },
  withService = false,
): void {
  const fail = (what: string) => {
    throw new TypeError(what);
  };
  if (!ACCOUNT_PATTERN.test(options.accountId ?? '')) fail('accountId must be the numeric account ID');
  if (!REGION_PATTERN.test(options.region ?? '')) fail('region must be a region ID like cn-hangzhou');
  if (withService && !NAME_PATTERN.test(options.serviceName ?? '')) {
    fail('serviceName is not a valid FC service name');
  }
  if (!NAME_PATTERN.test(options.functionName ?? '')) fail('functionName is not a valid FC function name');
  if (options.qualifier !== undefined && !QUALIFIER_PATTERN.test(options.qualifier)) {
    fail('qualifier is not a valid version or alias');
  }
  if (!Number.isInteger(options.timeoutMs) || options.timeoutMs < 1) fail('timeoutMs must be a positive whole number');
}

/**
 * An endpoint override as an origin: `host[:port]` (https assumed) or `http(s)://host[:port]`;
 * undefined when none is given. Anything with a path, query or user info is refused.
 */
export function endpointOrigin(endpoint: string | undefined): URL | undefined {
  const trimmed = endpoint?.trim();
  if (!trimmed) return undefined;
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `https://${trimmed}`);
  } catch {
    throw new TypeError(`the FC endpoint "${trimmed}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new TypeError(`the FC endpoint must be http(s), not ${url.protocol}`);
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || url.username || url.password) {
    throw new TypeError('the FC endpoint must be an origin (scheme, host, port) without path, query or user info');
  }
  return new URL(`${url.protocol}//${url.host}`);
}

/** The event as the JSON payload to send, after the ID and size checks; else an InvokeError. */
export function handOffPayload(event: object, invocationId: string, maxEventBytes: number): string {
  const refuse = (code: 'InvalidEvent' | 'InvalidInvocationId', message: string, cause?: unknown) =>
    new InvokeError(code, message, { retryable: false, cause });
  if (typeof invocationId !== 'string' || !INVOCATION_ID_PATTERN.test(invocationId)) {
    throw refuse('InvalidInvocationId', `the invocation ID must match ${INVOCATION_ID_PATTERN.source}`);
  }
  let payload: string | undefined;
  try {
    payload = JSON.stringify(event);
  } catch (error) {
    throw refuse('InvalidEvent', `the event cannot be serialised: ${(error as Error).message}`, error);
  }
  if (typeof payload !== 'string' || typeof event !== 'object' || event === null) {
    throw refuse('InvalidEvent', 'the event must be a JSON object');
  }
  const bytes = Buffer.byteLength(payload, 'utf8');
  if (bytes > maxEventBytes) {
    throw refuse('InvalidEvent', `the event is ${bytes} bytes, over the limit of ${maxEventBytes}`);
  }
  return payload;
}

/** The hand-off's credentials when they are a usable pair; else a ClientError, before any call. */
export function handOffCredentials(credentials: Credentials | undefined): Credentials {
  if (!credentials?.accessKeyId || !credentials.accessKeySecret) {
    throw new InvokeError('ClientError', 'no credentials for the FC invoke call', { retryable: false });
  }
  return credentials;
}

const NETWORK_CODE = /^(E[A-Z0-9_]+|EAI_[A-Z]+)$/;

/**
 * A failure below HTTP by its node error code: a refused certificate (not retryable: a retry meets
 * the same certificate), or another TLS error or the network (retryable: the invocation or task ID
 * makes a second invoke of the same command a duplicate FC answers, never a second run); undefined
 * when the code says neither.
 */
export function networkFailure(
  code: string | undefined,
  message: string,
  cause: unknown,
  operation = '',
): InvokeError | undefined {
  const tls = isTlsFailure(code);
  if (code === undefined || !(tls || NETWORK_CODE.test(code))) return undefined;
  return new InvokeError(
    'NetworkError',
    `${operation}${tls ? 'TLS' : 'network'} failure calling FC (${code}): ${message}`,
    {
      retryable: !isCertificateFailure(code),
      cause,
    },
  );
}

/** FC's throttling codes, whatever the HTTP status they come with. */
const THROTTLE_CODE = /^(Throttl|ResourceExhausted|ResourceThrottled|TooManyRequests)/;

/**
 * FC's non-2xx answer (not a duplicate) as an InvokeError that says whether a retry (same ID) can
 * help: throttled (429 or a throttling code) and 5xx can, any other refusal cannot. The one
 * reading of FC's statuses, for both invoke APIs.
 */
export function answeredError(
  summary: string,
  details: { httpStatus: number; platformCode: string | undefined; requestId: string | undefined; cause?: unknown },
): InvokeError {
  const { httpStatus, platformCode: code } = details;
  if (httpStatus === 429 || (code !== undefined && THROTTLE_CODE.test(code))) {
    return new InvokeError('Throttled', summary, { ...details, retryable: true });
  }
  if (httpStatus >= 500) return new InvokeError('ServerError', summary, { ...details, retryable: true });
  return new InvokeError('Refused', summary, { ...details, retryable: false });
}
