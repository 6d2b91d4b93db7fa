import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { buildAll } from '../../scripts/build.ts';

/**
 * Vitest global setup: `npm run build`'s bundles, built once per run into a temporary folder and
 * shared with every test file that needs them (`inject('bundles')`), instead of once per file.
 * Rebuilt when watch mode reruns tests, so they never lag behind the sources.
 */

export interface BuiltBundles {
  /** Holds `<function>/index.js` (and fc2.js, package.json) and `<function>.meta.json`, as dist/ does. */
  dir: string;
  sizes: Awaited<ReturnType<typeof buildAll>>;
}

declare module 'vitest' {
  export interface ProvidedContext {
    bundles: BuiltBundles;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), 'responder-bundles-'));
  const build = async () => project.provide('bundles', { dir, sizes: await buildAll(dir) });
  await build();
  project.onTestsRerun(build);
  return () => rm(dir, { recursive: true, force: true });
}
