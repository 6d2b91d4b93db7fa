import { upstreamStatus } from '../errors.ts';
import { isRetryableRefusal, refusalStatus } from './refusal.ts';
import type { Requester } from './target.ts';

export type Outcome = 'applied' | 'already' | 'dry-run' | 'accepted' | 'failed' | 'refused';

/** An API call as a dry run reports it (the adapter's call adds where it goes). */
export interface ReportedCall {
  operation: string;
  method: 'GET' | 'POST';
  path: string;
  query: Record<string, string>;
}

/** What happened to one target; the contract's response shape plus what helps an operator. */
export interface TargetResult {
  instanceId: string;
  regionId?: string | undefined;
  clientToken?: string | undefined;
  outcome: Outcome;
  code?: string | undefined;
  message?: string | undefined;
  requestId?: string | undefined;
  /** On `failed`: whether the sender's retry (same token) can still succeed. */
  retryable?: boolean | undefined;
  /** On `dry-run`: the exact call that would have been made. */
  call?: ReportedCall | undefined;
}

/** Who asked for a chat command, for the reply and the audit trail. */
export interface RequestedBy {
  userId?: string | undefined;
  userName?: string | undefined;
  placeId?: string | undefined;
  placeName?: string | undefined;
}

/** Who asked, as replies and log lines name them. */
export function requestedBy(requester: Requester): RequestedBy {
  return {
    userId: requester.userIds[0],
    userName: requester.userName,
    placeId: requester.placeId,
    placeName: requester.placeName,
  };
}

export interface ResponseBody {
  function: string;
  operation: string;
  source: string;
  dryRun: boolean;
  /** One sentence for people: what was done and why. */
  summary: string;
  results: TargetResult[];
  /** What the source passed over and why. */
  notes?: string[] | undefined;
  /** Why the request was refused as a whole; a 404 also lists the functions or sources that exist. */
  error?: { code: string; message: string; functions?: readonly string[]; sources?: readonly string[] } | undefined;
  /** Chat commands: who asked (their platform's user ID and name) and where. */
  requestedBy?: RequestedBy | undefined;
}

/**
 * The status follows what the sender's retry can change: 5xx when a retry can help (503 for
 * throttling, time-outs and a guardrails' store that did not answer, 502 for upstream faults and
 * lost responses), even beside applied results (a retry repeats those as no-ops: same tokens), 4xx
 * when every target was refused, 202 when work was handed off, 200 when nothing is left to retry.
 */
export function statusFor(results: readonly TargetResult[]): number {
  const retryable = [
    ...results.filter((r) => r.outcome === 'failed' && r.retryable).map((r) => upstreamStatus(r.code ?? '')),
    ...results.filter((r) => r.outcome === 'refused' && isRetryableRefusal(r.code)).map((r) => refusalStatus(r.code)),
  ];
  if (retryable.length > 0) return Math.max(...retryable);
  if (results.length > 0 && results.every((r) => r.outcome === 'refused')) {
    return Math.max(...results.map((r) => refusalStatus(r.code)));
  }
  // Handed off: the work is under way, not done.
  if (results.some((r) => r.outcome === 'accepted')) return 202;
  return 200;
}

export function summarize(results: readonly TargetResult[]): string {
  if (results.length === 0) return 'the event names no target; nothing was done';
  const counts = new Map<Outcome, number>();
  for (const r of results) counts.set(r.outcome, (counts.get(r.outcome) ?? 0) + 1);
  return [...counts.entries()].map(([outcome, n]) => `${n} ${outcome}`).join(', ');
}

/**
 * A dry run's summary says that nothing it reports was done: its `dry-run` results are the calls a
 * real run would make, its refusals those a real run would make now (the guardrails' included).
 */
export const dryRunSummary = (summary: string, dryRun: boolean): string =>
  dryRun ? `${summary} (DRY_RUN: nothing was called; this is what a real run would do now)` : summary;
