import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmbeddedStore } from '../shared/state/embedded-store.ts';
import { createRedisStore } from '../shared/state/redis-store.ts';
import type { ClaimOptions, FlipEntry, RecordCondition, StateStore } from '../shared/state/store.ts';
import { findRedisServer, type RunningRedis, startRedis, warnRedisMissing } from './support/redis-server.ts';

/**
 * The state-store port's contract, run against both adapters: the embedded store and a real
 * redis-server (Debian's, started on a random free port). Time is a fake clock both adapters read,
 * so expiry is tested without waiting. A property at the end runs random sequences of operations
 * on both and requires the same answers, step for step.
 */

const bin = findRedisServer();
if (!bin) warnRedisMissing('THE STATE-STORE CONTRACT SUITE');

let redis: RunningRedis | undefined;
beforeAll(async () => {
  if (bin) redis = await startRedis(bin);
});
afterAll(() => redis?.stop());

const T0 = Date.UTC(2025, 0, 6, 3, 0, 0);
const MIN = 60_000;

interface Harness {
  store: StateStore;
  /** Moves the fake clock forward. */
  advance(ms: number): void;
  now(): number;
}

type Factory = (clock: () => number) => StateStore;

const factories: Array<[string, Factory]> = [
  ['embedded', (clock) => createEmbeddedStore({ clock, namespace: `t-${randomUUID()}` })],
  // Each store its own namespace: tests share one server and never see each other's keys.
  ['redis', (clock) => createRedisStore({ url: (redis as RunningRedis).url, clock, namespace: `t-${randomUUID()}` })],
];

const stores: StateStore[] = [];
afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
});

function harness(factory: Factory): Harness {
  let now = T0;
  const store = factory(() => now);
  stores.push(store);
  return { store, advance: (ms) => (now += ms), now: () => now };
}

const deadline = () => Date.now() + 5000;
const budget = (limit: number, extra: Partial<ClaimOptions> = {}): ClaimOptions => ({
  limit,
  windowMs: 10 * MIN,
  pendingMs: 40_000,
  enforce: true,
  ...extra,
});
const stop = (member: string): FlipEntry => ({ member, direction: 'stop' });
const resume = (member: string): FlipEntry => ({ member, direction: 'resume' });
const flap = { limit: 3, windowMs: 30 * MIN };

describe.each(factories)('Function: the %s state store', (name, factory) => {
  const skip = name === 'redis' && !bin;

  describe.skipIf(skip)('claim, commit, release (a sliding-window budget)', () => {
    it('grants up to the limit, then refuses and says when a unit frees up', async () => {
      const { store, advance } = harness(factory);
      for (const [i, token] of ['a', 'b', 'c'].entries()) {
        expect(await store.claim('budget', token, budget(3), deadline())).toEqual({
          granted: true,
          duplicate: false,
          count: i + 1,
        });
        await store.commit('budget', token, 10 * MIN, deadline());
        advance(MIN);
      }
      expect(await store.claim('budget', 'd', budget(3), deadline())).toEqual({
        granted: false,
        duplicate: false,
        count: 3,
        freesAt: T0 + 10 * MIN,
      });
    });

    it('never counts one member twice, pending or committed', async () => {
      const { store } = harness(factory);
      await store.claim('budget', 'a', budget(2), deadline());
      expect(await store.claim('budget', 'a', budget(2), deadline())).toMatchObject({
        granted: true,
        duplicate: true,
        count: 1,
      });
      await store.commit('budget', 'a', 10 * MIN, deadline());
      await store.commit('budget', 'a', 10 * MIN, deadline());
      expect(await store.claim('budget', 'a', budget(2), deadline())).toMatchObject({
        granted: true,
        duplicate: true,
        count: 1,
      });
      await store.claim('budget', 'b', budget(2), deadline());
      // At the limit, a member already counted is still granted: a retry of a change under way.
      expect(await store.claim('budget', 'b', budget(2), deadline())).toMatchObject({ granted: true, duplicate: true });
      expect(await store.claim('budget', 'c', budget(2), deadline())).toMatchObject({ granted: false });
    });

    it('releases a pending claim, never a committed one', async () => {
      const { store } = harness(factory);
      await store.claim('budget', 'a', budget(1), deadline());
      expect(await store.release('budget', 'a', deadline())).toBe(true);
      expect(await store.release('budget', 'a', deadline())).toBe(false);
      expect(await store.claim('budget', 'b', budget(1), deadline())).toMatchObject({ granted: true, count: 1 });
      await store.commit('budget', 'b', 10 * MIN, deadline());
      expect(await store.release('budget', 'b', deadline())).toBe(false);
      expect(await store.claim('budget', 'c', budget(1), deadline())).toMatchObject({ granted: false, count: 1 });
    });

    it('forgets a pending claim never settled (a crash) after pendingMs, and a committed one after the window', async () => {
      const { store, advance } = harness(factory);
      await store.claim('budget', 'crashed', budget(2), deadline());
      await store.claim('budget', 'done', budget(2), deadline());
      await store.commit('budget', 'done', 10 * MIN, deadline());
      advance(40_000 - 1);
      expect(await store.claim('budget', 'x', budget(2), deadline())).toMatchObject({ granted: false, count: 2 });
      advance(1);
      expect(await store.claim('budget', 'x', budget(2), deadline())).toMatchObject({ granted: true, count: 2 });
      await store.commit('budget', 'x', 10 * MIN, deadline());
      advance(10 * MIN - 40_000 - 1);
      expect(await store.claim('budget', 'y', budget(2), deadline())).toMatchObject({
        granted: false,
        freesAt: T0 + 10 * MIN,
      });
      advance(1);
      expect(await store.claim('budget', 'y', budget(2), deadline())).toMatchObject({ granted: true, count: 2 });
    });

    it('counts an unenforced claim past the limit, and the refusal waits for enough units to leave', async () => {
      const { store, advance } = harness(factory);
      for (const token of ['a', 'b', 'c', 'd']) {
        expect(await store.claim('budget', token, budget(2, { enforce: false }), deadline())).toMatchObject({
          granted: true,
        });
        await store.commit('budget', token, 10 * MIN, deadline());
        advance(MIN);
      }
      // 4 counted, limit 2: three must leave before one more fits; the third left at T0+2m+10m.
      expect(await store.claim('budget', 'e', budget(2), deadline())).toEqual({
        granted: false,
        duplicate: false,
        count: 4,
        freesAt: T0 + 12 * MIN,
      });
    });

    it('counts at commit time a member the window had forgotten', async () => {
      const { store, advance } = harness(factory);
      await store.claim('budget', 'slow', budget(2), deadline());
      advance(60_000);
      // Past pendingMs, the next claim forgets 'slow' as if its caller had crashed…
      expect(await store.claim('budget', 'other', budget(2), deadline())).toMatchObject({ granted: true, count: 1 });
      // …but its call did happen: committed, it counts again, from now.
      await store.commit('budget', 'slow', 10 * MIN, deadline());
      expect(await store.claim('budget', 'third', budget(2), deadline())).toMatchObject({
        granted: false,
        count: 2,
        freesAt: T0 + 60_000 + 10 * MIN,
      });
    });

    it('keeps budgets under different keys apart', async () => {
      const { store } = harness(factory);
      await store.claim('budget', 'a', budget(1), deadline());
      expect(await store.claim('other', 'a', budget(1), deadline())).toMatchObject({ granted: true, duplicate: false });
    });
  });

  describe.skipIf(skip)('admitFlip, dropFlip (the flap guard)', () => {
    it('counts changes of direction, and refuses at the limit until the oldest flip leaves the window', async () => {
      const { store, advance } = harness(factory);
      const entries = [stop('t1'), resume('t2'), stop('t3'), resume('t4')];
      for (const [i, entry] of entries.entries()) {
        expect(await store.admitFlip('flap:es-1', entry, flap, deadline())).toEqual({
          granted: true,
          duplicate: false,
          flips: i,
        });
        advance(MIN);
      }
      expect(await store.admitFlip('flap:es-1', stop('t5'), flap, deadline())).toEqual({
        granted: false,
        duplicate: false,
        flips: 3,
        clearsAt: T0 + 30 * MIN,
      });
      advance(30 * MIN - 4 * MIN);
      expect(await store.admitFlip('flap:es-1', stop('t5'), flap, deadline())).toMatchObject({
        granted: true,
        flips: 3,
      });
    });

    it('does not count the same direction twice as a flip, and clears when enough flips have left', async () => {
      const { store, advance } = harness(factory);
      const entries = [stop('a'), stop('b'), resume('c'), stop('d'), resume('e')];
      for (const entry of entries) {
        await store.admitFlip('flap:es-2', entry, { limit: 4, windowMs: 30 * MIN }, deadline());
        advance(MIN);
      }
      // s s r s r: 3 flips; at limit 2 the flips must fall to 1, once s(b) and r(c) have left.
      expect(await store.admitFlip('flap:es-2', stop('f'), { limit: 2, windowMs: 30 * MIN }, deadline())).toEqual({
        granted: false,
        duplicate: false,
        flips: 3,
        clearsAt: T0 + 2 * MIN + 30 * MIN,
      });
    });

    it('admits a retry again without a second entry, and forgets a dropped one', async () => {
      const { store } = harness(factory);
      await store.admitFlip('flap:es-3', stop('a'), flap, deadline());
      expect(await store.admitFlip('flap:es-3', stop('a'), flap, deadline())).toEqual({
        granted: true,
        duplicate: true,
        flips: 0,
      });
      expect(await store.admitFlip('flap:es-3', resume('b'), flap, deadline())).toMatchObject({ flips: 1 });
      expect(await store.dropFlip('flap:es-3', resume('b'), flap.windowMs, deadline())).toBe(true);
      expect(await store.dropFlip('flap:es-3', resume('b'), flap.windowMs, deadline())).toBe(false);
      expect(await store.admitFlip('flap:es-3', stop('c'), flap, deadline())).toMatchObject({ flips: 0 });
    });

    it('admits only while a required record holds what the caller read, in the same step', async () => {
      const { store, advance } = harness(factory);
      const onlyIf = { key: 'own:es-6', fields: { by: 'alert', clientToken: 'tok-a' } };
      // No record: nothing admitted, and the answer says why (not the limit).
      expect(await store.admitFlip('flap:es-6', resume('r1'), flap, deadline(), onlyIf)).toEqual({
        granted: false,
        duplicate: false,
        flips: 0,
        unmet: true,
      });
      await store.putRecord('own:es-6', { by: 'alert', clientToken: 'tok-a', at: 'x' }, 10_000, deadline());
      await store.admitFlip('flap:es-6', stop('s1'), flap, deadline());
      advance(1000);
      expect(await store.admitFlip('flap:es-6', resume('r1'), flap, deadline(), onlyIf)).toEqual({
        granted: true,
        duplicate: false,
        flips: 1,
      });
      // Replaced by a person's record: neither a new action nor a retry of the admitted one gets through.
      await store.putRecord('own:es-6', { by: 'person', clientToken: 'tok-p' }, 10_000, deadline());
      for (const entry of [resume('r1'), resume('r2')]) {
        expect(await store.admitFlip('flap:es-6', entry, flap, deadline(), onlyIf)).toEqual({
          granted: false,
          duplicate: false,
          flips: 1,
          unmet: true,
        });
      }
      // One field differs (same token, another author): unmet; an expired record holds nothing.
      await store.putRecord('own:es-6', { by: 'person', clientToken: 'tok-a' }, 10_000, deadline());
      expect(await store.admitFlip('flap:es-6', resume('r2'), flap, deadline(), onlyIf)).toMatchObject({ unmet: true });
      await store.putRecord('own:es-6', { by: 'alert', clientToken: 'tok-a' }, 10_000, deadline());
      advance(10_000);
      expect(await store.admitFlip('flap:es-6', resume('r2'), flap, deadline(), onlyIf)).toMatchObject({ unmet: true });
      // The refused ones left no entry: an unconditional stop flips once, after r1 only.
      expect(await store.admitFlip('flap:es-6', stop('s2'), flap, deadline())).toMatchObject({
        granted: true,
        flips: 2,
      });
    });

    it('checks the condition before the limit: a flapping instance whose record changed is unmet', async () => {
      const { store, advance } = harness(factory);
      for (const entry of [stop('a'), resume('b'), stop('c'), resume('d')]) {
        await store.admitFlip('flap:es-7', entry, flap, deadline());
        advance(1000);
      }
      await store.putRecord('own:es-7', { by: 'alert', clientToken: 'tok-a' }, 10_000, deadline());
      const onlyIf = (token: string) => ({ key: 'own:es-7', fields: { clientToken: token } });
      expect(await store.admitFlip('flap:es-7', stop('e'), flap, deadline(), onlyIf('tok-b'))).toEqual({
        granted: false,
        duplicate: false,
        flips: 3,
        unmet: true,
      });
      expect(await store.admitFlip('flap:es-7', stop('e'), flap, deadline(), onlyIf('tok-a'))).toMatchObject({
        granted: false,
        clearsAt: expect.any(Number),
      });
    });

    it('starts over when the key is deleted (a person acted)', async () => {
      const { store, advance } = harness(factory);
      for (const entry of [stop('a'), resume('b'), stop('c'), resume('d')]) {
        await store.admitFlip('flap:es-4', entry, flap, deadline());
        advance(1000);
      }
      expect(await store.admitFlip('flap:es-4', stop('e'), flap, deadline())).toMatchObject({ granted: false });
      await store.deleteKey('flap:es-4', deadline());
      expect(await store.admitFlip('flap:es-4', stop('e'), flap, deadline())).toMatchObject({
        granted: true,
        flips: 0,
      });
    });

    it('orders actions of the same millisecond by member, on both adapters', async () => {
      const { store } = harness(factory);
      // Stored as s:a, r:b, s:c, r:d at one time: sorted r:b, r:d, s:a, s:c, a single flip.
      for (const entry of [stop('a'), resume('b'), stop('c')])
        await store.admitFlip('flap:es-5', entry, flap, deadline());
      expect(await store.admitFlip('flap:es-5', resume('d'), flap, deadline())).toMatchObject({
        granted: true,
        flips: 1,
      });
    });
  });

  describe.skipIf(skip)('records', () => {
    it('stores, replaces and expires a record', async () => {
      const { store, advance } = harness(factory);
      await store.putRecord('own:es-1', { by: 'alert', clientToken: 'tok-1', extra: 'x' }, 10_000, deadline());
      expect(await store.getRecord('own:es-1', deadline())).toEqual({ by: 'alert', clientToken: 'tok-1', extra: 'x' });
      await store.putRecord('own:es-1', { by: 'person', clientToken: 'tok-2' }, 10_000, deadline());
      expect(await store.getRecord('own:es-1', deadline())).toEqual({ by: 'person', clientToken: 'tok-2' });
      advance(10_000);
      expect(await store.getRecord('own:es-1', deadline())).toBeUndefined();
      expect(await store.getRecord('own:never', deadline())).toBeUndefined();
    });

    it('does not replace a live record holding what the caller must not overwrite; an expired one it does', async () => {
      const { store, advance } = harness(factory);
      const unless = { field: 'by', value: 'person' };
      await store.putRecord('own:es-3', { by: 'person', clientToken: 'tok-p' }, 10_000, deadline());
      expect(await store.putRecord('own:es-3', { by: 'alert', clientToken: 'tok-a' }, 10_000, deadline(), unless)).toBe(
        false,
      );
      expect(await store.getRecord('own:es-3', deadline())).toEqual({ by: 'person', clientToken: 'tok-p' });
      advance(10_000);
      expect(await store.putRecord('own:es-3', { by: 'alert', clientToken: 'tok-a' }, 10_000, deadline(), unless)).toBe(
        true,
      );
      expect(await store.getRecord('own:es-3', deadline())).toEqual({ by: 'alert', clientToken: 'tok-a' });
    });

    it('deletes a record only when it holds what the caller saw', async () => {
      const { store, advance } = harness(factory);
      await store.putRecord('own:es-2', { clientToken: 'tok-1' }, 10_000, deadline());
      expect(await store.deleteRecord('own:es-2', deadline(), { field: 'clientToken', value: 'tok-0' })).toBe(false);
      expect(await store.getRecord('own:es-2', deadline())).toEqual({ clientToken: 'tok-1' });
      expect(await store.deleteRecord('own:es-2', deadline(), { field: 'clientToken', value: 'tok-1' })).toBe(true);
      expect(await store.deleteRecord('own:es-2', deadline())).toBe(false);
      await store.putRecord('own:es-2', { clientToken: 'tok-3' }, 10_000, deadline());
      expect(await store.deleteRecord('own:es-2', deadline())).toBe(true);
      await store.putRecord('own:es-2', { clientToken: 'tok-4' }, 10_000, deadline());
      advance(10_000);
      expect(await store.deleteRecord('own:es-2', deadline())).toBe(false);
      await store.putRecord('own:es-2', { clientToken: 'tok-5' }, 10_000, deadline());
      await store.deleteKey('own:es-2', deadline());
      expect(await store.getRecord('own:es-2', deadline())).toBeUndefined();
    });
  });

  describe.skipIf(skip)('rememberOnce (a credential accepted once)', () => {
    it('remembers a key with its first fingerprint: the same one again is a repeat, another a reuse', async () => {
      const { store } = harness(factory);
      expect(await store.rememberOnce('pair:k1', 'body-a', 10_000, deadline())).toBe('first');
      expect(await store.rememberOnce('pair:k1', 'body-a', 10_000, deadline())).toBe('repeat');
      expect(await store.rememberOnce('pair:k1', 'body-b', 10_000, deadline())).toBe('reused');
      // The reuse did not replace what the key was first remembered with.
      expect(await store.rememberOnce('pair:k1', 'body-a', 10_000, deadline())).toBe('repeat');
      expect(await store.rememberOnce('pair:k2', 'body-b', 10_000, deadline())).toBe('first');
    });

    it('keeps a key for ttlMs from its first time (a repeat or reuse does not extend it), then forgets it', async () => {
      const { store, advance } = harness(factory);
      await store.rememberOnce('pair:k3', 'body-a', 10_000, deadline());
      advance(9_999);
      expect(await store.rememberOnce('pair:k3', 'body-b', 10_000, deadline())).toBe('reused');
      advance(1);
      expect(await store.rememberOnce('pair:k3', 'body-b', 10_000, deadline())).toBe('first');
      expect(await store.rememberOnce('pair:k3', 'body-a', 10_000, deadline())).toBe('reused');
    });

    it('starts over when the key is deleted', async () => {
      const { store } = harness(factory);
      await store.rememberOnce('pair:k4', 'body-a', 10_000, deadline());
      await store.deleteKey('pair:k4', deadline());
      expect(await store.rememberOnce('pair:k4', 'body-b', 10_000, deadline())).toBe('first');
    });
  });

  describe.skipIf(skip)('peekClaim, peekFlip (read-only previews)', () => {
    it('peekClaim answers what claim would, and writes nothing', async () => {
      const { store, advance } = harness(factory);
      const expectSame = async (member: string, options: ClaimOptions) => {
        const peeked = await store.peekClaim('budget', member, options, deadline());
        expect(await store.peekClaim('budget', member, options, deadline())).toEqual(peeked);
        expect(await store.claim('budget', member, options, deadline())).toEqual(peeked);
      };
      await expectSame('a', budget(2));
      await store.commit('budget', 'a', 10 * MIN, deadline());
      advance(MIN);
      await expectSame('a', budget(2)); // a retry: duplicate
      await expectSame('b', budget(2)); // granted, stays pending
      await expectSame('c', budget(2)); // refused, with when a unit frees up
      await expectSame('c', budget(2, { enforce: false })); // a person's: counted past the limit
      // 'b' and 'c' were never settled: past pendingMs they are forgotten, in the preview too.
      advance(40_000);
      await expectSame('d', budget(2));
      advance(10 * MIN);
      await expectSame('e', budget(2)); // 'a' left the window
    });

    it('peekClaim counts `ahead` members as claimed first, at now', async () => {
      const { store, advance } = harness(factory);
      for (const token of ['a', 'b']) {
        await store.claim('budget', token, budget(4), deadline());
        await store.commit('budget', token, 10 * MIN, deadline());
        advance(MIN);
      }
      const peek = (member: string, ahead: number, limit = 4) =>
        store.peekClaim('budget', member, { ...budget(limit), ahead }, deadline());
      expect(await peek('x', 1)).toEqual({ granted: true, duplicate: false, count: 4 });
      expect(await peek('a', 3)).toEqual({ granted: true, duplicate: true, count: 5 });
      // Refused: the unit that must leave is one of ours (T0), or one claimed ahead (now).
      expect(await peek('x', 2)).toEqual({ granted: false, duplicate: false, count: 4, freesAt: T0 + 10 * MIN });
      expect(await peek('x', 3, 2)).toEqual({
        granted: false,
        duplicate: false,
        count: 5,
        freesAt: T0 + 2 * MIN + 10 * MIN,
      });
      // The same, claimed for real: three others first, then the peeked member.
      for (const token of ['p', 'q', 'r'])
        await store.claim('budget', token, budget(2, { enforce: false }), deadline());
      expect(await store.claim('budget', 'x', budget(2), deadline())).toEqual(await peek('x', 0, 2));
      expect(await peek('x', 0, 2)).toMatchObject({ freesAt: T0 + 2 * MIN + 10 * MIN });
    });

    it('peekFlip answers what admitFlip would, conditions and ties included, and writes nothing', async () => {
      const { store, advance } = harness(factory);
      const expectSame = async (entry: FlipEntry, options = flap, onlyIf?: RecordCondition) => {
        const peeked = await store.peekFlip('flap:es-8', entry, options, deadline(), onlyIf);
        expect(await store.peekFlip('flap:es-8', entry, options, deadline(), onlyIf)).toEqual(peeked);
        expect(await store.admitFlip('flap:es-8', entry, options, deadline(), onlyIf)).toEqual(peeked);
        return peeked;
      };
      // Same millisecond: placed among the others by member, as the sorted set orders them.
      for (const entry of [stop('b'), resume('a'), stop('d'), resume('c')]) await expectSame(entry);
      advance(MIN);
      expect(await expectSame(stop('b'))).toMatchObject({ duplicate: true });
      const onlyIf = { key: 'own:es-8', fields: { clientToken: 'tok-a' } };
      expect(await expectSame(stop('e'), flap, onlyIf)).toMatchObject({ unmet: true });
      await store.putRecord('own:es-8', { clientToken: 'tok-a' }, 10_000, deadline());
      await expectSame(stop('e'), flap, onlyIf);
      // r:a r:c s:b s:d s:e, then r:f and s:g: three flips, and the next is refused.
      advance(MIN);
      expect(await expectSame(resume('f'))).toMatchObject({ granted: true, flips: 2 });
      expect(await expectSame(stop('g'))).toMatchObject({ granted: true, flips: 3 });
      expect(await expectSame(resume('h'))).toEqual({
        granted: false,
        duplicate: false,
        flips: 3,
        clearsAt: T0 + 30 * MIN,
      });
      advance(29 * MIN);
      expect(await expectSame(resume('h'))).toMatchObject({ granted: true, flips: 2 }); // left: r:f s:g
    });

    it('getRecord leaves a record past its expiry to its TTL, and answers it absent', async () => {
      const { store, advance } = harness(factory);
      await store.putRecord('own:es-9', { by: 'alert', clientToken: 'tok-1' }, 10_000, deadline());
      advance(10_000);
      expect(await store.getRecord('own:es-9', deadline())).toBeUndefined();
      expect(await store.deleteRecord('own:es-9', deadline())).toBe(false);
    });
  });

  describe.skipIf(skip)('programmer errors', () => {
    it.each([
      ['an empty member', (s: StateStore) => s.claim('budget', '', budget(1), deadline())],
      ['a member with a space', (s: StateStore) => s.claim('budget', 'a b', budget(1), deadline())],
      ['a zero limit', (s: StateStore) => s.claim('budget', 'a', budget(0), deadline())],
      ['a key outside the pattern', (s: StateStore) => s.getRecord('own:{x}', deadline())],
      ['the reserved expiry field', (s: StateStore) => s.putRecord('own:x', { _expiresAt: '1' }, 1000, deadline())],
      ['a zero TTL', (s: StateStore) => s.putRecord('own:x', { a: '1' }, 0, deadline())],
      [
        'a condition naming no field',
        (s: StateStore) => s.admitFlip('flap:x', stop('a'), flap, deadline(), { key: 'own:x', fields: {} }),
      ],
      [
        'a condition on the expiry field',
        (s: StateStore) =>
          s.admitFlip('flap:x', stop('a'), flap, deadline(), { key: 'own:x', fields: { _expiresAt: '1' } }),
      ],
      ['a fingerprint with a space', (s: StateStore) => s.rememberOnce('pair:x', 'a b', 1000, deadline())],
      ['a fractional TTL', (s: StateStore) => s.rememberOnce('pair:x', 'a', 1.5, deadline())],
    ])('rejects %s with a TypeError', async (_, call) => {
      const { store } = harness(factory);
      await expect(call(store)).rejects.toBeInstanceOf(TypeError);
    });
  });
});

/** One operation of the equivalence property. */
type Op =
  | { op: 'claim'; member: string; limit: number; enforce: boolean }
  | { op: 'commit'; member: string }
  | { op: 'release'; member: string }
  | { op: 'admitFlip'; member: string; direction: 'stop' | 'resume'; limit: number }
  | { op: 'dropFlip'; member: string; direction: 'stop' | 'resume' }
  | { op: 'admitFlipIf'; member: string; direction: 'stop' | 'resume'; token: string }
  | { op: 'peekClaim'; member: string; limit: number; enforce: boolean; ahead: number }
  | { op: 'peekFlip'; member: string; direction: 'stop' | 'resume'; limit: number }
  | { op: 'peekFlipIf'; member: string; direction: 'stop' | 'resume'; token: string }
  | { op: 'put'; token: string }
  | { op: 'get' }
  | { op: 'once'; fingerprint: string }
  | { op: 'deleteIf'; token: string }
  | { op: 'reset' }
  | { op: 'advance'; ms: number };

const member = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f');
const direction = fc.constantFrom<'stop' | 'resume'>('stop', 'resume');
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constant('claim' as const),
    member,
    limit: fc.integer({ min: 1, max: 4 }),
    enforce: fc.boolean(),
  }),
  fc.record({ op: fc.constant('commit' as const), member }),
  fc.record({ op: fc.constant('release' as const), member }),
  fc.record({ op: fc.constant('admitFlip' as const), member, direction, limit: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ op: fc.constant('dropFlip' as const), member, direction }),
  fc.record({ op: fc.constant('admitFlipIf' as const), member, direction, token: member }),
  fc.record({
    op: fc.constant('peekClaim' as const),
    member,
    limit: fc.integer({ min: 1, max: 4 }),
    enforce: fc.boolean(),
    ahead: fc.integer({ min: 0, max: 3 }),
  }),
  fc.record({ op: fc.constant('peekFlip' as const), member, direction, limit: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ op: fc.constant('peekFlipIf' as const), member, direction, token: member }),
  fc.record({ op: fc.constant('put' as const), token: member }),
  fc.record({ op: fc.constant('get' as const) }),
  fc.record({ op: fc.constant('once' as const), fingerprint: member }),
  fc.record({ op: fc.constant('deleteIf' as const), token: member }),
  fc.record({ op: fc.constant('reset' as const) }),
  // Steps around the windows (10 s pending, 60 s window, 30 s flap window and remembered key, 45 s record TTL), ties included.
  fc.record({
    op: fc.constant('advance' as const),
    ms: fc.constantFrom(0, 1, 999, 5_000, 10_000, 29_999, 30_000, 60_000),
  }),
);

async function apply(store: StateStore, op: Op): Promise<unknown> {
  const d = deadline();
  switch (op.op) {
    case 'claim':
      return store.claim(
        'b',
        op.member,
        { limit: op.limit, windowMs: 60_000, pendingMs: 10_000, enforce: op.enforce },
        d,
      );
    case 'commit':
      return store.commit('b', op.member, 60_000, d);
    case 'release':
      return store.release('b', op.member, d);
    case 'admitFlip':
      return store.admitFlip(
        'f',
        { member: op.member, direction: op.direction },
        { limit: op.limit, windowMs: 30_000 },
        d,
      );
    case 'admitFlipIf':
      return store.admitFlip('f', { member: op.member, direction: op.direction }, { limit: 2, windowMs: 30_000 }, d, {
        key: 'r',
        fields: { clientToken: op.token },
      });
    case 'dropFlip':
      return store.dropFlip('f', { member: op.member, direction: op.direction }, 30_000, d);
    case 'peekClaim':
      return store.peekClaim(
        'b',
        op.member,
        { limit: op.limit, windowMs: 60_000, pendingMs: 10_000, enforce: op.enforce, ahead: op.ahead },
        d,
      );
    case 'peekFlip':
      return store.peekFlip(
        'f',
        { member: op.member, direction: op.direction },
        { limit: op.limit, windowMs: 30_000 },
        d,
      );
    case 'peekFlipIf':
      return store.peekFlip('f', { member: op.member, direction: op.direction }, { limit: 2, windowMs: 30_000 }, d, {
        key: 'r',
        fields: { clientToken: op.token },
      });
    case 'put':
      return store.putRecord('r', { clientToken: op.token }, 45_000, d);
    case 'get':
      return store.getRecord('r', d);
    case 'once':
      return store.rememberOnce('o', op.fingerprint, 30_000, d);
    case 'deleteIf':
      return store.deleteRecord('r', d, { field: 'clientToken', value: op.token });
    case 'reset':
      return store.deleteKey('f', d);
    case 'advance':
      return undefined;
  }
}

describe.skipIf(!bin)('Function: the embedded and Redis stores, side by side', () => {
  it('answer every sequence of operations alike (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 40 }), async (ops) => {
        const embedded = harness(factories[0]?.[1] as Factory);
        const redisStore = harness(factories[1]?.[1] as Factory);
        for (const op of ops) {
          if (op.op === 'advance') {
            embedded.advance(op.ms);
            redisStore.advance(op.ms);
            continue;
          }
          const [a, b] = [await apply(embedded.store, op), await apply(redisStore.store, op)];
          expect(b, JSON.stringify(op)).toEqual(a);
        }
        await Promise.all([embedded.store.close(), redisStore.store.close()]);
      }),
      { numRuns: 40 },
    );
  });
});

/** The peek that foretells an operation's answer, when it has one. */
function peekOf(op: Op): Op | undefined {
  if (op.op === 'claim') return { ...op, op: 'peekClaim', ahead: 0 };
  if (op.op === 'admitFlip') return { ...op, op: 'peekFlip' };
  if (op.op === 'admitFlipIf') return { ...op, op: 'peekFlipIf' };
  return undefined;
}

const isPeek = (op: Op) => op.op.startsWith('peek');

describe.each(factories)("Function: the %s store's peeks", (name, factory) => {
  it.skipIf(name === 'redis' && !bin)(
    'foretell the claim or admission that follows, and change no later answer (property)',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 40 }), async (ops) => {
          const plain = harness(factory);
          const peeked = harness(factory);
          for (const op of ops) {
            if (op.op === 'advance') {
              plain.advance(op.ms);
              peeked.advance(op.ms);
              continue;
            }
            // `peeked` sees every peek, and one before each claim or admission; `plain` none.
            const foretold = peekOf(op);
            const told = foretold && (await apply(peeked.store, foretold));
            const answer = await apply(peeked.store, op);
            if (foretold) expect(answer, JSON.stringify(op)).toEqual(told);
            if (!isPeek(op)) expect(answer, JSON.stringify(op)).toEqual(await apply(plain.store, op));
          }
          await Promise.all([plain.store.close(), peeked.store.close()]);
        }),
        { numRuns: 40 },
      );
    },
  );
});
