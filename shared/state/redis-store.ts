import { createRedisRunner, loadRedisClient, type RedisModule } from './redis-connection.ts';
import {
  ADMIT_FLIP,
  CLAIM,
  COMMIT,
  DELETE_KEY,
  DELETE_RECORD,
  DROP_FLIP,
  GET_RECORD,
  PEEK_CLAIM,
  PEEK_FLIP,
  PUT_RECORD,
  RELEASE,
  REMEMBER_ONCE,
} from './redis-scripts.ts';
import {
  type ClaimResult,
  checkAhead,
  checkCondition,
  checkMember,
  checkRecord,
  checkTtl,
  checkWindow,
  EXPIRY_FIELD,
  type FlipEntry,
  type FlipOptions,
  type FlipResult,
  flipMember,
  namespacedKeys,
  type OnceVerdict,
  type RecordCondition,
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

const num = (value: unknown): number => Number(value);

/** CLAIM's and PEEK_CLAIM's reply. */
function claimResult(reply: unknown): ClaimResult {
  const [granted, duplicate, count, freesAt] = (reply as unknown[]).map(num) as [number, number, number, number];
  return { granted: granted === 1, duplicate: duplicate === 1, count, ...(granted === 1 ? {} : { freesAt }) };
}

/** ADMIT_FLIP's and PEEK_FLIP's reply. */
function flipResult(reply: unknown): FlipResult {
  const [granted, duplicate, flips, clearsAt, unmet] = (reply as unknown[]).map(num) as [
    number,
    number,
    number,
    number,
    number?,
  ];
  if (unmet === 1) return { granted: false, duplicate: false, flips, unmet: true };
  return { granted: granted === 1, duplicate: duplicate === 1, flips, ...(granted === 1 ? {} : { clearsAt }) };
}

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

  const window = (key: string) => [keyOf(key), keyOf(`${key}:pending`)];
  /** admitFlip's and peekFlip's KEYS and ARGV. */
  const flipArgs = (key: string, entry: FlipEntry, opts: FlipOptions, onlyIf: RecordCondition | undefined) => {
    checkMember(entry.member);
    checkWindow(opts);
    if (onlyIf) checkCondition(onlyIf);
    const condition = onlyIf ? ['1', ...Object.entries(onlyIf.fields).flat()] : ['0'];
    return {
      keys: [keyOf(key), keyOf(onlyIf?.key ?? key)],
      args: [...[clock(), opts.windowMs, opts.limit].map(String), flipMember(entry), ...condition],
    };
  };

  return {
    kind: 'redis',

    async claim(key, member, opts, deadline) {
      checkMember(member);
      checkWindow(opts);
      const args = [clock(), opts.windowMs, opts.limit, opts.pendingMs, opts.enforce ? 1 : 0].map(String);
      return claimResult(await run(CLAIM, window(key), [...args, member], deadline));
    },

    async commit(key, member, windowMs, deadline) {
      checkMember(member);
      await run(COMMIT, window(key), [String(clock()), String(windowMs), member], deadline);
    },

    async release(key, member, deadline) {
      checkMember(member);
      return num(await run(RELEASE, window(key), [String(clock()), member], deadline)) === 1;
    },

    async peekClaim(key, member, opts, deadline) {
      checkMember(member);
      checkWindow(opts);
      checkAhead(opts.ahead);
      const args = [clock(), opts.windowMs, opts.limit, opts.enforce ? 1 : 0, opts.ahead ?? 0].map(String);
      return claimResult(await run(PEEK_CLAIM, window(key), [...args, member], deadline));
    },

    async admitFlip(key, entry, opts, deadline, onlyIf) {
      const { keys, args } = flipArgs(key, entry, opts, onlyIf);
      return flipResult(await run(ADMIT_FLIP, keys, args, deadline));
    },

    async peekFlip(key, entry, opts, deadline, onlyIf) {
      const { keys, args } = flipArgs(key, entry, opts, onlyIf);
      return flipResult(await run(PEEK_FLIP, keys, args, deadline));
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
