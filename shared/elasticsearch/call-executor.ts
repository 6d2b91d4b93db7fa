import { type ActionSpec, nothingToDo } from '../actions.ts';
import { type Credentials, type Invocation, requireCredentials } from '../core/invocation.ts';
import { mapBounded } from '../core/map-bounded.ts';
import type { PlannedTarget } from '../core/plan.ts';
import { redactInternals } from '../core/redact.ts';
import type { Executor } from '../core/responder.ts';
import type { TargetResult } from '../core/result.ts';
import { type RetryOptions, withRetries } from '../core/retry.ts';
import { actionCall, describeCall } from './action-call.ts';
import { ApiError } from './api-error.ts';
import type { ElasticsearchApi } from './client.ts';

export interface CallExecutorOptions {
  action: ActionSpec;
  api: ElasticsearchApi;
  /** Calls in flight at once (FAN_OUT_CONCURRENCY). */
  concurrency: number;
  /** What no answer may name: the configured endpoint's host and the account (the log has them). */
  internals: readonly (string | undefined)[];
  /** Backoff tuning (tests shorten it); defaults: 100 ms doubling to 1 s, full jitter. */
  retry?: Partial<Pick<RetryOptions, 'baseDelayMs' | 'maxDelayMs' | 'minAttemptMs'>> | undefined;
}

/** Codes by which the API says the action does not apply to the instance's current state. */
const NOT_APPLICABLE = new Set(['InstanceStatusNotSupportCurrentAction', 'InstanceActivating']);

/**
 * The executor that calls the Elasticsearch API directly: each target's action under its
 * clientToken, retried within the invocation's deadline. When the API refuses the action for the
 * instance's state, the status is read once to tell "nothing to do" (`already`) from a failure.
 */
export function createCallExecutor(options: CallExecutorOptions): Executor {
  const { action, api } = options;
  const tuning = { baseDelayMs: 100, maxDelayMs: 1000, minAttemptMs: 150, ...options.retry };

  /** The instance's status, read only after the API refused the action; undefined if it cannot be read. */
  async function describeStatus(target: PlannedTarget, credentials: Credentials, deadline: number) {
    const call = describeCall(action, target);
    try {
      const { value } = await withRetries((timeoutMs) => api.call(call, credentials, { timeoutMs }), {
        deadline,
        ...tuning,
      });
      const result = value.body.Result as { status?: unknown } | undefined;
      return typeof result?.status === 'string' ? result.status : undefined;
    } catch (error) {
      if (error instanceof ApiError) return undefined;
      throw error;
    }
  }

  async function callOne(
    target: PlannedTarget,
    credentials: Credentials,
    invocation: Invocation,
  ): Promise<TargetResult> {
    const { logger, deadline } = invocation;
    const call = actionCall(action, target);
    // hrtime, not `performance`: that global loads perf_hooks (about 1 ms) on a cold start.
    const started = process.hrtime.bigint();
    const base = { instanceId: target.instanceId, regionId: target.regionId, clientToken: target.clientToken };
    const latency = () => Number((process.hrtime.bigint() - started) / 1_000_000n);
    // The decision to call, before the outcome line: an audit trail survives a frozen or killed instance.
    // Instance and token go on each line as keys: a child logger per target costs more than the call's logging.
    logger.info('called', { ...base, operation: call.operation, path: call.path });
    try {
      // Every attempt carries the same clientToken: after a lost response the retry is a no-op upstream.
      const { value, attempts } = await withRetries((timeoutMs) => api.call(call, credentials, { timeoutMs }), {
        deadline,
        ...tuning,
        onRetry: (info) => logger.warn('retrying', { ...base, ...info }),
      });
      logger.info('applied', { ...base, upstreamRequestId: value.requestId, attempts, latencyMs: latency() });
      return { ...base, outcome: 'applied', requestId: value.requestId };
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      // Not on the happy path: the extra read happens only when the API refused the action.
      const status = NOT_APPLICABLE.has(error.code) ? await describeStatus(target, credentials, deadline) : undefined;
      const nothing = status === undefined ? undefined : nothingToDo(action, status);
      const ids = { code: error.code, upstreamRequestId: error.requestId, latencyMs: latency() };
      if (nothing !== undefined) {
        logger.info('already', { ...base, status, ...ids });
        return { ...base, outcome: 'already', code: error.code, message: nothing, requestId: error.requestId };
      }
      logger.warn('failed', {
        ...base,
        ...ids,
        ...(status === undefined ? {} : { status }),
        retryable: error.retryable,
        // The API's or the network's own words, which can name the endpoint, an address or the account.
        detail: error.detail ?? error.message,
      });
      const message = redactInternals(error.message, options.internals);
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

  return {
    guardrails: 'decide',
    async run(targets, _request, invocation) {
      if (targets.length === 0) return [];
      const credentials = requireCredentials(invocation);
      return mapBounded(targets, options.concurrency, (target) => callOne(target, credentials, invocation));
    },
  };
}
