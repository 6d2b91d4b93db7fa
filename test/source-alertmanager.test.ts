import { describe, expect, it } from 'vitest';
import type { FunctionName } from '../shared/actions.ts';
import type { Env } from '../shared/config.ts';
import {
  AM_ROTATED_TOKEN,
  AM_TOKEN,
  alertAt,
  alertHarness,
  basic,
  bearer,
  expectedToken,
  fixture,
  GRAFANA_BEARER,
} from './support/alertmanager.ts';
import { useEmulator } from './support/function-harness.ts';

const upstream = useEmulator();
const { state } = upstream;

const setup = (name: FunctionName = 'interrupt-elasticsearch-task', env: Env = {}) =>
  alertHarness(upstream.url, name, 'alertmanager', env);
const firing = JSON.stringify(fixture('alertmanager', 'firing'));
const FIRING_KEY = 'alertmanager:3c1f0a5be2d9c478@2026-11-25T02:14:03.51749102Z';

describe('Function: interrupt-elasticsearch-task, alertmanager source', () => {
  it('interrupts the instance a firing alert names, once; a repeat of the notification changes nothing', async () => {
    const { post, calls } = setup();
    const first = await post(firing, bearer(AM_TOKEN));
    expect(first.status).toBe(200);
    expect(first.body.source).toBe('alertmanager');
    expect(first.body.results).toEqual([
      expect.objectContaining({
        instanceId: 'es-cn-demo-activating',
        regionId: 'cn-hangzhou',
        outcome: 'applied',
        clientToken: expectedToken('interrupt-elasticsearch-task', 'es-cn-demo-activating', FIRING_KEY),
      }),
    ]);
    expect(state('es-cn-demo-activating')?.status).toBe('suspended');

    // repeat_interval re-sends identical content: same episode, same token, no second change.
    const repeat = await post(firing, bearer(AM_TOKEN));
    expect(repeat.status).toBe(200);
    expect(repeat.body.results[0]?.clientToken).toBe(first.body.results[0]?.clientToken);
    expect(state('es-cn-demo-activating')?.history).toHaveLength(1);
    expect(calls.length).toBeGreaterThanOrEqual(2);
  });

  it('accepts basic auth (the password is checked) and a rotated token', async () => {
    const { post } = setup();
    expect((await post(firing, basic('alertmanager', AM_TOKEN))).status).toBe(200);
    expect((await post(firing, bearer(AM_ROTATED_TOKEN))).status).toBe(200);
    expect((await post(firing, basic('anyone', AM_ROTATED_TOKEN))).status).toBe(200);
    expect(state('es-cn-demo-activating')?.history).toHaveLength(1);
  });

  const json = { 'content-type': 'application/json' };
  it.each<[string, Record<string, string>, Env]>([
    ['without an Authorization header', json, {}],
    ['with a wrong bearer token', bearer('not-the-token'), {}],
    ['with a bearer token of another source', bearer(GRAFANA_BEARER), {}],
    ['with an empty bearer token', { ...json, authorization: 'Bearer ' }, {}],
    ['with basic auth and a wrong password', basic('alertmanager', 'not-the-token'), {}],
    ['with basic auth and the token as user name', basic(AM_TOKEN, ''), {}],
    ['with a malformed basic header', { ...json, authorization: 'Basic !!!' }, {}],
    ['with the right token in another scheme', { ...json, authorization: `Token ${AM_TOKEN}` }, {}],
    ['when no token is configured (fail closed)', bearer(AM_TOKEN), { ALERTMANAGER_BEARER_TOKENS: '' }],
  ])('refuses a notification %s with 401 and no upstream call', async (_case, headers, env) => {
    const { post, calls } = setup('interrupt-elasticsearch-task', env);
    const response = await post(firing, headers);
    expect(response.status).toBe(401);
    expect(response.body.error?.code).toBe('Unauthorized');
    expect(response.body.results).toEqual([]);
    expect(calls).toHaveLength(0);
    expect(state('es-cn-demo-activating')?.history).toHaveLength(0);
  });

  it('answers 400 naming the fields of a malformed notification, with no upstream call', async () => {
    const { post, calls } = setup();
    const response = await post(JSON.stringify(fixture('alertmanager', 'malformed')), bearer(AM_TOKEN));
    expect(response.status).toBe(400);
    expect(response.body.error?.code).toBe('InvalidPayload');
    expect(response.body.error?.message).toMatch(/alerts\[0\]\.startsAt: must be an RFC 3339 timestamp/);
    expect(response.body.error?.message).toMatch(/alerts\[0\]\.fingerprint: must be a hex fingerprint/);
    expect(calls).toHaveLength(0);
  });

  it.each<[string, (payload: Record<string, unknown>) => unknown, RegExp]>([
    ['without alerts', ({ alerts: _alerts, ...rest }) => rest, /^invalid Alertmanager notification: alerts: /],
    [
      'with an unknown alert status',
      (p) => ({ ...p, alerts: [{ ...(p.alerts as object[])[0], status: 'pending' }] }),
      /alerts\[0\]\.status/,
    ],
    ['a generic payload', () => ({ instanceIds: ['es-cn-demo-activating'] }), /version: .*; status: .*; alerts: /],
    ['not an object', () => [1, 2], /invalid Alertmanager notification/],
  ])('answers 400 for a notification %s', async (_case, mutate, message) => {
    const { post, calls } = setup();
    const body = JSON.stringify(mutate(fixture('alertmanager', 'firing')));
    const response = await post(body, bearer(AM_TOKEN));
    expect(response.status).toBe(400);
    expect(response.body.error?.message).toMatch(message);
    expect(calls).toHaveLength(0);
  });

  it('answers 400 for a body that is not JSON, and 415 for another media type', async () => {
    const { post, calls } = setup();
    expect((await post('{"version":"4",', bearer(AM_TOKEN))).status).toBe(400);
    expect((await post(firing, { ...bearer(AM_TOKEN), 'content-type': 'text/plain' })).status).toBe(415);
    expect(calls).toHaveLength(0);
  });

  it('ignores keys a newer Alertmanager adds', async () => {
    const { post } = setup();
    const payload = fixture('alertmanager', 'firing');
    payload.someFutureField = { nested: true };
    (payload.alerts[0] as Record<string, unknown>).someFutureAlertField = 'x';
    const response = await post(JSON.stringify(payload), bearer(AM_TOKEN));
    expect(response.status).toBe(200);
    expect(response.body.results[0]?.outcome).toBe('applied');
  });
});

describe('Function: alertmanager source, firing and resolved', () => {
  it('interrupt refuses a resolved alert with 200 AlertStateIgnored and no upstream call', async () => {
    const { post, calls } = setup('interrupt-elasticsearch-task');
    const resolved = fixture('alertmanager', 'resolved');
    alertAt(resolved, 0).labels.instanceId = 'es-cn-demo-activating';
    const response = await post(JSON.stringify(resolved), bearer(AM_TOKEN));
    expect(response.status).toBe(200);
    expect(response.body.results).toEqual([
      expect.objectContaining({ instanceId: 'es-cn-demo-activating', outcome: 'refused', code: 'AlertStateIgnored' }),
    ]);
    expect(calls).toHaveLength(0);
    expect(state('es-cn-demo-activating')?.status).toBe('activating');
  });

  it('resume acts on a resolved alert, with the token of its episode', async () => {
    const { post } = setup('resume-elasticsearch-task');
    const response = await post(JSON.stringify(fixture('alertmanager', 'resolved')), bearer(AM_TOKEN));
    expect(response.status).toBe(200);
    expect(response.body.results).toEqual([
      expect.objectContaining({
        instanceId: 'es-cn-demo-suspended',
        outcome: 'applied',
        clientToken: expectedToken(
          'resume-elasticsearch-task',
          'es-cn-demo-suspended',
          'alertmanager:8e2b94c07d1a5f36@2026-11-25T02:14:03.51749102Z',
        ),
      }),
    ]);
    expect(state('es-cn-demo-suspended')?.status).toBe('activating');
  });

  it('resume refuses a firing alert with 200 AlertStateIgnored', async () => {
    const { post, calls } = setup('resume-elasticsearch-task');
    const payload = fixture('alertmanager', 'firing');
    alertAt(payload, 0).labels.instanceId = 'es-cn-demo-suspended';
    const response = await post(JSON.stringify(payload), bearer(AM_TOKEN));
    expect(response.status).toBe(200);
    expect(response.body.results[0]).toMatchObject({ outcome: 'refused', code: 'AlertStateIgnored' });
    expect(calls).toHaveLength(0);
  });

  it('resume acts on firing alerts when RESUME_ON=firing', async () => {
    const { post } = setup('resume-elasticsearch-task', { RESUME_ON: 'firing' });
    const payload = fixture('alertmanager', 'firing');
    alertAt(payload, 0).labels.instanceId = 'es-cn-demo-suspended';
    const response = await post(JSON.stringify(payload), bearer(AM_TOKEN));
    expect(response.body.results[0]).toMatchObject({ outcome: 'applied' });
  });
});

describe('Function: alertmanager source, a group of many alerts', () => {
  const group = () => fixture('alertmanager', 'multi-alert-group');
  const activatingKey = 'alertmanager:3c1f0a5be2d9c478@2026-11-25T02:14:03.51749102Z';

  it('considers every alert: one result per instance, each by its own state, and notes the alert naming none', async () => {
    const { post, calls } = setup('interrupt-elasticsearch-task');
    const response = await post(JSON.stringify(group()), bearer(AM_TOKEN));
    expect(response.status).toBe(200);
    const byId = Object.fromEntries(response.body.results.map((r) => [r.instanceId, r]));
    expect(Object.keys(byId).sort()).toEqual(['es-cn-demo-activating', 'es-cn-demo-migrating', 'es-cn-demo-suspended']);
    // Two alerts on es-cn-demo-activating: one target, keyed by the smaller event key whatever the order.
    expect(byId['es-cn-demo-activating']).toMatchObject({
      outcome: 'applied',
      clientToken: expectedToken('interrupt-elasticsearch-task', 'es-cn-demo-activating', activatingKey),
    });
    expect(byId['es-cn-demo-migrating']).toMatchObject({
      outcome: 'applied',
      clientToken: expectedToken(
        'interrupt-elasticsearch-task',
        'es-cn-demo-migrating',
        'alertmanager:a07d5e91c3b28f64@2026-11-25T02:15:33.1045Z',
      ),
    });
    expect(byId['es-cn-demo-suspended']).toMatchObject({ outcome: 'refused', code: 'AlertStateIgnored' });
    expect(response.body.notes).toEqual([
      '1 alert passed over: no label among instanceId, instance_id, es_instance_id names an instance',
    ]);
    expect(calls).toHaveLength(2);
    expect(state('es-cn-demo-activating')?.status).toBe('suspended');
    expect(state('es-cn-demo-migrating')?.status).toBe('suspended');
    expect(state('es-cn-demo-suspended')?.history).toHaveLength(0);
  });

  it('resume acts on the resolved alert of the same group only', async () => {
    const { post, calls } = setup('resume-elasticsearch-task');
    const response = await post(JSON.stringify(group()), bearer(AM_TOKEN));
    expect(response.status).toBe(200);
    const outcomes = Object.fromEntries(response.body.results.map((r) => [r.instanceId, [r.outcome, r.code]]));
    expect(outcomes).toEqual({
      'es-cn-demo-suspended': ['applied', undefined],
      'es-cn-demo-activating': ['refused', 'AlertStateIgnored'],
      'es-cn-demo-migrating': ['refused', 'AlertStateIgnored'],
    });
    expect(calls).toHaveLength(1);
  });

  it('gives the same tokens to an HA peer’s duplicate with the alerts reordered, and new ones to a new episode', async () => {
    const { post } = setup('interrupt-elasticsearch-task');
    const tokens = async (payload: ReturnType<typeof group>) => {
      const response = await post(JSON.stringify(payload), bearer(AM_TOKEN));
      expect(response.status).toBe(200);
      return Object.fromEntries(response.body.results.map((r) => [r.instanceId, r.clientToken]));
    };
    const first = await tokens(group());

    const duplicate = group();
    duplicate.alerts.reverse();
    duplicate.externalURL = 'http://alertmanager-1:9093';
    expect(await tokens(duplicate)).toEqual(first);

    const next = group();
    for (const alert of next.alerts) alert.startsAt = '2026-11-26T08:00:00Z';
    const renewed = await tokens(next);
    expect(renewed['es-cn-demo-activating']).not.toBe(first['es-cn-demo-activating']);
    expect(renewed['es-cn-demo-migrating']).not.toBe(first['es-cn-demo-migrating']);
    expect(renewed['es-cn-demo-activating']).toBe(
      expectedToken(
        'interrupt-elasticsearch-task',
        'es-cn-demo-activating',
        'alertmanager:3c1f0a5be2d9c478@2026-11-26T08:00:00Z',
      ),
    );
    // Each instance changed once: the duplicate replayed the first tokens.
    expect(state('es-cn-demo-activating')?.history).toHaveLength(1);
    expect(state('es-cn-demo-migrating')?.history).toHaveLength(1);
  });

  it('takes the instance from the labels ALERT_INSTANCE_LABELS names', async () => {
    const { post } = setup('interrupt-elasticsearch-task', { ALERT_INSTANCE_LABELS: 'es_cluster,cluster_id' });
    const payload = group();
    const [first, second] = [alertAt(payload, 0), alertAt(payload, 1)];
    first.labels.es_cluster = first.labels.instanceId as string;
    delete first.labels.instanceId;
    second.labels.cluster_id = second.labels.instanceId as string;
    const response = await post(JSON.stringify(payload), bearer(AM_TOKEN));
    expect(response.status).toBe(200);
    expect(response.body.results.map((r) => [r.instanceId, r.outcome])).toEqual([
      ['es-cn-demo-activating', 'applied'],
      ['es-cn-demo-migrating', 'applied'],
    ]);
    // instanceId is no longer one of the instance labels: the other three alerts name none.
    expect(response.body.notes).toEqual([
      '3 alerts passed over: no label among es_cluster, cluster_id names an instance',
    ]);
  });

  it('uses the region a regionId or region label names, in the call and the token', async () => {
    const { post } = setup('interrupt-elasticsearch-task');
    const payload = fixture('alertmanager', 'firing');
    alertAt(payload, 0).labels.regionId = 'cn-shanghai';
    const response = await post(JSON.stringify(payload), bearer(AM_TOKEN));
    expect(response.body.results[0]).toMatchObject({
      regionId: 'cn-shanghai',
      clientToken: expectedToken('interrupt-elasticsearch-task', 'es-cn-demo-activating', FIRING_KEY, 'cn-shanghai'),
    });

    const viaRegion = fixture('alertmanager', 'firing');
    delete alertAt(viaRegion, 0).labels.regionId;
    alertAt(viaRegion, 0).labels.region = 'cn-beijing';
    const second = await post(JSON.stringify(viaRegion), bearer(AM_TOKEN));
    expect(second.body.results[0]?.regionId).toBe('cn-beijing');

    const noRegion = fixture('alertmanager', 'firing');
    delete alertAt(noRegion, 0).labels.regionId;
    alertAt(noRegion, 0).labels.region = 'not a region';
    const third = await post(JSON.stringify(noRegion), bearer(AM_TOKEN));
    // Not a region ID: the function's default region.
    expect(third.body.results[0]?.regionId).toBe('cn-hangzhou');
  });

  it('reports what it passed over without echoing label values, and counts truncated alerts', async () => {
    const { post } = setup('interrupt-elasticsearch-task');
    const payload = group();
    const secretish = `x${'A'.repeat(5000)}`;
    alertAt(payload, 3).labels.instance = secretish;
    payload.alerts.push({
      ...structuredClone(alertAt(payload, 3)),
      labels: { alertname: 'Other', instanceId: `../${secretish}` },
      fingerprint: 'ffee00112233aabb',
    });
    payload.truncatedAlerts = 7;
    const response = await post(JSON.stringify(payload), bearer(AM_TOKEN));
    expect(response.status).toBe(200);
    expect(response.body.notes).toEqual([
      '1 alert passed over: no label among instanceId, instance_id, es_instance_id names an instance',
      '1 alert passed over: label instanceId does not hold an instance ID',
      '7 alerts left out by the sender (max_alerts) were not considered',
    ]);
    expect(JSON.stringify(response.body)).not.toContain('AAAA');
  });

  it('answers 200 with notes and no call when no alert names an instance', async () => {
    const { post, calls } = setup('interrupt-elasticsearch-task');
    const payload = group();
    payload.alerts = [alertAt(payload, 3)];
    const response = await post(JSON.stringify(payload), bearer(AM_TOKEN));
    expect(response.status).toBe(200);
    expect(response.body.results).toEqual([]);
    expect(response.body.notes).toHaveLength(1);
    expect(calls).toHaveLength(0);
  });

  it('refuses the whole group over MAX_TARGETS_PER_EVENT, counting only the alerts that call for the action', async () => {
    const refused = await setup('interrupt-elasticsearch-task', { MAX_TARGETS_PER_EVENT: '1' }).post(
      JSON.stringify(group()),
      bearer(AM_TOKEN),
    );
    expect(refused.status).toBe(403);
    expect(refused.body.results.filter((r) => r.code === 'TooManyTargets')).toHaveLength(2);
    // For resume only the resolved alert counts: within the limit.
    const resume = await setup('resume-elasticsearch-task', { MAX_TARGETS_PER_EVENT: '1' }).post(
      JSON.stringify(group()),
      bearer(AM_TOKEN),
    );
    expect(resume.status).toBe(200);
    expect(state('es-cn-demo-activating')?.history).toHaveLength(0);
  });
});
