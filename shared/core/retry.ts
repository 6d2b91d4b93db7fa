import { UpstreamError } from '../errors.ts';

export interface RetryOptions {
  /** Epoch ms by which the last attempt must have finished. */
  deadline: number;
  /** First backoff ceiling; doubles per attempt up to `maxDelayMs` (full jitter below it). */
  baseDelayMs: number;
  maxDelayMs: number;
  /** An attempt is not started with less time than this left. */
  minAttemptMs: number;
  now?: () => number;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  onRetry?: (info: { attempt: number; code: string; delayMs: number }) => void;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `attempt` until it succeeds, fails for good, or the deadline leaves no room: exponential
 * backoff with full jitter, or exactly the pause the API asked for (`x-acs-retry-after`).
 * Only retryable UpstreamErrors are retried: each adapter maps its platform's failures to one.
 * `attempt` receives the time it may take, and the caller keeps the same clientToken across
 * attempts, so a retry after a lost response is a no-op upstream.
 */
export async function withRetries<T>(
  attempt: (timeLeftMs: number) => Promise<T>,
  options: RetryOptions,
): Promise<{ value: T; attempts: number }> {
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? defaultSleep;
  for (let n = 1; ; n++) {
    try {
      return { value: await attempt(Math.max(1, options.deadline - now())), attempts: n };
    } catch (error) {
      if (!(error instanceof UpstreamError) || !error.retryable) throw error;
      const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (n - 1));
      const delayMs = error.retryAfterMs ?? Math.floor(random() * ceiling);
      if (now() + delayMs + options.minAttemptMs > options.deadline) throw error;
      options.onRetry?.({ attempt: n, code: error.code, delayMs });
      await sleep(delayMs);
    }
  }
}
