import { spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The logger writes its lines to fd 1 itself (shared/logger.ts). A pipe inherited from the runtime
 * is blocking, and its reader may stall (a busy log collector): the function must not stall with
 * it. Here the child's stdout is a FIFO this test does not read until the child says, on fd 3, that
 * it has logged everything: with a blocking write it could never say so. Then every line must
 * arrive, whole and in order.
 */

const LINES = 400; // about 400 KB: several times what a pipe holds
const hasMkfifo = process.platform === 'linux' && spawnSync('mkfifo', ['--version']).status === 0;

let dir: string;
let child: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'logger-pipe-'));
  await writeFile(
    join(dir, 'entry.ts'),
    `import { writeSync } from 'node:fs';
import { createRootLogger } from ${JSON.stringify(resolve('shared/logger.ts'))};
const logger = createRootLogger('interrupt-elasticsearch-task', { POWERTOOLS_LOG_LEVEL: 'INFO' });
const pad = 'x'.repeat(1000);
for (let i = 0; i < ${LINES}; i++) logger.info('line', { i, pad });
writeSync(3, 'logged');
if (process.argv[2] === 'reader-gone') {
  // Whatever the stream does with the lines, the process lives on (an 'error' would have thrown by now).
  setImmediate(() => process.exit(0));
} else {
  // Stay until what the stream queued is written (on FC the instance lives on).
  const done = () => (process.stdout.writableLength > 0 ? setTimeout(done, 5) : process.exit(0));
  done();
}
`,
  );
  child = join(dir, 'child.cjs');
  await build({
    entryPoints: [join(dir, 'entry.ts')],
    outfile: child,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    logLevel: 'error',
  });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe.skipIf(!hasMkfifo)('Function: the logger on a pipe whose reader stalls', () => {
  it('goes on without waiting for the reader, and every line arrives whole and in order', async () => {
    const fifo = join(dir, 'stdout.fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    // The read end first (non-blocking, so opening it does not wait for a writer), then the child's end.
    const readFd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writeFd = openSync(fifo, constants.O_WRONLY);
    const proc = spawn(process.execPath, [child], {
      stdio: ['ignore', writeFd, 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '' },
    });
    closeSync(writeFd);
    const exited = new Promise<number | null>((done) => proc.on('exit', done));
    try {
      // Nothing reads the FIFO until the child reports on fd 3 that it has logged every line.
      expect(await reported(proc)).toBe('logged');
      const reader = new Socket({ fd: readFd, readable: true, writable: false });
      const chunks: Buffer[] = [];
      reader.on('data', (chunk: Buffer) => chunks.push(chunk));
      await new Promise<void>((done) => reader.on('end', done));
      expect(await exited).toBe(0);
      const lines = Buffer.concat(chunks).toString('utf8').split('\n').filter(Boolean);
      expect(lines).toHaveLength(LINES);
      expect(lines.map((line) => (JSON.parse(line) as { i: number }).i)).toEqual([...Array(LINES).keys()]);
    } finally {
      proc.kill();
    }
  });

  it('lives on when the reader is gone (EPIPE): the lines are dropped, as Console dropped them', async () => {
    const fifo = join(dir, 'gone.fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const readFd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writeFd = openSync(fifo, constants.O_WRONLY);
    closeSync(readFd);
    const proc = spawn(process.execPath, [child, 'reader-gone'], {
      stdio: ['ignore', writeFd, 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '' },
    });
    closeSync(writeFd);
    const exited = new Promise<number | null>((done) => proc.on('exit', done));
    let stderr = '';
    proc.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    try {
      expect(await reported(proc)).toBe('logged');
      expect(await exited).toBe(0);
      expect(stderr).not.toMatch(/EPIPE|Unhandled/);
    } finally {
      proc.kill();
    }
  });
});

/** What the child reports on fd 3 (within 15 s: a child whose log writes block never reports). */
function reported(proc: ReturnType<typeof spawn>): Promise<string> {
  return new Promise<string>((done, fail) => {
    const timer = setTimeout(() => fail(new Error('the child never finished logging: its writes block')), 15_000);
    proc.stdio[3]?.once('data', (chunk: Buffer) => {
      clearTimeout(timer);
      done(chunk.toString());
    });
  });
}
