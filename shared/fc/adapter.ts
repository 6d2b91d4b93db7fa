import { randomUUID } from 'node:crypto';
import type { Credentials, InvocationStart } from '../core/invocation.ts';
import { ResponderError } from '../errors.ts';
import type { InvocationBindings } from '../http/bindings.ts';
import { LightResponse } from '../http/light-response.ts';
import type { TimerTick } from '../triggers/timer.ts';
import {
  type FcContext,
  type FcHttpResult,
  type HttpTriggerEvent,
  httpTriggerEventSchema,
  timerEventSchema,
} from './events.ts';
import { LightHeaders, LightRequest } from './light-request.ts';

/** Anything with a Web-standard fetch, such as a Hono app. */
export interface FetchApp {
  fetch(request: Request, env: InvocationBindings): Response | Promise<Response>;
}

/** What a timer or command invocation answers: the status it would have over HTTP, and the result object. */
export interface InvocationAnswer {
  status: number;
  /** The result object (its `summary`, when it has one, says why a failure is retried). */
  body: object;
}

/** Where each kind of event goes: HTTP-trigger events to the app, the others to their own handlers. */
export interface FcHandlers {
  http: FetchApp;
  timer(tick: TimerTick, start: InvocationStart): Promise<InvocationAnswer>;
  command(event: Record<string, unknown>, start: InvocationStart): Promise<InvocationAnswer>;
}

export interface FcHandlerOptions {
  /** Name used in the URL the app sees when the event names no host. */
  functionName: string;
  /** Largest HTTP body accepted; an event clearly larger is refused before it is parsed. */
  maxBodyBytes: number;
  /** The environment's credentials, used when the FC context carries none. */
  credentials?: Credentials | undefined;
}

export type FcHandler = (event: unknown, context?: FcContext) => Promise<unknown>;

/** Thrown to FC for timer and command invocations a retry can fix, so FC's async retry runs (same tokens). */
export class RetryableInvocationError extends ResponderError {
  constructor(status: number, summary: string) {
    super(status, 'RetryableInvocationError', `${status}: ${summary}`);
    // FC records it as the failed invocation's error type, as it always has.
    this.name = 'RetryableInvocationError';
  }
}

const json = (statusCode: number, body: unknown): FcHttpResult => ({
  statusCode,
  headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
  isBase64Encoded: false,
  body: JSON.stringify(body),
});

const badEvent = (message: string) => json(400, { results: [], error: { code: 'InvalidEvent', message } });

function contextCredentials(context: FcContext | undefined): Credentials | undefined {
  const c = context?.credentials;
  if (!c?.accessKeyId || !c.accessKeySecret) return undefined;
  return {
    accessKeyId: c.accessKeyId,
    accessKeySecret: c.accessKeySecret,
    securityToken: c.securityToken || undefined,
  };
}

function decodeEvent(event: unknown): unknown {
  if (Buffer.isBuffer(event) || event instanceof Uint8Array) return JSON.parse(Buffer.from(event).toString('utf8'));
  if (typeof event === 'string') return JSON.parse(event);
  return event;
}

function eventSize(event: unknown): number {
  if (Buffer.isBuffer(event) || event instanceof Uint8Array) return event.byteLength;
  if (typeof event === 'string') return Buffer.byteLength(event);
  return 0;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function toRequest(event: HttpTriggerEvent, functionName: string): { request: Request; body: Uint8Array } {
  const host = event.requestContext.domainName || `${functionName}.fc.internal`;
  const url = new URL(event.rawPath.startsWith('/') ? event.rawPath : `/${event.rawPath}`, `https://${host}`);
  for (const [key, value] of Object.entries(event.queryParameters)) {
    for (const v of Array.isArray(value) ? value : [value]) url.searchParams.append(key, v);
  }
  const headers = new LightHeaders();
  for (const [name, value] of Object.entries(event.headers)) {
    const joined = Array.isArray(value) ? value.join(',') : value;
    // FC hands over decoded UTF-8; HTTP header values are bytes (Latin-1 in Headers). CR, LF and NUL
    // still make LightHeaders throw, as Headers does, which the caller answers with 400.
    headers.set(name, /[\u0100-\uffff]/.test(joined) ? Buffer.from(joined, 'utf8').toString('latin1') : joined);
  }
  const method = event.requestContext.http.method.toUpperCase();
  const hasBody = method !== 'GET' && method !== 'HEAD';
  const body = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
  // The bytes travel beside the Request (bindings.body): a body stream per request costs more than the rest of parsing.
  // A LightRequest, not undici's: loading undici is the largest part of a cold start.
  return { request: new LightRequest(url, method, headers).asRequest(), body: hasBody ? body : new Uint8Array() };
}

const isTextual = (type: string) => /^(text\/|application\/(json|x-www-form-urlencoded|xml))/.test(type) || type === '';

async function toResult(response: Response): Promise<FcHttpResult> {
  // The app's own JSON answers, read without building an undici Response.
  const parts = response instanceof LightResponse ? response.parts() : undefined;
  if (parts && isTextual(parts.headers['content-type'] ?? '')) {
    return { statusCode: parts.status, headers: parts.headers, isBase64Encoded: false, body: parts.body };
  }
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  const textual = isTextual(headers['content-type'] ?? '');
  const bytes = Buffer.from(await response.arrayBuffer());
  return {
    statusCode: response.status,
    headers,
    isBase64Encoded: !textual,
    body: textual ? bytes.toString('utf8') : bytes.toString('base64'),
  };
}

/** Non-HTTP invocations return the result object; a retryable failure is thrown so FC retries it. */
function settle(answer: InvocationAnswer): unknown {
  if (answer.status >= 500) {
    const { summary } = answer.body as { summary?: unknown };
    throw new RetryableInvocationError(answer.status, typeof summary === 'string' ? summary : 'failed');
  }
  return answer.body;
}

/**
 * Function Compute 3.0 → the function. HTTP-trigger envelopes become a Web-standard `Request` for
 * the app (a LightRequest: undici's is built only if the app asks for more than method, URL and
 * headers), and its `Response` FC's return shape (a LightResponse read without undici); timer and internal command events go to their
 * own handlers, never through HTTP. The kinds are told apart by structure, the HTTP envelope
 * first, so no HTTP body can pose as another kind; anything else gets a clear 400, never a crash.
 */
export function createFcHandler(handlers: FcHandlers, options: FcHandlerOptions): FcHandler {
  if (!options.functionName) throw new TypeError('functionName is required');
  // Envelope = body (base64 at worst, 4/3) + headers (8 KB at most on FC) + fields.
  const maxEventBytes = Math.ceil((options.maxBodyBytes * 4) / 3) + 64 * 1024;

  return async function handler(event, context) {
    const start: InvocationStart = {
      requestId: context?.requestId ?? randomUUID(),
      credentials: contextCredentials(context) ?? options.credentials,
    };
    if (eventSize(event) > maxEventBytes) {
      return json(413, { results: [], error: { code: 'PayloadTooLarge', message: 'the event is too large' } });
    }
    let decoded: unknown;
    try {
      decoded = decodeEvent(event);
    } catch {
      return badEvent('the event is not valid JSON');
    }
    if (!isObject(decoded)) return badEvent('the event is not a JSON object');

    if ('requestContext' in decoded || 'rawPath' in decoded) {
      const parsed = httpTriggerEventSchema().safeParse(decoded);
      if (!parsed.success) return badEvent('the HTTP trigger event is malformed');
      let converted: { request: Request; body: Uint8Array };
      try {
        converted = toRequest(parsed.data, options.functionName);
      } catch {
        // Invalid header names or values (CR/LF injection) and methods make LightHeaders/LightRequest throw.
        return badEvent('the HTTP request has a malformed header or URL');
      }
      const sourceIp = parsed.data.requestContext.http.sourceIp;
      return toResult(await handlers.http.fetch(converted.request, { ...start, sourceIp, body: converted.body }));
    }

    if ('responderCommand' in decoded) return settle(await handlers.command(decoded, start));

    const timer = timerEventSchema().safeParse(decoded);
    if (timer.success && 'triggerName' in decoded) {
      const { triggerName, triggerTime, payload } = timer.data;
      return settle(await handlers.timer({ name: triggerName, time: triggerTime, payload }, start));
    }
    return badEvent('unrecognised event: expected an HTTP trigger, timer trigger or internal command event');
  };
}
