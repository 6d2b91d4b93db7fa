import { execFile } from 'node:child_process';
import { copyFile, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { type BuildOptions, build, type Plugin } from 'esbuild';
import { actionFor, FUNCTION_NAMES } from '../shared/actions.ts';

/**
 * `npm run build`: per function, dist/<function>/ holds
 * - bundle.js: one minified CommonJS bundle of the function. Only what the function imports is
 *   bundled: the emulator, local mode, tests and the generated SDK are never imported by a function;
 * - bundle.cache: V8's code cache of bundle.js, made by this Node from a training run that handles
 *   what a cold start handles (scripts/code-cache-train.ts), so a cold start skips most compiling;
 * - index.js: the tiny loader FC calls (`index.handler`), which runs bundle.js with that cache, or
 *   compiles it from source when the cache does not fit the Node that runs it (scripts/bundle-loader.ts);
 * - redis.cache: the same for redis.js, when the building machine has a redis-server for the training
 *   run to use (the client is compiled on the first store operation of a cold start otherwise).
 *
 * Heavy clients loaded only when needed are bundled on their own, as sibling files beside each
 * index.js, so they never weigh on the cold path:
 * - `@alicloud/fc2` (axios, ali-oss: about 1 MB) as fc2.js, required on an FC 2.0 hand-off;
 * - `@redis/client` as redis.js, required when the guardrails' state store is first used.
 */
export interface Sibling {
  /** The package a lazy `import()` names. */
  readonly module: string;
  /** The file beside index.js that the import is rewritten to. */
  readonly file: string;
  /** Optional requires of the package that FC never needs (and that are not installed). */
  readonly external: readonly string[];
}

export const SIBLINGS: readonly Sibling[] = [
  // An optional require of fc2 for HTTP proxies, which FC does not use.
  { module: '@alicloud/fc2', file: 'fc2.js', external: ['proxy-agent'] },
  // Optional peers of the Redis client: OpenTelemetry metrics and the DIGEST helper, both unused.
  { module: '@redis/client', file: 'redis.js', external: ['@opentelemetry/api', '@node-rs/xxhash'] },
];

/** Rewrites each lazy `import('<package>')` to its sibling file, kept out of index.js. */
export const siblingsPlugin: Plugin = {
  name: 'siblings',
  setup(b) {
    for (const sibling of SIBLINGS) {
      const filter = new RegExp(`^${sibling.module.replace(/[/.]/g, '\\$&')}$`);
      b.onResolve({ filter }, () => ({ path: `./${sibling.file}`, external: true }));
    }
  },
};

/**
 * The esbuild options of the functions' bundles (tests that bundle "as the functions are" use them).
 * The loader runs bundle.js through `vm.Script`, where a native `import()` has no module loader to
 * call (and FC's Node 20 may predate vm's option for one): lazy imports of the sibling files and of
 * built-ins become `require`s, as they are for a CommonJS bundle.
 */
export const BUNDLE_OPTIONS = {
  bundle: true,
  minify: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  supported: { 'dynamic-import': false },
  plugins: [siblingsPlugin],
  legalComments: 'none',
} satisfies BuildOptions;

export interface BundleSize {
  name: string;
  /** bundle.js, the function's code. */
  bytes: number;
  /** index.js, the loader. */
  loaderBytes: number;
  /** bundle.cache, the V8 code cache. */
  cacheBytes: number;
  /** Bytes of each sibling file (the same beside every function). */
  siblings: Record<string, number>;
}

async function buildSibling(sibling: Sibling, outdir: string): Promise<number> {
  const result = await build({
    // Resolved from the project, wherever outdir is.
    stdin: { contents: `module.exports = require('${sibling.module}');`, resolveDir: process.cwd(), loader: 'js' },
    outfile: `${outdir}/${sibling.file}`,
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: [...sibling.external],
    legalComments: 'none',
    metafile: true,
    logLevel: 'error',
  });
  return Object.values(result.metafile.outputs)[0]?.bytes ?? 0;
}

/** A script of scripts/ as CommonJS text, its imports inlined (node built-ins stay requires). */
async function compileScript(entry: string, banner?: string): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    write: false,
    banner: banner ? { js: banner } : {},
    logLevel: 'warning',
  });
  return result.outputFiles?.[0]?.text ?? '';
}

const run = promisify(execFile);

/**
 * Makes dist/<function>/bundle.cache: a fresh `node` (this one, no flags, no NODE_* variables: V8
 * refuses a cache made under other flags) trains the loaded bundle on a cold start's requests.
 */
async function trainCodeCache(trainer: string, dir: string, name: (typeof FUNCTION_NAMES)[number]): Promise<void> {
  const { prefix, alertRole } = actionFor(name);
  const alert = alertRole === 'resume' ? 'resolved' : 'firing';
  try {
    await run(process.execPath, ['-e', trainer, dir, name, prefix, alert], {
      env: { PATH: process.env.PATH ?? '' },
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(`code cache training of ${name} failed: ${stderr || String(error)}`);
  }
}

/** `sourcemap`: bundle.js.map beside each bundle.js (`npm run bench` reads profiles with it); bundle.js is the same. */
export async function buildAll(outdir = 'dist', options: { sourcemap?: boolean } = {}): Promise<BundleSize[]> {
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  const siblings: Record<string, number> = {};
  for (const sibling of SIBLINGS) siblings[sibling.file] = await buildSibling(sibling, outdir);
  const loader = await compileScript(
    'scripts/bundle-loader.ts',
    '// FC handler index.handler: runs bundle.js with the V8 code cache in bundle.cache (see scripts/bundle-loader.ts).',
  );
  const trainer = await compileScript('scripts/code-cache-train.ts');

  const sizes: BundleSize[] = [];
  for (const name of FUNCTION_NAMES) {
    const dir = `${outdir}/${name}`;
    const result = await build({
      ...BUNDLE_OPTIONS,
      entryPoints: [`functions/${name}/index.ts`],
      outfile: `${dir}/bundle.js`,
      sourcemap: options.sourcemap ? 'external' : false,
      metafile: true,
      logLevel: 'warning',
    });
    await writeFile(`${dir}/index.js`, loader);
    for (const sibling of SIBLINGS) await copyFile(`${outdir}/${sibling.file}`, `${dir}/${sibling.file}`);
    // The repository is ESM ("type": "module"); the bundles are CommonJS, on FC and in `npm run bench` alike.
    await writeFile(`${dir}/package.json`, '{"type":"commonjs"}\n');
    await writeFile(`${outdir}/${name}.meta.json`, JSON.stringify(result.metafile));
    await trainCodeCache(trainer, resolve(dir), name);
    const output = Object.entries(result.metafile.outputs).find(([file]) => file.endsWith('bundle.js'))?.[1];
    sizes.push({
      name,
      bytes: output?.bytes ?? 0,
      loaderBytes: Buffer.byteLength(loader),
      cacheBytes: (await stat(`${dir}/bundle.cache`)).size,
      siblings,
    });
  }
  for (const sibling of SIBLINGS) await rm(`${outdir}/${sibling.file}`);
  return sizes;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const sizes = await buildAll();
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;
  for (const { name, bytes, loaderBytes, cacheBytes, siblings } of sizes) {
    process.stdout.write(
      `dist/${name}/bundle.js  ${(bytes / 1024).toFixed(1)} KiB   (+ index.js, the loader, ${(loaderBytes / 1024).toFixed(1)} KiB; + bundle.cache ${kib(cacheBytes)}; + fc2.js ${kib(siblings['fc2.js'] ?? 0)}, loaded only on an FC 2.0 hand-off; + redis.js ${kib(siblings['redis.js'] ?? 0)}, loaded only when the state store is used)\n`,
    );
  }
}
