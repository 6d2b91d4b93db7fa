import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { createClient } from '@redis/client';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../shared/config.ts';
import { createGuardrails, type GuardRequest, OWNERSHIP_TTL_MS } from '../shared/guardrails/guardrails.ts';
import { CHAT_SOURCE_NAMES } from '../shared/sources/registry.ts';
import { loadRedisClient } from '../shared/state/redis-connection.ts';
import { CLAIM, GET_RECORD, type LuaScript, PEEK_CLAIM, PEEK_FLIP } from '../shared/state/redis-scripts.ts';
import { createRedisStore } from '../shared/state/redis-store.ts';
import { type StateStore, StateStoreUnavailable } from '../shared/state/store.ts';
import { freePort } from './support/alertmanager.ts';
import { findRedisServer, type RunningRedis, startRedis, warnRedisMissing } from './support/redis-server.ts';
import { redisSnapshot } from './support/redis-snapshot.ts';

/** The guardrails' section of the one configuration parse. */
const guardrailConfig = (env: Record<string, string | undefined>) => parseConfig(env).guardrails;

/**
 * What only the Redis adapter has to show, against a real redis-server: keys namespaced and each
 * with a TTL, scripts sent again when the server forgot them, the client loaded lazily, and a store
 * that is down, frozen, silent or refusing the password answering StateStoreUnavailable within
 * the deadline, never hanging, and recovering when the server is back.
 */

const bin = findRedisServer();
if (!bin) warnRedisMissing('THE REDIS ADAPTER TESTS');

const unexpected: unknown[] = [];
const onUnexpected = (error: unknown) => unexpected.push(error);

let redis: RunningRedis;
const opened: StateStore[] = [];
const storeFor = (url: string, extra: Partial<Parameters<typeof createRedisStore>[0]> = {}) => {
  const store = createRedisStore({ url, namespace: `t-${randomUUID()}`, ...extra });
  opened.push(store);
  return store;
};

beforeAll(async () => {
  process.on('unhandledRejection', onUnexpected);
  process.on('uncaughtException', onUnexpected);
  if (bin) redis = await startRedis(bin);
});
afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
  await redis?.stop();
  process.off('unhandledRejection', onUnexpected);
  process.off('uncaughtException', onUnexpected);
});

const soon = () => Date.now() + 5000;
const budget = { limit: 5, windowMs: 600_000, pendingMs: 40_000, enforce: true };

/** The outcome of `promise`, failing the test if it has not settled within `ms` (it hung). */
async function settled<T>(promise: Promise<T>, ms: number): Promise<{ value?: T; error?: unknown }> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((resolve) => {
    timer = setTimeout(() => resolve('hung'), ms);
  });
  const outcome = await Promise.race([
    promise.then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    ),
    hung,
  ]);
  clearTimeout(timer);
  if (outcome === 'hung') throw new Error(`the store operation did not settle within ${ms} ms`);
  return outcome;
}

/** The deadline an operation is given, and how long past it the test tolerates a slow machine. */
const DEADLINE_MS = 300;
const SLACK_MS = 2000;

async function expectUnavailable(promise: Promise<unknown>, reason?: StateStoreUnavailable['reason']) {
  const { error } = await settled(promise, DEADLINE_MS + SLACK_MS);
  expect(error).toBeInstanceOf(StateStoreUnavailable);
  expect(error).toMatchObject({ status: 503, code: 'StateStoreUnavailable', ...(reason ? { reason } : {}) });
  return error as StateStoreUnavailable;
}

describe.skipIf(!bin)('Function: createRedisStore against a real redis-server', () => {
  afterEach(() => {
    expect(unexpected).toEqual([]);
  });

  it('keeps every key under its namespace, in one hash tag, each with a TTL no longer than its use', async () => {
    const namespace = `t-${randomUUID()}`;
    const store = createRedisStore({ url: redis.url, namespace });
    opened.push(store);
    const guard = createGuardrails({
      store,
      chatSources: CHAT_SOURCE_NAMES,
      config: guardrailConfig({}),
      pendingClaimMs: 40_000,
    });
    const request = (id: string, action: GuardRequest['action']): GuardRequest => ({
      instanceId: id,
      functionName: `${action}-elasticsearch-task`,
      action,
      actor: 'alert',
      clientToken: `tok-${action}-${id}`,
      eventKey: `alertmanager:${id}`,
      source: 'alertmanager',
    });
    for (const id of ['es-cn-a', 'es-cn-b']) {
      const decision = await guard.decide(request(id, 'interrupt'), soon());
      if (!decision.allowed) throw new Error(decision.message);
      await guard.settle(decision.ticket, 'applied', soon());
    }
    const pending = await guard.decide(request('es-cn-c', 'interrupt'), soon());
    expect(pending.allowed).toBe(true);

    const raw = createClient({ url: redis.url, RESP: 2 });
    await raw.connect();
    try {
      const keys = (await raw.keys(`{${namespace}}:*`)).sort();
      expect(keys).toEqual(
        ['budget', 'budget:pending', 'flap:es-cn-a', 'flap:es-cn-b', 'flap:es-cn-c', 'own:es-cn-a', 'own:es-cn-b'].map(
          (k) => `{${namespace}}:${k}`,
        ),
      );
      for (const key of keys) {
        const ttl = await raw.pTTL(key);
        const max = key.includes(':own:') ? OWNERSHIP_TTL_MS : key.includes(':flap:') ? 30 * 60_000 : 600_000 + 40_000;
        expect(ttl, key).toBeGreaterThan(0);
        expect(ttl, key).toBeLessThanOrEqual(max);
      }
    } finally {
      raw.destroy();
    }
  });

  describe('its read-only operations (peekClaim, peekFlip, getRecord)', () => {
    const T0 = Date.UTC(2025, 0, 6, 3, 0, 0);
    const claim = { limit: 2, windowMs: 60_000, pendingMs: 10_000, enforce: true };
    const flap = { limit: 1, windowMs: 30_000 };

    /** A namespace where a write would have something to do: stale claims, old flips, an expired record. */
    async function written() {
      let now = T0;
      const namespace = `t-${randomUUID()}`;
      const store = storeFor(redis.url, { namespace, clock: () => now });
      await store.claim('budget', 'old', claim, soon());
      await store.commit('budget', 'old', claim.windowMs, soon());
      await store.claim('budget', 'crashed', claim, soon());
      await store.admitFlip('flap:es-1', { member: 'a', direction: 'stop' }, flap, soon());
      await store.admitFlip('flap:es-1', { member: 'b', direction: 'resume' }, flap, soon());
      await store.putRecord('own:es-1', { by: 'alert', clientToken: 'a' }, 5_000, soon());
      now += 45_000; // past the pending time, the record's expiry and the flip window; 'old' still counted
      return { store, namespace, now: () => now, key: (k: string) => `{${namespace}}:${k}` };
    }

    it('run under EVAL_RO, which refuses any write command (the scripts that write are refused there)', async () => {
      const { key, now } = await written();
      const raw = createClient({ url: redis.url, RESP: 2 });
      await raw.connect();
      const evalRo = (lua: LuaScript, keys: string[], args: (string | number)[]) =>
        raw.sendCommand(['EVAL_RO', lua.source, String(lua.keys), ...keys, ...args.map(String)]);
      const t = now();
      try {
        const budgetKeys = [key('budget'), key('budget:pending')];
        expect(await evalRo(PEEK_CLAIM, budgetKeys, [t, 60_000, 2, 1, 1, 'new'])).toEqual([0, 0, 2, T0 + 60_000]);
        expect(
          await evalRo(PEEK_FLIP, [key('flap:es-1'), key('own:es-1')], [t, 30_000, 1, 'r:c', '1', 'by', 'alert']),
        ).toEqual([0, 0, 0, 0, 1]);
        expect(await evalRo(PEEK_FLIP, [key('flap:es-1'), key('flap:es-1')], [t, 30_000, 1, 'r:c', '0'])).toEqual([
          1, 0, 0, 0,
        ]);
        expect(await evalRo(GET_RECORD, [key('own:es-1')], [t])).toEqual([]);
        // The check has teeth: the scripts that write are refused under EVAL_RO.
        await expect(evalRo(CLAIM, budgetKeys, [t, 60_000, 2, 10_000, 1, 'new'])).rejects.toThrow(/read-only|write/i);
      } finally {
        raw.destroy();
      }
    });

    it('leave the namespace exactly as it was (contents and expiry times)', async () => {
      const { store, namespace } = await written();
      const before = await redisSnapshot(redis.url, namespace);
      expect(Object.keys(before)).toHaveLength(4);
      expect(await store.peekClaim('budget', 'new', { ...claim, ahead: 1 }, soon())).toMatchObject({ granted: false });
      expect(await store.peekClaim('budget', 'crashed', claim, soon())).toMatchObject({ granted: true });
      expect(await store.peekFlip('flap:es-1', { member: 'c', direction: 'stop' }, flap, soon())).toMatchObject({
        granted: true,
      });
      expect(await store.getRecord('own:es-1', soon())).toBeUndefined();
      expect(await redisSnapshot(redis.url, namespace)).toEqual(before);
      // A claim does write: the snapshot shows it.
      await store.claim('budget', 'new', claim, soon());
      expect(await redisSnapshot(redis.url, namespace)).not.toEqual(before);
    });
  });

  it('sends a script again when the server has forgotten it (SCRIPT FLUSH, a restart, a failover)', async () => {
    const store = storeFor(redis.url);
    expect(await store.claim('budget', 'a', budget, soon())).toMatchObject({ granted: true });
    const raw = createClient({ url: redis.url, RESP: 2 });
    await raw.connect();
    await raw.scriptFlush();
    raw.destroy();
    expect(await store.claim('budget', 'b', budget, soon())).toMatchObject({ granted: true, count: 2 });
  });

  it('loads the client on the first operation only, and not at all for one already past its deadline', async () => {
    const loadClient = vi.fn(loadRedisClient);
    const store = storeFor(redis.url, { loadClient });
    expect(loadClient).not.toHaveBeenCalled();
    await expectUnavailable(store.getRecord('own:x', Date.now() - 1), 'timeout');
    expect(loadClient).not.toHaveBeenCalled();
    await store.getRecord('own:x', soon());
    await store.getRecord('own:y', soon());
    expect(loadClient).toHaveBeenCalledTimes(1);
  });

  it('answers StateStoreUnavailable when nothing listens on the port, before the deadline', async () => {
    const store = storeFor(`redis://127.0.0.1:${await freePort()}`);
    const error = await expectUnavailable(store.claim('budget', 'a', budget, Date.now() + DEADLINE_MS), 'unreachable');
    expect(error.message).not.toMatch(/127\.0\.0\.1/);
  });

  it('answers StateStoreUnavailable within the deadline when the server accepts and never answers', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
    const { port } = silent.address() as { port: number };
    const store = storeFor(`redis://127.0.0.1:${port}`, { connectTimeoutMs: 500 });
    try {
      await expectUnavailable(store.claim('budget', 'a', budget, Date.now() + DEADLINE_MS), 'timeout');
      // The next operation is bounded the same way, whether the attempt is still going or has been given up.
      await expectUnavailable(store.claim('budget', 'a', budget, Date.now() + DEADLINE_MS), 'timeout');
      await new Promise((resolve) => setTimeout(resolve, 600));
      await expectUnavailable(store.claim('budget', 'a', budget, Date.now() + DEADLINE_MS), 'timeout');
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('answers StateStoreUnavailable within the deadline when the server is killed, and recovers when it is back', async () => {
    const own = await startRedis(bin as string);
    try {
      const store = storeFor(own.url);
      expect(await store.claim('budget', 'a', budget, soon())).toMatchObject({ granted: true });
      await own.kill();
      await expectUnavailable(store.claim('budget', 'b', budget, Date.now() + DEADLINE_MS));
      await expectUnavailable(store.claim('budget', 'b', budget, Date.now() + DEADLINE_MS), 'unreachable');
      await own.restart();
      // A fresh server (no persistence): the store reconnects on its own, and scripts are sent again.
      expect(await store.claim('budget', 'b', budget, soon())).toMatchObject({ granted: true, count: 1 });
    } finally {
      await own.stop();
    }
  });

  it('answers StateStoreUnavailable within the deadline when the server freezes, and answers again once it thaws', async () => {
    const own = await startRedis(bin as string);
    try {
      const store = storeFor(own.url);
      expect(await store.claim('budget', 'a', budget, soon())).toMatchObject({ granted: true });
      own.pause();
      await expectUnavailable(store.claim('budget', 'b', budget, Date.now() + DEADLINE_MS), 'timeout');
      await expectUnavailable(store.claim('budget', 'b', budget, Date.now() + DEADLINE_MS), 'timeout');
      own.resume();
      // The frozen claims may have run once the server thawed: the same member is never counted twice.
      expect(await store.claim('budget', 'b', budget, soon())).toMatchObject({ granted: true, count: 2 });
    } finally {
      await own.stop();
    }
  });

  it('refuses a wrong password as StateStoreUnavailable, never repeating the password; the right one works', async () => {
    const secret = 'tair-secret-7f3a91';
    const own = await startRedis(bin as string, ['--requirepass', secret]);
    try {
      const wrong = storeFor(`redis://default:not-${secret}@127.0.0.1:${own.port}`);
      const error = await expectUnavailable(wrong.getRecord('own:x', soon()));
      expect(`${error.message} ${error.detail}`).not.toContain(secret);
      expect(error.detail).toMatch(/WRONGPASS|invalid username-password/i);
      const right = storeFor(`redis://default:${secret}@127.0.0.1:${own.port}/2`);
      await right.putRecord('own:x', { by: 'alert' }, 60_000, soon());
      expect(await right.getRecord('own:x', soon())).toEqual({ by: 'alert' });
    } finally {
      await own.stop();
    }
  });

  it("connects with a Tair custom account's password form, <account>:<password>, percent-encoded in the URL", async () => {
    // Tair and ApsaraDB for Redis take a custom account as the single AUTH password `<account>:<password>`.
    const own = await startRedis(bin as string, ['--requirepass', 'responder:Rp829dl']);
    try {
      const store = storeFor(`redis://:responder%3ARp829dl@127.0.0.1:${own.port}`);
      await store.putRecord('own:x', { by: 'alert' }, 60_000, soon());
      expect(await store.getRecord('own:x', soon())).toEqual({ by: 'alert' });
    } finally {
      await own.stop();
    }
  });

  it('refuses every operation after close', async () => {
    const store = storeFor(redis.url);
    await store.getRecord('own:x', soon());
    await store.close();
    await expectUnavailable(store.getRecord('own:x', soon()), 'error');
  });

  it.each([
    ['http://127.0.0.1:6379', 'must start with redis:// or rediss://'],
    ['redis://', 'has no host'],
    ['redis://127.0.0.1:6379/abc', 'database number'],
    ['redis://u:p@127.0.0.1:6379/?tls=1', 'no query'],
    ['not a url', 'is not a URL'],
  ])('rejects the store URL %s at creation, without echoing it', (url, message) => {
    expect(() => createRedisStore({ url })).toThrow(message);
    try {
      createRedisStore({ url });
    } catch (error) {
      expect((error as Error).message).not.toContain(url);
    }
  });
});
