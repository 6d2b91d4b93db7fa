import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Distributes `Omit<T, 'id'>` over a union, so each request keeps its own fields. */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

/**
 * A test script in a separate node process (TypeScript through tsx, as local mode's test runs
 * `npm start`), driven over IPC: the store and guardrail tests act from several of these, as
 * separate function instances would. Replies carry the request's `id`; `kind: 'error'` rejects.
 */
export interface IpcWorker<Request extends { id: number }, Reply extends { id: number; kind: string }> {
  send(request: WithoutId<Request>): Promise<Reply>;
  close(): Promise<void>;
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export function startIpcWorker<Request extends { id: number }, Reply extends { id: number; kind: string }>(
  script: string,
  args: string[] = [],
): IpcWorker<Request, Reply> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const pending = new Map<number, { resolve: (reply: Reply) => void; reject: (error: Error) => void }>();
  let next = 0;
  child.on('message', (reply: Reply) => {
    const waiter = pending.get(reply.id);
    pending.delete(reply.id);
    if (reply.kind === 'error') waiter?.reject(new Error((reply as { message?: string }).message ?? 'worker error'));
    else waiter?.resolve(reply);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => {
    for (const waiter of pending.values()) waiter.reject(new Error(`${script} exited: ${stderr.trim()}`));
    pending.clear();
  });
  return {
    send(request) {
      const id = next++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        child.send({ ...request, id }, (error) => {
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
