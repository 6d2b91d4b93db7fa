import type { ActionSpec } from '../actions.ts';
import { isAnswerable, NotFoundError, type ResponderError } from '../errors.ts';
import type { RequestLog } from '../logger.ts';
import type { Invocation } from './invocation.ts';
import { type Plan, type PlannedTarget, plan, refusedResult, runnableTargets } from './plan.ts';
import { type ChatAccessConfig, createPolicy, type PolicySettings } from './policy.ts';
import { type ResponseBody, requestedBy, statusFor, summarize, type TargetResult } from './result.ts';
import type { SourceEvent } from './target.ts';

/** What the sender is answered: the status and the JSON body. */
export interface ActOutcome {
  status: number;
  body: ResponseBody;
}

/** Where an event comes from, for the executors that need more than its targets. */
export interface ExecuteRequest {
  readonly source: string;
  readonly event: SourceEvent;
}

/**
 * What acts on a plan's runnable targets: the API called directly, a hand-off to an asynchronous
 * invocation, or a dry run. The app chooses one per request; each answers every target it is
 * given, in the order given.
 */
export interface Executor {
  run(targets: readonly PlannedTarget[], request: ExecuteRequest, invocation: Invocation): Promise<TargetResult[]>;
}

export interface Responder {
  readonly action: ActionSpec;
  /** Plan → execute → answer, for an authenticated and parsed event. */
  respond(event: SourceEvent, source: string, executor: Executor, invocation: Invocation): Promise<ActOutcome>;
  /** The answer to an error that ended a request before any target was acted on (not logged). */
  answerError(error: ResponderError, source: string): ActOutcome;
  /** The same for any error, logged: a request-ending error says why, anything else is a bug (500, no detail). */
  fail(error: unknown, source: string, log: RequestLog): ActOutcome;
  /** The shape of every response, for errors raised before any target is considered. */
  envelope(source: string, results: TargetResult[], summary: string): ResponseBody;
}

export interface ResponderOptions {
  action: ActionSpec;
  policy: PolicySettings & { readonly dryRun: boolean };
  chat?: ChatAccessConfig | undefined;
  /** Region of targets that name none. */
  region: string | undefined;
}

/** One line per refusal, in the plan's order: the audit trail of what was not done, and why. */
function logPlan(planned: Plan, log: RequestLog): void {
  for (const item of planned.items) {
    if (item.kind !== 'ignored') continue;
    log.info('refused', { instanceId: item.instanceId, code: item.refusal.code, reason: item.refusal.reason });
  }
  if (planned.refusal) {
    const targets = planned.items.filter((item) => item.kind !== 'ignored').length;
    log.warn('refused', { code: planned.refusal.code, reason: planned.refusal.reason, targets });
    return;
  }
  for (const item of planned.items) {
    if (item.kind !== 'refused') continue;
    log.warn('refused', { instanceId: item.instanceId, code: item.refusal.code, reason: item.refusal.reason });
  }
}

/** Built once per function: the policy's allow-lists are compiled here, not per request. */
export function createResponder(options: ResponderOptions): Responder {
  const { action } = options;
  const rules = {
    action,
    policy: createPolicy(action, options.policy, options.chat),
    defaultRegion: options.region,
  };

  const envelope = (source: string, results: TargetResult[], summary: string): ResponseBody => ({
    function: action.functionName,
    operation: action.operation,
    source,
    dryRun: options.policy.dryRun,
    summary,
    results,
  });

  /** A request-ending error as the sender sees it; a 404 also lists the functions or sources that exist. */
  const answerError = (error: ResponderError, source: string): ActOutcome => ({
    status: error.status,
    body: {
      ...envelope(source, [], error.message),
      error: { code: error.code, message: error.message, ...(error instanceof NotFoundError ? error.valid : {}) },
    },
  });

  function answer(source: string, event: SourceEvent, results: TargetResult[], summary?: string): ActOutcome {
    const body = envelope(source, results, summary ?? summarize(results));
    if (event.notes?.length) body.notes = event.notes;
    if (event.requester) body.requestedBy = requestedBy(event.requester);
    return { status: statusFor(results), body };
  }

  return {
    action,
    envelope,

    async respond(event, source, executor, invocation) {
      const planned = plan(event, rules);
      logPlan(planned, invocation.logger);
      const targets = runnableTargets(planned);
      const done = await executor.run(targets, { source, event }, invocation);
      if (done.length !== targets.length)
        throw new Error(`the executor answered ${done.length} of ${targets.length} targets`);
      let next = 0;
      const results = planned.items.map((item) =>
        item.kind === 'run' ? (done[next++] as TargetResult) : refusedResult(item),
      );
      return answer(source, event, results, planned.refusal?.reason);
    },

    answerError,

    fail(error, source, log) {
      if (isAnswerable(error)) {
        if (error.status >= 500) log.error('configuration error', { detail: error.message });
        // Every refusal says why in the log, whatever stage refused it (size, media type, payload, route).
        else log.warn('refused', { code: error.code, status: error.status, reason: error.message });
        return answerError(error, source);
      }
      // Anything else is our bug: say nothing of it to the sender, log it, and let a retry try again.
      log.error('unexpected error', { error: error as Error });
      return {
        status: 500,
        body: {
          ...envelope(source, [], 'internal error'),
          error: { code: 'InternalError', message: 'internal error' },
        },
      };
    },
  };
}
