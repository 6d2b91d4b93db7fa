import type { ActionSpec } from '../actions.ts';
import type { ResponderConfig } from '../config.ts';
import { compileGlob } from './glob.ts';
import type { AlertState } from './target.ts';

/** Why a target is refused before any call; `status` is what the sender sees if every target is refused. */
export interface Refusal {
  reason: string;
  status: 200 | 400 | 403;
  code: 'WrongInstanceKind' | 'NotAllowed' | 'TooManyTargets' | 'NoRegion' | 'AlertStateIgnored';
}

export interface Policy {
  /**
   * A refusal when the alert state does not call for this action: interrupt and cancel act on
   * firing alerts only, resume on the state RESUME_ON names (resolved by default). Items with no
   * alert state (chat commands, schedules, generic webhooks without `state`) always pass.
   */
  checkAlertState(state: AlertState | undefined): Refusal | undefined;
  /** A refusal of the whole event (blast-radius limit), or undefined. */
  checkEvent(targetCount: number): Refusal | undefined;
  /** A refusal of one target, or undefined when it may be acted on. */
  checkTarget(instanceId: string): Refusal | undefined;
}

/** Built once per process: the allow-list globs are compiled here, not per request. */
export function createPolicy(action: ActionSpec, policy: ResponderConfig['policy']): Policy {
  const allowed = policy.allowedInstances?.map(compileGlob);
  const wanted: AlertState = action.alertRole === 'resume' ? policy.resumeOn : 'firing';
  return {
    checkAlertState(state) {
      if (state === undefined || state === wanted) return undefined;
      return {
        code: 'AlertStateIgnored',
        status: 200,
        reason: `the alert is ${state === 'other' ? 'neither firing nor resolved' : state}; ${action.functionName} acts on ${wanted} alerts only`,
      };
    },
    checkEvent(targetCount) {
      if (targetCount <= policy.maxTargetsPerEvent) return undefined;
      return {
        code: 'TooManyTargets',
        status: 403,
        reason: `the event names ${targetCount} targets, more than MAX_TARGETS_PER_EVENT=${policy.maxTargetsPerEvent}; nothing was done`,
      };
    },
    checkTarget(instanceId) {
      if (!instanceId.startsWith(action.prefix)) {
        return {
          code: 'WrongInstanceKind',
          status: 400,
          reason: `${action.functionName} acts on ${action.kind} instances (${action.prefix}…) only`,
        };
      }
      if (allowed === undefined) {
        return { code: 'NotAllowed', status: 403, reason: 'ALLOWED_INSTANCES is not set, so every target is refused' };
      }
      if (!allowed.some((pattern) => pattern.test(instanceId))) {
        return { code: 'NotAllowed', status: 403, reason: 'the instance is not in ALLOWED_INSTANCES' };
      }
      return undefined;
    },
  };
}
