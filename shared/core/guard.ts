import type { Invocation } from './invocation.ts';
import type { PlannedTarget } from './plan.ts';
import type { Refusal } from './refusal.ts';
import type { TargetResult } from './result.ts';

/**
 * The guardrails across events as the responder sees them (shared/guardrails/guard-step.ts builds
 * one on the state store): they decide per target between the plan and the call, and record after
 * the call what it did. A function without a store has none: only the per-event rules apply.
 */
export interface Guard {
  /**
   * Of an event's alert-driven targets of a resume, those whose current interruption an alert of
   * ours made (they start no change: MAX_TARGETS_PER_EVENT does not count them). Rejects with
   * StateStoreUnavailable (503: the sender retries) when the store does not answer.
   */
  ownResumptions(instanceIds: readonly string[], deadline: number): Promise<ReadonlySet<string>>;
  /**
   * The deadline the decisions and the calls must meet, earlier than the delivery's `deadline`, so
   * that `settle` (which gets the delivery's own) still has time for the store after a call that
   * ran to the end: a change made is then recorded, its budget unit committed.
   */
  callDeadline(deadline: number): number;
  /** One target's decision; never rejects for a store failure (that is a refusal or a note). */
  check(target: PlannedTarget, source: string, invocation: Invocation): Promise<GuardVerdict>;
  /**
   * DRY_RUN: what `check` would answer now for each of an event's targets, from the same store
   * state, in the plan's order, each counting the budget units the earlier ones would claim. Reads
   * the store, writes nothing; never rejects for a store failure (that is a refusal or a note).
   */
  preview(targets: readonly PlannedTarget[], source: string, invocation: Invocation): Promise<GuardPreview[]>;
}

export type GuardPreview =
  | { readonly allowed: false; readonly refusal: Refusal }
  /** `notes`: what a real run would count, said of it. */
  | { readonly allowed: true; readonly notes: readonly string[] };

export type GuardVerdict =
  | { readonly allowed: false; readonly refusal: Refusal }
  | {
      readonly allowed: true;
      /** Sentences for the reply: a person's command counted, a store that did not answer. */
      readonly notes: readonly string[];
      /** Records what the call did; resolves with a sentence for the reply when it could not be recorded. */
      settle(result: TargetResult, invocation: Invocation): Promise<string | undefined>;
    };
