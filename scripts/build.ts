import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { build, type Plugin } from 'esbuild';
import { FUNCTION_NAMES } from '../shared/actions.ts';

/**
 * `npm run build`: one minified CommonJS bundle per function at dist/<function>/index.js,
 * exporting `handler` (FC handler `index.handler`). Only what the function imports is bundled:
 * the emulator, local mode, tests and the generated SDK are never imported by a function.
 *
 * `@alicloud/fc2` (axios, ali-oss: about 1 MB) is bundled on its own as dist/<function>/fc2.js
 * and required only when an async hand-off happens, so it never weighs on the cold path.
 */
const FC2_FILE = 'fc2.js';

/** Rewrites the lazy `import('@alicloud/fc2')` to the sibling file, kept out of index.js. */
const fc2Sibling: Plugin = {
  name: 'fc2-sibling',
  setup(b) {
    b.onResolve({ filter: /^@alicloud\/fc2$/ }, () => ({ path: `./${FC2_FILE}`, external: true }));
  },
};

export async function buildAll(outdir = 'dist'): Promise<Array<{ name: string; bytes: number; fc2Bytes: number }>> {
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  const fc2 = await build({
    // Resolved from the project, wherever outdir is.
    stdin: { contents: "module.exports = require('@alicloud/fc2');", resolveDir: process.cwd(), loader: 'js' },
    outfile: `${outdir}/${FC2_FILE}`,
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    // An optional require of fc2 for HTTP proxies, which FC does not use.
    external: ['proxy-agent'],
    legalComments: 'none',
    metafile: true,
    logLevel: 'error',
  });
  const fc2Bytes = Object.values(fc2.metafile.outputs)[0]?.bytes ?? 0;

  const sizes: Array<{ name: string; bytes: number; fc2Bytes: number }> = [];
  for (const name of FUNCTION_NAMES) {
    const result = await build({
      entryPoints: [`functions/${name}/index.ts`],
      outfile: `${outdir}/${name}/index.js`,
      bundle: true,
      minify: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      plugins: [fc2Sibling],
      legalComments: 'none',
      metafile: true,
      logLevel: 'warning',
    });
    await copyFile(`${outdir}/${FC2_FILE}`, `${outdir}/${name}/${FC2_FILE}`);
    // The repository is ESM ("type": "module"); the bundles are CommonJS, on FC and in `npm run bench` alike.
    await writeFile(`${outdir}/${name}/package.json`, '{"type":"commonjs"}\n');
    await writeFile(`${outdir}/${name}.meta.json`, JSON.stringify(result.metafile));
    const output = Object.values(result.metafile.outputs)[0];
    sizes.push({ name, bytes: output?.bytes ?? 0, fc2Bytes });
  }
  await rm(`${outdir}/${FC2_FILE}`);
  return sizes;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const sizes = await buildAll();
  for (const { name, bytes, fc2Bytes } of sizes) {
    process.stdout.write(
      `dist/${name}/index.js  ${(bytes / 1024).toFixed(1)} KiB   (+ fc2.js ${(fc2Bytes / 1024).toFixed(0)} KiB, loaded only on an FC 2.0 hand-off)\n`,
    );
  }
}
