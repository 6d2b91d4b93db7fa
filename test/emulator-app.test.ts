import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEmulator } from '../emulator/app.ts';
import { emulatorCredentialsFromEnv, LOCAL_EMULATOR_CREDENTIALS } from '../emulator/credentials.ts';
import { ACTION_ROUTES, ES_API_VERSION } from '../emulator/es-api-table.ts';
import { FaultInjector, mulberry32, parseFaults } from '../emulator/faults.ts';
import { DEMO_INSTANCES, INSTANCE_ID, loadSeedFile, parseSeedInstances, seedFromEnv } from '../emulator/seed.ts';
import { ACTIONS, API_VERSION, actionPath } from '../shared/actions.ts';
import { canonicalQueryString, signRequest } from '../shared/elasticsearch/acs3-signer.ts';

const HOST = 'emulator.test';
const T0 = Date.parse('2025-06-01T12:00:00Z');
const interrupt = ACTIONS['interrupt-elasticsearch-task'];

const newEmulator = (options: Partial<Parameters<typeof createEmulator>[0]> = {}) =>
  createEmulator({ credentials: [LOCAL_EMULATOR_CREDENTIALS], now: () => T0, ...options });

/** A signed API request through app.request (no socket: exercises the URL-based wire path). */
function apiRequest(
  emulator: ReturnType<typeof newEmulator>,
  options: { method?: string; path?: string; query?: Record<string, string>; action?: string; version?: string } = {},
): Promise<Response> {
  const method = options.method ?? 'POST';
  const path = options.path ?? actionPath(interrupt, 'es-cn-demo-activating');
  const query = options.query ?? { clientToken: 't-1' };
  const headers = signRequest({
    method,
    host: HOST,
    path,
    query,
    action: options.action ?? interrupt.operation,
    version: options.version ?? API_VERSION,
    credentials: LOCAL_EMULATOR_CREDENTIALS,
    date: new Date(T0),
    nonce: randomUUID(),
  });
  const qs = canonicalQueryString(query);
  return Promise.resolve(emulator.app.request(`http://${HOST}${path}${qs ? `?${qs}` : ''}`, { method, headers }));
}

const jsonPut = (body: string) => ({ method: 'PUT', body, headers: { 'content-type': 'application/json' } });

describe('Function: createEmulator', () => {
  it('answers a signed call through app.request, with the JSON content type and x-acs-request-id', async () => {
    const emulator = newEmulator();
    const res = await apiRequest(emulator);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json;charset=utf-8');
    const body = (await res.json()) as { RequestId: string };
    expect(res.headers.get('x-acs-request-id')).toBe(body.RequestId);
  });

  it.each([
    ['an x-acs-action naming another API', { action: 'ResumeElasticsearchTask' }, 400, 'InvalidAction'],
    ['another API version', { version: '2020-01-01' }, 400, 'InvalidVersion'],
    ['an unknown path', { path: '/openapi/instances/es-cn-demo-active/actions/explode' }, 404, 'InvalidApi.NotFound'],
    ['a wrong method', { method: 'DELETE' }, 404, 'InvalidApi.NotFound'],
  ] as const)('refuses %s with %s %s and changes nothing', async (_, options, status, code) => {
    const emulator = newEmulator();
    const before = emulator.controlPlane.snapshot();
    const res = await apiRequest(emulator, options);
    expect(res.status).toBe(status);
    expect(await res.json()).toMatchObject({ Code: code, RequestId: expect.any(String), Message: expect.any(String) });
    expect(emulator.controlPlane.snapshot()).toEqual(before);
  });

  it('starts with the demo set when no instances are given', async () => {
    const res = await newEmulator().app.request('/emulator/instances');
    expect(res.headers.get('content-type')).toBe('application/json;charset=utf-8');
    const body = (await res.json()) as { instances: { instanceId: string }[] };
    expect(body.instances.map((i) => i.instanceId)).toEqual(DEMO_INSTANCES.map((i) => i.instanceId));
  });

  it('GET /emulator/instances shows applied changes with their tokens', async () => {
    const emulator = newEmulator({ instances: [{ instanceId: 'es-cn-one', status: 'activating' }] });
    await apiRequest(emulator, { path: actionPath(interrupt, 'es-cn-one'), query: { clientToken: 'tk' } });
    const res = await emulator.app.request('/emulator/instances');
    expect(await res.json()).toEqual({
      instances: [
        {
          instanceId: 'es-cn-one',
          status: 'suspended',
          migrating: false,
          history: [{ action: 'InterruptElasticsearchTask', clientToken: 'tk', at: '2025-06-01T12:00:00.000Z' }],
        },
      ],
    });
  });

  it('POST /emulator/reset with no body goes back to the starting seed', async () => {
    const emulator = newEmulator();
    await apiRequest(emulator);
    const res = await emulator.app.request('/emulator/reset', { method: 'POST' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      instances: DEMO_INSTANCES.map((i) => ({ ...i, history: [] })),
    });
  });

  it('POST /emulator/reset with a seed body replaces the instances', async () => {
    const emulator = newEmulator();
    const seed = [{ instanceId: 'ls-cn-x1', status: 'suspended', migrating: false }];
    const res = await emulator.app.request('/emulator/reset', { method: 'POST', body: JSON.stringify(seed) });
    expect(await res.json()).toEqual({ instances: [{ ...seed[0], history: [] }] });
  });

  it('after a seeded reset, an empty reset goes back to the starting seed', async () => {
    const emulator = newEmulator();
    const seed = [{ instanceId: 'ls-cn-x1', status: 'suspended' }];
    await emulator.app.request('/emulator/reset', { method: 'POST', body: JSON.stringify(seed) });
    const res = await emulator.app.request('/emulator/reset', { method: 'POST' });
    const body = (await res.json()) as { instances: { instanceId: string }[] };
    expect(body.instances.map((i) => i.instanceId)).toEqual(DEMO_INSTANCES.map((i) => i.instanceId));
  });

  it.each([
    ['not JSON', '{'],
    ['not an array', '{"instanceId":"es-cn-x1"}'],
    ['a bad status', '[{"instanceId":"es-cn-x1","status":"running"}]'],
  ])('POST /emulator/reset refuses a body that is %s with 400 and keeps the state', async (_, body) => {
    const emulator = newEmulator();
    const before = emulator.controlPlane.snapshot();
    const res = await emulator.app.request('/emulator/reset', { method: 'POST', body });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: expect.any(String) });
    expect(emulator.controlPlane.snapshot()).toEqual(before);
  });

  it('PUT /emulator/faults sets, GET shows, {} clears', async () => {
    const emulator = newEmulator();
    const faults = { throttle: 0.2, serverError: 0.1, dropResponse: 0.1, latencyMs: 20, seed: 7 };
    expect(await (await emulator.app.request('/emulator/faults', jsonPut(JSON.stringify(faults)))).json()).toEqual({
      faults,
    });
    expect(await (await emulator.app.request('/emulator/faults')).json()).toEqual({ faults });
    await emulator.app.request('/emulator/faults', jsonPut('{}'));
    expect(emulator.getFaults()).toEqual({});
  });

  it.each([
    ['a probability above 1', '{"throttle":1.5}'],
    ['an unknown key', '{"throttel":0.5}'],
    ['negative latency', '{"latencyMs":-1}'],
    ['not JSON', 'nope'],
  ])('PUT /emulator/faults refuses %s with 400', async (_, body) => {
    const emulator = newEmulator({ faults: { throttle: 0.5 } });
    const res = await emulator.app.request('/emulator/faults', jsonPut(body));
    expect(res.status).toBe(400);
    expect(emulator.getFaults()).toEqual({ throttle: 0.5 });
  });

  it('faults come after signature verification: an unsigned call is refused, not throttled', async () => {
    const emulator = newEmulator({ faults: { throttle: 1 } });
    const res = await emulator.app.request(actionPath(interrupt, 'es-cn-demo-activating'), { method: 'POST' });
    expect(await res.json()).toMatchObject({ Code: 'IncompleteSignature' });
  });

  it('throttles with x-acs-retry-after and applies nothing', async () => {
    const emulator = newEmulator({ faults: { throttle: 1 } });
    const before = emulator.controlPlane.snapshot();
    const res = await apiRequest(emulator);
    expect(res.status).toBe(400);
    expect(res.headers.get('x-acs-retry-after')).toBe('100');
    expect(await res.json()).toMatchObject({
      Code: 'Throttling.User',
      Message: 'Request was denied due to user flow control.',
    });
    expect(emulator.controlPlane.snapshot()).toEqual(before);
  });

  it('without a socket, dropResponse applies the change and fails the body mid-read', async () => {
    const emulator = newEmulator({ faults: { dropResponse: 1 } });
    const res = await apiRequest(emulator);
    await expect(res.text()).rejects.toThrow();
    expect(emulator.controlPlane.snapshot().instances[0]).toMatchObject({ status: 'suspended' });
  });

  it('the same fault seed fails the same calls; reset restarts the sequence', async () => {
    const outcomes = async (emulator: ReturnType<typeof newEmulator>) => {
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) {
        statuses.push(
          (
            await apiRequest(emulator, {
              method: 'GET',
              path: '/openapi/instances/es-cn-demo-active',
              query: {},
              action: 'DescribeInstance',
            })
          ).status,
        );
      }
      return statuses;
    };
    const faults = { throttle: 0.3, serverError: 0.3, seed: 42 };
    const a = newEmulator({ faults });
    const first = await outcomes(a);
    expect(first).toEqual(await outcomes(newEmulator({ faults })));
    expect(new Set(first)).toEqual(new Set([200, 400, 500]));
    a.reset();
    expect(await outcomes(a)).toEqual(first);
  });
});

describe('Class: FaultInjector', () => {
  it.each([
    [{}, 'none'],
    [{ throttle: 1 }, 'throttle'],
    [{ serverError: 1 }, 'serverError'],
    [{ dropResponse: 1 }, 'dropResponse'],
    [{ throttle: 1, serverError: 1, dropResponse: 1 }, 'throttle'],
    [{ serverError: 1, dropResponse: 1 }, 'serverError'],
  ] as const)('with %j decides %s', (faults, outcome) => {
    expect(new FaultInjector(faults).decide()).toEqual({ latencyMs: 0, outcome });
  });

  it('reports the latency to wait', () => {
    expect(new FaultInjector({ latencyMs: 20 }).decide().latencyMs).toBe(20);
  });

  it('hits roughly the configured rate', () => {
    const injector = new FaultInjector({ throttle: 0.2, seed: 7 });
    let throttled = 0;
    for (let i = 0; i < 5000; i++) if (injector.decide().outcome === 'throttle') throttled++;
    expect(throttled / 5000).toBeGreaterThan(0.17);
    expect(throttled / 5000).toBeLessThan(0.23);
  });
});

describe('Function: mulberry32', () => {
  it('is deterministic per seed and within [0, 1)', () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    const values = Array.from({ length: 100 }, () => a());
    expect(values).toEqual(Array.from({ length: 100 }, () => b()));
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true);
    expect(mulberry32(8)()).not.toBe(values[0]);
  });
});

describe('Function: parseFaults', () => {
  it.each([
    [undefined, {}],
    ['', {}],
    [
      '{"throttle":0.2,"serverError":0.1,"dropResponse":0.1,"latencyMs":20,"seed":7}',
      { throttle: 0.2, serverError: 0.1, dropResponse: 0.1, latencyMs: 20, seed: 7 },
    ],
  ])('parses %j', (json, expected) => {
    expect(parseFaults(json)).toEqual(expected);
  });

  it.each([
    ['{', /EMULATOR_FAULTS is not valid JSON/],
    ['{"throttle":2}', /EMULATOR_FAULTS is invalid.*throttle/s],
    ['[]', /EMULATOR_FAULTS is invalid/],
  ])('refuses %s with a clear error', (json, message) => {
    expect(() => parseFaults(json)).toThrow(message);
  });
});

describe('Function: parseSeedInstances', () => {
  it('the demo set is valid and covers every case a responder meets', () => {
    expect(parseSeedInstances(DEMO_INSTANCES)).toEqual(DEMO_INSTANCES);
    for (const { instanceId } of DEMO_INSTANCES) expect(instanceId).toMatch(INSTANCE_ID);
  });

  it('defaults migrating to false', () => {
    expect(parseSeedInstances([{ instanceId: 'es-cn-x1', status: 'active' }])).toEqual([
      { instanceId: 'es-cn-x1', status: 'active', migrating: false },
    ]);
  });

  it.each([
    ['a bad prefix', [{ instanceId: 'rds-cn-x1', status: 'active' }], /instanceId/],
    ['upper case', [{ instanceId: 'es-CN-x1', status: 'active' }], /instanceId/],
    ['too short', [{ instanceId: 'es-ab', status: 'active' }], /instanceId/],
    ['an unknown status', [{ instanceId: 'es-cn-x1', status: 'running' }], /status/],
    ['an unknown key', [{ instanceId: 'es-cn-x1', status: 'active', state: 'x' }], /state/],
    ['a migrating Logstash', [{ instanceId: 'ls-cn-x1', status: 'active', migrating: true }], /Logstash/],
    [
      'a duplicate',
      [
        { instanceId: 'es-cn-x1', status: 'active' },
        { instanceId: 'es-cn-x1', status: 'suspended' },
      ],
      /duplicate instanceId es-cn-x1/,
    ],
    ['not an array', { instanceId: 'es-cn-x1' }, /not a valid instance list/],
  ])('refuses %s', (_, value, message) => {
    expect(() => parseSeedInstances(value)).toThrow(message);
  });
});

describe('Function: seedFromEnv', () => {
  const dir = mkdtempSync(join(tmpdir(), 'emulator-seed-'));

  it('is the demo set when EMULATOR_INSTANCES is unset', () => {
    expect(seedFromEnv({})).toEqual(DEMO_INSTANCES);
  });

  it('loads the file EMULATOR_INSTANCES names', () => {
    const path = join(dir, 'ok.json');
    writeFileSync(path, JSON.stringify([{ instanceId: 'es-cn-file1', status: 'activating', migrating: true }]));
    expect(seedFromEnv({ EMULATOR_INSTANCES: path })).toEqual([
      { instanceId: 'es-cn-file1', status: 'activating', migrating: true },
    ]);
  });

  it.each([
    ['is missing', 'missing.json', undefined, /EMULATOR_INSTANCES file .*missing\.json cannot be read/],
    ['is not JSON', 'broken.json', '[{', /EMULATOR_INSTANCES file .*broken\.json is not valid JSON/],
    [
      'is invalid',
      'bad.json',
      '[{"instanceId":"x"}]',
      /EMULATOR_INSTANCES file .*bad\.json is not a valid instance list/,
    ],
  ])('fails clearly when the file %s', (_, name, content, message) => {
    const path = join(dir, name);
    if (content !== undefined) writeFileSync(path, content);
    expect(() => loadSeedFile(path)).toThrow(message);
  });
});

describe('Function: emulatorCredentialsFromEnv', () => {
  it('is the documented local pair when the env is unset', () => {
    expect(emulatorCredentialsFromEnv({})).toEqual({
      accessKeyId: 'LTAI5tLocalEmulatorKey',
      accessKeySecret: 'local-emulator-secret-do-not-use-in-cloud',
    });
  });

  it('is the env pair when set', () => {
    expect(
      emulatorCredentialsFromEnv({ ALIBABA_CLOUD_ACCESS_KEY_ID: 'AK', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'SK' }),
    ).toEqual({ accessKeyId: 'AK', accessKeySecret: 'SK' });
  });

  it('refuses half a pair', () => {
    expect(() => emulatorCredentialsFromEnv({ ALIBABA_CLOUD_ACCESS_KEY_ID: 'AK' })).toThrow(/both/);
  });
});

describe('Function: the emulator routes from its own table of the documented API', () => {
  it('serves every product action at the path and operation the API reference gives', () => {
    // The product's paths must be ones the independent table names, with the same operation.
    for (const spec of Object.values(ACTIONS)) {
      const route = ACTION_ROUTES.find((r) => r.path === `/openapi/${spec.resource}/:instanceId/actions/${spec.verb}`);
      expect(route?.operation, spec.functionName).toBe(spec.operation);
    }
    expect(ES_API_VERSION).toBe(API_VERSION);
  });

  it.each([
    ['/openapi/instances/es-cn-demo-activating/actions/cancel', 'CancelTask'],
    ['/openapi/instance/es-cn-demo-activating/actions/interrupt', 'InterruptElasticsearchTask'],
    ['/openapi/logstash/ls-cn-demo-activating/actions/resume', 'ResumeLogstashTask'],
  ])('answers a path the API does not have (%s) with 404, whatever the signed action', async (path, action) => {
    const emulator = newEmulator();
    const response = await apiRequest(emulator, { path, action });
    expect(response.status).toBe(404);
    expect(((await response.json()) as { Code: string }).Code).toBe('InvalidApi.NotFound');
    expect(emulator.controlPlane.snapshot().instances.every((i) => i.history.length === 0)).toBe(true);
  });
});
