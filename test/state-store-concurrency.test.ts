import { randomUUID } from 'node:crypto';
import { createClient } from '@redis/client';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GuardRequest } from '../shared/guardrails/guardrails.ts';
import type { ClaimOptions } from '../shared/state/store.ts';
import { type IpcWorker, startIpcWorker } from './support/ipc-worker.ts';
import { findRedisServer, type RunningRedis, startRedis, warnRedisMissing } from './support/redis-server.ts';
import type { WorkerReply, WorkerRequest } from './support/store-worker.ts';

const startStoreWorker = (url: string) =>
  startIpcWorker<WorkerRequest, WorkerReply>('test/support/store-worker.ts', [url]);

/**
 * Separate processes, each with its own connection, against one real redis-server, as separate
 * function instances (of the five functions) are against one Tair instance: however their claims
 * interleave, the fleet budget is never exceeded and no clientToken is counted twice. And what one
 * process records (an interruption of ours) another, started later, reads.
 */

const bin = findRedisServer();
if (!bin) warnRedisMissing('THE CROSS-PROCESS CONCURRENCY TESTS');

const WORKERS = 4;
let redis: RunningRedis;
let workers: IpcWorker<WorkerRequest, WorkerReply>[] = [];

beforeAll(async () => {
  if (!bin) return;
  redis = await startRedis(bin);
  workers = Array.from({ length: WORKERS }, () => startStoreWorker(redis.url));
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.close()));
  await redis?.stop();
});

type Claimed = Extract<WorkerReply, { kind: 'claimed' }>['results'];

/** Every worker sends its batch at once, after all are connected. */
async function claimTogether(namespace: string, batches: string[][], options: ClaimOptions): Promise<Claimed> {
  await Promise.all(batches.map((tokens, i) => workers[i]?.send({ kind: 'prepare', namespace, tokens, options })));
  const replies = await Promise.all(batches.map((_, i) => workers[i]?.send({ kind: 'go' })));
  return replies.flatMap((reply) => (reply?.kind === 'claimed' ? reply.results : []));
}

async function countedIn(namespace: string): Promise<string[]> {
  const raw = createClient({ url: redis.url, RESP: 2 });
  await raw.connect();
  try {
    return (await raw.zRange(`{${namespace}}:budget`, 0, -1)).sort();
  } finally {
    raw.destroy();
  }
}

const tokenArb = fc.integer({ min: 0, max: 14 }).map((n) => `ies1-${n.toString().padStart(40, '0')}`);
const batchesArb = fc.array(fc.array(tokenArb, { minLength: 1, maxLength: 8 }), {
  minLength: WORKERS,
  maxLength: WORKERS,
});

describe.skipIf(!bin)('Function: the Redis store under concurrent claims from separate processes', () => {
  it('never exceeds the budget, never counts a clientToken twice (property)', async () => {
    await fc.assert(
      fc.asyncProperty(batchesArb, fc.integer({ min: 1, max: 8 }), async (batches, limit) => {
        const namespace = `c-${randomUUID()}`;
        const options = { limit, windowMs: 600_000, pendingMs: 40_000, enforce: true };
        const results = await claimTogether(namespace, batches, options);
        const distinct = new Set(batches.flat());
        const newlyCounted = results.filter((r) => r.granted && !r.duplicate).map((r) => r.token);
        // Each token counted at most once, however many processes claimed it at the same time…
        expect(new Set(newlyCounted).size).toBe(newlyCounted.length);
        // …and exactly as many as the budget holds.
        expect(newlyCounted.length).toBe(Math.min(limit, distinct.size));
        for (const r of results) expect(r.count).toBeLessThanOrEqual(limit);
        // A claim refused names a token not counted; a duplicate names one counted.
        for (const r of results) {
          if (!r.granted) expect(newlyCounted).not.toContain(r.token);
          if (r.duplicate) expect(newlyCounted).toContain(r.token);
        }
        expect(await countedIn(namespace)).toEqual([...newlyCounted].sort());

        // Calls that failed release their claims, concurrently; a second wave fills exactly what was freed.
        const released = newlyCounted.filter((_, i) => i % 2 === 0);
        await Promise.all(
          workers.map((w, i) => w.send({ kind: 'release', tokens: released.filter((_, j) => j % WORKERS === i) })),
        );
        const kept = newlyCounted.filter((t) => !released.includes(t));
        const second = batches.map((tokens) => tokens.map((t) => t.replace('ies1-', 'ies2-')));
        const wave = await claimTogether(namespace, second, options);
        const newlyCounted2 = wave.filter((r) => r.granted && !r.duplicate).map((r) => r.token);
        expect(newlyCounted2.length).toBe(Math.min(limit - kept.length, new Set(second.flat()).size));
        expect(await countedIn(namespace)).toEqual([...kept, ...newlyCounted2].sort());
      }),
      { numRuns: 12 },
    );
  });

  it('keeps an interruption recorded by one process for another started after it (ownership survives a restart)', async () => {
    const namespace = `o-${randomUUID()}`;
    const request: GuardRequest = {
      instanceId: 'es-cn-restart',
      functionName: 'interrupt-elasticsearch-task',
      action: 'interrupt',
      actor: 'alert',
      clientToken: 'ies1-restart',
      eventKey: 'alertmanager:restart',
      source: 'alertmanager',
    };
    const first = startStoreWorker(redis.url);
    expect(await first.send({ kind: 'interrupt', namespace, request })).toMatchObject({ allowed: true, stored: true });
    await first.close();
    const second = startStoreWorker(redis.url);
    try {
      expect(await second.send({ kind: 'owns', namespace, instanceId: 'es-cn-restart' })).toMatchObject({ owns: true });
      expect(await second.send({ kind: 'owns', namespace, instanceId: 'es-cn-other' })).toMatchObject({ owns: false });
    } finally {
      await second.close();
    }
  });
});
