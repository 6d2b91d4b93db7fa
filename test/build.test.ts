import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BUNDLE_OPTIONS } from '../scripts/build.ts';
import { FUNCTION_NAMES } from '../shared/actions.ts';
import { findRedisServer, type RunningRedis, startRedis, warnRedisMissing } from './support/redis-server.ts';

const run = promisify(execFile);

describe('Function: buildAll', () => {
  // buildAll ran once for the whole run (test/support/built-bundles.ts): its folder and its answer.
  const { dir: outdir, sizes } = inject('bundles');

  it('writes one bundle per function', () => {
    expect(sizes.map((s) => s.name).sort()).toEqual([...FUNCTION_NAMES].sort());
  });

  it.each(FUNCTION_NAMES)('bundles %s with only what the function needs', async (name) => {
    const code = await readFile(join(outdir, name, 'bundle.js'), 'utf8');
    // The emulator, local mode, the generated SDK and fc2 itself stay out of the bundle.
    for (const marker of ['InvalidTimeStamp.Expired', 'createEmulator', 'elasticsearch20170613', 'ali-oss', 'axios']) {
      expect(code, marker).not.toContain(marker);
    }
    expect(code).toContain('./fc2.js');
    const meta = JSON.parse(await readFile(join(outdir, `${name}.meta.json`), 'utf8')) as {
      inputs: Record<string, unknown>;
    };
    const inputs = Object.keys(meta.inputs);
    expect(inputs.some((p) => p.startsWith('emulator/') || p.startsWith('local/') || p.startsWith('test/'))).toBe(
      false,
    );
  });

  it.each(FUNCTION_NAMES)(
    'loads %s in a fresh node process, exporting handler, without loading fc2 or redis',
    async (name) => {
      const script = `
      const before = new Set(Object.keys(require.cache));
      const mod = require(${JSON.stringify(join(outdir, name, 'index.js'))});
      const loaded = Object.keys(require.cache).filter((p) => !before.has(p));
      process.stdout.write(JSON.stringify({
        handler: typeof mod.handler,
        fc2: loaded.some((p) => p.endsWith('fc2.js')),
        redis: loaded.some((p) => p.endsWith('redis.js')),
      }));
    `;
      const { stdout } = await run(process.execPath, ['-e', script], { env: { PATH: process.env.PATH ?? '' } });
      expect(JSON.parse(stdout)).toEqual({ handler: 'function', fc2: false, redis: false });
    },
  );

  it('ships a working fc2 beside every bundle, for the hand-off', async () => {
    const script = `
      const FC = require(${JSON.stringify(join(outdir, FUNCTION_NAMES[0] as string, 'fc2.js'))});
      const client = new FC('1234567890123456', { accessKeyID: 'a', accessKeySecret: 'b', region: 'cn-hangzhou', secure: true });
      process.stdout.write(typeof client.invokeFunction);
    `;
    const { stdout } = await run(process.execPath, ['-e', script], { env: { PATH: process.env.PATH ?? '' } });
    expect(stdout).toBe('function');
  });
});

/** Strings of @redis/client's own code (not of ours): where they appear, the client was bundled. */
const REDIS_CLIENT_MARKERS = ['node-redis', 'Socket already opened', 'The queue is full'];

const redisBin = findRedisServer();
if (!redisBin) warnRedisMissing('THE BUNDLED STATE STORE (redis.js)');

describe('Function: buildAll and the Redis client', () => {
  const { dir: outdir } = inject('bundles');

  it.each(FUNCTION_NAMES)('ships redis.js beside %s, and keeps the client out of its bundle', async (name) => {
    const code = await readFile(join(outdir, name, 'bundle.js'), 'utf8');
    for (const marker of REDIS_CLIENT_MARKERS) expect(code, marker).not.toContain(marker);
    const sibling = await readFile(join(outdir, name, 'redis.js'), 'utf8');
    for (const marker of REDIS_CLIENT_MARKERS) expect(sibling, marker).toContain(marker);
  });

  describe.skipIf(!redisBin)('a bundle that uses the state store, built as the functions are', () => {
    let redis: RunningRedis;
    let dir: string;
    beforeAll(async () => {
      redis = await startRedis(redisBin as string);
      dir = await mkdtemp(join(tmpdir(), 'store-bundle-'));
      // The Redis adapter as the wiring will import it, bundled with the functions' plugin and options.
      await build({
        stdin: {
          contents: `export { createRedisStore } from './shared/state/redis-store.ts';`,
          resolveDir: process.cwd(),
          loader: 'ts',
        },
        ...BUNDLE_OPTIONS,
        outfile: join(dir, 'index.js'),
        logLevel: 'warning',
      });
      await copyFile(join(outdir, FUNCTION_NAMES[0] as string, 'redis.js'), join(dir, 'redis.js'));
      await writeFile(join(dir, 'package.json'), '{"type":"commonjs"}\n');
    });
    afterAll(async () => {
      await redis?.stop();
      await rm(dir, { recursive: true, force: true });
    });

    it('requires ./redis.js only on the first store operation, and the shipped client works', async () => {
      const code = await readFile(join(dir, 'index.js'), 'utf8');
      expect(code).toContain('./redis.js');
      for (const marker of REDIS_CLIENT_MARKERS) expect(code, marker).not.toContain(marker);
      const script = `
        const loaded = () => Object.keys(require.cache).some((p) => p.endsWith('redis.js'));
        const { createRedisStore } = require(${JSON.stringify(join(dir, 'index.js'))});
        const store = createRedisStore({ url: ${JSON.stringify(redis.url)} });
        const before = loaded();
        const options = { limit: 1, windowMs: 60000, pendingMs: 1000, enforce: true };
        store.claim('budget', 'tok-1', options, Date.now() + 5000).then(async (claim) => {
          process.stdout.write(JSON.stringify({ before, after: loaded(), claim }));
          await store.close();
        });
      `;
      const { stdout } = await run(process.execPath, ['-e', script], { env: { PATH: process.env.PATH ?? '' } });
      expect(JSON.parse(stdout)).toEqual({
        before: false,
        after: true,
        claim: { granted: true, duplicate: false, count: 1 },
      });
    });
  });
});
