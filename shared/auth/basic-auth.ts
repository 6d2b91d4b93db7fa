import { basicPassword } from './bearer.ts';
import { matchesAny } from './constant-time.ts';

/**
 * Verifies the password of an `Authorization: Basic …` header against the configured list
 * (several, so secrets rotate); the user name is not checked. A mismatch, a missing or
 * malformed header, or an empty list returns false (fail closed).
 */
export function verifyBasicPassword(authorization: string | null, secrets: readonly string[]): boolean {
  const password = basicPassword(authorization);
  if (password === undefined || password === '' || secrets.length === 0) return false;
  return matchesAny(password, secrets);
}
