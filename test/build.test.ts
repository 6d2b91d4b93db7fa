import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { FUNCTION_NAMES } from '../shared/actions.ts';

const run = promisify(execFile);

describe('Function: buildAll', () => {
  // buildAll ran once for the whole run (test/support/built-bundles.ts): its folder and its answer.
  const { dir: outdir, sizes } = inject('bundles');

  it('writes one bundle per function', () => {
    expect(sizes.map((s) => s.name).sort()).toEqual([...FUNCTION_NAMES].sort());
  });

  it.each(FUNCTION_NAMES)('bundles %s with only what the function needs', async (name) => {
    const code = await readFile(join(outdir, name, 'index.js'), 'utf8');
    // The emulator, local mode, the generated SDK and fc2 itself stay out of index.js.
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

  it.each(FUNCTION_NAMES)('loads %s in a fresh node process, exporting handler, without loading fc2', async (name) => {
    const script = `
      const before = new Set(Object.keys(require.cache));
      const mod = require(${JSON.stringify(join(outdir, name, 'index.js'))});
      const loaded = Object.keys(require.cache).filter((p) => !before.has(p));
      process.stdout.write(JSON.stringify({ handler: typeof mod.handler, fc2: loaded.some((p) => p.endsWith('fc2.js')) }));
    `;
    const { stdout } = await run(process.execPath, ['-e', script], { env: { PATH: process.env.PATH ?? '' } });
    expect(JSON.parse(stdout)).toEqual({ handler: 'function', fc2: false });
  });

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
