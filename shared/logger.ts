import { Logger } from '@aws-lambda-powertools/logger';
import type { LogLevel } from '@aws-lambda-powertools/logger/types';

/**
 * The one logger of a function. Level from the function's POWERTOOLS_LOG_LEVEL (or LOG_LEVEL; default INFO). Per request a
 * child carries the FC request ID, function and source; per target, the instance and clientToken.
 * Never log headers, bodies or anything derived from a secret.
 */
export function createRootLogger(functionName: string, env: Record<string, string | undefined> = process.env): Logger {
  const level = (
    env.POWERTOOLS_LOG_LEVEL ??
    env.LOG_LEVEL ??
    process.env.POWERTOOLS_LOG_LEVEL ??
    process.env.LOG_LEVEL ??
    'INFO'
  ).toUpperCase();
  return new Logger({
    serviceName: 'es-change-responder',
    logLevel: level as LogLevel,
    persistentKeys: { function: functionName },
  });
}
