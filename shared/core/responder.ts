import { type ActionSpec, actionPath, describePath, nothingToDo } from '../actions.ts';
import {
  type AsyncInvoker,
  handOffIdFor,
  type InvokeError,
  type InvokeErrorCode,
  isInvokeError,
} from '../async/invoker.ts';
import { replyTargetFor } from '../async/reply-target.ts';
import type { ResponderConfig } from '../config.ts';
import { ApiError } from '../elasticsearch/api-error.ts';
import type { ApiCall, ElasticsearchApi } from '../elasticsearch/client.ts';
import { ConfigError } from '../errors.ts';
import type { RequestLog as Logger } from '../logger.ts';
import { deriveClientToken } from './client-token.ts';
import type { CommandEvent } from './command-event.ts';
import type { Credentials } from './invocation.ts';
import { mapBounded } from './map-bounded.ts';
import { createPolicy, type Policy } from './policy.ts';
import { redactInternals } from './redact.ts';
import { type ResponseBody, requestedBy, statusFor, summarize, type TargetResult } from './result.ts';
import { withRetries } from './retry.ts';
import type { ReplyTarget, SourceEvent } from './target.ts';

export interface ActContext {
  source: string;
  /** Credentials of this invocation (FC STS); else the environment's. */
  credentials?: Credentials | undefined;
  logger: Logger;
  /** Epoch ms by which every call and retry must be done (the sender's patience). */
  deadline: number;
}

export interface ActOutcome {
  status: number;
  body: ResponseBody;
}

export interface Responder {
  readonly action: ActionSpec;
  /** Targets → policy → clientToken → call, for an authenticated and parsed event. */
  act(event: SourceEvent, context: ActContext): Promise<ActOutcome>;
  /**
   * Targets → policy → clientToken, then one asynchronous invocation (an internal command event)
   * carrying all the event's runnable targets instead of the calls, so a chat command gets one
   * report: outcome `accepted`. Under DRY_RUN nothing is handed off.
   */
  handOff(
    event: SourceEvent,
    context: Omit<ActContext, 'deadline'> & {
      invokerFor: (credentials: Credentials) => AsyncInvoker;
      /** Where the command reports its outcome (a chat platform's reply URL, or the Feishu message). */
      reply?: ReplyTarget | undefined;
    },
  ): Promise<ActOutcome>;
  /** The shape of every response, for errors raised before any target is considered. */
  envelope(source: string, results: TargetResult[], summary: string): ResponseBody;
}

interface Target {
  instanceId: string;
  regionId: string | undefined;
  eventKey: string;
}

/**
 * One target per instance: when an event names an instance twice (two alerts on it), the
 * smallest event key wins, so the token does not depend on the order of the alerts. Items whose
 * alert state does not call for this action are set aside, reported once per instance, and do
 * not count toward the blast-radius limit.
 */
function distinctTargets(
  event: SourceEvent,
  defaultRegion: string | undefined,
  policy: Policy,
): { targets: Target[]; ignored: TargetResult[] } {
  const byId = new Map<string, Target>();
  const ignored = new Map<string, TargetResult>();
  for (const item of event.items) {
    const refusal = policy.checkAlertState(item.alertState);
    if (refusal) {
      ignored.set(item.instanceId, {
        instanceId: item.instanceId,
        outcome: 'refused',
        code: refusal.code,
        message: refusal.reason,
      });
      continue;
    }
    const regionId = item.regionId ?? defaultRegion;
    const seen = byId.get(item.instanceId);
    if (!seen || item.eventKey < seen.eventKey) {
      byId.set(item.instanceId, { instanceId: item.instanceId, regionId, eventKey: item.eventKey });
    }
  }
  for (const id of byId.keys()) ignored.delete(id);
  return { targets: [...byId.values()], ignored: [...ignored.values()] };
}

type Runnable = { target: Target & { regionId: string }; clientToken: string };

/**
 * Targets per command. One serialises to at most ~660 bytes (an instance ID of 65, a region, an
 * event key of 256 printable characters, each at most 2 bytes in JSON, the keys), so 150 of them
 * with the largest reason (1000 characters, ≤ 6 KB in JSON) and reply URL (2 KB) stay well under
 * FC's 128 KiB event limit; the invoker still refuses anything larger.
 */
export const MAX_TARGETS_PER_COMMAND = 150;

/**
 * The event's runnable targets as commands: one for any chat command or alert group, several only
 * past {@link MAX_TARGETS_PER_COMMAND}. Which target goes where depends only on the set of tokens
 * (chunked in token order), so a retried delivery gives the same commands; within a command the
 * targets keep the event's order, which the report follows.
 */
export function packCommands(runnable: readonly Runnable[], perCommand = MAX_TARGETS_PER_COMMAND): Runnable[][] {
  const byToken = [...runnable].sort((a, b) => (a.clientToken < b.clientToken ? -1 : 1));
  const batches: Runnable[][] = [];
  for (let i = 0; i < byToken.length; i += perCommand) {
    const members = new Set(byToken.slice(i, i + perCommand));
    batches.push(runnable.filter((p) => members.has(p)));
  }
  return batches;
}

/** What a sender is told about a failed hand-off: our words, never the platform's (log only). */
const HAND_OFF_FAILURE: Partial<Record<InvokeErrorCode, string>> = {
  Timeout: 'Function Compute did not answer the hand-off in time; it may or may not be queued',
  InvalidEvent: 'the command could not be handed off (too large or not serialisable)',
  RunsExhausted: 'the change was handed off and failed for good too many times; it is not handed off again',
};

function handOffFailure(error: InvokeError): string {
  const facts = [error.platformCode, error.httpStatus && `HTTP ${error.httpStatus}`].filter(Boolean).join(', ');
  return `${HAND_OFF_FAILURE[error.code] ?? 'Function Compute did not take the hand-off'}${facts && ` (${facts})`}`;
}

export function createResponder(deps: {
  action: ActionSpec;
  config: ResponderConfig;
  api: ElasticsearchApi;
  /** Backoff tuning (tests shorten it); defaults: 100 ms doubling to 1 s, full jitter. */
  retry?: { baseDelayMs?: number; maxDelayMs?: number; minAttemptMs?: number };
}): Responder {
  const { action, config, api } = deps;
  const policy = createPolicy(action, config.policy, config.chat);
  /** What no response may name: the configured endpoint's host and the account (the log has them). */
  const internals = [config.endpoint?.replace(/^https?:\/\//, '').replace(/\/$/, ''), config.accountId];

  const envelope = (source: string, results: TargetResult[], summary: string): ResponseBody => ({
    function: action.functionName,
    operation: action.operation,
    source,
    dryRun: config.policy.dryRun,
    summary,
    results,
  });

  const callFor = (target: Target & { regionId: string }, clientToken: string): ApiCall => ({
    operation: action.operation,
    method: 'POST',
    path: actionPath(action, target.instanceId),
    query: { ...(action.taskType ? { taskType: action.taskType } : {}), clientToken },
    regionId: target.regionId,
  });

  /** Codes by which the API says the action does not apply to the instance's current state. */
  const NOT_APPLICABLE = new Set(['InstanceStatusNotSupportCurrentAction', 'InstanceActivating']);
  const retryTuning = { baseDelayMs: 100, maxDelayMs: 1000, minAttemptMs: 150, ...deps.retry };

  /** The instance's status, read only after the API refused the action; undefined if it cannot be read. */
  async function describeStatus(target: Target & { regionId: string }, credentials: Credentials, deadline: number) {
    const call: ApiCall = {
      operation: action.describeOperation,
      method: 'GET',
      path: describePath(action.kind, target.instanceId),
      query: {},
      regionId: target.regionId,
    };
    try {
      const { value } = await withRetries((timeoutMs) => api.call(call, credentials, { timeoutMs }), {
        deadline,
        ...retryTuning,
      });
      const result = value.body.Result as { status?: unknown } | undefined;
      return typeof result?.status === 'string' ? result.status : undefined;
    } catch (error) {
      if (error instanceof ApiError) return undefined;
      throw error;
    }
  }

  async function callOne(
    target: Target & { regionId: string },
    clientToken: string,
    credentials: Credentials,
    logger: Logger,
    deadline: number,
  ): Promise<TargetResult> {
    const call = callFor(target, clientToken);
    const started = performance.now();
    const base = { instanceId: target.instanceId, regionId: target.regionId, clientToken };
    const latency = () => Math.round(performance.now() - started);
    // The decision to call, before the outcome line: an audit trail survives a frozen or killed instance.
    logger.info('called', { ...base, operation: call.operation, path: call.path });
    try {
      // Every attempt carries the same clientToken: after a lost response the retry is a no-op upstream.
      const { value, attempts } = await withRetries((timeoutMs) => api.call(call, credentials, { timeoutMs }), {
        deadline,
        ...retryTuning,
        onRetry: (info) => logger.warn('retrying', { ...base, ...info }),
      });
      logger.info('applied', { ...base, upstreamRequestId: value.requestId, attempts, latencyMs: latency() });
      return { ...base, outcome: 'applied', requestId: value.requestId };
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      // Not on the happy path: the extra read happens only when the API refused the action.
      const status = NOT_APPLICABLE.has(error.code) ? await describeStatus(target, credentials, deadline) : undefined;
      const nothing = status === undefined ? undefined : nothingToDo(action, status);
      if (nothing !== undefined) {
        logger.info('already', {
          ...base,
          status,
          code: error.code,
          upstreamRequestId: error.requestId,
          latencyMs: latency(),
        });
        return { ...base, outcome: 'already', code: error.code, message: nothing, requestId: error.requestId };
      }
      logger.warn('failed', {
        ...base,
        code: error.code,
        ...(status === undefined ? {} : { status }),
        upstreamRequestId: error.requestId,
        retryable: error.retryable,
        latencyMs: latency(),
        // The API's or the network's own words, which can name the endpoint, an address or the account.
        detail: error.detail ?? error.message,
      });
      const message = redactInternals(error.message, internals);
      return {
        ...base,
        outcome: 'failed',
        code: error.code,
        // The status read says what the API's generic message does not ("running tasks or in an error status").
        message: status === undefined ? message : `${message} (the instance is ${status})`,
        requestId: error.requestId,
        retryable: error.retryable,
      };
    }
  }

  type Planned = TargetResult | Runnable;

  /** Targets → policy → tokens, without any call: shared by the direct path and the hand-off. */
  function plan(event: SourceEvent, logger: Logger): { planned: Planned[]; ignored: TargetResult[]; refusal?: string } {
    const { targets, ignored } = distinctTargets(event, config.region, policy);
    for (const r of ignored) logger.info('refused', { instanceId: r.instanceId, code: r.code, reason: r.message });
    // A chat command is first a person's request: who, where and through which command decide before any target.
    const eventRefusal =
      (event.requester && policy.checkRequester(event.requester)) || policy.checkEvent(targets.length);
    if (eventRefusal) {
      logger.warn('refused', { code: eventRefusal.code, reason: eventRefusal.reason, targets: targets.length });
      const planned = targets.map(
        (t): TargetResult => ({
          instanceId: t.instanceId,
          outcome: 'refused',
          code: eventRefusal.code,
          message: eventRefusal.reason,
        }),
      );
      return { planned, ignored, refusal: eventRefusal.reason };
    }
    const planned = targets.map((target): Planned => {
      const refusal = policy.checkTarget(target.instanceId);
      if (refusal) {
        logger.warn('refused', { instanceId: target.instanceId, code: refusal.code, reason: refusal.reason });
        return { instanceId: target.instanceId, outcome: 'refused', code: refusal.code, message: refusal.reason };
      }
      if (target.regionId === undefined) {
        const reason = 'no regionId in the event and neither ALIBABA_CLOUD_REGION nor FC_REGION is set';
        logger.warn('refused', { instanceId: target.instanceId, code: 'NoRegion', reason });
        return { instanceId: target.instanceId, outcome: 'refused', code: 'NoRegion', message: reason };
      }
      const withRegion = { ...target, regionId: target.regionId };
      return { target: withRegion, clientToken: deriveClientToken({ action, ...withRegion }) };
    });
    return { planned, ignored };
  }

  function finish(source: string, event: SourceEvent, results: TargetResult[], summary?: string): ActOutcome {
    const body = envelope(source, results, summary ?? summarize(results));
    if (event.notes?.length) body.notes = event.notes;
    if (event.requester) body.requestedBy = requestedBy(event.requester);
    return { status: statusFor(results), body };
  }

  function credentialsOrThrow(credentials: Credentials | undefined): Credentials {
    const creds = credentials ?? config.credentials;
    if (!creds) {
      throw new ConfigError(
        'no credentials: give the function a role, or set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET',
      );
    }
    return creds;
  }

  function dryRun(target: Target & { regionId: string }, clientToken: string, logger: Logger): TargetResult {
    const { operation, method, path, query } = callFor(target, clientToken);
    logger.info('dry-run', { instanceId: target.instanceId, clientToken, operation, path });
    return {
      instanceId: target.instanceId,
      regionId: target.regionId,
      clientToken,
      outcome: 'dry-run',
      message: `DRY_RUN is set: ${operation} was not called`,
      call: { operation, method, path, query },
    };
  }

  /** One hand-off: the command for `batch`, and what each of its targets is told. */
  async function handOffBatch(
    invoker: AsyncInvoker,
    base: Omit<CommandEvent, 'targets'>,
    batch: Runnable[],
    logger: Logger,
    reports: boolean,
  ): Promise<TargetResult[]> {
    const targets = batch.map(({ target: { instanceId, regionId, eventKey } }) => ({ instanceId, regionId, eventKey }));
    const handOffId = handOffIdFor(batch.map((p) => p.clientToken));
    const bases = batch.map(({ target: { instanceId, regionId }, clientToken }) => ({
      instanceId,
      regionId,
      clientToken,
    }));
    try {
      const result = await invoker.invoke({ ...base, targets }, handOffId);
      const message =
        result.status === 'duplicate'
          ? `${action.operation} was already handed off for this event; it runs once`
          : `${action.operation} is under way${reports ? '; the outcome will be posted here' : ''}`;
      // One line per target, with its instance and token: the audit trail of the hand-off.
      for (const b of bases) {
        logger.info('accepted', {
          ...b,
          handOff: result.status,
          handOffId: result.taskId ?? handOffId,
          targets: batch.length,
          invokeRequestId: result.requestId,
          taskStatus: result.taskStatus,
          taskReadError: result.taskReadError,
        });
      }
      return bases.map((b): TargetResult => ({ ...b, outcome: 'accepted', message }));
    } catch (error) {
      if (!isInvokeError(error)) throw error;
      const { code, retryable } = error;
      // The platform's own text (which can name the endpoint, the account or an ARN) stays in the log.
      for (const b of bases) {
        logger.warn('failed', {
          ...b,
          handOff: true,
          handOffId,
          code,
          platformCode: error.platformCode,
          httpStatus: error.httpStatus,
          invokeRequestId: error.requestId,
          retryable,
          detail: error.message,
        });
      }
      const message = handOffFailure(error);
      return bases.map((b): TargetResult => ({ ...b, outcome: 'failed', code, message, retryable }));
    }
  }

  return {
    action,
    envelope,
    async act(event, { source, credentials, logger, deadline }) {
      const { planned, ignored, refusal } = plan(event, logger);
      if (refusal) return finish(source, event, [...(planned as TargetResult[]), ...ignored], refusal);
      const needsCall = !config.policy.dryRun && planned.some((p) => 'target' in p);
      const creds = needsCall ? credentialsOrThrow(credentials) : undefined;
      const done = await mapBounded(planned, config.fanOutConcurrency, async (p): Promise<TargetResult> => {
        if (!('target' in p)) return p;
        if (config.policy.dryRun) return dryRun(p.target, p.clientToken, logger);
        // Instance and token go on each line as keys: a child logger per target costs more than the call's logging.
        return callOne(p.target, p.clientToken, creds as Credentials, logger, deadline);
      });
      return finish(source, event, [...done, ...ignored]);
    },

    async handOff(event, { source, credentials, logger, invokerFor, reply }) {
      const { planned, ignored, refusal } = plan(event, logger);
      if (refusal) return finish(source, event, [...(planned as TargetResult[]), ...ignored], refusal);
      const runnable = planned.filter((p): p is Runnable => 'target' in p);
      const byInstance = new Map<string, TargetResult>();
      if (runnable.length > 0 && config.policy.dryRun) {
        for (const p of runnable) byInstance.set(p.target.instanceId, dryRun(p.target, p.clientToken, logger));
      } else if (runnable.length > 0) {
        const invoker = invokerFor(credentialsOrThrow(credentials));
        // Only a target this source may report to goes into the command (and never a malformed
        // one, which would make the queued command invalid: an accepted change is never dropped for a report).
        const target = replyTargetFor(source, reply);
        const base: Omit<CommandEvent, 'targets'> = {
          responderCommand: 1,
          function: action.functionName,
          source: source as CommandEvent['source'],
          ...(event.reason ? { reason: event.reason.slice(0, 1000) } : {}),
          ...(target ? { reply: target } : {}),
        };
        // One command for the whole event (several only for hundreds of targets), under an ID
        // derived from its targets' tokens: a retried or duplicated delivery hands off under the
        // same ID, and the platform refuses the second. Each target keeps its own clientToken.
        const batches = packCommands(runnable);
        const done = await mapBounded(batches, config.fanOutConcurrency, (batch) =>
          handOffBatch(invoker, base, batch, logger, target !== undefined),
        );
        for (const result of done.flat()) byInstance.set(result.instanceId, result);
      }
      const results = planned.map((p) => ('target' in p ? (byInstance.get(p.target.instanceId) as TargetResult) : p));
      return finish(source, event, [...results, ...ignored]);
    },
  };
}
