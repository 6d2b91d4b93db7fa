import { parseConfig } from '../../shared/config.ts';
import { createGuardrails, type GuardRequest } from '../../shared/guardrails/guardrails.ts';
import { CHAT_SOURCE_NAMES } from '../../shared/sources/registry.ts';
import { createRedisStore } from '../../shared/state/redis-store.ts';
import type { ClaimOptions, ClaimResult, StateStore } from '../../shared/state/store.ts';

/** The guardrails' section of the one configuration parse. */
const guardrailConfig = (env: Record<string, string | undefined>) => parseConfig(env).guardrails;

/**
 * A separate process holding its own connection to the Redis store, driven over IPC by
 * ipc-worker.ts: the concurrency and restart tests act from several of these, as separate
 * function instances would. Run with `node --import tsx test/support/store-worker.ts <url>`.
 */

export type WorkerRequest =
  | { id: number; kind: 'prepare'; namespace: string; tokens: string[]; options: ClaimOptions }
  | { id: number; kind: 'go' }
  | { id: number; kind: 'release'; tokens: string[] }
  | { id: number; kind: 'interrupt'; namespace: string; request: GuardRequest }
  | { id: number; kind: 'owns'; namespace: string; instanceId: string };

export type WorkerReply =
  | { id: number; kind: 'ready' }
  | { id: number; kind: 'claimed'; results: Array<{ token: string } & ClaimResult> }
  | { id: number; kind: 'released'; released: string[] }
  | { id: number; kind: 'interrupted'; allowed: boolean; stored: boolean }
  | { id: number; kind: 'owns'; owns: boolean }
  | { id: number; kind: 'error'; message: string };

const url = process.argv[2] as string;
// Correctness under concurrency, not latency: generous bounds, so a loaded CI machine (two cores,
// several suites at once) cannot turn a slow answer into a spurious StateStoreUnavailable.
const deadline = () => Date.now() + 20_000;
const timeouts = { timeoutMs: 15_000, connectTimeoutMs: 15_000 };
let prepared: { store: StateStore; tokens: string[]; options: ClaimOptions } | undefined;

function guardrails(namespace: string) {
  const store = createRedisStore({ url, namespace, ...timeouts });
  return {
    store,
    guard: createGuardrails({
      store,
      chatSources: CHAT_SOURCE_NAMES,
      config: guardrailConfig({}),
      pendingClaimMs: 40_000,
    }),
  };
}

async function handle(message: WorkerRequest): Promise<WorkerReply> {
  switch (message.kind) {
    case 'prepare': {
      await prepared?.store.close();
      const store = createRedisStore({ url, namespace: message.namespace, ...timeouts });
      // Connect now, so that on 'go' every worker only sends its claims.
      await store.getRecord('warm-up', deadline());
      prepared = { store, tokens: message.tokens, options: message.options };
      return { id: message.id, kind: 'ready' };
    }
    case 'go': {
      const { store, tokens, options } = prepared as NonNullable<typeof prepared>;
      const results = await Promise.all(
        tokens.map(async (token) => ({ token, ...(await store.claim('budget', token, options, deadline())) })),
      );
      return { id: message.id, kind: 'claimed', results };
    }
    case 'release': {
      const { store } = prepared as NonNullable<typeof prepared>;
      const released = await Promise.all(message.tokens.map((t) => store.release('budget', t, deadline())));
      return { id: message.id, kind: 'released', released: message.tokens.filter((_, i) => released[i]) };
    }
    case 'interrupt': {
      const { store, guard } = guardrails(message.namespace);
      const decision = await guard.decide(message.request, deadline());
      const settled = decision.allowed ? await guard.settle(decision.ticket, 'applied', deadline()) : undefined;
      await store.close();
      return { id: message.id, kind: 'interrupted', allowed: decision.allowed, stored: settled?.stored === true };
    }
    case 'owns': {
      const { store, guard } = guardrails(message.namespace);
      const owns = await guard.ownsInterruption(message.instanceId, deadline());
      await store.close();
      return { id: message.id, kind: 'owns', owns };
    }
  }
}

process.on('message', (message: WorkerRequest) => {
  handle(message).then(
    (reply) => process.send?.(reply),
    (error: unknown) => process.send?.({ id: message.id, kind: 'error', message: String(error) }),
  );
});
process.on('disconnect', () => {
  void prepared?.store.close().finally(() => process.exit(0));
});
