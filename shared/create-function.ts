import { actionFor, type FunctionName } from './actions.ts';
import { type Env, parseConfig } from './config.ts';
import { createResponder } from './core/responder.ts';
import { createElasticsearchClient, type ElasticsearchApi } from './elasticsearch/client.ts';
import { ConfigError } from './errors.ts';
import { createFcHandler, type FcHandler } from './fc/adapter.ts';
import { createResponderApp } from './http/responder-app.ts';
import { createRootLogger } from './logger.ts';
import { createSources } from './sources/index.ts';

export interface FunctionOptions {
  /** Defaults to `process.env`, read once here (cold start). */
  env?: Env;
  /** Replaces the signed HTTP client (tests). */
  api?: ElasticsearchApi;
  fetch?: typeof fetch;
  now?: () => Date;
}

/**
 * Wires one function: config (parsed once) → sources → API client → responder → app → FC
 * adapter. An invalid configuration does not crash the cold start: every request is refused
 * with a 500 naming the bad variable, and the log says the same.
 */
export function createFunctionHandler(name: FunctionName, options: FunctionOptions = {}): FcHandler {
  const action = actionFor(name);
  const env = options.env ?? process.env;
  const logger = createRootLogger(name, env);
  let config: ReturnType<typeof parseConfig>;
  try {
    config = parseConfig(env);
  } catch (error) {
    const message = error instanceof ConfigError ? error.message : 'invalid configuration';
    logger.error('configuration error', { detail: message });
    return async () => ({
      statusCode: 500,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      isBase64Encoded: false,
      body: JSON.stringify({ results: [], error: { code: 'InvalidConfiguration', message } }),
    });
  }
  const api =
    options.api ??
    createElasticsearchClient({
      endpoint: config.endpoint,
      timeoutMs: config.upstreamTimeoutMs,
      maxSockets: config.fanOutConcurrency,
      fetch: options.fetch,
    });
  const responder = createResponder({ action, config, api });
  const app = createResponderApp({ responder, config, sources: createSources(config), logger, now: options.now });
  return createFcHandler(app, { functionName: name, maxBodyBytes: config.maxBodyBytes });
}
