import { Hono } from 'hono';
import { actionFor, type FunctionName } from './actions.ts';
import { type ChatReplier, createChatReplier } from './async/chat-replier.ts';
import { createFc2Invoker } from './async/fc2-invoker.ts';
import { createFc3Invoker } from './async/fc3-invoker.ts';
import { createFeishuTenantToken } from './async/feishu-reply-auth.ts';
import type { AsyncInvoker } from './async/invoker.ts';
import { createHttpsReplySender, type ReplyRequestFn, type ReplySender } from './async/reply-sender.ts';
import { type AsyncInvokeConfig, DEFAULT_MAX_BODY_BYTES, type Env, parseConfig } from './config.ts';
import type { Credentials } from './core/invocation.ts';
import { createResponder } from './core/responder.ts';
import { createElasticsearchClient, type ElasticsearchApi } from './elasticsearch/client.ts';
import type { Transport } from './elasticsearch/transport.ts';
import { ConfigError } from './errors.ts';
import { createFcHandler, type FcHandler } from './fc/adapter.ts';
import { createResponderApp } from './http/responder-app.ts';
import { createRootLogger } from './logger.ts';
import { createSources } from './sources/registry.ts';

/**
 * Chat reports, each only where its source may report: over HTTPS, a Feishu reply with the bot's
 * tenant token on the URL built from the message ID. Through `capture` (local mode) nothing is
 * authenticated: no token is fetched, so the app secret never reaches what captures the replies.
 */
function chatReplier(
  config: ReturnType<typeof parseConfig>,
  capture: ReplySender | undefined,
  request: ReplyRequestFn | undefined,
): ChatReplier {
  const app = config.sources.feishu.app;
  if (capture) return createChatReplier({ sender: capture, feishu: app && { openApiBase: app.openApiBase } });
  const https = createHttpsReplySender({ timeoutMs: config.upstreamTimeoutMs, request });
  return createChatReplier({
    sender: https,
    feishu: app && { openApiBase: app.openApiBase, tenantToken: createFeishuTenantToken(https, app) },
  });
}

/**
 * The hand-off's invoker for one invocation's credentials: FC 3.0's own API by default (the
 * function invokes itself by its deployed name), `@alicloud/fc2` for FC 2.0 services.
 */
function invokerFactory(invoke: AsyncInvokeConfig, name: FunctionName): (credentials: Credentials) => AsyncInvoker {
  const { accountId, region, qualifier, endpoint, timeoutMs } = invoke;
  if (invoke.api === 'fc2') {
    const { serviceName } = invoke;
    return (credentials) =>
      createFc2Invoker({
        accountId,
        region,
        serviceName,
        qualifier,
        endpoint,
        timeoutMs,
        functionName: name,
        credentials: () => credentials,
      });
  }
  const functionName = invoke.functionName ?? name;
  return (credentials) =>
    createFc3Invoker({
      accountId,
      region,
      functionName,
      qualifier,
      endpoint,
      timeoutMs,
      credentials: () => credentials,
    });
}

export interface FunctionOptions {
  /** Defaults to `process.env`, read once here (cold start). */
  env?: Env;
  /** Replaces the signed HTTP client (tests). */
  api?: ElasticsearchApi;
  fetch?: typeof fetch;
  /** Replaces the HTTP transport under the signed client (benchmarks, tests). */
  transport?: Transport;
  now?: () => Date;
  /** Replaces the hand-off's invoker (tests). */
  invokerFor?: (credentials: Credentials) => AsyncInvoker;
  /**
   * Replaces the HTTPS chat reply sender (local mode captures replies instead); no credential is
   * ever given to it.
   */
  replySender?: ReplySender;
  /** Replaces `https.request` under the HTTPS chat reply sender (tests see every request it makes). */
  replyRequest?: ReplyRequestFn;
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
    // Through the same adapter as a healthy function: HTTP gets the 500, and a timer or command
    // invocation throws, so FC retries it once the configuration is fixed.
    const refuseAll = new Hono();
    refuseAll.all('*', (c) => c.json({ results: [], error: { code: 'InvalidConfiguration', message } }, 500));
    return createFcHandler(refuseAll, { functionName: name, maxBodyBytes: DEFAULT_MAX_BODY_BYTES });
  }
  const api =
    options.api ??
    createElasticsearchClient({
      endpoint: config.endpoint,
      timeoutMs: config.upstreamTimeoutMs,
      maxSockets: config.fanOutConcurrency,
      fetch: options.fetch,
      transport: options.transport,
    });
  const responder = createResponder({ action, config, api });
  const invoke = config.async.invoke;
  const invokerFor = options.invokerFor ?? (invoke ? invokerFactory(invoke, name) : undefined);
  const app = createResponderApp({
    responder,
    config,
    sources: createSources(config),
    logger,
    now: options.now,
    // Hand-off only when the FC coordinates are configured; otherwise every source runs synchronously.
    handOff: invokerFor ? { sources: config.async.sources, invokerFor } : undefined,
    replier: chatReplier(config, options.replySender, options.replyRequest),
  });
  return createFcHandler(app, { functionName: name, maxBodyBytes: config.maxBodyBytes });
}
