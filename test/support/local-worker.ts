import { type LocalServer, startLocal } from '../../local/server.ts';
import { alertGroupBody, fixture } from '../fixtures/alertmanager/kit.ts';

/**
 * Local mode in a separate process against a Redis store (STATE_STORE_URL), driven over IPC by
 * the guardrails' Redis test: several of these are several function instances sharing one Tair.
 * `prepare` starts local mode with its own emulator holding the instances; `go` sends one firing
 * Alertmanager group per instance to the interrupt function, each delivered twice at once (a
 * retry racing its original), all concurrently; `close` stops local mode.
 * Run with `node --import tsx test/support/local-worker.ts`.
 */

export const WORKER_TOKEN = 'am-local-worker-token-4f1e';

export type LocalWorkerRequest =
  | { id: number; kind: 'prepare'; redisUrl: string; budget: string; instanceIds: string[] }
  | { id: number; kind: 'go' }
  | { id: number; kind: 'close' };

export interface Answered {
  instanceId: string;
  status: number;
  clientToken?: string | undefined;
  outcome?: string | undefined;
  code?: string | undefined;
}

export type LocalWorkerReply =
  | { id: number; kind: 'ready' }
  | { id: number; kind: 'answered'; answers: Answered[] }
  | { id: number; kind: 'closed' }
  | { id: number; kind: 'error'; message: string };

let local: LocalServer | undefined;
let bodies: Array<{ instanceId: string; body: string }> = [];

async function handle(message: LocalWorkerRequest): Promise<LocalWorkerReply> {
  switch (message.kind) {
    case 'prepare': {
      await local?.close();
      local = await startLocal({
        port: 0,
        env: {
          PATH: process.env.PATH,
          STATE_STORE_URL: message.redisUrl,
          FLEET_CHANGE_BUDGET: message.budget,
          ALERTMANAGER_BEARER_TOKENS: WORKER_TOKEN,
          // Correctness under concurrency, not latency: a loaded two-core machine must not turn a slow answer into a 503.
          RETRY_DEADLINE_MS: '20000',
          POWERTOOLS_LOG_LEVEL: 'SILENT',
        },
      });
      local.emulator.reset(message.instanceIds.map((instanceId) => ({ instanceId, status: 'activating' as const })));
      bodies = message.instanceIds.map((instanceId) => ({
        instanceId,
        body: JSON.stringify(alertGroupBody(fixture('firing'), instanceId, 'firing')),
      }));
      return { id: message.id, kind: 'ready' };
    }
    case 'go': {
      const url = `${(local as LocalServer).url}/interrupt-elasticsearch-task/alertmanager`;
      const deliveries = [...bodies, ...bodies].map(async ({ instanceId, body }): Promise<Answered> => {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${WORKER_TOKEN}` },
          body,
        });
        const result = ((await response.json()) as { results?: Answered[] }).results?.[0];
        return { ...result, instanceId, status: response.status };
      });
      return { id: message.id, kind: 'answered', answers: await Promise.all(deliveries) };
    }
    case 'close': {
      await local?.close();
      local = undefined;
      return { id: message.id, kind: 'closed' };
    }
  }
}

process.on('message', (message: LocalWorkerRequest) => {
  handle(message).then(
    (reply) => process.send?.(reply),
    (error: unknown) => process.send?.({ id: message.id, kind: 'error', message: String(error) }),
  );
});
process.on('disconnect', () => {
  void (local?.close() ?? Promise.resolve()).finally(() => process.exit(0));
});
