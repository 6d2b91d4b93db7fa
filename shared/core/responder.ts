import type { ActionSpec } from '../actions.ts';
import { isAnswerable, NotFoundError, type ResponderError } from '../errors.ts';
import type { RequestLog } from '../logger.ts';
import type { Guard, GuardPreview, GuardVerdict } from './guard.ts';
import type { Invocation } from './invocation.ts';
import { mapBounded } from './map-bounded.ts';
import { alertTargetIds, type Plan, type PlannedTarget, plan, refusedResult, runnableTargets } from './plan.ts';
import { type ChatAccessConfig, createPolicy, type PolicySettings } from './policy.ts';
import { dryRunSummary, type ResponseBody, requestedBy, statusFor, summarize, type TargetResult } from './result.ts';
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
  /**
   * What the guardrails do for this executor's targets: `decide` when it changes instances here
   * (the API called directly: each target is decided, then settled with what its call did);
   * `preview` when it only reports (DRY_RUN: what they would decide now, read from the store,
   * nothing written); `later` when it hands the targets to a later invocation of this function,
   * which plans them again and decides there (the plan here still applies MAX_TARGETS_PER_EVENT
   * to the whole event).
   */
  readonly guardrails: 'decide' | 'preview' | 'later';
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
  /** The guardrails across events; absent without a state store (only the per-event rules apply). */
  guard?: Guard | undefined;
  /** Decisions in flight at once (FAN_OUT_CONCURRENCY). */
  concurrency?: number | undefined;
}

const withNotes = (result: TargetResult, notes: readonly (string | undefined)[]): TargetResult => {
  const all = [result.message, ...notes].filter((n): n is string => Boolean(n));
  return all.length === 0 ? result : { ...result, message: all.join('; ') };
};

/** A refusal a real run would make, as a dry run reports it. */
const wouldRefuse = (action: ActionSpec, reason: string) =>
  `DRY_RUN is set: ${action.operation} was not called, and a real run would refuse it: ${reason}`;

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
  const { action, guard } = options;
  const concurrency = options.concurrency ?? 16;
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
    const body = envelope(source, results, dryRunSummary(summary ?? summarize(results), options.policy.dryRun));
    if (event.notes?.length) body.notes = event.notes;
    if (event.requester) body.requestedBy = requestedBy(event.requester);
    return { status: statusFor(results), body };
  }

  /**
   * The resumptions of interruptions of ours an event asks for, looked up only when they can
   * matter: a resume function, alert-driven targets, and more of them than MAX_TARGETS_PER_EVENT.
   * A hand-off reads them too: MAX_TARGETS_PER_EVENT refuses an event whole, and only here is the
   * event whole (a hand-off may split it into several commands, each of which would count its own).
   */
  async function ownResumptions(event: SourceEvent, invocation: Invocation): Promise<ReadonlySet<string>> {
    if (!guard || action.alertRole !== 'resume') return new Set();
    const ids = alertTargetIds(event, rules);
    if (ids.length <= options.policy.maxTargetsPerEvent) return new Set();
    return guard.ownResumptions(ids, invocation.deadline);
  }

  return {
    action,
    envelope,

    async respond(event, source, executor, invocation) {
      const planned = plan(event, rules, await ownResumptions(event, invocation));
      logPlan(planned, invocation.logger);
      const runnable = runnableTargets(planned);
      const guarded = guard !== undefined && executor.guardrails === 'decide';
      const previewed = guard !== undefined && executor.guardrails === 'preview';
      // Decisions and calls end early enough for each settle to record what its call did.
      const calling = guarded ? { ...invocation, deadline: guard.callDeadline(invocation.deadline) } : invocation;
      const verdicts: (GuardVerdict | undefined)[] = guarded
        ? await mapBounded(runnable, concurrency, (target) => guard.check(target, source, calling))
        : [];
      // DRY_RUN: what the guardrails would decide, so the reply says what a real run would do now.
      const previews: (GuardPreview | undefined)[] = previewed ? await guard.preview(runnable, source, invocation) : [];
      const refusalAt = (i: number) => {
        const decided = verdicts[i] ?? previews[i];
        return decided?.allowed === false ? decided.refusal : undefined;
      };
      const passed = runnable.filter((_, i) => !refusalAt(i));
      let done: TargetResult[];
      try {
        done = await executor.run(passed, { source, event }, calling);
      } catch (error) {
        // Nothing was called for these targets (no credentials, a bug): give back their claims and
        // flips, or each such event would leave phantom budget units and flap entries behind.
        await Promise.allSettled(
          runnable.map((target, i) => {
            const verdict = verdicts[i];
            const notMade: TargetResult = { instanceId: target.instanceId, outcome: 'failed', retryable: false };
            return verdict?.allowed ? verdict.settle(notMade, invocation) : undefined;
          }),
        );
        throw error;
      }
      if (done.length !== passed.length)
        throw new Error(`the executor answered ${done.length} of ${passed.length} targets`);
      const byTarget = new Map<PlannedTarget, TargetResult>();
      await Promise.all(
        passed.map(async (target, i) => {
          const result = done[i] as TargetResult;
          const at = runnable.indexOf(target);
          const verdict = verdicts[at];
          const preview = previews[at];
          if (preview?.allowed) return byTarget.set(target, withNotes(result, preview.notes));
          if (!verdict?.allowed) return byTarget.set(target, result);
          const warning = await verdict.settle(result, invocation);
          byTarget.set(target, withNotes(result, [...verdict.notes, warning]));
        }),
      );
      const results = planned.items.map((item): TargetResult => {
        if (item.kind !== 'run') return refusedResult(item);
        const refusal = refusalAt(runnable.indexOf(item.target));
        if (refusal) {
          const { code, reason } = refusal;
          const dryRun = previewed ? { dryRun: true } : {};
          invocation.logger.warn('refused', { instanceId: item.target.instanceId, code, reason, ...dryRun });
          const said = previewed ? { ...refusal, reason: wouldRefuse(action, reason) } : refusal;
          return {
            ...refusedResult({ kind: 'refused', instanceId: item.target.instanceId, refusal: said }),
            regionId: item.target.regionId,
            clientToken: item.target.clientToken,
          };
        }
        return byTarget.get(item.target) as TargetResult;
      });
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
