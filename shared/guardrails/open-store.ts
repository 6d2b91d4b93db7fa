import { createRedisStore } from '../state/redis-store.ts';
import type { StateStore } from '../state/store.ts';
import type { GuardrailConfig } from './config.ts';

/**
 * Which store the guardrails (and DingTalk's pair memory) run on: Redis when STATE_STORE_URL is set
 * (nothing is imported or connected until the first operation that needs it); else the embedded
 * store local mode gives (one per process, shared by its five functions); else none (Function
 * Compute without a store: the stateful rules cannot hold across instances, and only the per-event
 * rules apply).
 */
export function openStateStore(
  config: GuardrailConfig,
  options: {
    /** Local mode's process-wide store, used when STATE_STORE_URL is unset. */
    embedded?: StateStore | undefined;
    /** Longest a store operation may take when the deadline allows more (ms). */
    timeoutMs?: number | undefined;
    clock?: (() => number) | undefined;
  } = {},
): StateStore | undefined {
  if (config.storeUrl)
    return createRedisStore({ url: config.storeUrl, timeoutMs: options.timeoutMs, clock: options.clock });
  return options.embedded;
}

/** The cold-start warning of a function that has no store. */
export const NO_STORE_WARNING =
  'STATE_STORE_URL is not set: RESUME_ONLY_OWN, FLEET_CHANGE_BUDGET and FLAP_GUARD cannot hold across function instances and are not enforced; ALLOWED_INSTANCES, MAX_TARGETS_PER_EVENT and the alert-state rules still apply; the DingTalk once-per-pair memory is per instance';
