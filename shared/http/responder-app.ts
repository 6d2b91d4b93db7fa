import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'hono';
import { Hono } from 'hono/tiny';
import type { ResponderConfig } from '../config.ts';
import type { ActOutcome, Executor, Responder } from '../core/responder.ts';
import { requestedBy } from '../core/result.ts';
import { isAnswerable, NotFoundError, UnauthorizedError, UnsupportedMediaTypeError } from '../errors.ts';
import { type RequestLog, requestLog } from '../logger.ts';
import { isSourceName, SOURCE_NAMES, type SourceLoader, type SourceName } from '../sources/registry.ts';
import type { InboundRequest, Verdict } from '../sources/source.ts';
import type { InvocationBindings } from './bindings.ts';
import { jsonResponse } from './light-response.ts';
import { readBodyLimited } from './read-body.ts';

export interface ResponderAppOptions {
  responder: Responder;
  /** What acts on each source's events: the API called directly, the async hand-off, or a dry run. */
  executorFor: (source: SourceName) => Executor;
  config: Pick<ResponderConfig, 'maxBodyBytes' | 'retryDeadlineMs'>;
  /** Loaders of the sources this function serves, each built on first use. */
  sources: Record<SourceName, SourceLoader>;
  logger: Logger;
  now?: () => Date;
}

type Env = { Bindings: InvocationBindings };

function mediaType(headers: Headers): string {
  return (headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/**
 * The app of one function: `POST /<function>/<source>` (or `POST /<source>` on the function's
 * own trigger URL). Order of work: size limit → media type → verify the raw bytes → parse → the
 * responder's plan, then the executor chosen for the source (call, hand-off or dry run) → render.
 */
export function createResponderApp(options: ResponderAppOptions): Hono<Env> {
  const { responder, config, sources, logger, executorFor } = options;
  const now = options.now ?? (() => new Date());
  const functionName = responder.action.functionName;
  const app = new Hono<Env>();

  // jsonResponse, not c.json: hono's builds an undici Response, whose first load dominates a cold start.
  const send = (outcome: ActOutcome) => jsonResponse(outcome.body, outcome.status, { 'cache-control': 'no-store' });

  /** What a wrong path gets: the routes of this function and every source, as a JSON 404. */
  const routes = `POST /${functionName}/<source> (or POST /<source> on this function's own trigger URL), with source one of ${SOURCE_NAMES.join(', ')}`;
  const notFound = (c: Context<Env>, what: string) => {
    const error = new NotFoundError(`${what}: ${routes}`, { functions: [functionName], sources: SOURCE_NAMES });
    return send(responder.fail(error, '', childLogger(c, '')));
  };
  /** A path segment as it may be echoed back: short, printable ASCII. */
  const echo = (segment: string) => segment.slice(0, 40).replace(/[^\x20-\x7e]/g, '?');

  const childLogger = (c: Context<Env>, source: string, keys: Record<string, unknown> = {}) =>
    requestLog(logger, { ...keys, requestId: c.env?.requestId, source });

  /**
   * Every 401 answers the same bytes, whatever failed; the log line says which check did (no
   * secret configured, a missing header, a timestamp outside the window, a mismatch), so clock
   * skew and mis-set secrets can be told apart without telling an attacker anything.
   */
  const unauthorized = (source: string, log: RequestLog, reason: string) => {
    const error = new UnauthorizedError();
    log.warn('refused', { code: error.code, status: error.status, reason });
    return send(responder.answerError(error, source));
  };

  async function handleSource(c: Context<Env>, sourceName: string) {
    if (!isSourceName(sourceName)) {
      return notFound(
        c,
        sourceName === functionName ? 'no source in the path' : `unknown source "${echo(sourceName)}"`,
      );
    }
    const log = childLogger(c, sourceName);
    const source = await sources[sourceName]();
    if (!source.enabled) {
      return unauthorized(sourceName, log, `no secret configured (set ${source.secretVariables.join(' or ')})`);
    }
    const body = await readBodyLimited(c.req.raw, config.maxBodyBytes, c.env?.body);
    const type = mediaType(c.req.raw.headers);
    if (!source.mediaTypes.includes(type)) throw new UnsupportedMediaTypeError(source.mediaTypes.join(' or '));
    const receivedAt = now();
    const request: InboundRequest = {
      method: c.req.method,
      url: new URL(c.req.url),
      headers: c.req.raw.headers,
      body,
      receivedAt,
      // The sender's patience runs from arrival; the checks, calls and retries must fit in it.
      deadline: receivedAt.getTime() + Math.min(config.retryDeadlineMs, source.deadlineMs ?? Infinity),
      sourceIp: c.env?.sourceIp,
    };
    let verdict: Verdict<unknown>;
    try {
      verdict = await source.verify(request);
    } catch (error) {
      // A check that could not be made (the store behind DingTalk's pair memory did not answer):
      // refused with the error's own status (503, a retry can pass), not a 401 that would hide an
      // outage; its cause goes to the log only.
      if (!isAnswerable(error)) throw error;
      const { detail } = error as { detail?: unknown };
      log.error('not verified', { code: error.code, status: error.status, detail: detail ?? error.message });
      return send(responder.answerError(error, sourceName));
    }
    if (verdict.kind === 'refused') return unauthorized(sourceName, log, verdict.reason);
    log.info('authenticated', { bytes: body.byteLength });
    if (verdict.kind === 'handshake') {
      log.info('handshake');
      return jsonResponse(verdict.reply.body, verdict.reply.status);
    }
    let outcome: ActOutcome;
    try {
      const event = source.parse(verdict.value);
      // From here on every line of a chat command names who asked: the audit trail of a person's action.
      const eventLog = event.requester
        ? childLogger(c, sourceName, { requestedBy: requestedBy(event.requester) })
        : log;
      eventLog.info('received', { targets: event.items.length, reason: event.reason });
      const invocation = {
        requestId: c.env.requestId,
        credentials: c.env.credentials,
        logger: eventLog,
        deadline: request.deadline,
      };
      outcome = await responder.respond(event, sourceName, executorFor(sourceName), invocation);
    } catch (error) {
      // After authentication a chat platform still gets its own reply shape, errors included.
      if (!(source.render && isAnswerable(error))) throw error;
      if (error.status >= 500) log.error('request failed', { code: error.code, detail: error.message });
      else log.warn('refused', { code: error.code, status: error.status, reason: error.message });
      outcome = responder.answerError(error, sourceName);
    }
    if (source.render) {
      const reply = source.render(outcome.body, outcome.status);
      return jsonResponse(reply.body, reply.status, { 'cache-control': 'no-store' });
    }
    return send(outcome);
  }

  app.post('/:fn/:source', (c) => {
    const fn = c.req.param('fn');
    if (fn !== functionName) return notFound(c, `this is ${functionName}, not "${echo(fn)}"`);
    return handleSource(c, c.req.param('source'));
  });
  app.post('/:source', (c) => handleSource(c, c.req.param('source')));
  app.all('*', (c) => notFound(c, `no route for ${echo(c.req.method)} ${echo(c.req.path)}`));

  app.onError((error, c) => {
    const source = c.req.param('source') ?? '';
    return send(responder.fail(error, source, childLogger(c, source)));
  });

  return app;
}
