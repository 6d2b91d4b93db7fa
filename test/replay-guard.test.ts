import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createReplayGuard } from '../shared/auth/replay-guard.ts';

describe('Function: createReplayGuard', () => {
  it('accepts a key once per body: the same body again is a repeat, another body is a reuse', () => {
    const guard = createReplayGuard({ maxEntries: 10 });
    expect(guard.check('ts:sign', 'body-a', 2000, 1000)).toBe('first');
    expect(guard.check('ts:sign', 'body-a', 2000, 1500)).toBe('repeat');
    expect(guard.check('ts:sign', 'body-b', 2000, 1500)).toBe('reused');
    // The reuse did not replace what the key was first seen with.
    expect(guard.check('ts:sign', 'body-a', 2000, 1999)).toBe('repeat');
    expect(guard.check('other', 'body-b', 2000, 1999)).toBe('first');
  });

  it('forgets a key once its window has closed', () => {
    const guard = createReplayGuard({ maxEntries: 10 });
    guard.check('k', 'a', 2000, 1000);
    expect(guard.check('k', 'b', 2000, 2000)).toBe('first');
    expect(guard.size).toBe(1);
  });

  it('is bounded: expired keys make room, live ones are never forgotten (refused instead)', () => {
    const guard = createReplayGuard({ maxEntries: 3 });
    for (const key of ['a', 'b', 'c']) expect(guard.check(key, 'x', 5000, 1000)).toBe('first');
    expect(guard.check('d', 'x', 5000, 1000)).toBe('full');
    // Still remembered, so still refused with another body.
    expect(guard.check('a', 'other', 5000, 1000)).toBe('reused');
    expect(guard.size).toBe(3);
    // Once their windows close, the slots are free again.
    expect(guard.check('d', 'x', 9000, 5000)).toBe('first');
    expect(guard.size).toBe(1);
  });

  it('drops expired keys out of arrival order too (a sweep when full)', () => {
    const guard = createReplayGuard({ maxEntries: 2 });
    guard.check('long', 'x', 10_000, 0);
    guard.check('short', 'x', 100, 0);
    expect(guard.check('next', 'x', 10_000, 200)).toBe('first');
    expect(guard.check('long', 'y', 10_000, 200)).toBe('reused');
  });

  it('never holds more than maxEntries keys, and never takes a live key with another body (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.array(
          fc.record({ key: fc.integer({ min: 0, max: 12 }), body: fc.integer({ min: 0, max: 2 }), dt: fc.nat(50) }),
          {
            maxLength: 200,
          },
        ),
        (maxEntries, steps) => {
          const guard = createReplayGuard({ maxEntries });
          const accepted = new Map<number, { body: number; until: number }>();
          let now = 0;
          for (const step of steps) {
            now += step.dt;
            const verdict = guard.check(String(step.key), String(step.body), now + 100, now);
            expect(guard.size).toBeLessThanOrEqual(maxEntries);
            const live = accepted.get(step.key);
            if (live && live.until > now) {
              expect(verdict).toBe(live.body === step.body ? 'repeat' : 'reused');
            } else if (verdict === 'first') {
              accepted.set(step.key, { body: step.body, until: now + 100 });
            } else {
              expect(verdict).toBe('full');
            }
          }
        },
      ),
    );
  });

  it('refuses a nonsensical bound', () => {
    expect(() => createReplayGuard({ maxEntries: 0 })).toThrow(TypeError);
  });
});
