import { createClient } from '@redis/client';

/** One key as Redis holds it: its type, its contents, and when it expires (absolute, ms). */
export interface KeySnapshot {
  type: string;
  contents: unknown;
  expiresAt: number;
}

/**
 * Everything a namespace holds on a redis-server, read with plain commands on a connection of its
 * own: two snapshots are equal only if nothing under the namespace was written in between (a TTL
 * set again moves PEXPIRETIME, Redis 7's absolute expiry, so it shows too).
 */
export async function redisSnapshot(url: string, namespace: string): Promise<Record<string, KeySnapshot>> {
  const raw = createClient({ url, RESP: 2 });
  await raw.connect();
  try {
    const snapshot: Record<string, KeySnapshot> = {};
    for (const key of (await raw.keys(`{${namespace}}:*`)).sort()) {
      const type = await raw.type(key);
      const contents =
        type === 'zset'
          ? await raw.sendCommand(['ZRANGE', key, '0', '-1', 'WITHSCORES'])
          : type === 'hash'
            ? await raw.hGetAll(key)
            : await raw.sendCommand(['DUMP', key]);
      const expiresAt = Number(await raw.sendCommand(['PEXPIRETIME', key]));
      snapshot[key] = { type, contents, expiresAt };
    }
    return snapshot;
  } finally {
    raw.destroy();
  }
}
