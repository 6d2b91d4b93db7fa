/**
 * The outcome of one authentication check. The reason is for the log only (the sender always
 * gets the same 401), so clock skew and mis-set secrets can be told apart; it names headers,
 * variables and numbers, never a secret, signature or token.
 */
export type AuthResult = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export const AUTHENTICATED: AuthResult = Object.freeze({ ok: true });

export const rejected = (reason: string): AuthResult => ({ ok: false, reason });

/**
 * Why a signed timestamp is refused, or undefined when it is within ±`toleranceMs` of now:
 * "timestamp outside the window by 42 s (342 s in the past; the window is ±300 s)".
 */
export function outsideWindow(sentMs: number, nowMs: number, toleranceMs: number): string | undefined {
  const skew = nowMs - sentMs;
  if (Math.abs(skew) <= toleranceMs) return undefined;
  const seconds = (ms: number) => Math.ceil(ms / 1000);
  return (
    `timestamp outside the window by ${seconds(Math.abs(skew) - toleranceMs)} s ` +
    `(${seconds(Math.abs(skew))} s in the ${skew > 0 ? 'past' : 'future'}; the window is ±${seconds(toleranceMs)} s)`
  );
}
