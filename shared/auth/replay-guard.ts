/**
 * Credentials that may be presented once (DingTalk's `timestamp` + `sign` pair, which does not
 * cover the body): each key is remembered with a fingerprint of the body it first came with,
 * until the moment its window closes anyway. Memory is bounded by count; expired keys are dropped
 * first, and when every remembered key is still live a new one is refused rather than an old one
 * forgotten (forgetting would let that one be replayed).
 */

export type ReplayVerdict =
  /** Never seen: remembered now, with this fingerprint. */
  | 'first'
  /** Seen with the same fingerprint: the same delivery again. */
  | 'repeat'
  /** Seen with another fingerprint: a captured credential carrying another body. */
  | 'reused'
  /** Every slot holds a live key: refused (fail closed). */
  | 'full';

export interface ReplayGuard {
  /**
   * Looks `key` up and remembers it with `fingerprint` until `expiresAtMs` if it is new.
   * Synchronous: two concurrent requests with one key cannot both be `first`.
   */
  check(key: string, fingerprint: string, expiresAtMs: number, nowMs: number): ReplayVerdict;
  /** Keys remembered now (expired ones may linger until the next sweep). */
  readonly size: number;
}

export function createReplayGuard(options: { maxEntries: number }): ReplayGuard {
  const { maxEntries } = options;
  if (!Number.isInteger(maxEntries) || maxEntries < 1)
    throw new TypeError('maxEntries must be a positive whole number');
  const seen = new Map<string, { fingerprint: string; expiresAtMs: number }>();

  /** Drops expired keys from the oldest on, stopping at the first live one (keys arrive roughly in expiry order). */
  const dropExpiredHead = (nowMs: number) => {
    for (const [key, entry] of seen) {
      if (entry.expiresAtMs > nowMs) return;
      seen.delete(key);
    }
  };
  /** Drops every expired key: only when full, so at most once per `maxEntries` insertions in steady state. */
  const sweep = (nowMs: number) => {
    for (const [key, entry] of seen) if (entry.expiresAtMs <= nowMs) seen.delete(key);
  };

  return {
    check(key, fingerprint, expiresAtMs, nowMs) {
      dropExpiredHead(nowMs);
      const entry = seen.get(key);
      if (entry && entry.expiresAtMs > nowMs) return entry.fingerprint === fingerprint ? 'repeat' : 'reused';
      if (entry) seen.delete(key);
      if (seen.size >= maxEntries) sweep(nowMs);
      if (seen.size >= maxEntries) return 'full';
      seen.set(key, { fingerprint, expiresAtMs });
      return 'first';
    },
    get size() {
      return seen.size;
    },
  };
}
