import { type ChildProcess, spawn } from 'node:child_process';
import type { Env } from '../../shared/config.ts';
import type { FcContext } from '../../shared/fc/events.ts';

/**
 * A built bundle (`dist/<function>/index.js`) in a fresh node process whose environment is exactly
 * the function's, as FC's nodejs20 runtime holds it: `require`d once (the cold start reads the
 * environment), then `handler(event, context)` per invocation, over IPC. Its stdout (the function's
 * log lines) is kept for the test to read.
 */

export interface BundleProcess {
  /** Calls the handler with the event bytes; resolves with its return value, rejects with what it threw. */
  invoke(event: Buffer, context: FcContext): Promise<unknown>;
  /** Everything the function has written to stdout so far. */
  stdout(): string;
  close(): Promise<void>;
}

const HOST = `
const { handler } = require(process.argv[1]);
process.on('message', ({ id, event, context }) => {
  Promise.resolve()
    .then(() => handler(Buffer.from(event, 'base64'), context))
    .then(
      (result) => process.send({ id, result }),
      (error) => process.send({ id, error: String((error && error.message) || error) }),
    );
});
`;

export function startBundle(file: string, env: Env): BundleProcess {
  const child: ChildProcess = spawn(process.execPath, ['-e', HOST, file], {
    env: Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined)),
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString('utf8');
  });
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let next = 0;
  child.on('message', (message: { id: number; result?: unknown; error?: string }) => {
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (message.error !== undefined) waiter?.reject(new Error(message.error));
    else waiter?.resolve(message.result);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => {
    for (const waiter of pending.values()) waiter.reject(new Error(`the bundle process exited: ${err.trim()}`));
    pending.clear();
  });
  return {
    invoke(event, context) {
      const id = next++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        child.send({ id, event: event.toString('base64'), context }, (error) => {
          if (error) {
            pending.delete(id);
            reject(error);
          }
        });
      });
    },
    stdout: () => out,
    async close() {
      if (child.exitCode === null && child.signalCode === null) child.kill();
      await exited;
    },
  };
}
