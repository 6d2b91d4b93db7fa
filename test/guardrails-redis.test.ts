import { createClient } from '@redis/client';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalServer, startLocal } from '../local/server.ts';
import type { ResponseBody } from '../shared/core/result.ts';
import { alertGroupBody, fixture } from './fixtures/alertmanager/kit.ts';
import { type IpcWorker, startIpcWorker } from './support/ipc-worker.ts';
import type { Answered, LocalWorkerReply, LocalWorkerRequest } from './support/local-worker.ts';
import { findRedisServer, type RunningRedis, startRedis, warnRedisMissing } from './support/redis-server.ts';

/**
 * The guardrails wired into local mode against a real redis-server (STATE_STORE_URL): what one
 * local mode records, another started later reads (ownership survives a restart), and several
 * local modes in separate processes, each its own function instances, never start more changes
 * than the fleet budget between them.
 */
const bin = findRedisServer();
if (!bin) warnRedisMissing('THE GUARDRAILS OF LOCAL MODE');

const TOKEN = 'am-redis-guardrails-token-0c3b';
let redis: RunningRedis;

beforeAll(async () => {
  if (bin) redis = await startRedis(bin);
});
afterAll(async () => {
  await redis?.stop();
});

async function flush(): Promise<void> {
  const raw = createClient({ url: redis.url, RESP: 2 });
  await raw.connect();
  try {
    await raw.flushAll();
  } finally {
    raw.destroy();
  }
}

describe.skipIf(!bin)('Function: local mode with STATE_STORE_URL, across a restart', () => {
  const ours = 'es-cn-demo-restart-ours';
  const theirs = 'es-cn-demo-restart-theirs';
  const env = () => ({
    PATH: process.env.PATH,
    STATE_STORE_URL: redis.url,
    ALERTMANAGER_BEARER_TOKENS: TOKEN,
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
  const alert = (local: LocalServer, path: string, instanceId: string, status: 'firing' | 'resolved') =>
    fetch(`${local.url}/${path}/alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify(alertGroupBody(fixture(status), instanceId, status)),
    });

  it('still resumes the instance an alert interrupted before the restart, and still refuses the one a person did', async () => {
    await flush();
    const first = await startLocal({ port: 0, env: env() });
    try {
      expect(first.stateStore.kind).toBe('redis');
      first.emulator.reset([
        { instanceId: ours, status: 'activating' },
        { instanceId: theirs, status: 'activating' },
      ]);
      expect((await alert(first, 'interrupt-elasticsearch-task', ours, 'firing')).status).toBe(200);
      // A person's command: a generic payload without a state.
      const person = await fetch(`${first.url}/interrupt-elasticsearch-task/generic`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${first.env.GENERIC_BEARER_TOKENS}`,
          'idempotency-key': 'person-1',
        },
        body: JSON.stringify({ instanceIds: [theirs] }),
      });
      expect(((await person.json()) as ResponseBody).results[0]?.outcome).toBe('applied');
    } finally {
      await first.close();
    }

    const second = await startLocal({ port: 0, env: env() });
    try {
      // The cloud's instances outlive local mode; its emulator does not: they are seeded as they were left.
      second.emulator.reset([
        { instanceId: ours, status: 'suspended' },
        { instanceId: theirs, status: 'suspended' },
      ]);
      const resumed = await alert(second, 'resume-elasticsearch-task', ours, 'resolved');
      expect(resumed.status).toBe(200);
      expect(((await resumed.json()) as ResponseBody).results[0]).toMatchObject({
        instanceId: ours,
        outcome: 'applied',
      });
      const refused = await alert(second, 'resume-elasticsearch-task', theirs, 'resolved');
      expect(refused.status).toBe(200);
      expect(((await refused.json()) as ResponseBody).results[0]).toMatchObject({
        instanceId: theirs,
        outcome: 'refused',
        code: 'NotInterruptedByResponder',
        message: expect.stringContaining('made by a person (generic,'),
      });
      const states = second.emulator.controlPlane.snapshot().instances.map((i) => [i.instanceId, i.status]);
      expect(states).toEqual([
        [ours, 'activating'],
        [theirs, 'suspended'],
      ]);
    } finally {
      await second.close();
    }
  });
});

describe.skipIf(!bin)('Function: local modes in separate processes against one Redis', () => {
  const WORKERS = 3;
  let workers: IpcWorker<LocalWorkerRequest, LocalWorkerReply>[] = [];
  beforeAll(() => {
    workers = Array.from({ length: WORKERS }, () =>
      startIpcWorker<LocalWorkerRequest, LocalWorkerReply>('test/support/local-worker.ts'),
    );
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.close()));
  });

  it('never start more alert-driven changes than FLEET_CHANGE_BUDGET, however their deliveries interleave (property)', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: WORKERS, maxLength: WORKERS }),
        fc.integer({ min: 1, max: 8 }),
        async (counts, limit) => {
          run++;
          await flush();
          const ids = counts.map((n, w) => Array.from({ length: n }, (_, i) => `es-cn-demo-r${run}w${w}i${i}`));
          await Promise.all(
            workers.map((worker, w) =>
              worker.send({ kind: 'prepare', redisUrl: redis.url, budget: `${limit}/10m`, instanceIds: ids[w] ?? [] }),
            ),
          );
          const replies = await Promise.all(workers.map((worker) => worker.send({ kind: 'go' })));
          await Promise.all(workers.map((worker) => worker.send({ kind: 'close' })));
          const answers = replies.flatMap((r): Answered[] => (r.kind === 'answered' ? r.answers : []));
          const started = new Set(answers.filter((a) => a.outcome === 'applied').map((a) => a.clientToken));
          const unavailable = answers.filter((a) => a.code === 'StateStoreUnavailable');
          const total = counts.reduce((a, b) => a + b, 0);
          expect(started.size).toBeLessThanOrEqual(limit);
          // A delivery and its racing retry (same clientToken) are one change: refused together or applied together.
          for (const a of answers) {
            const twin = answers.find((b) => b !== a && b.clientToken === a.clientToken);
            if (a.outcome === 'applied') expect(twin?.outcome).toBe('applied');
          }
          for (const a of answers) {
            expect(a.status).toBe(a.code === 'StateStoreUnavailable' ? 503 : 200);
            if (a.outcome === 'refused') expect(['ChangeBudgetExhausted', 'StateStoreUnavailable']).toContain(a.code);
          }
          if (unavailable.length === 0) expect(started.size).toBe(Math.min(limit, total));
        },
      ),
      { numRuns: 6 },
    );
  }, 120_000);
});
