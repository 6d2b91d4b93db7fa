import { describe, expect, it } from 'vitest';
import type { FunctionName } from '../shared/actions.ts';
import type { Env } from '../shared/config.ts';
import { useEmulator, wireFunction } from './support/function-harness.ts';
import { standardWebhookHeaders, TEST_WEBHOOK_SECRET } from './support/invoke.ts';

const SEED = [
  { instanceId: 'es-cn-activating01', status: 'activating', migrating: false },
  { instanceId: 'es-cn-suspended01', status: 'suspended', migrating: false },
  { instanceId: 'es-cn-active00001', status: 'active', migrating: false },
  { instanceId: 'es-cn-inactive001', status: 'inactive', migrating: false },
  { instanceId: 'es-cn-migrating01', status: 'activating', migrating: true },
  { instanceId: 'ls-cn-activating01', status: 'activating', migrating: false },
  { instanceId: 'ls-cn-suspended01', status: 'suspended', migrating: false },
  { instanceId: 'ls-cn-active00001', status: 'active', migrating: false },
] as const;

const upstream = useEmulator({ seed: () => SEED.map((s) => ({ ...s })) });
const { history } = upstream;

function setup(name: FunctionName, env: Env = {}) {
  const fn = wireFunction(upstream.url, name, 'generic', {
    GENERIC_WEBHOOK_SECRETS: TEST_WEBHOOK_SECRET,
    ALLOWED_INSTANCES: '*',
    MAX_TARGETS_PER_EVENT: '20',
    ...env,
  });
  const post = (instanceIds: string[], id?: string) => {
    const body = JSON.stringify({ instanceIds });
    return fn.post(body, standardWebhookHeaders(body, { id }));
  };
  return { post, calls: fn.calls };
}

/** The upstream calls, parsed. */
const urls = (calls: string[]) => calls.map((call) => new URL(call));

describe('Function: desired-state outcomes', () => {
  // The API refuses, the instance is read, and the answer says what the read showed.
  it.each<[FunctionName, string, 'already' | 'failed', string, RegExp]>([
    [
      'interrupt-elasticsearch-task',
      'es-cn-suspended01',
      'already',
      'InstanceStatusNotSupportCurrentAction',
      /already interrupted/,
    ],
    [
      'interrupt-elasticsearch-task',
      'es-cn-active00001',
      'already',
      'InstanceStatusNotSupportCurrentAction',
      /^no change is running \(the instance is active\): nothing to interrupt$/,
    ],
    [
      'interrupt-elasticsearch-task',
      'es-cn-inactive001',
      'failed',
      'InstanceStatusNotSupportCurrentAction',
      /\(the instance is inactive\)$/,
    ],
    [
      'resume-elasticsearch-task',
      'es-cn-activating01',
      'already',
      'InstanceStatusNotSupportCurrentAction',
      /already running again/,
    ],
    [
      'resume-elasticsearch-task',
      'es-cn-active00001',
      'already',
      'InstanceStatusNotSupportCurrentAction',
      /^no change is suspended \(the instance is active\): nothing to resume$/,
    ],
    [
      'resume-elasticsearch-task',
      'es-cn-inactive001',
      'failed',
      'InstanceStatusNotSupportCurrentAction',
      /\(the instance is inactive\)$/,
    ],
    ['interrupt-logstash-task', 'ls-cn-suspended01', 'already', 'InstanceActivating', /already interrupted/],
    [
      'interrupt-logstash-task',
      'ls-cn-active00001',
      'already',
      'InstanceActivating',
      /^no change is running \(the instance is active\): nothing to interrupt$/,
    ],
    [
      'resume-logstash-task',
      'ls-cn-activating01',
      'already',
      'InstanceStatusNotSupportCurrentAction',
      /already running again/,
    ],
    [
      'resume-logstash-task',
      'ls-cn-active00001',
      'already',
      'InstanceStatusNotSupportCurrentAction',
      /nothing to resume$/,
    ],
    [
      'cancel-migration-task',
      'es-cn-active00001',
      'already',
      'InstanceStatusNotSupportCurrentAction',
      /^no change is running \(the instance is active\), so no migration: nothing to cancel$/,
    ],
    ['cancel-migration-task', 'es-cn-activating01', 'failed', 'InstanceActivating', /\(the instance is activating\)$/],
  ])('%s on %s answers %s (%s)', async (name, instanceId, outcome, code, message) => {
    const { post, calls } = setup(name);
    const response = await post([instanceId]);
    expect(response.status).toBe(200);
    expect(response.body.results[0]).toMatchObject({
      instanceId,
      outcome,
      code,
      message: expect.stringMatching(message),
    });
    // "already" is nothing left to do; "failed" here is a refusal no retry can change.
    expect(response.body.results[0]?.retryable ?? false).toBe(false);
    // One refused action, then one read.
    expect(urls(calls).map((u) => u.pathname)).toEqual([
      expect.stringContaining('/actions/'),
      expect.not.stringContaining('/actions/'),
    ]);
    expect(history(instanceId)).toHaveLength(0);
  });

  it('makes no extra call on the happy path', async () => {
    const { post, calls } = setup('interrupt-elasticsearch-task');
    const response = await post(['es-cn-activating01']);
    expect(response.body.results[0]?.outcome).toBe('applied');
    expect(calls).toHaveLength(1);
  });

  it('reports InstanceNotFound as failed without a read', async () => {
    const { post, calls } = setup('interrupt-elasticsearch-task');
    const response = await post(['es-cn-nosuchthing']);
    expect(response.body.results[0]).toMatchObject({ outcome: 'failed', code: 'InstanceNotFound', retryable: false });
    expect(calls).toHaveLength(1);
  });
});

describe('Function: retries inside one invocation', () => {
  it.each([
    ['throttling', { throttle: 0.6, seed: 13 }],
    ['server errors', { serverError: 0.6, seed: 4 }],
    ['lost responses', { dropResponse: 0.6, seed: 4 }],
    // Seeds chosen so the first two attempts meet the fault (see emulator/faults.ts mulberry32).
  ])('rides out %s with the same clientToken on every attempt, and applies once', async (_case, faults) => {
    upstream.emulator.setFaults(faults);
    const { post, calls } = setup('interrupt-elasticsearch-task', { RETRY_DEADLINE_MS: '30000' });
    const response = await post(['es-cn-activating01']);
    expect(response.status).toBe(200);
    expect(response.body.results[0]?.outcome).toBe('applied');
    const actionCalls = urls(calls).filter((u) => u.pathname.endsWith('/actions/interrupt'));
    expect(actionCalls.length).toBeGreaterThan(1);
    expect(new Set(actionCalls.map((u) => u.searchParams.get('clientToken'))).size).toBe(1);
    expect(history('es-cn-activating01')).toHaveLength(1);
  });

  it('stops at the deadline and tells the sender to retry (503)', async () => {
    upstream.emulator.setFaults({ throttle: 1 });
    const { post, calls } = setup('interrupt-elasticsearch-task', { RETRY_DEADLINE_MS: '400' });
    const response = await post(['es-cn-activating01']);
    expect(response.status).toBe(503);
    expect(response.body.results[0]).toMatchObject({ outcome: 'failed', code: 'Throttling.User', retryable: true });
    // The emulator asks for 100 ms between attempts: a 400 ms budget fits a few, never unbounded.
    expect(calls.length).toBeGreaterThan(1);
    expect(calls.length).toBeLessThanOrEqual(5);
  });

  it('never retries a refusal a retry cannot fix', async () => {
    const { post, calls } = setup('interrupt-elasticsearch-task');
    await post(['es-cn-nosuchthing']);
    expect(calls).toHaveLength(1);
  });
});
