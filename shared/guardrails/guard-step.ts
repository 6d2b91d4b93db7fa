import type { Guard, GuardPreview, GuardVerdict } from '../core/guard.ts';
import type { Invocation } from '../core/invocation.ts';
import type { PlannedTarget } from '../core/plan.ts';
import type { TargetResult } from '../core/result.ts';
import {
  type GuardedAction,
  type GuardRequest,
  type Guardrails,
  type GuardTicket,
  settlementOf,
} from './guardrails.ts';

export interface GuardStepOptions {
  guardrails: Guardrails;
  functionName: string;
  /** The function's action as the guardrails know it. */
  action: GuardedAction;
  /** Epoch ms, real time as deadlines are; default Date.now (tests: a fake clock). */
  now?: (() => number) | undefined;
}

/**
 * Time kept back from the calls for the settle after them (at most a quarter of the time left).
 * Taken off the calls rather than given to the settle past the delivery's deadline: the answer then
 * still reaches the sender within its patience (a late one is a failed delivery, retried), and the
 * calls lose less than a tenth of the default RETRY_DEADLINE_MS (3.5 s). A settle is at most four
 * store round trips, a few ms each to a Tair in the same VPC: 300 ms covers a store that is slow,
 * not one that is down (then the reply says what was not recorded, as before).
 */
export const SETTLE_RESERVE_MS = 300;

/**
 * The guardrails as the responder's step between plan and call (core/guard.ts):
 * - an alert-driven target (it carries an alert state) is decided: ownership, flap guard, budget;
 * - a chat command's target is counted toward the budget, never refused;
 * - a schedule's or a generic payload's without a state (a person too) is not counted and needs
 *   nothing before its call: only what the call did is recorded (a person's interruption replaces
 *   ours, a resume clears it), and a call that changed nothing touches no store at all;
 * - under DRY_RUN, the same decisions are previewed (read-only) and nothing is recorded.
 */
export function createGuardStep(options: GuardStepOptions): Guard {
  const { guardrails, functionName, action } = options;
  const now = options.now ?? Date.now;

  const requestOf = (target: PlannedTarget, source: string): GuardRequest => ({
    instanceId: target.instanceId,
    functionName,
    action,
    actor: target.actor,
    clientToken: target.clientToken,
    eventKey: target.eventKey,
    source,
  });

  const settler =
    (ticket: GuardTicket) =>
    async (result: TargetResult, invocation: Invocation): Promise<string | undefined> => {
      const settled = await guardrails.settle(ticket, settlementOf(result), invocation.deadline);
      const ids = { instanceId: ticket.request.instanceId, clientToken: ticket.request.clientToken };
      if (settled.stored) {
        if (settled.warning) invocation.logger.warn('raced', { ...ids, warning: settled.warning });
        return settled.warning;
      }
      invocation.logger.warn('not recorded', {
        ...ids,
        warning: settled.warning,
        detail: settled.detail,
      });
      return settled.warning;
    };

  return {
    ownResumptions: (instanceIds, deadline) => guardrails.ownedAmong(instanceIds, deadline),

    callDeadline: (deadline) => deadline - Math.min(SETTLE_RESERVE_MS, Math.max(0, Math.floor((deadline - now()) / 4))),

    async check(target, source, invocation): Promise<GuardVerdict> {
      const request = requestOf(target, source);
      if (request.actor === 'person' && !guardrails.chatSources.has(source)) {
        return { allowed: true, notes: [], settle: settler({ request, claim: 'none', flip: 'none' }) };
      }
      const decision = await guardrails.decide(request, invocation.deadline);
      if (!decision.allowed) {
        // The store's failure, for the log only (it never names the URL).
        if (decision.detail)
          invocation.logger.warn('state store', { instanceId: target.instanceId, detail: decision.detail });
        return { allowed: false, refusal: { code: decision.code, reason: decision.message } };
      }
      return { allowed: true, notes: decision.notes, settle: settler(decision.ticket) };
    },

    async preview(targets, source, invocation): Promise<GuardPreview[]> {
      // As `check`: a person's target that is not a chat command needs nothing before its call.
      const asked = targets.filter((target) => target.actor === 'alert' || guardrails.chatSources.has(source));
      const previews = await guardrails.preview(
        asked.map((target) => requestOf(target, source)),
        invocation.deadline,
      );
      return targets.map((target): GuardPreview => {
        const preview = previews[asked.indexOf(target)];
        if (!preview) return { allowed: true, notes: [] };
        if (preview.allowed) return { allowed: true, notes: preview.notes };
        if (preview.detail)
          invocation.logger.warn('state store', { instanceId: target.instanceId, detail: preview.detail });
        return { allowed: false, refusal: { code: preview.code, reason: preview.message } };
      });
    },
  };
}
