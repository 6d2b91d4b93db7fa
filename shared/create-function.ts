import type { Logger } from '@aws-lambda-powertools/logger';
import { Hono } from 'hono/tiny';
import { actionFor, type FunctionName } from './actions.ts';
import { createDeploymentInvoker, createDeploymentReplier } from './async/deployment.ts';
import { createHandOffExecutor } from './async/hand-off-executor.ts';
import type { ReplyRequestFn } from './async/https-reply-sender.ts';
import type { AsyncInvoker } from './async/invoker.ts';
import type { ReplySender } from './async/reply-sender.ts';
import { DEFAULT_MAX_BODY_BYTES, type Env, parseConfig, type ResponderConfig } from './config.ts';
import { createResponder, type Executor } from './core/responder.ts';
import { createCallExecutor } from './elasticsearch/call-executor.ts';
import { createElasticsearchClient, type ElasticsearchApi } from './elasticsearch/client.ts';
import { createDryRunExecutor } from './elasticsearch/dry-run-executor.ts';
import type { Transport } from './elasticsearch/transport.ts';
import { ConfigError } from './errors.ts';
import { createFcHandler, type FcHandler } from './fc/adapter.ts';
import { createGuardStep } from './guardrails/guard-step.ts';
import { createGuardrails, type GuardedAction } from './guardrails/guardrails.ts';
import { NO_STORE_WARNING, openStateStore } from './guardrails/open-store.ts';
import { jsonResponse } from './http/light-response.ts';
import { createResponderApp } from './http/responder-app.ts';
import { createRootLogger } from './logger.ts';
import { CHAT_SOURCE_NAMES, createSources, type SourceName } from './sources/registry.ts';
import type { ReplayMemory } from './sources/source.ts';
import type { StateStore } from './state/store.ts';
import { createCommandHandler } from './triggers/command.ts';
import { createTimerHandler } from './triggers/timer.ts';

export interface FunctionOptions {
  /** Defaults to `process.env`, read once here (cold start). */
  env?: Env;
  /** Replaces the signed HTTP client (tests). */
  api?: ElasticsearchApi;
  fetch?: typeof fetch;
  /** Replaces the HTTP transport under the signed client (benchmarks, tests). */
  transport?: Transport;
  now?: () => Date;
  /** Replaces the hand-off's invoker (tests): the hand-off then runs even where FC's coordinates are unknown. */
  invoker?: AsyncInvoker;
  /**
   * Replaces the HTTPS chat reply sender (local mode captures replies instead); no credential is
   * ever given to it.
   */
  replySender?: ReplySender;
  /** Replaces `https.request` under the HTTPS chat reply sender (tests see every request it makes). */
  replyRequest?: ReplyRequestFn;
  /**
   * The guardrails' store (and DingTalk's pair memory), given by a host that runs the five functions
   * in one process (local mode: its embedded store, or one connection to STATE_STORE_URL's). Else
   * STATE_STORE_URL's; without either, only the per-event rules apply (a warning at cold start), and
   * DingTalk's pair memory is the instance's own.
   */
  stateStore?: StateStore;
}

const guardedAction = (name: FunctionName): GuardedAction => {
  const { verb } = actionFor(name);
  return verb === 'cancel-task' ? 'cancel' : verb;
};

/** The guardrails across events, on the function's store; without one, the cold start says what that leaves. */
function chooseGuard(config: ResponderConfig, name: FunctionName, store: StateStore | undefined, logger: Logger) {
  if (!store) {
    logger.warn(NO_STORE_WARNING);
    return undefined;
  }
  // A claim outlives any call its invocation can make: only a crash between claim and settle lets it lapse.
  const guardrails = createGuardrails({
    store,
    config: config.guardrails,
    chatSources: CHAT_SOURCE_NAMES,
    pendingClaimMs: Math.max(1000, 2 * config.commandDeadlineMs),
  });
  return createGuardStep({ guardrails, functionName: name, action: guardedAction(name) });
}

/** FC instances' clocks agree within this (NTP): a pair is kept this much past its window, never less. */
const CLOCK_SKEW_MARGIN_MS = 60_000;

/**
 * DingTalk's once-per-pair memory on the store: one for every instance of the five functions, so a
 * pair spent at one is spent at all (the key holds no function name; what it first came with does).
 * A store that does not answer rejects with StateStoreUnavailable: the callback is refused with 503.
 */

const storeReplayMemory = (store: StateStore, functionName: string): ReplayMemory => ({
  check: (key, fingerprint, expiresAtMs, nowMs, deadline) =>
    store.rememberOnce(
      key,
      // The function is part of what was delivered: DingTalk's body does not name the action, the
      // URL does, so the same body at another function is another delivery, refused as a replay.
      `${functionName}:${fingerprint}`,
      Math.max(1, expiresAtMs - nowMs) + CLOCK_SKEW_MARGIN_MS,
      deadline,
    ),
  sharedAcrossFunctions: true,
});

/**
 * The executors of a function, chosen once: DRY_RUN reports every call instead of making it; else
 * the API is called directly, except for the sources handed off (ASYNC_SOURCES), when there is an
 * invoker. Timer ticks and internal commands always run directly: they are the hand-off's other end.
 */
function chooseExecutors(config: ResponderConfig, name: FunctionName, options: FunctionOptions) {
  const action = actionFor(name);
  const concurrency = config.fanOutConcurrency;
  if (config.policy.dryRun) {
    const dryRun = createDryRunExecutor(action);
    return { direct: dryRun, executorFor: () => dryRun };
  }
  const api =
    options.api ??
    createElasticsearchClient({
      endpoint: config.endpoint,
      timeoutMs: config.upstreamTimeoutMs,
      maxSockets: concurrency,
      fetch: options.fetch,
      transport: options.transport,
    });
  // What no response may name: the configured endpoint's host and the account (the log has them).
  const internals = [config.endpoint?.replace(/^https?:\/\//, '').replace(/\/$/, ''), config.accountId];
  const direct = createCallExecutor({ action, api, concurrency, internals });
  const invoke = config.async.invoke;
  const invoker = options.invoker ?? (invoke ? createDeploymentInvoker(invoke, name) : undefined);
  // Hand-off only when the FC coordinates are configured; otherwise every source runs synchronously.
  const handOff = invoker && createHandOffExecutor({ action, invoker, concurrency });
  const handedOff = new Set<SourceName>(config.async.sources);
  const executorFor = (source: SourceName): Executor => (handOff && handedOff.has(source) ? handOff : direct);
  return { direct, executorFor };
}

/** An invalid configuration: HTTP gets the 500 naming it, and a timer or command throws, so FC retries it once fixed. */
function refuseAll(name: FunctionName, message: string): FcHandler {
  const body = { results: [], error: { code: 'InvalidConfiguration', message } };
  const http = new Hono();
  http.all('*', () => jsonResponse(body, 500));
  const invocation = async () => ({ status: 500, body });
  return createFcHandler(
    { http, timer: invocation, command: invocation },
    { functionName: name, maxBodyBytes: DEFAULT_MAX_BODY_BYTES },
  );
}

/**
 * Wires one function, once per process (cold start): config → sources → executors → responder →
 * the HTTP app and the timer and command handlers → FC adapter. An invalid configuration does not
 * crash the cold start: every request is refused with a 500 naming the bad variable, and the log
 * says the same.
 */
export function createFunctionHandler(name: FunctionName, options: FunctionOptions = {}): FcHandler {
  const env = options.env ?? process.env;
  const logger = createRootLogger(name, env);
  let config: ResponderConfig;
  try {
    config = parseConfig(env);
  } catch (error) {
    const message = error instanceof ConfigError ? error.message : 'invalid configuration';
    logger.error('configuration error', { detail: message });
    return refuseAll(name, message);
  }
  const { direct, executorFor } = chooseExecutors(config, name, options);
  // The store given (local mode's), else the one STATE_STORE_URL names (its client loaded on first use).
  const store = options.stateStore ?? openStateStore(config.guardrails);
  const responder = createResponder({
    action: actionFor(name),
    policy: config.policy,
    chat: config.chat,
    region: config.region,
    guard: chooseGuard(config, name, store, logger),
    concurrency: config.fanOutConcurrency,
  });
  const sources = createSources(config, { replayMemory: store && storeReplayMemory(store, name) });
  const triggers = {
    responder,
    executor: direct,
    logger,
    maxBodyBytes: config.maxBodyBytes,
    deadlineMs: config.commandDeadlineMs,
  };
  const replier = createDeploymentReplier(config, options.replySender, options.replyRequest);
  return createFcHandler(
    {
      http: createResponderApp({ responder, executorFor, config, sources, logger, now: options.now }),
      timer: createTimerHandler(triggers),
      command: createCommandHandler({ ...triggers, sources, replier }),
    },
    { functionName: name, maxBodyBytes: config.maxBodyBytes, credentials: config.credentials },
  );
}
