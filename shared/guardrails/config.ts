import * as z from 'zod/mini';
import { type EnvValues, type EnvVar, envVar, optionalVar } from '../env-schemas.ts';
import { checkStoreUrl } from '../state/store-url.ts';
import '../zod-locale.ts';

/**
 * The guardrails' configuration section: its variables (`guardrailEnvVars`), which the central
 * configuration (config.ts) parses with the others and hands to `toGuardrailConfig`. Errors name
 * the variable; a URL is never echoed (it may hold the store's password). An empty or blank
 * variable is unset, as everywhere.
 */

export interface Rate {
  /** Events allowed in any window of `windowMs`. */
  readonly limit: number;
  readonly windowMs: number;
  /** As written, for messages: `10/10m`. */
  readonly text: string;
}

export interface GuardrailConfig {
  /** STATE_STORE_URL: `redis://…` or `rediss://…`; undefined without one. */
  readonly storeUrl: string | undefined;
  /** RESUME_ONLY_OWN (default true): a resolved alert resumes only an interruption an alert of ours made. */
  readonly resumeOnlyOwn: boolean;
  /** FLEET_CHANGE_BUDGET (default 10/10m): changes started by alerts, fleet-wide, per sliding window. */
  readonly budget: Rate;
  /** FLAP_GUARD (default 3/30m): automatic interrupt↔resume flips of one instance per window. */
  readonly flap: Rate;
}

export const GUARDRAIL_DEFAULTS = {
  RESUME_ONLY_OWN: 'true',
  FLEET_CHANGE_BUDGET: '10/10m',
  FLAP_GUARD: '3/30m',
} as const;

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
/** Longest window: a week. Keys live as long as their window; this bounds them. */
export const MAX_WINDOW_MS = 7 * UNIT_MS.d;

/** `30s`, `10m`, `1h`, `1d` → ms. Throws a message fit for "VARIABLE: <message>". */
export function parseDuration(text: string): number {
  const match = /^(\d{1,6})([smhd])$/.exec(text.trim());
  if (!match)
    throw new Error(
      `"${text.trim().slice(0, 20)}" is not a duration: a whole number and s, m, h or d (30s, 10m, 1h, 1d)`,
    );
  const ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  if (ms < 1000 || ms > MAX_WINDOW_MS) throw new Error('the duration must be from 1s to 7d');
  return ms;
}

/** `<count>/<duration>`, e.g. `10/10m`. */
export function parseRate(text: string, maxCount: number): Rate {
  const trimmed = text.trim();
  const [count, duration, extra] = trimmed.split('/');
  if (count === undefined || duration === undefined || extra !== undefined || !/^\d{1,6}$/.test(count.trim())) {
    throw new Error(`must be <count>/<duration>, like 10/10m (durations: 30s, 10m, 1h, 1d)`);
  }
  const limit = Number(count);
  if (limit < 1 || limit > maxCount) throw new Error(`the count must be from 1 to ${maxCount}`);
  return { limit, windowMs: parseDuration(duration), text: `${limit}/${duration.trim()}` };
}

const rate = (fallback: string, maxCount: number): EnvVar<Rate> =>
  envVar(parseRate(fallback, maxCount), () =>
    z.pipe(
      z.optional(z.string()),
      z.transform((value: string | undefined, ctx) => {
        try {
          return parseRate(value ?? fallback, maxCount);
        } catch (error) {
          ctx.issues.push({ code: 'custom', message: (error as Error).message, input: value });
          return z.NEVER;
        }
      }),
    ),
  );

const BOOLEANS = ['true', 'false', '1', '0', 'yes', 'no'];
const isTrue = (value: string) => ['true', '1', 'yes'].includes(value);

/** The variables of this section, for the central configuration to compose. */
export const guardrailEnvVars = {
  STATE_STORE_URL: optionalVar(() =>
    z.pipe(
      z.optional(z.string()),
      z.transform((value: string | undefined, ctx) => {
        const url = value?.trim() || undefined;
        if (url === undefined) return undefined;
        try {
          checkStoreUrl(url);
        } catch (error) {
          // Not the URL itself: it may carry the store's password.
          ctx.issues.push({ code: 'custom', message: (error as Error).message, input: '(redacted)' });
          return z.NEVER;
        }
        return url;
      }),
    ),
  ),
  RESUME_ONLY_OWN: envVar(isTrue(GUARDRAIL_DEFAULTS.RESUME_ONLY_OWN), () =>
    z.pipe(
      z.optional(z.string()),
      z.transform((value: string | undefined, ctx) => {
        const v = (value ?? GUARDRAIL_DEFAULTS.RESUME_ONLY_OWN).trim().toLowerCase();
        if (!BOOLEANS.includes(v)) {
          ctx.issues.push({ code: 'custom', message: `must be one of ${BOOLEANS.join(', ')}`, input: value });
          return z.NEVER;
        }
        return isTrue(v);
      }),
    ),
  ),
  FLEET_CHANGE_BUDGET: rate(GUARDRAIL_DEFAULTS.FLEET_CHANGE_BUDGET, 100_000),
  FLAP_GUARD: rate(GUARDRAIL_DEFAULTS.FLAP_GUARD, 1000),
};

export type GuardrailEnv = EnvValues<typeof guardrailEnvVars>;

export function toGuardrailConfig(e: GuardrailEnv): GuardrailConfig {
  return {
    storeUrl: e.STATE_STORE_URL,
    resumeOnlyOwn: e.RESUME_ONLY_OWN,
    budget: e.FLEET_CHANGE_BUDGET,
    flap: e.FLAP_GUARD,
  };
}
