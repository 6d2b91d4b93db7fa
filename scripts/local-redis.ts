import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findExecutable } from '../test/support/find-executable.ts';

/**
 * A real `redis-server` (Debian package `redis-server`, installed by .ci/run) on a random free port,
 * for the state store's tests, the bench and the build's training run of redis.js's code cache: no
 * persistence, bound to 127.0.0.1, stopped after. Redis has no
 * `--port 0`, so a port is picked by binding 0 and releasing it; a collision (another process took
 * it in between) is retried on a new port.
 */

/** A port free on 127.0.0.1 now (bound to 0, then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export function findRedisServer(): string | undefined {
  return findExecutable(['redis-server'], [process.env.REDIS_SERVER_BIN, '/usr/bin/redis-server']);
}

export interface RunningRedis {
  /** `redis://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  /** Stops the server (SIGTERM) and waits for it. */
  stop(): Promise<void>;
  /** Kills the server (SIGKILL), as a crash would. */
  kill(): Promise<void>;
  /** Freezes the server (SIGSTOP): it accepts connections and answers nothing. */
  pause(): void;
  /** Thaws a paused server (SIGCONT). */
  resume(): void;
  /** Starts it again on the same port after stop or kill (data is gone: no persistence). */
  restart(): Promise<void>;
}

interface Started {
  child: ChildProcess;
  exited: Promise<void>;
}

async function launch(
  bin: string,
  port: number,
  dir: string,
  extra: readonly string[],
): Promise<Started | 'port-taken'> {
  const child = spawn(
    bin,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let output = '';
  const ready = await new Promise<boolean>((resolve) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.includes('Ready to accept connections')) resolve(true);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then(() => resolve(false));
  });
  if (ready) return { child, exited };
  if (/Address already in use/i.test(output)) return 'port-taken';
  throw new Error(`redis-server did not start:\n${output.slice(-2000)}`);
}

/** `extra`: more redis-server arguments, e.g. `['--requirepass', '…']`. */
export async function startRedis(bin: string, extra: readonly string[] = []): Promise<RunningRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'redis-test-'));
  let port = 0;
  let started: Started | undefined;
  for (let attempt = 0; attempt < 5 && !started; attempt++) {
    port = await freePort();
    const result = await launch(bin, port, dir, extra);
    if (result !== 'port-taken') started = result;
  }
  if (!started) throw new Error('redis-server found no free port in 5 attempts');
  let current: Started = started;
  const signal = async (name: NodeJS.Signals) => {
    if (current.child.exitCode === null && current.child.signalCode === null) current.child.kill(name);
    await current.exited;
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: async () => {
      current.child.kill('SIGCONT');
      await signal('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
    kill: () => signal('SIGKILL'),
    pause: () => current.child.kill('SIGSTOP'),
    resume: () => current.child.kill('SIGCONT'),
    restart: async () => {
      const result = await launch(bin, port, dir, extra);
      if (result === 'port-taken') throw new Error(`port ${port} was taken while redis-server was down`);
      current = result;
    },
  };
}
