import type { Actor } from '../core/plan.ts';
import type { ClaimResult, FlipResult } from '../state/store.ts';
import type { GuardrailConfig } from './config.ts';

/**
 * What the guardrails tell people: each refusal says which rule, its setting, and when it stops
 * applying, so a person at 3 a.m. knows whether to wait, act from chat, or change a variable.
 * Nothing here holds a URL, a secret or a store address.
 */

/** `4m 10s`, `2h`, `1d 3h`: the two largest units, rounded up to the second. */
export function formatDuration(ms: number): string {
  let seconds = Math.max(0, Math.ceil(ms / 1000));
  const parts: string[] = [];
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    const n = Math.floor(seconds / size);
    seconds -= n * size;
    if (n > 0) parts.push(`${n}${unit}`);
  }
  return parts.slice(0, 2).join(' ') || '0s';
}

/** `2024-05-01T03:12:00Z (in 4m 10s)` */
export function formatWhen(at: number, now: number): string {
  return `${new Date(Math.ceil(at / 1000) * 1000).toISOString().replace('.000Z', 'Z')} (in ${formatDuration(at - now)})`;
}

export interface RecordedInterruption {
  by: Actor;
  source: string;
  at: string;
}

/** `changed`: the record changed while the resume was decided (it was ours when first read). */
export function notOurs(record: RecordedInterruption | undefined, changed = false): string {
  const why =
    record?.by === 'person'
      ? `its interruption was made by a person (${record.source}, ${record.at})`
      : changed && record?.by === 'alert'
        ? 'it was interrupted again by a newer alert of ours while this resume was decided'
        : 'no interruption of it by an alert of ours is recorded';
  return `${why}; a resolved alert resumes only what an alert interrupted (RESUME_ONLY_OWN=true): a person may resume it`;
}

export function personRacedResume(record: RecordedInterruption): string {
  return `a person interrupted this instance (${record.source}, ${record.at}) while this resume was under way: if their command reached the API first, this resume undid it; check it, and interrupt it again from chat if it must stay interrupted`;
}

export function budgetExhausted(config: GuardrailConfig, claim: ClaimResult, now: number): string {
  const { text } = config.budget;
  const frees = claim.freesAt === undefined ? '' : `; it frees up by ${formatWhen(claim.freesAt, now)}`;
  return `the fleet change budget FLEET_CHANGE_BUDGET=${text} is spent (${claim.count} changes started in the window)${frees}; a retry will not help before then, a person may act from chat`;
}

export function flapping(config: GuardrailConfig, flip: FlipResult, now: number): string {
  const until = flip.clearsAt === undefined ? 'the window passes' : formatWhen(flip.clearsAt, now);
  return `the instance flipped between interrupt and resume ${flip.flips} times within ${config.flap.text.split('/')[1]} (FLAP_GUARD=${config.flap.text}): automatic actions on it are refused and it stays as it is until a person acts from chat, or until ${until}`;
}

/** `preview`: said of a real run by DRY_RUN, which counts nothing. */
export function personCounted(config: GuardrailConfig, claim: ClaimResult, preview = false): string {
  const over = claim.count > config.budget.limit ? ', over the budget' : '';
  const counted = preview ? 'a real run would count it' : 'counted';
  return `${counted} toward the fleet change budget (${claim.count} of ${config.budget.text}${over}); a person's command is never refused by it`;
}

/** DRY_RUN's note on an alert's change a real run would let through: where it stands in the budget. */
export function alertCounted(config: GuardrailConfig, claim: ClaimResult): string {
  return claim.duplicate
    ? `already counted toward the fleet change budget (this delivery was acted on before): a real run would not count it again (${claim.count} of ${config.budget.text})`
    : `a real run would count it toward the fleet change budget: ${claim.count} of ${config.budget.text}, this event's earlier targets included`;
}

export const OWN_RESUMPTION =
  'resumes an interruption an alert of ours made: not counted toward the fleet change budget or MAX_TARGETS_PER_EVENT';

export const STORE_UNAVAILABLE =
  'the state store did not answer in time, and this automatic action needs it (guardrails): refused so the sender retries';

export const PERSON_UNCOUNTED =
  'the state store did not answer: this command was not counted toward the fleet change budget';

export const PERSON_UNCOUNTED_PREVIEW =
  'the state store did not answer: a real run would not count this command toward the fleet change budget';
