import type { Logger } from '@aws-lambda-powertools/logger';
import { type Context, Hono } from 'hono';
import type { ChatReplier } from '../async/chat-replier.ts';
import type { AsyncInvoker } from '../async/invoker.ts';
import type { ResponderConfig } from '../config.ts';
import { commandEventSchema } from '../core/command-event.ts';
import type { Credentials } from '../core/invocation.ts';
import type { ActOutcome, Responder } from '../core/responder.ts';
import { requestedBy } from '../core/result.ts';
import {
  NotFoundError,
  PayloadError,
  ResponderError,
  UnauthorizedError,
  UnsupportedMediaTypeError,
} from '../errors.ts';
import { type RequestLog, requestLog } from '../logger.ts';
import { genericPayloadSchema } from '../sources/generic-payload.ts';
import { bodyText, parseJson, validate } from '../sources/payload.ts';
import { isSourceName, SOURCE_NAMES, type SourceLoader, type SourceName } from '../sources/registry.ts';
import type { InboundRequest } from '../sources/source.ts';
import type { InvocationBindings } from './bindings.ts';
import { readBodyLimited } from './read-body.ts';

export interface ResponderAppOptions {
  responder: Responder;
  /** The async hand-off, when configured: which sources use it, and an invoker per credentials. */
  handOff?: { sources: readonly SourceName[]; invokerFor: (credentials: Credentials) => AsyncInvoker } | undefined;
  /** Reports a command's outcome to chat, only where its source may report; never when absent. */
  replier?: ChatReplier | undefined;
  config: ResponderConfig;
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
 * own trigger URL). Order of work: size limit → media type → authenticate the raw bytes →
 * parse → policy, token and call (the responder).
 */
export function createResponderApp(options: ResponderAppOptions): Hono<Env> {
  const { responder, config, sources, logger, handOff, replier } = options;
  const now = options.now ?? (() => new Date());
  const functionName = responder.action.functionName;
  const app = new Hono<Env>();

  const send = (c: Context<Env>, outcome: ActOutcome) =>
    c.json(outcome.body, outcome.status as 200, { 'cache-control': 'no-store' });

  const fail = (c: Context<Env>, source: string, error: ResponderError) =>
    send(c, {
      status: error.status,
      body: {
        ...responder.envelope(source, [], error.message),
        error: {
          code: error.code,
          message: error.message,
          ...(error instanceof NotFoundError ? error.valid : {}),
        },
      },
    });

  /** What a wrong path gets: the routes of this function and every source, as a JSON 404. */
  const routes = `POST /${functionName}/<source> (or POST /<source> on this function's own trigger URL), with source one of ${SOURCE_NAMES.join(', ')}`;
  const notFound = (c: Context<Env>, what: string) => {
    const error = new NotFoundError(`${what}: ${routes}`, { functions: [functionName], sources: SOURCE_NAMES });
    childLogger(c, '').warn('refused', { code: error.code, status: error.status, reason: error.message });
    return fail(c, '', error);
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
  const unauthorized = (c: Context<Env>, source: string, log: RequestLog, reason: string) => {
    const error = new UnauthorizedError();
    log.warn('refused', { code: error.code, status: error.status, reason });
    return fail(c, source, error);
  };

  async function handleTrigger(c: Context<Env>, trigger: NonNullable<InvocationBindings['trigger']>) {
    const body = await readBodyLimited(c.req.raw, config.maxBodyBytes, c.env?.body);
    const value = parseJson(bodyText(body));
    if (trigger.kind === 'timer') {
      const log = childLogger(c, 'timer');
      const payload = validate(genericPayloadSchema, value, 'timer payload');
      // A tick is a command, not an alert: a state would only make one of the functions ignore every tick.
      if (payload.state !== undefined) {
        throw new PayloadError('invalid timer payload: state: a schedule is not an alert; leave state out');
      }
      // A new tick is a new event; a redelivered tick keeps its trigger time, so its token.
      const eventKey = `timer:${trigger.name}@${trigger.time}`;
      log.info('received', { trigger: trigger.name, triggerTime: trigger.time, targets: payload.instanceIds.length });
      const items = payload.instanceIds.map((instanceId) => ({ instanceId, regionId: payload.regionId, eventKey }));
      return send(
        c,
        await responder.act(
          { items, reason: payload.reason },
          {
            source: 'timer',
            credentials: c.env.credentials,
            logger: log,
            deadline: Date.now() + config.commandDeadlineMs,
          },
        ),
      );
    }
    const command = validate(commandEventSchema, value, 'internal command');
    const log = childLogger(c, command.source);
    if (command.function !== functionName) {
      throw new PayloadError(`the command is for ${command.function}, not ${functionName}`);
    }
    log.info('received', { command: true, targets: command.targets.length });
    const outcome = await responder.act(
      { items: command.targets, reason: command.reason },
      {
        source: command.source,
        credentials: c.env.credentials,
        logger: log,
        deadline: Date.now() + config.commandDeadlineMs,
      },
    );
    if (command.reply && replier) {
      // Report what was done, per instance, in the platform's own message shape.
      const source = await sources[command.source]();
      const body = source.replyBody?.(outcome.body) ?? outcome.body;
      try {
        await replier.report(command.source, command.reply, body);
        log.info('reported', { status: outcome.status });
      } catch (error) {
        // The action's result stands; a failed report must not make FC run the command again.
        // The detail (which host refused or failed) is for the log only.
        const { code, message } = error as { code?: string; message?: string };
        log.warn('report failed', { code: code ?? 'ReplyFailed', detail: message });
      }
    }
    return send(c, outcome);
  }

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
      return unauthorized(c, sourceName, log, `no secret configured (set ${source.secretVariables.join(' or ')})`);
    }
    const body = await readBodyLimited(c.req.raw, config.maxBodyBytes, c.env?.body);
    const type = mediaType(c.req.raw.headers);
    if (!source.mediaTypes.includes(type)) throw new UnsupportedMediaTypeError(source.mediaTypes.join(' or '));
    const request: InboundRequest = {
      method: c.req.method,
      url: new URL(c.req.url),
      headers: c.req.raw.headers,
      body,
      receivedAt: now(),
      sourceIp: c.env?.sourceIp,
    };
    const verdict = source.verify(request);
    if (verdict.kind === 'refused') return unauthorized(c, sourceName, log, verdict.reason);
    log.info('authenticated', { bytes: body.byteLength });
    if (verdict.kind === 'handshake') {
      log.info('handshake');
      return c.json(verdict.reply.body as object, verdict.reply.status as 200);
    }
    let outcome: ActOutcome;
    try {
      const event = source.parse(verdict.value);
      // From here on every line of a chat command names who asked: the audit trail of a person's action.
      const eventLog = event.requester
        ? childLogger(c, sourceName, { requestedBy: requestedBy(event.requester) })
        : log;
      eventLog.info('received', { targets: event.items.length, reason: event.reason });
      if (handOff?.sources.includes(sourceName)) {
        outcome = await responder.handOff(event, {
          source: sourceName,
          credentials: c.env?.credentials,
          logger: eventLog,
          invokerFor: handOff.invokerFor,
          reply: event.reply,
        });
      } else {
        // The sender's patience runs from arrival; calls and retries must fit in it.
        const deadline = request.receivedAt.getTime() + Math.min(config.retryDeadlineMs, source.deadlineMs ?? Infinity);
        outcome = await responder.act(event, {
          source: sourceName,
          credentials: c.env?.credentials,
          logger: eventLog,
          deadline,
        });
      }
    } catch (error) {
      // After authentication a chat platform still gets its own reply shape, errors included.
      if (!(source.render && error instanceof ResponderError)) throw error;
      if (error.status >= 500) log.error('request failed', { code: error.code, detail: error.message });
      else log.warn('refused', { code: error.code, status: error.status, reason: error.message });
      outcome = {
        status: error.status,
        body: {
          ...responder.envelope(sourceName, [], error.message),
          error: { code: error.code, message: error.message },
        },
      };
    }
    if (source.render) {
      const reply = source.render(outcome.body, outcome.status);
      return c.json(reply.body as object, reply.status as 200, { 'cache-control': 'no-store' });
    }
    return send(c, outcome);
  }

  // Timer and command invocations are told apart by the adapter, never by the path: they go first.
  app.use('*', (c, next) => (c.env?.trigger ? handleTrigger(c, c.env.trigger) : next()));
  app.post('/:fn/:source', (c) => {
    const fn = c.req.param('fn');
    if (fn !== functionName) return notFound(c, `this is ${functionName}, not "${echo(fn)}"`);
    return handleSource(c, c.req.param('source'));
  });
  app.post('/:source', (c) => handleSource(c, c.req.param('source')));
  app.all('*', (c) => notFound(c, `no route for ${echo(c.req.method)} ${echo(c.req.path)}`));

  app.onError((error, c) => {
    const source = c.req.param('source') ?? '';
    if (error instanceof ResponderError) {
      const log = requestLog(logger, { requestId: c.env?.requestId, source });
      if (error.status >= 500) log.error('configuration error', { detail: error.message });
      // Every refusal says why in the log, whatever stage refused it (size, media type, payload, route).
      else log.warn('refused', { code: error.code, status: error.status, reason: error.message });
      return fail(c, source, error);
    }
    // Anything else is our bug: say nothing of it to the sender, log it, and let a retry try again.
    requestLog(logger, { requestId: c.env?.requestId, source }).error('unexpected error', { error: error as Error });
    return send(c, {
      status: 500,
      body: {
        ...responder.envelope(source, [], 'internal error'),
        error: { code: 'InternalError', message: 'internal error' },
      },
    });
  });

  return app;
}
