import { writeSync } from 'node:fs';
import { Logger, type LogItem } from '@aws-lambda-powertools/logger';
import type { LogLevel } from '@aws-lambda-powertools/logger/types';

/** Powertools' numeric WARN level: WARN and above go to stderr, as its own Console sends them. */
const WARN_LEVEL = 16;

/** The descriptors whose stream took over after a refused write: later lines queue behind it, in order. */
const streamed = new Set<1 | 2>();

/**
 * Writes a whole line to fd 1 or 2. A pipe that node itself opened is non-blocking, so a full
 * one (EAGAIN) or a short write hands the rest to the process's stream, which queues it; from
 * then on that descriptor's lines go through the stream too, so none overtakes a queued one.
 */
export function writeLine(fd: 1 | 2, line: string): void {
  const bytes = Buffer.from(`${line}\n`, 'utf8');
  const stream = () => (fd === 1 ? process.stdout : process.stderr);
  if (streamed.has(fd)) {
    stream().write(bytes);
    return;
  }
  let written = 0;
  try {
    while (written < bytes.byteLength) written += writeSync(fd, bytes, written);
  } catch {
    streamed.add(fd);
    stream().write(bytes.subarray(written));
  }
}

/** Where every log line goes: `writeLine` (tests that read the lines swap `write` for a while). */
export const logSink: { write: (fd: 1 | 2, line: string) => void } = { write: writeLine };

/**
 * Powertools' Logger with one change: the sink. Powertools builds a `Console` over
 * `process.stdout` in its constructor, and creating that stream costs 3–5 ms on a cold start
 * (a stream, and for a pipe a socket handle) that almost every alert meets. The lines are
 * Powertools' own (format, levels, keys, sampling, replacer); only their writing is a plain
 * write to the same descriptor, as FC's log capture reads it.
 */
class ResponderLogger extends Logger {
  protected override printLog(logLevel: number, log: LogItem): void {
    log.prepareForPrint();
    logSink.write(logLevel >= WARN_LEVEL ? 2 : 1, JSON.stringify(log.getAttributes(), this.getJsonReplacer()));
  }
}
// Powertools' constructor calls its private `setConsole`, which builds that Console: printLog
// above never reads it, so the subclass skips building it.
Object.defineProperty(ResponderLogger.prototype, 'setConsole', { value: () => undefined });

/**
 * The one logger of a function. Level from the function's POWERTOOLS_LOG_LEVEL (or LOG_LEVEL;
 * default INFO). Never log headers, bodies or anything derived from a secret.
 */
export function createRootLogger(functionName: string, env: Record<string, string | undefined> = process.env): Logger {
  // `||`: an empty variable is unset, as in the configuration (s.yaml passes '' for unset ones).
  const level = (
    env.POWERTOOLS_LOG_LEVEL?.trim() ||
    env.LOG_LEVEL?.trim() ||
    process.env.POWERTOOLS_LOG_LEVEL?.trim() ||
    process.env.LOG_LEVEL?.trim() ||
    'INFO'
  ).toUpperCase();
  return new ResponderLogger({
    serviceName: 'es-change-responder',
    logLevel: level as LogLevel,
    persistentKeys: { function: functionName },
  });
}

export type LogAttributes = Record<string, unknown>;

/** What request handling logs through: the root logger's methods, with the request's keys. */
export interface RequestLog {
  debug(message: string, attributes?: LogAttributes): void;
  info(message: string, attributes?: LogAttributes): void;
  warn(message: string, attributes?: LogAttributes): void;
  error(message: string, attributes?: LogAttributes): void;
}

/**
 * The per-request child: every line carries the FC request ID and the source (and, from the
 * responder, the instance and clientToken). Powertools' own `createChild` builds a whole new
 * Logger (console, environment reads), a third of the warm cost of a request; this writes
 * through the one root logger instead, and is safe when requests interleave in one process.
 * The request's keys win over a line's own attributes, so the FC request ID is never overwritten.
 */
export function requestLog(root: Logger, keys: LogAttributes): RequestLog {
  return {
    debug: (message, attributes) => root.debug(message, { ...attributes, ...keys }),
    info: (message, attributes) => root.info(message, { ...attributes, ...keys }),
    warn: (message, attributes) => root.warn(message, { ...attributes, ...keys }),
    error: (message, attributes) => root.error(message, { ...attributes, ...keys }),
  };
}
