import { describe, expect, it } from 'vitest';
import { withRetries } from '../shared/core/retry.ts';
import { ApiError } from '../shared/elasticsearch/api-error.ts';

const retryable = (code = 'Throttling.User', retryAfterMs?: number) =>
  new ApiError({ code, message: code, retryable: true, retryAfterMs });
const final = new ApiError({ code: 'InstanceNotFound', message: 'gone', retryable: false });

/** A fake clock: sleeping advances it, so the test runs instantly and deterministically. */
function clock(start = 1_000_000) {
  let t = start;
  const sleeps: number[] = [];
  return {
    now: () => t,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      t += ms;
    },
    sleeps,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

describe('Function: withRetries', () => {
  it('retries retryable errors with exponential backoff and full jitter, then succeeds', async () => {
    const c = clock();
    const failures = [retryable(), retryable('ServiceUnavailable'), retryable('ConnectionLost')];
    const result = await withRetries(
      async () => {
        const next = failures.shift();
        if (next) throw next;
        return 'done';
      },
      {
        deadline: c.now() + 10_000,
        baseDelayMs: 100,
        maxDelayMs: 1000,
        minAttemptMs: 10,
        now: c.now,
        sleep: c.sleep,
        random: () => 0.5,
      },
    );
    expect(result).toEqual({ value: 'done', attempts: 4 });
    expect(c.sleeps).toEqual([50, 100, 200]);
  });

  it('caps the backoff ceiling', async () => {
    const c = clock();
    let n = 0;
    await withRetries(
      async () => {
        if (n++ < 6) throw retryable();
        return n;
      },
      {
        deadline: c.now() + 60_000,
        baseDelayMs: 100,
        maxDelayMs: 400,
        minAttemptMs: 10,
        now: c.now,
        sleep: c.sleep,
        random: () => 0.999,
      },
    );
    expect(c.sleeps).toEqual([99, 199, 399, 399, 399, 399]);
  });

  it('waits exactly what x-acs-retry-after asks for', async () => {
    const c = clock();
    let first = true;
    await withRetries(
      async () => {
        if (first) {
          first = false;
          throw retryable('Throttling.User', 750);
        }
        return 1;
      },
      { deadline: c.now() + 5_000, baseDelayMs: 100, maxDelayMs: 1000, minAttemptMs: 10, now: c.now, sleep: c.sleep },
    );
    expect(c.sleeps).toEqual([750]);
  });

  it('never retries an error a retry cannot fix', async () => {
    const c = clock();
    let calls = 0;
    await expect(
      withRetries(
        async () => {
          calls++;
          throw final;
        },
        { deadline: c.now() + 5_000, baseDelayMs: 100, maxDelayMs: 1000, minAttemptMs: 10, now: c.now, sleep: c.sleep },
      ),
    ).rejects.toBe(final);
    expect(calls).toBe(1);
  });

  it('gives up with the last error when the deadline leaves no room for another attempt', async () => {
    const c = clock();
    let calls = 0;
    const error = await withRetries(
      async () => {
        calls++;
        c.advance(400);
        throw retryable();
      },
      {
        deadline: c.now() + 1_000,
        baseDelayMs: 100,
        maxDelayMs: 1000,
        minAttemptMs: 200,
        now: c.now,
        sleep: c.sleep,
        random: () => 1,
      },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(calls).toBe(2);
    expect(c.now()).toBeLessThanOrEqual(1_000_000 + 1_000);
  });

  it('gives each attempt the time left, no more', async () => {
    const c = clock();
    const offered: number[] = [];
    await withRetries(
      async (timeLeft) => {
        offered.push(timeLeft);
        c.advance(300);
        if (offered.length < 2) throw retryable();
        return 1;
      },
      {
        deadline: c.now() + 1_000,
        baseDelayMs: 100,
        maxDelayMs: 100,
        minAttemptMs: 10,
        now: c.now,
        sleep: c.sleep,
        random: () => 1,
      },
    );
    expect(offered).toEqual([1000, 600]);
  });

  it('rethrows what is not an ApiError untouched', async () => {
    const bug = new TypeError('bug');
    await expect(
      withRetries(
        async () => {
          throw bug;
        },
        { deadline: Date.now() + 1000, baseDelayMs: 1, maxDelayMs: 1, minAttemptMs: 1 },
      ),
    ).rejects.toBe(bug);
  });
});
