import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { build, type Plugin } from 'esbuild';
import { FUNCTION_NAMES } from '../shared/actions.ts';

/**
 * `npm run build`: one minified CommonJS bundle per function at dist/<function>/index.js,
 * exporting `handler` (FC handler `index.handler`). Only what the function imports is bundled:
 * the emulator, local mode, tests and the generated SDK are never imported by a function.
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

export interface BundleSize {
  name: string;
  bytes: number;
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

export async function buildAll(outdir = 'dist'): Promise<BundleSize[]> {
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  const siblings: Record<string, number> = {};
  for (const sibling of SIBLINGS) siblings[sibling.file] = await buildSibling(sibling, outdir);

  const sizes: BundleSize[] = [];
  for (const name of FUNCTION_NAMES) {
    const result = await build({
      entryPoints: [`functions/${name}/index.ts`],
      outfile: `${outdir}/${name}/index.js`,
      bundle: true,
      minify: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      plugins: [siblingsPlugin],
      legalComments: 'none',
      metafile: true,
      logLevel: 'warning',
    });
    for (const sibling of SIBLINGS) await copyFile(`${outdir}/${sibling.file}`, `${outdir}/${name}/${sibling.file}`);
    // The repository is ESM ("type": "module"); the bundles are CommonJS, on FC and in `npm run bench` alike.
    await writeFile(`${outdir}/${name}/package.json`, '{"type":"commonjs"}\n');
    await writeFile(`${outdir}/${name}.meta.json`, JSON.stringify(result.metafile));
    const output = Object.values(result.metafile.outputs)[0];
    sizes.push({ name, bytes: output?.bytes ?? 0, siblings });
  }
  for (const sibling of SIBLINGS) await rm(`${outdir}/${sibling.file}`);
  return sizes;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const sizes = await buildAll();
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;
  for (const { name, bytes, siblings } of sizes) {
    process.stdout.write(
      `dist/${name}/index.js  ${(bytes / 1024).toFixed(1)} KiB   (+ fc2.js ${kib(siblings['fc2.js'] ?? 0)}, loaded only on an FC 2.0 hand-off; + redis.js ${kib(siblings['redis.js'] ?? 0)}, loaded only when the state store is used)\n`,
    );
  }
}
