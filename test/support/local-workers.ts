import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LocalWorkerReply, LocalWorkerRequest } from './local-worker.ts';

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

/** local-worker.ts in a separate node process (TypeScript through tsx), driven over IPC. */
export interface LocalWorker {
  send(request: WithoutId<LocalWorkerRequest>): Promise<LocalWorkerReply>;
  close(): Promise<void>;
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export function startLocalWorker(): LocalWorker {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'test/support/local-worker.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const pending = new Map<number, { resolve: (reply: LocalWorkerReply) => void; reject: (error: Error) => void }>();
  let next = 0;
  child.on('message', (reply: LocalWorkerReply) => {
    const waiter = pending.get(reply.id);
    pending.delete(reply.id);
    if (reply.kind === 'error') waiter?.reject(new Error(reply.message));
    else waiter?.resolve(reply);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => {
    for (const waiter of pending.values()) waiter.reject(new Error(`the local worker exited: ${stderr.trim()}`));
    pending.clear();
  });
  return {
    send(request) {
      const id = next++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        child.send({ ...request, id } as LocalWorkerRequest, (error) => {
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
