import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mapBounded } from '../shared/core/map-bounded.ts';
import type { ResponseBody } from '../shared/core/result.ts';
import { createFunctionHandler } from '../shared/create-function.ts';
import { type StartedEmulator, startEmulator } from './support/emulator-server.ts';
import { cloudEnv } from './support/function-harness.ts';
import { genericRequest, invokeHttp, standardWebhookHeaders, TEST_WEBHOOK_SECRET } from './support/invoke.ts';

/**
 * An alert storm against a faulty control plane: throttling, 5xx, replies lost after the change
 * was applied, and latency. Every command is delivered the way senders deliver (retried on 5xx,
 * sometimes twice at once, as HA pairs do), and in the end every instance changed exactly once.
 */
const COMMANDS = 300;
// Alertmanager keeps retrying a 5xx with backoff; 20 tries make a spurious failure (0.16^20 per command) negligible.
const SENDER_RETRIES = 20;

let upstream: StartedEmulator;
beforeAll(async () => {
  upstream = await startEmulator({
    instances: Array.from({ length: COMMANDS }, (_, i) => ({
      instanceId: `es-cn-storm${String(i).padStart(4, '0')}`,
      status: 'activating' as const,
      migrating: false,
    })),
    faults: { throttle: 0.2, serverError: 0.1, dropResponse: 0.1, latencyMs: 2, seed: 7 },
  });
});
afterAll(() => upstream.close());

describe('Function: a storm of commands against upstream faults', () => {
  it('changes every instance exactly once, loses nothing, and every delivery ends in 2xx', async () => {
    const handler = createFunctionHandler('interrupt-elasticsearch-task', {
      env: {
        ...cloudEnv(upstream.url),
        GENERIC_WEBHOOK_SECRETS: TEST_WEBHOOK_SECRET,
        ALLOWED_INSTANCES: 'es-cn-storm*',
        // A short budget, so some deliveries give up inside and the sender's own retry finishes them.
        RETRY_DEADLINE_MS: '400',
      },
    });

    /** One sender delivery: the same bytes and headers on every retry, like Alertmanager. */
    async function deliver(i: number): Promise<{ tries: number; last: ResponseBody; status: number }> {
      const instanceId = `es-cn-storm${String(i).padStart(4, '0')}`;
      const body = JSON.stringify({ instanceIds: [instanceId], reason: `storm ${i}` });
      const headers = standardWebhookHeaders(body, { id: `msg_storm_${i}` });
      for (let tries = 1; ; tries++) {
        const response = await invokeHttp(handler, genericRequest('interrupt-elasticsearch-task', body, headers));
        const last = (await response.json()) as ResponseBody;
        if (response.status < 500 || tries === SENDER_RETRIES) return { tries, last, status: response.status };
      }
    }

    // Every third command is also delivered twice at once (HA duplicates).
    const jobs = Array.from({ length: COMMANDS }, (_, i) => i).flatMap((i) => (i % 3 === 0 ? [i, i] : [i]));
    const outcomes = await mapBounded(jobs, 24, deliver);

    expect(outcomes.filter((o) => o.status !== 200)).toEqual([]);
    for (const o of outcomes) expect(['applied', 'already']).toContain(o.last.results[0]?.outcome);
    expect(outcomes.some((o) => o.tries > 1)).toBe(true);

    const { instances } = upstream.emulator.controlPlane.snapshot();
    expect(instances).toHaveLength(COMMANDS);
    for (const instance of instances) {
      expect(instance.status, instance.instanceId).toBe('suspended');
      expect(instance.history, instance.instanceId).toHaveLength(1);
    }
    // One entry per token, and each token is the one the responder reported for that instance.
    const reported = new Map(outcomes.map((o) => [o.last.results[0]?.instanceId, o.last.results[0]?.clientToken]));
    for (const instance of instances) expect(instance.history[0]?.clientToken).toBe(reported.get(instance.instanceId));
  });
});
