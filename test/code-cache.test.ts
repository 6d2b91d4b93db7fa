import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FUNCTION_NAMES, type FunctionName } from '../shared/actions.ts';
import { coldRun } from './support/cold-run.ts';
import { findRedisServer, type RunningRedis, startRedis, warnRedisMissing } from './support/redis-server.ts';

/**
 * dist/<function>/index.js is a loader that runs bundle.js with the V8 code cache the build left in
 * bundle.cache (scripts/bundle-loader.ts). Each case runs in a fresh `node` with only the function's
 * environment (no NODE_OPTIONS: V8 refuses a cache made under other flags), as FC's runtime does.
 */

const run = promisify(execFile);

/** Loads a function, handles one event, and says (after the function's log lines) what the loader did with the cache. */
const HOST = `
const { handler, [Symbol.for('es-change-responder.code-cache')]: cache } = require(process.argv[1]);
handler(Buffer.from(process.argv[2], 'base64'), { requestId: 'code-cache-test', credentials: {} }).then((result) => {
  process.stdout.write('\\nanswer ' + JSON.stringify({ status: cache.status, statusCode: result.statusCode, body: result.body }));
});
`;

async function coldRequest(dir: string, name: FunctionName, nodeFlags: string[] = []) {
  const { answer } = await coldRun<{ status: string; statusCode: number; body: string }>({
    dir,
    name,
    source: 'generic',
    host: HOST,
    nodeFlags,
    instance: 'cache0001',
  });
  return { ...answer, body: JSON.parse(answer.body) as { results: Array<{ outcome: string }> } };
}

describe('Function: the code cache of npm run build', () => {
  const { dir: outdir, sizes } = inject('bundles');

  it.each(FUNCTION_NAMES)('makes a cache for %s that the Node which built it accepts', async (name) => {
    expect(sizes.find((s) => s.name === name)?.cacheBytes).toBeGreaterThan(0);
    const answer = await coldRequest(join(outdir, name), name);
    expect(answer.status).toBe('accepted');
    expect(answer.statusCode).toBe(200);
    expect(answer.body.results).toMatchObject([{ outcome: 'dry-run' }]);
  });
});

const NAME: FunctionName = 'interrupt-elasticsearch-task';

/** Ways a bundle.cache can fail to fit, and what the loader must then say (it answers all the same). */
const UNFIT: Array<[string, (dir: string) => Promise<void>, string, string[]?]> = [
  // V8 alone would use these bytes as they are: its release build does not checksum a code cache.
  ['a byte of the V8 data flipped', (dir) => edit(dir, (cache) => flip(cache, cache.length - 5000)), 'invalid'],
  // V8 alone would abort the process on this one.
  ['a range of the V8 data zeroed', (dir) => edit(dir, (cache) => cache.fill(0, 2000, 60_000)), 'invalid'],
  ['truncated', (dir) => edit(dir, (cache) => cache.subarray(0, 1000)), 'invalid'],
  ['not a cache at all', (dir) => writeFile(join(dir, 'bundle.cache'), 'garbage'), 'invalid'],
  ['made by another Node build', (dir) => edit(dir, (cache) => otherRuntime(cache)), 'other-runtime'],
  // V8 checks only the source's length: a bundle changed in place must not meet the old cache.
  ['made for another bundle of the same length', (dir) => sameLengthBundle(dir), 'invalid'],
  ['missing', (dir) => rm(join(dir, 'bundle.cache')), 'absent'],
  // The trap of V8 heap flags: the cache fits this Node, but V8 refuses it under other flags.
  ['refused by V8 under other V8 flags', async () => {}, 'rejected', ['--max-old-space-size=256']],
];

describe('Function: the bundle loader', () => {
  const { dir: outdir } = inject('bundles');
  let scratch: string;
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'code-cache-'));
  });
  afterAll(() => rm(scratch, { recursive: true, force: true }));

  it.each(UNFIT)(
    'compiles from source when the cache is %s, and the function answers',
    async (_, spoil, status, flags) => {
      const dir = await mkdtemp(join(scratch, 'fn-'));
      await cp(join(outdir, NAME), dir, { recursive: true });
      await spoil(dir);
      const answer = await coldRequest(dir, NAME, flags);
      expect(answer.status).toBe(status);
      expect(answer.statusCode).toBe(200);
      expect(answer.body.results).toMatchObject([{ outcome: 'dry-run' }]);
    },
  );

  it('runs bundle.js as a CommonJS module of its folder: its exports, relative requires, file names and lines', async () => {
    const dir = await mkdtemp(join(scratch, 'fn-'));
    await cp(join(outdir, NAME, 'index.js'), join(dir, 'index.js'));
    await writeFile(join(dir, 'package.json'), '{"type":"commonjs"}\n');
    await writeFile(join(dir, 'sibling.js'), 'module.exports = { loadedFrom: __dirname };\n');
    // As the bundle's lazy imports do: a sibling required on first use, after the load.
    await writeFile(
      join(dir, 'bundle.js'),
      [
        '"use strict";',
        'exports.handler = async () => ({',
        '  sibling: require("./sibling.js").loadedFrom,',
        '  file: __filename,',
        '  line: new Error("where").stack.split("\\n")[1],',
        '});',
      ].join('\n'),
    );
    const { stdout } = await run(
      process.execPath,
      [
        '-e',
        'require(process.argv[1]).handler().then((r) => process.stdout.write(JSON.stringify(r)))',
        join(dir, 'index.js'),
      ],
      { env: { PATH: process.env.PATH ?? '' } },
    );
    const answer = JSON.parse(stdout) as { sibling: string; file: string; line: string };
    expect(answer.sibling).toBe(dir);
    expect(answer.file).toBe(join(dir, 'bundle.js'));
    // Stack traces point at bundle.js's own lines (line 5: the wrapper takes no line of it).
    expect(answer.line).toContain(`${join(dir, 'bundle.js')}:5:`);
  });
});

async function edit(dir: string, change: (cache: Buffer) => Buffer | undefined): Promise<void> {
  const file = join(dir, 'bundle.cache');
  const cache = await readFile(file);
  await writeFile(file, change(cache) ?? cache);
}

function flip(cache: Buffer, at: number): Buffer {
  cache[at] = (cache[at] as number) ^ 0xff;
  return cache;
}

/** The same cache, labelled as made by another Node release. */
function otherRuntime(cache: Buffer): Buffer {
  const end = cache.indexOf(10);
  const runtime = cache.toString('latin1', 0, end).replace(/node v\d+\.\d+\.\d+/, 'node v20.0.0');
  return Buffer.concat([Buffer.from(runtime, 'latin1'), cache.subarray(end)]);
}

/** bundle.js with one character changed (its trailing newline becomes a space): valid, and of the same length. */
async function sameLengthBundle(dir: string): Promise<void> {
  const file = join(dir, 'bundle.js');
  const code = await readFile(file, 'utf8');
  expect(code.endsWith('\n')).toBe(true);
  await writeFile(file, `${code.slice(0, -1)} `);
}

const redisBin = findRedisServer();
if (!redisBin) warnRedisMissing('THE CODE CACHE OF redis.js');

describe.skipIf(!redisBin)('Function: the code cache of redis.js (the state store client)', () => {
  const { dir: outdir } = inject('bundles');
  let redis: RunningRedis;
  beforeAll(async () => {
    redis = await startRedis(redisBin as string);
  });
  afterAll(() => redis?.stop());

  /** A cold Alertmanager delivery with STATE_STORE_URL (the guardrails read the store), and what the loader did with redis.js. */
  async function storeRequest(dir: string, name: FunctionName) {
    const host = `
const mod = require(process.argv[1]);
mod.handler(Buffer.from(process.argv[2], 'base64'), { requestId: 'code-cache-test', credentials: {} }).then((result) => {
  const sibling = mod[Symbol.for('es-change-responder.code-cache')].siblings.get('./redis.js');
  process.stdout.write('\\nanswer ' + JSON.stringify({ redis: sibling && sibling.status, statusCode: result.statusCode }));
  process.exit(0);
});
`;
    const { answer } = await coldRun<{ redis?: string; statusCode: number }>({
      dir,
      name,
      source: 'alertmanager',
      host,
      env: { STATE_STORE_URL: redis.url },
      instance: 'cache0002',
    });
    return answer;
  }

  it.each(FUNCTION_NAMES)(
    'is made by the build (trained on a real store) for %s and accepted on the first store operation',
    async (name) => {
      expect((await readFile(join(outdir, name, 'redis.cache'))).byteLength).toBeGreaterThan(0);
      expect(await storeRequest(join(outdir, name), name)).toEqual({ redis: 'accepted', statusCode: 200 });
    },
  );

  it('falls back to compiling redis.js when its cache is corrupted, and the store still answers', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'redis-cache-'));
    try {
      await cp(join(outdir, NAME), dir, { recursive: true });
      const cache = await readFile(join(dir, 'redis.cache'));
      cache[cache.length - 100] = (cache[cache.length - 100] as number) ^ 0xff;
      await writeFile(join(dir, 'redis.cache'), cache);
      expect(await storeRequest(dir, NAME)).toEqual({ redis: 'invalid', statusCode: 200 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
