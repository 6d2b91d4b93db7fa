import { findRedisServer, type RunningRedis, startRedis } from '../../scripts/local-redis.ts';

export { findRedisServer, type RunningRedis, startRedis };

/** Says loudly, once per file, that the Redis half of a suite is skipped. */
export function warnRedisMissing(what: string): void {
  console.warn(
    `\n!!! ${what} AGAINST REDIS SKIPPED: no redis-server binary found.\n` +
      '!!! Install it with `apt-get install -y --no-install-recommends redis-server`\n' +
      '!!! (.ci/run does), or point REDIS_SERVER_BIN at a redis-server binary.\n',
  );
}
