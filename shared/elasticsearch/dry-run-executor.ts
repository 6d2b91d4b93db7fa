import type { ActionSpec } from '../actions.ts';
import type { Executor } from '../core/responder.ts';
import type { TargetResult } from '../core/result.ts';
import { actionCall } from './action-call.ts';

/**
 * DRY_RUN's executor: everything up to the API call, which is reported (the exact call, with its
 * clientToken) but not made. Needs no credentials, and hands nothing off.
 */
export function createDryRunExecutor(action: ActionSpec): Executor {
  return {
    guardrails: 'preview',
    async run(targets, _request, { logger }) {
      return targets.map((target): TargetResult => {
        const { operation, method, path, query } = actionCall(action, target);
        logger.info('dry-run', { instanceId: target.instanceId, clientToken: target.clientToken, operation, path });
        return {
          instanceId: target.instanceId,
          regionId: target.regionId,
          clientToken: target.clientToken,
          outcome: 'dry-run',
          message: `DRY_RUN is set: ${operation} was not called`,
          call: { operation, method, path, query },
        };
      });
    },
  };
}
