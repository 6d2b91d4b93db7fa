import {
  type ClaimResult,
  checkAhead,
  checkCondition,
  checkMember,
  checkRecord,
  checkTtl,
  checkWindow,
  EXPIRY_FIELD,
  type FlipOptions,
  type FlipResult,
  flipMember,
  namespacedKeys,
  type RecordCondition,
  type StateStore,
  type StoredRecord,
  type StoreOptions,
} from './store.ts';

/**
 * The state store in one process: local mode's, shared by the five functions it runs. The same
 * semantics as the Redis adapter's scripts (redis-scripts.ts), step for step: each operation runs
 * to its end without yielding, which is what makes it atomic here. Keys expire as Redis keys do
 * (a TTL per key, swept at most once a minute), so nothing grows without bound.
 * Longer than 200 lines on purpose: one file, in the order of redis-scripts.ts, so the two are
 * read and changed side by side.
 */

type SortedSet = Map<string, number>;
type Value =
  | { type: 'zset'; members: SortedSet }
  | { type: 'hash'; fields: StoredRecord }
  | { type: 'string'; fingerprint: string };
interface Slot {
  value: Value;
  expiresAt: number;
}

const SWEEP_EVERY_MS = 60_000;

/** Members by score, then by member, as Redis orders a sorted set. */
function ordered(set: SortedSet): Array<[string, number]> {
  return [...set.entries()].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

const directionOf = (member: string): string => member.slice(0, 1);

/** Changes of direction between consecutive entries (in time order). */
function countFlips(entries: ReadonlyArray<[string, number]>): number {
  let flips = 0;
  for (let i = 1; i < entries.length; i++) {
    if (directionOf((entries[i] as [string, number])[0]) !== directionOf((entries[i - 1] as [string, number])[0]))
      flips++;
  }
  return flips;
}

/**
 * What admitFlip answers for `member` on a log that holds only the window's entries (`met`: its
 * condition holds, or it has none); the log is not changed. admitFlip then admits a member granted
 * anew; peekFlip gives the answer alone.
 */
function judgeFlip(log: SortedSet, member: string, opts: FlipOptions, met: boolean, now: number): FlipResult {
  const entries = ordered(log);
  const flips = countFlips(entries);
  if (!met) return { granted: false, duplicate: false, flips, unmet: true };
  if (log.has(member)) return { granted: true, duplicate: true, flips };
  if (flips >= opts.limit) {
    // The oldest entries leave the window one by one: when do the flips fall below the limit?
    let left = flips;
    let clearsAt = 0;
    for (let i = 0; i + 1 < entries.length; i++) {
      const [m, score] = entries[i] as [string, number];
      if (directionOf(m) !== directionOf((entries[i + 1] as [string, number])[0])) left--;
      if (left < opts.limit) {
        clearsAt = score + opts.windowMs;
        break;
      }
    }
    return { granted: false, duplicate: false, flips, clearsAt };
  }
  return { granted: true, duplicate: false, flips: countFlips(ordered(new Map(log).set(member, now))) };
}

export function createEmbeddedStore(options: StoreOptions = {}): StateStore {
  const clock = options.clock ?? Date.now;
  const keyOf = namespacedKeys(options.namespace);
  const slots = new Map<string, Slot>();
  let nextSweep = 0;

  function live(key: string, now: number): Slot | undefined {
    if (now >= nextSweep) {
      for (const [k, slot] of slots) if (slot.expiresAt <= now) slots.delete(k);
      nextSweep = now + SWEEP_EVERY_MS;
    }
    const slot = slots.get(key);
    if (slot && slot.expiresAt <= now) {
      slots.delete(key);
      return undefined;
    }
    return slot;
  }

  function zset(key: string, now: number): SortedSet {
    const slot = live(key, now);
    if (!slot) return new Map();
    if (slot.value.type !== 'zset') throw new TypeError(`${key} does not hold a sorted set`);
    return slot.value.members;
  }

  /** Stores the set back, expiring `extraMs` after its highest score (an empty set is deleted). */
  function storeZset(key: string, members: SortedSet, extraMs: number, now: number): void {
    if (members.size === 0) {
      slots.delete(key);
      return;
    }
    const last = Math.max(...members.values());
    slots.set(key, { value: { type: 'zset', members }, expiresAt: Math.max(now + 1, last + extraMs) });
  }

  const removeUpTo = (members: SortedSet, max: number) => {
    for (const [m, score] of members) if (score <= max) members.delete(m);
  };

  /**
   * A budget's two sets, having forgotten what left the window (when `windowMs` is given) and the
   * pending claims whose caller never settled them (a crash): the first step of every budget
   * operation, as FORGET in redis-scripts.ts.
   */
  function budget(key: string, now: number, windowMs: number | undefined) {
    const counted = zset(keyOf(key), now);
    const pending = zset(keyOf(`${key}:pending`), now);
    if (windowMs !== undefined) removeUpTo(counted, now - windowMs);
    for (const [m, expiresAt] of pending) {
      if (expiresAt <= now) {
        counted.delete(m);
        pending.delete(m);
      }
    }
    return { counted, pending };
  }

  /** Whether the live record at the condition's key holds its fields, as HOLDS in redis-scripts.ts. */
  function holds(condition: RecordCondition, now: number): boolean {
    const slot = live(keyOf(condition.key), now);
    if (slot?.value.type !== 'hash' || !(Number(slot.value.fields[EXPIRY_FIELD]) > now)) return false;
    const { fields } = slot.value;
    return Object.entries(condition.fields).every(([field, value]) => fields[field] === value);
  }

  return {
    kind: 'embedded',

    async claim(key, member, opts) {
      checkMember(member);
      checkWindow(opts);
      const now = clock();
      const { counted, pending } = budget(key, now, opts.windowMs);
      let result: ClaimResult;
      const count = counted.size;
      if (counted.has(member)) {
        result = { granted: true, duplicate: true, count };
      } else if (opts.enforce && count >= opts.limit) {
        const leaving = ordered(counted)[count - opts.limit] as [string, number];
        result = { granted: false, duplicate: false, count, freesAt: leaving[1] + opts.windowMs };
      } else {
        counted.set(member, now);
        pending.set(member, now + opts.pendingMs);
        result = { granted: true, duplicate: false, count: count + 1 };
      }
      storeZset(keyOf(key), counted, opts.windowMs, now);
      storeZset(keyOf(`${key}:pending`), pending, opts.windowMs, now);
      return result;
    },

    async commit(key, member, windowMs) {
      checkMember(member);
      const now = clock();
      const { counted, pending } = budget(key, now, windowMs);
      pending.delete(member);
      if (!counted.has(member)) counted.set(member, now);
      storeZset(keyOf(key), counted, windowMs, now);
      storeZset(keyOf(`${key}:pending`), pending, windowMs, now);
    },

    async release(key, member) {
      checkMember(member);
      const now = clock();
      const { counted, pending } = budget(key, now, undefined);
      const released = pending.delete(member);
      if (released) counted.delete(member);
      // As ZREM does: the keys keep their TTLs, and go when empty.
      for (const [k, set] of [
        [keyOf(key), counted],
        [keyOf(`${key}:pending`), pending],
      ] as const) {
        if (set.size === 0) slots.delete(k);
      }
      return released;
    },

    async peekClaim(key, member, opts) {
      checkMember(member);
      checkWindow(opts);
      checkAhead(opts.ahead);
      const now = clock();
      const pending = zset(keyOf(`${key}:pending`), now);
      // What a claim's first step would keep, without keeping it: the window's units, no stale pending one.
      const counted = ordered(zset(keyOf(key), now)).filter(
        ([m, score]) => score > now - opts.windowMs && !((pending.get(m) ?? Number.POSITIVE_INFINITY) <= now),
      );
      const count = counted.length + (opts.ahead ?? 0);
      if (counted.some(([m]) => m === member)) return { granted: true, duplicate: true, count };
      if (opts.enforce && count >= opts.limit) {
        // The units claimed ahead sort last, at now.
        const leaving = counted[count - opts.limit]?.[1] ?? now;
        return { granted: false, duplicate: false, count, freesAt: leaving + opts.windowMs };
      }
      return { granted: true, duplicate: false, count: count + 1 };
    },

    async admitFlip(key, entry, opts, _deadline, onlyIf) {
      checkMember(entry.member);
      checkWindow(opts);
      if (onlyIf) checkCondition(onlyIf);
      const now = clock();
      const logKey = keyOf(key);
      const log = zset(logKey, now);
      removeUpTo(log, now - opts.windowMs);
      const member = flipMember(entry);
      const result = judgeFlip(log, member, opts, !onlyIf || holds(onlyIf, now), now);
      if (result.granted && !result.duplicate) log.set(member, now);
      storeZset(logKey, log, opts.windowMs, now);
      return result;
    },

    async dropFlip(key, entry, windowMs) {
      checkMember(entry.member);
      const now = clock();
      const logKey = keyOf(key);
      const log = zset(logKey, now);
      removeUpTo(log, now - windowMs);
      const dropped = log.delete(flipMember(entry));
      if (log.size === 0) slots.delete(logKey);
      return dropped;
    },

    async peekFlip(key, entry, opts, _deadline, onlyIf) {
      checkMember(entry.member);
      checkWindow(opts);
      if (onlyIf) checkCondition(onlyIf);
      const now = clock();
      // A copy: the stored log keeps even what left the window.
      const log = new Map(zset(keyOf(key), now));
      removeUpTo(log, now - opts.windowMs);
      return judgeFlip(log, flipMember(entry), opts, !onlyIf || holds(onlyIf, now), now);
    },

    async getRecord(key) {
      const now = clock();
      const slot = live(keyOf(key), now);
      if (!slot) return undefined;
      if (slot.value.type !== 'hash') throw new TypeError(`${key} does not hold a record`);
      const { [EXPIRY_FIELD]: expiresAt, ...fields } = slot.value.fields;
      // Read-only: a record past its expiry is absent, and left to its TTL.
      return Number(expiresAt) > now ? fields : undefined;
    },

    async putRecord(key, fields, ttlMs, _deadline, unless) {
      checkRecord(fields, ttlMs);
      const now = clock();
      const slot = live(keyOf(key), now);
      if (
        unless &&
        slot?.value.type === 'hash' &&
        Number(slot.value.fields[EXPIRY_FIELD]) > now &&
        slot.value.fields[unless.field] === unless.value
      ) {
        return false;
      }
      slots.set(keyOf(key), {
        value: { type: 'hash', fields: { ...fields, [EXPIRY_FIELD]: String(now + ttlMs) } },
        expiresAt: now + ttlMs,
      });
      return true;
    },

    async deleteRecord(key, _deadline, match) {
      const now = clock();
      const slot = live(keyOf(key), now);
      if (slot?.value.type !== 'hash') return false;
      if (Number(slot.value.fields[EXPIRY_FIELD]) <= now) {
        slots.delete(keyOf(key));
        return false;
      }
      if (match && slot.value.fields[match.field] !== match.value) return false;
      slots.delete(keyOf(key));
      return true;
    },

    async rememberOnce(key, fingerprint, ttlMs) {
      checkMember(fingerprint);
      checkTtl(ttlMs);
      const now = clock();
      const slot = live(keyOf(key), now);
      if (slot) {
        if (slot.value.type !== 'string') throw new TypeError(`${key} does not hold a remembered key`);
        return slot.value.fingerprint === fingerprint ? 'repeat' : 'reused';
      }
      slots.set(keyOf(key), { value: { type: 'string', fingerprint }, expiresAt: now + ttlMs });
      return 'first';
    },

    async deleteKey(key) {
      slots.delete(keyOf(key));
    },

    async close() {
      slots.clear();
    },
  };
}
