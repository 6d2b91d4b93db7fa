import { Logger } from '@aws-lambda-powertools/logger';
import type { LogLevel } from '@aws-lambda-powertools/logger/types';

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
  return new Logger({
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
