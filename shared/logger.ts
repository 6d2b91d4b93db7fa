import { constants, fstatSync, openSync, writeSync } from 'node:fs';
import { Logger, type LogItem } from '@aws-lambda-powertools/logger';
import type { LogLevel } from '@aws-lambda-powertools/logger/types';

/** Powertools' numeric WARN level: WARN and above go to stderr, as its own Console sends them. */
const WARN_LEVEL = 16;

/** The descriptors whose stream took over after a refused write: later lines queue behind it, in order. */
const streamed = new Set<1 | 2>();

/** What each of fd 1 and 2 is written through (see `descriptorFor`). */
const descriptors = new Map<1 | 2, number>();

/**
 * The descriptor to write fd 1's or 2's lines to. A pipe inherited from the runtime is blocking:
 * a write to it waits, with the whole event loop, for as long as its reader does not read. So a
 * pipe is reopened once through /proc (Linux) as a descriptor of its own in non-blocking mode: a
 * full pipe then answers EAGAIN at once, and the line goes to the process's stream, which queues
 * it, as Powertools' Console did. Anything else (a file, a terminal, no /proc) is written as it is.
 */
function descriptorFor(fd: 1 | 2): number {
  let target = descriptors.get(fd);
  if (target === undefined) {
    target = fd;
    try {
      if (fstatSync(fd).isFIFO()) target = openSync(`/proc/self/fd/${fd}`, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch {
      // Not Linux, or not reopenable: the descriptor itself.
    }
    descriptors.set(fd, target);
  }
  return target;
}

/** The process's stream for fd 1 or 2, built on first need; a reader gone (EPIPE) must not crash the process. */
function streamFor(fd: 1 | 2): NodeJS.WriteStream {
  const stream = fd === 1 ? process.stdout : process.stderr;
  if (!streamed.has(fd)) {
    streamed.add(fd);
    // As Console's `ignoreErrors`: a log line that cannot be written is dropped, never thrown.
    stream.on('error', () => undefined);
  }
  return stream;
}

/**
 * Writes a whole line to fd 1 or 2 (see `descriptorFor`). A short write goes on; a refused one
 * (EAGAIN, EPIPE) hands the rest to the process's stream, and from then on that descriptor's
 * lines go through the stream too, so none overtakes a queued one.
 */
export function writeLine(fd: 1 | 2, line: string): void {
  const bytes = Buffer.from(`${line}\n`, 'utf8');
  if (streamed.has(fd)) {
    streamFor(fd).write(bytes);
    return;
  }
  let written = 0;
  try {
    const target = descriptorFor(fd);
    while (written < bytes.byteLength) written += writeSync(target, bytes, written);
  } catch {
    streamFor(fd).write(bytes.subarray(written));
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
