import { AUTHENTICATED, type AuthResult, rejected } from './auth-result.ts';
import { matchesAny } from './constant-time.ts';

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(authorization: string | null): string | undefined {
  const match = /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(authorization ?? '');
  return match?.[1];
}

/** The password of an `Authorization: Basic …` header, or undefined (Alertmanager `basic_auth`). */
export function basicPassword(authorization: string | null): string | undefined {
  const match = /^Basic[ \t]+([A-Za-z0-9+/=]+)[ \t]*$/i.exec(authorization ?? '');
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

/**
 * Checks a bearer token against the configured list (several, so tokens rotate), saying why it
 * fails: no token configured, no or another Authorization scheme, or a mismatch.
 */
export function checkBearer(authorization: string | null, tokens: readonly string[]): AuthResult {
  if (tokens.length === 0) return rejected('no bearer token configured');
  if (authorization === null) return rejected('missing header Authorization');
  const token = bearerToken(authorization);
  if (token === undefined) return rejected('Authorization is not "Bearer <token>"');
  return matchesAny(token, tokens) ? AUTHENTICATED : rejected('bearer token mismatch');
}

/**
 * Verifies a bearer token against the configured list (several, so tokens rotate).
 * A mismatch or a missing header returns false; an empty list never matches (fail closed).
 */
export function verifyBearer(authorization: string | null, tokens: readonly string[]): boolean {
  return checkBearer(authorization, tokens).ok;
}
