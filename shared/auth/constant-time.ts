import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Constant-time equality for secrets of any length: both sides are hashed first, so neither
 * the content nor the length of the expected value leaks through timing.
 */
export function safeEqual(a: string | Uint8Array, b: string | Uint8Array): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db);
}

/** True when `candidate` equals any of `secrets`; every secret is compared (rotation). */
export function matchesAny(candidate: string, secrets: readonly string[]): boolean {
  let matched = false;
  for (const secret of secrets) {
    if (safeEqual(candidate, secret)) matched = true;
  }
  return matched;
}
