import type { ActionSpec } from '../actions.ts';
import { deriveClientToken } from './client-token.ts';
import type { Policy } from './policy.ts';
import type { Refusal } from './refusal.ts';
import type { TargetResult } from './result.ts';
import type { AlertState, SourceEvent } from './target.ts';

/**
 * `plan(event, rules) → Plan`: which instances an event names, which of them may be acted on and
 * under which clientToken, and why the others may not. Decided from the event and the
 * configuration alone: no call, no clock, no log, so the same event always gives the same plan.
 * An executor then acts on the `run` items; the guardrails across events (core/guard.ts) decide
 * per target between the two, turning a `run` item into a `refused` one.
 */

/**
 * Whose change it is: an alert's (its state drove the action) or a person's (a chat command, a
 * schedule, a generic command). Issue 12's guardrails decide on it: a person's change is never refused.
 */
export type Actor = 'alert' | 'person';

/** A target the plan lets through: where to act, and the token that makes acting twice a no-op. */
export interface PlannedTarget {
  readonly instanceId: string;
  readonly regionId: string;
  /** Source-qualified key of the delivery or alert episode it came from (an input of the token). */
  readonly eventKey: string;
  readonly clientToken: string;
  readonly actor: Actor;
  /** The state of the alert it came from: set, an alert drove it; unset, a person did (chat, schedule, generic). */
  readonly alertState?: AlertState | undefined;
}

export type Planned =
  /** May be acted on. */
  | { readonly kind: 'run'; readonly target: PlannedTarget }
  /** Refused by the policy, alone or with its whole event. */
  | { readonly kind: 'refused'; readonly instanceId: string; readonly refusal: Refusal }
  /** Set aside: its alert state does not call for this action. Reported, not counted as a target. */
  | { readonly kind: 'ignored'; readonly instanceId: string; readonly refusal: Refusal };

export interface Plan {
  /** One item per instance: the event's targets in its order, then the items set aside. */
  readonly items: readonly Planned[];
  /** Set when the whole event is refused (every target then carries it): the answer's summary. */
  readonly refusal?: Refusal | undefined;
}

export interface PlanRules {
  readonly action: ActionSpec;
  readonly policy: Policy;
  /** Region of the targets that name none: ALIBABA_CLOUD_REGION, else FC_REGION. */
  readonly defaultRegion: string | undefined;
}

const NO_REGION: Refusal = {
  code: 'NoRegion',
  reason: 'no regionId in the event and neither ALIBABA_CLOUD_REGION nor FC_REGION is set',
};

interface Candidate {
  instanceId: string;
  regionId: string | undefined;
  eventKey: string;
  actor: Actor;
  alertState: AlertState | undefined;
}

/**
 * One candidate per instance: when an event names an instance twice (two alerts on it), the
 * smallest event key wins, so the token does not depend on the order of the alerts. Items whose
 * alert state does not call for this action are set aside, once per instance, unless the instance
 * is also named by an item that does call for it.
 */
function distinctTargets(event: SourceEvent, rules: PlanRules): { targets: Candidate[]; ignored: Planned[] } {
  const byId = new Map<string, Candidate>();
  const ignored = new Map<string, Planned>();
  for (const item of event.items) {
    const refusal = rules.policy.checkAlertState(item.alertState);
    if (refusal) {
      ignored.set(item.instanceId, { kind: 'ignored', instanceId: item.instanceId, refusal });
      continue;
    }
    const seen = byId.get(item.instanceId);
    if (!seen || item.eventKey < seen.eventKey) {
      const regionId = item.regionId ?? rules.defaultRegion;
      const { instanceId, eventKey, alertState } = item;
      const actor = alertState === undefined ? 'person' : 'alert';
      byId.set(instanceId, { instanceId, regionId, eventKey, actor, alertState });
    }
  }
  for (const id of byId.keys()) ignored.delete(id);
  return { targets: [...byId.values()], ignored: [...ignored.values()] };
}

function planTarget(candidate: Candidate, rules: PlanRules): Planned {
  const { instanceId, regionId, eventKey, actor, alertState } = candidate;
  const refusal = rules.policy.checkTarget(instanceId);
  if (refusal) return { kind: 'refused', instanceId, refusal };
  if (regionId === undefined) return { kind: 'refused', instanceId, refusal: NO_REGION };
  const clientToken = deriveClientToken({ action: rules.action, regionId, instanceId, eventKey });
  const target = { instanceId, regionId, eventKey, clientToken, actor };
  return { kind: 'run', target: alertState === undefined ? target : { ...target, alertState } };
}

/**
 * The instances an event names for this action whose alert state calls for it, driven by an alert:
 * the candidates for `exempt` (resumptions of interruptions of ours, which the guardrails look up).
 */
export function alertTargetIds(event: SourceEvent, rules: PlanRules): string[] {
  return distinctTargets(event, rules)
    .targets.filter((t) => t.actor === 'alert')
    .map((t) => t.instanceId);
}

/**
 * `exempt`: instances whose action starts no change (a resolved alert resuming an interruption an
 * alert of ours made): MAX_TARGETS_PER_EVENT counts the changes an event starts, not those.
 */
export function plan(event: SourceEvent, rules: PlanRules, exempt: ReadonlySet<string> = new Set()): Plan {
  const { targets, ignored } = distinctTargets(event, rules);
  const started = targets.filter((t) => !exempt.has(t.instanceId)).length;
  // A chat command is first a person's request: who, where and through which command decide before any target.
  const refusal = (event.requester && rules.policy.checkRequester(event.requester)) || rules.policy.checkEvent(started);
  if (refusal) {
    const refused = targets.map((t): Planned => ({ kind: 'refused', instanceId: t.instanceId, refusal }));
    return { items: [...refused, ...ignored], refusal };
  }
  return { items: [...targets.map((t) => planTarget(t, rules)), ...ignored] };
}

/** The targets an executor acts on, in the plan's order. */
export const runnableTargets = (plan: Plan): PlannedTarget[] =>
  plan.items.flatMap((item) => (item.kind === 'run' ? [item.target] : []));

/** What a refused or set-aside item reports. */
export function refusedResult(item: Exclude<Planned, { kind: 'run' }>): TargetResult {
  return { instanceId: item.instanceId, outcome: 'refused', code: item.refusal.code, message: item.refusal.reason };
}
