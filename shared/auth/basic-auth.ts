import { AUTHENTICATED, type AuthResult, rejected } from './auth-result.ts';
import { basicPassword } from './bearer.ts';
import { matchesAny } from './constant-time.ts';

/**
 * Checks the password of an `Authorization: Basic …` header against the configured list (several,
 * so secrets rotate), saying why it fails; the user name is not checked.
 */
export function checkBasicPassword(authorization: string | null, secrets: readonly string[]): AuthResult {
  if (secrets.length === 0) return rejected('no secret configured');
  if (authorization === null) return rejected('missing header Authorization');
  const password = basicPassword(authorization);
  if (password === undefined || password === '') return rejected('malformed Basic credentials');
  return matchesAny(password, secrets) ? AUTHENTICATED : rejected('basic-auth password mismatch');
}

/**
 * Verifies the password of an `Authorization: Basic …` header against the configured list
 * (several, so secrets rotate); the user name is not checked. A mismatch, a missing or
 * malformed header, or an empty list returns false (fail closed).
 */
export function verifyBasicPassword(authorization: string | null, secrets: readonly string[]): boolean {
  return checkBasicPassword(authorization, secrets).ok;
}
