import { createRedisRunner, loadRedisClient, type RedisModule } from './redis-connection.ts';
import {
  ADMIT_FLIP,
  CLAIM,
  COMMIT,
  DELETE_KEY,
  DELETE_RECORD,
  DROP_FLIP,
  GET_RECORD,
  PUT_RECORD,
  RELEASE,
  REMEMBER_ONCE,
} from './redis-scripts.ts';
import {
  checkCondition,
  checkMember,
  checkRecord,
  checkTtl,
  checkWindow,
  EXPIRY_FIELD,
  flipMember,
  namespacedKeys,
  type OnceVerdict,
  type StateStore,
  type StoredRecord,
  type StoreOptions,
} from './store.ts';
import { checkStoreUrl } from './store-url.ts';

/**
 * The state store over the Redis protocol: Alibaba Cloud Tair / ApsaraDB for Redis in production
 * (`STATE_STORE_URL=redis://…` or `rediss://…`), through `@redis/client`, loaded on first use.
 * Each operation of the port is one Lua script (redis-scripts.ts), run under the caller's deadline
 * (redis-connection.ts).
 */

export interface RedisStoreOptions extends StoreOptions {
  /** `redis://[user:password@]host[:port][/db]` or `rediss://…` (TLS). */
  url: string;
  /** Longest an operation may take, connecting included, when the deadline allows more (ms). */
  timeoutMs?: number | undefined;
  /** Longest a connection attempt may go on (ms); it may outlive the operation that started it. */
  connectTimeoutMs?: number | undefined;
  /** Test seam: how the client is loaded (default: a cached `import('@redis/client')`). */
  loadClient?: (() => Promise<RedisModule>) | undefined;
}

export const DEFAULT_STORE_TIMEOUT_MS = 1000;
const DEFAULT_CONNECT_TIMEOUT_MS = 3000;

export function createRedisStore(options: RedisStoreOptions): StateStore {
  checkStoreUrl(options.url);
  const keyOf = namespacedKeys(options.namespace);
  const clock = options.clock ?? Date.now;
  const { run, close } = createRedisRunner({
    url: options.url,
    timeoutMs: options.timeoutMs ?? DEFAULT_STORE_TIMEOUT_MS,
    connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    load: options.loadClient ?? loadRedisClient,
  });

  const num = (value: unknown): number => Number(value);
  const window = (key: string) => [keyOf(key), keyOf(`${key}:pending`)];

  return {
    kind: 'redis',

    async claim(key, member, opts, deadline) {
      checkMember(member);
      checkWindow(opts);
      const args = [clock(), opts.windowMs, opts.limit, opts.pendingMs, opts.enforce ? 1 : 0].map(String);
      const reply = (await run(CLAIM, window(key), [...args, member], deadline)) as unknown[];
      const [granted, duplicate, count, freesAt] = reply.map(num) as [number, number, number, number];
      return {
        granted: granted === 1,
        duplicate: duplicate === 1,
        count,
        ...(granted === 1 ? {} : { freesAt }),
      };
    },

    async commit(key, member, windowMs, deadline) {
      checkMember(member);
      await run(COMMIT, window(key), [String(clock()), String(windowMs), member], deadline);
    },

    async release(key, member, deadline) {
      checkMember(member);
      return num(await run(RELEASE, window(key), [String(clock()), member], deadline)) === 1;
    },

    async admitFlip(key, entry, opts, deadline, onlyIf) {
      checkMember(entry.member);
      checkWindow(opts);
      if (onlyIf) checkCondition(onlyIf);
      const args = [clock(), opts.windowMs, opts.limit].map(String);
      const condition = onlyIf ? ['1', ...Object.entries(onlyIf.fields).flat()] : ['0'];
      const keys = [keyOf(key), keyOf(onlyIf?.key ?? key)];
      const reply = (await run(ADMIT_FLIP, keys, [...args, flipMember(entry), ...condition], deadline)) as unknown[];
      const [granted, duplicate, flips, clearsAt, unmet] = reply.map(num) as [number, number, number, number, number?];
      if (unmet === 1) return { granted: false, duplicate: false, flips, unmet: true };
      return {
        granted: granted === 1,
        duplicate: duplicate === 1,
        flips,
        ...(granted === 1 ? {} : { clearsAt }),
      };
    },

    async dropFlip(key, entry, windowMs, deadline) {
      checkMember(entry.member);
      const args = [String(clock()), String(windowMs), flipMember(entry)];
      return num(await run(DROP_FLIP, [keyOf(key)], args, deadline)) === 1;
    },

    async getRecord(key, deadline) {
      const reply = (await run(GET_RECORD, [keyOf(key)], [String(clock())], deadline)) as string[];
      if (reply.length === 0) return undefined;
      const record: StoredRecord = {};
      for (let i = 0; i + 1 < reply.length; i += 2) {
        const field = String(reply[i]);
        if (field !== EXPIRY_FIELD) record[field] = String(reply[i + 1]);
      }
      return record;
    },

    async putRecord(key, fields, ttlMs, deadline, unless) {
      checkRecord(fields, ttlMs);
      const pairs = Object.entries(fields).flat();
      const condition = unless ? [unless.field, unless.value] : ['', ''];
      const put = await run(
        PUT_RECORD,
        [keyOf(key)],
        [String(clock()), String(ttlMs), ...condition, ...pairs],
        deadline,
      );
      return num(put) === 1;
    },

    async deleteRecord(key, deadline, match) {
      const condition = match ? [match.field, match.value] : ['', ''];
      return num(await run(DELETE_RECORD, [keyOf(key)], [String(clock()), ...condition], deadline)) === 1;
    },

    async rememberOnce(key, fingerprint, ttlMs, deadline) {
      checkMember(fingerprint);
      checkTtl(ttlMs);
      const now = clock();
      const args = [String(now), String(ttlMs), String(now + ttlMs), fingerprint];
      return String(await run(REMEMBER_ONCE, [keyOf(key)], args, deadline)) as OnceVerdict;
    },

    async deleteKey(key, deadline) {
      await run(DELETE_KEY, [keyOf(key)], [], deadline);
    },

    close,
  };
}
