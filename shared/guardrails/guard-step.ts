import type { Guard, GuardVerdict } from '../core/guard.ts';
import type { Invocation } from '../core/invocation.ts';
import type { PlannedTarget } from '../core/plan.ts';
import type { TargetResult } from '../core/result.ts';
import {
  CHAT_SOURCES,
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
}

/**
 * The guardrails as the responder's step between plan and call (core/guard.ts):
 * - an alert-driven target (it carries an alert state) is decided: ownership, flap guard, budget;
 * - a chat command's target is counted toward the budget, never refused;
 * - a schedule's or a generic payload's without a state (a person too) is not counted and needs
 *   nothing before its call: only what the call did is recorded (a person's interruption replaces
 *   ours, a resume clears it), and a call that changed nothing touches no store at all.
 */
export function createGuardStep(options: GuardStepOptions): Guard {
  const { guardrails, functionName, action } = options;

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
      if (settled.stored) return undefined;
      invocation.logger.warn('not recorded', {
        instanceId: ticket.request.instanceId,
        clientToken: ticket.request.clientToken,
        warning: settled.warning,
        detail: settled.detail,
      });
      return settled.warning;
    };

  return {
    ownResumptions: (instanceIds, deadline) => guardrails.ownedAmong(instanceIds, deadline),

    async check(target, source, invocation): Promise<GuardVerdict> {
      const request = requestOf(target, source);
      if (request.actor === 'person' && !CHAT_SOURCES.has(source)) {
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
  };
}
