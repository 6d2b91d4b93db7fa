import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { WorkerReply, WorkerRequest } from './store-worker.ts';

/** Distributes `Omit<T, 'id'>` over a union, so each request keeps its own fields. */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

/**
 * store-worker.ts in a separate node process (TypeScript through tsx, as local mode's test runs
 * `npm start`), each with its own Redis connection, driven over IPC.
 */
export interface StoreWorker {
  send(request: WithoutId<WorkerRequest>): Promise<WorkerReply>;
  close(): Promise<void>;
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export function startStoreWorker(redisUrl: string): StoreWorker {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'test/support/store-worker.ts', redisUrl], {
    cwd: ROOT,
    env: { PATH: process.env.PATH },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const pending = new Map<number, { resolve: (reply: WorkerReply) => void; reject: (error: Error) => void }>();
  let next = 0;
  child.on('message', (reply: WorkerReply) => {
    const waiter = pending.get(reply.id);
    pending.delete(reply.id);
    if (reply.kind === 'error') waiter?.reject(new Error(reply.message));
    else waiter?.resolve(reply);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => {
    for (const waiter of pending.values()) waiter.reject(new Error(`the store worker exited: ${stderr.trim()}`));
    pending.clear();
  });
  return {
    send(request) {
      const id = next++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        child.send({ ...request, id } as WorkerRequest, (error) => {
          if (error) {
            pending.delete(id);
            reject(error);
          }
        });
      });
    },
    async close() {
      if (child.connected) child.disconnect();
      await exited;
    },
  };
}
