import { z } from 'zod';

/**
 * Fault injection for the emulated control plane, so retries and lost replies can be rehearsed
 * locally. Seeded, so a run with the same `EMULATOR_FAULTS` fails the same calls in the same order.
 */

const probability = z.number().min(0).max(1);

export const FaultsSchema = z.strictObject({
  /** Chance of `Throttling.User` (nothing applied). */
  throttle: probability.optional(),
  /** Chance of 500 `InternalError` (nothing applied). */
  serverError: probability.optional(),
  /** Chance that the action is applied but the connection is cut before the reply. */
  dropResponse: probability.optional(),
  /** Delay before every API call is answered. */
  latencyMs: z.number().int().min(0).max(60_000).optional(),
  seed: z.number().int().optional(),
});

export type Faults = z.infer<typeof FaultsSchema>;

export type FaultOutcome = 'none' | 'throttle' | 'serverError' | 'dropResponse';

export interface FaultDecision {
  latencyMs: number;
  outcome: FaultOutcome;
}

/** Alibaba's throttling reply tells the client when to come back (`x-acs-retry-after`, milliseconds). */
export const THROTTLE_RETRY_AFTER_MS = 100;

const DEFAULT_SEED = 1;

/** Validates faults given as JSON text (the `EMULATOR_FAULTS` env var); unset or empty means none. */
export function parseFaults(json: string | undefined, source = 'EMULATOR_FAULTS'): Faults {
  if (json === undefined || json.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new Error(`${source} is not valid JSON: ${(error as Error).message}`);
  }
  return validateFaults(value, source);
}

export function validateFaults(value: unknown, source = 'faults'): Faults {
  const parsed = FaultsSchema.safeParse(value);
  if (!parsed.success) throw new Error(`${source} is invalid: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** mulberry32: a tiny, fast, seedable PRNG; good enough to pick which calls fail. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export class FaultInjector {
  private faults: Faults = {};
  private random: () => number = mulberry32(DEFAULT_SEED);

  constructor(faults: Faults = {}) {
    this.set(faults);
  }

  get(): Faults {
    return { ...this.faults };
  }

  /** Replaces the faults (`{}` clears them) and restarts the random sequence from their seed. */
  set(faults: Faults): void {
    this.faults = validateFaults(faults);
    this.reseed();
  }

  reseed(): void {
    this.random = mulberry32(this.faults.seed ?? DEFAULT_SEED);
  }

  /** One decision per API call; always three draws, so one fault's setting never shifts another's sequence. */
  decide(): FaultDecision {
    const { throttle = 0, serverError = 0, dropResponse = 0, latencyMs = 0 } = this.faults;
    const rolls = [this.random(), this.random(), this.random()] as const;
    let outcome: FaultOutcome = 'none';
    if (rolls[0] < throttle) outcome = 'throttle';
    else if (rolls[1] < serverError) outcome = 'serverError';
    else if (rolls[2] < dropResponse) outcome = 'dropResponse';
    return { latencyMs, outcome };
  }
}
