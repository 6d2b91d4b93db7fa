import { Logger } from '@aws-lambda-powertools/logger';

/**
 * The one logger of a function. Level from POWERTOOLS_LOG_LEVEL (default INFO). Per request a
 * child carries the FC request ID, function and source; per target, the instance and clientToken.
 * Never log headers, bodies or anything derived from a secret.
 */
export function createRootLogger(functionName: string): Logger {
  return new Logger({ serviceName: 'es-change-responder', persistentKeys: { function: functionName } });
}
