import { mkdir, rm, writeFile } from 'node:fs/promises';
import { build } from 'esbuild';
import { FUNCTION_NAMES } from '../shared/actions.ts';

/**
 * `npm run build`: one minified CommonJS bundle per function at dist/<function>/index.js,
 * exporting `handler` (FC handler `index.handler`). Only what the function imports is
 * bundled: the emulator, local mode, tests and the generated SDK are never imported by a
 * function. `@alicloud/fc2` stays external, so it is required only where a hand-off happens.
 */
export const EXTERNAL = ['@alicloud/fc2'];

export async function buildAll(outdir = 'dist'): Promise<Array<{ name: string; bytes: number }>> {
  await rm(outdir, { recursive: true, force: true });
  const sizes: Array<{ name: string; bytes: number }> = [];
  for (const name of FUNCTION_NAMES) {
    const result = await build({
      entryPoints: [`functions/${name}/index.ts`],
      outfile: `${outdir}/${name}/index.js`,
      bundle: true,
      minify: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      external: EXTERNAL,
      legalComments: 'none',
      metafile: true,
      logLevel: 'warning',
    });
    await mkdir(`${outdir}/${name}`, { recursive: true });
    // The repository is ESM ("type": "module"); the bundle is CommonJS, on FC and in `npm run bench` alike.
    await writeFile(`${outdir}/${name}/package.json`, '{"type":"commonjs"}\n');
    await writeFile(`${outdir}/${name}.meta.json`, JSON.stringify(result.metafile));
    const output = Object.values(result.metafile.outputs)[0];
    sizes.push({ name, bytes: output?.bytes ?? 0 });
  }
  return sizes;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const sizes = await buildAll();
  for (const { name, bytes } of sizes) {
    process.stdout.write(`dist/${name}/index.js  ${(bytes / 1024).toFixed(1)} KiB\n`);
  }
}
