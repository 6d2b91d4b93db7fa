import type { LuaScript } from './redis-scripts.ts';
import { StateStoreUnavailable, type UnavailableReason } from './store.ts';

/**
 * One connection to the Redis-protocol store, and the one way scripts run on it:
 *
 * - `@redis/client` is imported on the first operation, never at module load, so requests that
 *   need no state never pay for it (the build ships it as a sibling file, redis.js).
 * - Every operation is bounded by the caller's deadline (and `timeoutMs`), connecting included: a
 *   store that is down or slow rejects with StateStoreUnavailable, never hangs. The client never
 *   reconnects or queues commands on its own; after a failure the next operation opens a fresh
 *   connection under its own deadline. Its 'error' events are handled: none goes uncaught.
 * - Scripts run by EVALSHA, and by EVAL when the server does not know them (a restart, a failover).
 * - RESP2, which every Tair and ApsaraDB for Redis edition speaks (RESP3 needs Redis 6).
 */

/** What the store uses of a client. */
export interface RedisConnection {
  readonly isReady: boolean;
  connect(): Promise<unknown>;
  sendCommand<T = unknown>(args: readonly string[], options?: { timeout?: number }): Promise<T>;
  destroy(): void;
  unref(): void;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

export interface RedisModule {
  createClient(options: Record<string, unknown>): RedisConnection;
  /** The class of the server's error replies (a script error, NOAUTH, WRONGTYPE…). */
  ErrorReply: abstract new (
    ...args: never[]
  ) => Error;
}

export interface RedisRunnerOptions {
  url: string;
  /** Longest an operation may take, connecting included, when the deadline allows more (ms). */
  timeoutMs: number;
  /** Longest a connection attempt may go on (ms); it may outlive the operation that started it. */
  connectTimeoutMs: number;
  load: () => Promise<RedisModule>;
}

export interface RedisRunner {
  run(script: LuaScript, keys: readonly string[], args: readonly string[], deadline: number): Promise<unknown>;
  close(): Promise<void>;
}

let sharedModule: Promise<RedisModule> | undefined;

/** The one place `@redis/client` is imported. A failed import is not cached, so a later call retries it. */
export function loadRedisClient(): Promise<RedisModule> {
  sharedModule ??= import('@redis/client').then(
    (loaded) => {
      const m = loaded as unknown as RedisModule & { default?: RedisModule };
      return typeof m.createClient === 'function' ? m : (m.default as RedisModule);
    },
    (error: unknown) => {
      sharedModule = undefined;
      throw error;
    },
  );
  return sharedModule;
}

class TimedOut extends Error {}

/** The cause, for logs: its class and message, any credentials in a URL removed, bounded. */
function describeCause(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.replace(/(rediss?:\/\/)[^@\s/]*@/gi, '$1***@').slice(0, 300);
}

export function createRedisRunner(options: RedisRunnerOptions): RedisRunner {
  let current: Promise<RedisConnection> | undefined;
  let redis: RedisModule | undefined;
  let closed = false;

  async function open(): Promise<RedisConnection> {
    redis = await options.load();
    const client = redis.createClient({
      url: options.url,
      RESP: 2,
      maintNotifications: 'disabled',
      disableOfflineQueue: true,
      socket: { connectTimeout: options.connectTimeoutMs, reconnectStrategy: false },
    });
    // Handled here, reported by the operation that fails: an 'error' event never goes uncaught.
    client.on('error', () => {});
    // The handshake (AUTH, SELECT, CLIENT SETINFO) has no timeout once sent: a server that accepts
    // and never answers must not hold the connection attempt open for ever.
    let gaveUp = false;
    const giveUp = setTimeout(() => {
      gaveUp = true;
      client.destroy();
    }, options.connectTimeoutMs);
    giveUp.unref();
    try {
      await client.connect();
    } catch (error) {
      client.destroy();
      throw gaveUp ? new TimedOut(`no answer to the connection within ${options.connectTimeoutMs} ms`) : error;
    } finally {
      clearTimeout(giveUp);
    }
    // An idle connection does not keep a process alive (local mode's exit, a worker's end).
    client.unref();
    return client;
  }

  /** The connected client, opening one when there is none or the last one died. */
  function connection(): Promise<RedisConnection> {
    const held = current;
    if (held) {
      return held.then((client) => {
        if (client.isReady) return client;
        if (current === held) current = undefined;
        client.destroy();
        return connection();
      });
    }
    const attempt = open();
    current = attempt;
    attempt.catch(() => {
      if (current === attempt) current = undefined;
    });
    return attempt;
  }

  async function evaluate(client: RedisConnection, s: LuaScript, tail: string[], timeout: number): Promise<unknown> {
    try {
      return await client.sendCommand(['EVALSHA', s.sha1, ...tail], { timeout });
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('NOSCRIPT')) {
        return await client.sendCommand(['EVAL', s.source, ...tail], { timeout });
      }
      throw error;
    }
  }

  return {
    async run(s, keys, args, deadline) {
      if (closed) throw new StateStoreUnavailable('error', 'the store was closed');
      const budget = Math.min(options.timeoutMs, deadline - Date.now());
      if (!(budget > 0)) throw new StateStoreUnavailable('timeout', 'no time left before the deadline');
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new TimedOut()), budget);
      });
      let client: RedisConnection | undefined;
      try {
        // A connection still being opened when time runs out goes on, for the next operation.
        client = await Promise.race([connection(), timeout]);
        return await Promise.race([evaluate(client, s, [String(s.keys), ...keys, ...args], budget), timeout]);
      } catch (error) {
        let reason: UnavailableReason = 'unreachable';
        if (error instanceof TimedOut) reason = 'timeout';
        else if (redis && error instanceof redis.ErrorReply) reason = 'error';
        // A command cut off or a broken connection: the next operation starts on a fresh one.
        if (reason !== 'error') client?.destroy();
        const where = client ? 'command' : 'connect';
        const detail =
          reason !== 'timeout'
            ? describeCause(error)
            : (error as Error).message || `no answer within ${budget} ms (${where})`;
        throw new StateStoreUnavailable(reason, detail);
      } finally {
        clearTimeout(timer);
      }
    },

    async close() {
      closed = true;
      const held = current;
      current = undefined;
      await held?.then(
        (client) => client.destroy(),
        () => {},
      );
    },
  };
}
