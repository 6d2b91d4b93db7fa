import { describe, expect, it } from 'vitest';
import type { FunctionName } from '../shared/actions.ts';
import {
  GRAFANA_HMAC_TOLERANCE_SECONDS,
  grafanaSignatureHeaders,
  signGrafanaHmac,
  verifyGrafanaHmac,
} from '../shared/auth/grafana-hmac.ts';
import type { Env } from '../shared/config.ts';
import {
  AM_TOKEN,
  alertAt,
  alertHarness,
  bearer,
  expectedToken,
  fixture,
  GRAFANA_BEARER,
  GRAFANA_ROTATED_SECRET,
  GRAFANA_SECRET,
  grafanaHeaders,
} from './support/alertmanager.ts';
import { useEmulator } from './support/function-harness.ts';

const upstream = useEmulator();
const { state } = upstream;

const setup = (name: FunctionName = 'interrupt-elasticsearch-task', env: Env = {}) =>
  alertHarness(upstream.url, name, 'grafana', env);
const firing = JSON.stringify(fixture('grafana', 'firing'));
const FIRING_KEY = 'grafana:6a3f1b9e0c2d47a5@2026-11-25T10:14:00+08:00';
const now = () => Math.floor(Date.now() / 1000);

describe('Function: interrupt-elasticsearch-task, grafana source', () => {
  it('interrupts the instance of a signed firing notification once; a re-send changes nothing', async () => {
    const { post, calls } = setup();
    const first = await post(firing, grafanaHeaders(firing));
    expect(first.status).toBe(200);
    expect(first.body.results).toEqual([
      expect.objectContaining({
        instanceId: 'es-cn-demo-activating',
        outcome: 'applied',
        clientToken: expectedToken('interrupt-elasticsearch-task', 'es-cn-demo-activating', FIRING_KEY),
      }),
    ]);
    expect(state('es-cn-demo-activating')?.status).toBe('suspended');
    // Re-sent at the next group interval, signed again with a new timestamp: the same episode.
    const again = await post(firing, grafanaHeaders(firing, { timestamp: now() + 1 }));
    expect(again.body.results[0]?.clientToken).toBe(first.body.results[0]?.clientToken);
    expect(state('es-cn-demo-activating')?.history).toHaveLength(1);
    expect(calls.length).toBeGreaterThanOrEqual(2);
  });

  it.each<[string, Parameters<typeof grafanaHeaders>[1]]>([
    ['with a timestamp header', {}],
    ['with a rotated secret', { secret: GRAFANA_ROTATED_SECRET }],
    ["under grafana/alerting's fallback header name", { signatureHeader: 'X-Grafana-Alert-Signature' }],
    ["under the provisioning docs' timestamp header", { timestampHeader: 'X-Grafana-Alerting-Signature-Timestamp' }],
    ['with a timestamp 290 s old', { timestamp: now() - 290 }],
    ['with a timestamp 290 s ahead', { timestamp: now() + 290 }],
  ])('accepts a signature %s', async (_case, options) => {
    const { post } = setup();
    const response = await post(firing, grafanaHeaders(firing, options));
    expect(response.status).toBe(200);
    expect(response.body.results[0]?.outcome).toBe('applied');
  });

  it('accepts a signature without a timestamp header only with GRAFANA_ALLOW_UNTIMED=true', async () => {
    const { post } = setup('interrupt-elasticsearch-task', { GRAFANA_ALLOW_UNTIMED: 'true' });
    const response = await post(firing, grafanaHeaders(firing, { timestamp: null }));
    expect(response.status).toBe(200);
    expect(response.body.results[0]?.outcome).toBe('applied');
    // The opt-in does not loosen timed signatures: a stale one is still refused.
    const stale = await setup('interrupt-elasticsearch-task', { GRAFANA_ALLOW_UNTIMED: 'true' }).post(
      firing,
      grafanaHeaders(firing, { timestamp: now() - 301 }),
    );
    expect(stale.status).toBe(401);
  });

  it('accepts a bearer token (Authorization scheme and credentials)', async () => {
    const { post } = setup();
    expect((await post(firing, bearer(GRAFANA_BEARER))).status).toBe(200);
  });

  const json = { 'content-type': 'application/json' };
  const altered = firing.replace('"state":"alerting"', '"state":"alerting" ');
  it.each<[string, string, () => Record<string, string>, Env]>([
    ['without any signature or token', firing, () => json, {}],
    ['signed with a wrong secret', firing, () => grafanaHeaders(firing, { secret: 'not-the-secret' }), {}],
    ['with a stale timestamp', firing, () => grafanaHeaders(firing, { timestamp: now() - 301 }), {}],
    ['with a timestamp from the future', firing, () => grafanaHeaders(firing, { timestamp: now() + 301 }), {}],
    ['with an altered body', altered, () => grafanaHeaders(firing), {}],
    [
      'with a timestamp header the signature does not cover',
      firing,
      () => ({ ...grafanaHeaders(firing, { timestamp: null }), 'X-Grafana-Alerting-Timestamp': String(now()) }),
      {},
    ],
    [
      'with a signed timestamp whose header was stripped',
      firing,
      () => {
        const { 'X-Grafana-Alerting-Timestamp': _dropped, ...rest } = grafanaHeaders(firing);
        return rest;
      },
      {},
    ],
    [
      'with a replayed signature under a new timestamp',
      firing,
      () => ({ ...grafanaHeaders(firing, { timestamp: now() - 600 }), 'X-Grafana-Alerting-Timestamp': String(now()) }),
      {},
    ],
    ['with a malformed timestamp', firing, () => grafanaHeaders(firing, { timestamp: -5 }), {}],
    [
      'with a signature that is not hex',
      firing,
      () => ({ ...json, 'X-Grafana-Alerting-Signature': `sha256=${'0'.repeat(64)}` }),
      {},
    ],
    [
      'signed without a timestamp header (the body alone: a signature that never expires)',
      firing,
      () => grafanaHeaders(firing, { timestamp: null }),
      {},
    ],
    [
      'signed without a timestamp, when GRAFANA_ALLOW_UNTIMED is explicitly false',
      firing,
      () => grafanaHeaders(firing, { timestamp: null }),
      { GRAFANA_ALLOW_UNTIMED: 'false' },
    ],
    ['with a wrong bearer token', firing, () => bearer('not-the-token'), {}],
    ['with the Alertmanager token', firing, () => bearer(AM_TOKEN), {}],
    [
      'signed, when no HMAC secret and no token is configured (fail closed)',
      firing,
      () => grafanaHeaders(firing),
      { GRAFANA_HMAC_SECRETS: '', GRAFANA_BEARER_TOKENS: '' },
    ],
    [
      'signed, when only a bearer token is configured',
      firing,
      () => grafanaHeaders(firing),
      { GRAFANA_HMAC_SECRETS: '' },
    ],
  ])('refuses a notification %s with 401 and no upstream call', async (_case, body, headers, env) => {
    const { post, calls } = setup('interrupt-elasticsearch-task', env);
    const response = await post(body, headers());
    expect(response.status).toBe(401);
    expect(response.body.error?.code).toBe('Unauthorized');
    expect(response.body.results).toEqual([]);
    expect(calls).toHaveLength(0);
    expect(state('es-cn-demo-activating')?.history).toHaveLength(0);
  });

  it('answers 400 naming the fields of a malformed notification, after verifying it', async () => {
    const { post, calls } = setup();
    const body = JSON.stringify(fixture('grafana', 'malformed'));
    const response = await post(body, grafanaHeaders(body));
    expect(response.status).toBe(400);
    expect(response.body.error?.message).toMatch(/^invalid Grafana notification: /);
    expect(response.body.error?.message).toMatch(/alerts\[0\]\.status/);
    expect(response.body.error?.message).toMatch(/alerts\[0\]\.fingerprint/);
    expect(calls).toHaveLength(0);
  });

  it('answers 400 for a custom payload template, which is not the default body', async () => {
    const { post } = setup();
    const body = JSON.stringify({ text: 'Elasticsearch change stuck on es-cn-demo-activating' });
    const response = await post(body, grafanaHeaders(body));
    expect(response.status).toBe(400);
    expect(response.body.error?.message).toMatch(/alerts: /);
  });
});

describe('Function: grafana source, firing and resolved', () => {
  it('interrupt refuses a resolved alert with 200 AlertStateIgnored and no upstream call', async () => {
    const { post, calls } = setup('interrupt-elasticsearch-task');
    const resolved = fixture('grafana', 'resolved');
    alertAt(resolved, 0).labels.instanceId = 'es-cn-demo-activating';
    const body = JSON.stringify(resolved);
    const response = await post(body, grafanaHeaders(body));
    expect(response.status).toBe(200);
    expect(response.body.results[0]).toMatchObject({
      instanceId: 'es-cn-demo-activating',
      outcome: 'refused',
      code: 'AlertStateIgnored',
    });
    expect(calls).toHaveLength(0);
  });

  it('resume acts on a resolved alert and refuses a firing one', async () => {
    const { post } = setup('resume-elasticsearch-task');
    const resolved = JSON.stringify(fixture('grafana', 'resolved'));
    const response = await post(resolved, grafanaHeaders(resolved));
    expect(response.status).toBe(200);
    expect(response.body.results[0]).toMatchObject({
      instanceId: 'es-cn-demo-suspended',
      outcome: 'applied',
      clientToken: expectedToken(
        'resume-elasticsearch-task',
        'es-cn-demo-suspended',
        'grafana:b81e4c2f97a03d65@2026-11-25T10:14:00+08:00',
      ),
    });
    expect(state('es-cn-demo-suspended')?.status).toBe('activating');

    const firingOnSuspended = fixture('grafana', 'firing');
    alertAt(firingOnSuspended, 0).labels.instanceId = 'es-cn-demo-suspended';
    const body = JSON.stringify(firingOnSuspended);
    const refused = await post(body, grafanaHeaders(body));
    expect(refused.body.results[0]).toMatchObject({ outcome: 'refused', code: 'AlertStateIgnored' });
  });
});

describe('Function: grafana source, a group of many alerts', () => {
  const group = () => fixture('grafana', 'multi-alert-group');

  it('considers every alert: one result per instance by its own state, and notes the alert naming none', async () => {
    const { post, calls } = setup('interrupt-elasticsearch-task');
    const body = JSON.stringify(group());
    const response = await post(body, grafanaHeaders(body));
    expect(response.status).toBe(200);
    const outcomes = Object.fromEntries(response.body.results.map((r) => [r.instanceId, [r.outcome, r.code]]));
    expect(outcomes).toEqual({
      'es-cn-demo-activating': ['applied', undefined],
      'es-cn-demo-migrating': ['applied', undefined],
      'es-cn-demo-suspended': ['refused', 'AlertStateIgnored'],
    });
    expect(response.body.notes).toEqual([
      '1 alert passed over: no label among instanceId, instance_id, es_instance_id names an instance',
    ]);
    expect(calls).toHaveLength(2);
  });

  it('gives an HA duplicate with reordered alerts the same tokens, and a new episode new ones', async () => {
    const { post } = setup('interrupt-elasticsearch-task');
    const tokens = async (payload: ReturnType<typeof group>) => {
      const body = JSON.stringify(payload);
      const response = await post(body, grafanaHeaders(body));
      expect(response.status).toBe(200);
      return Object.fromEntries(response.body.results.map((r) => [r.instanceId, r.clientToken]));
    };
    const first = await tokens(group());
    const duplicate = group();
    duplicate.alerts.reverse();
    expect(await tokens(duplicate)).toEqual(first);
    const next = group();
    alertAt(next, 0).startsAt = '2026-11-26T09:00:00+08:00';
    const renewed = await tokens(next);
    expect(renewed['es-cn-demo-activating']).toBe(
      expectedToken(
        'interrupt-elasticsearch-task',
        'es-cn-demo-activating',
        'grafana:6a3f1b9e0c2d47a5@2026-11-26T09:00:00+08:00',
      ),
    );
    expect(renewed['es-cn-demo-migrating']).toBe(first['es-cn-demo-migrating']);
    expect(state('es-cn-demo-activating')?.history).toHaveLength(1);
  });

  it('takes the instance from ALERT_INSTANCE_LABELS and the region from its label', async () => {
    const { post } = setup('interrupt-elasticsearch-task', { ALERT_INSTANCE_LABELS: 'es_cluster' });
    const payload = fixture('grafana', 'firing');
    const labels = alertAt(payload, 0).labels;
    labels.es_cluster = labels.instanceId as string;
    delete labels.instanceId;
    labels.regionId = 'cn-shanghai';
    const body = JSON.stringify(payload);
    const response = await post(body, grafanaHeaders(body));
    expect(response.body.results[0]).toMatchObject({
      instanceId: 'es-cn-demo-activating',
      regionId: 'cn-shanghai',
      clientToken: expectedToken('interrupt-elasticsearch-task', 'es-cn-demo-activating', FIRING_KEY, 'cn-shanghai'),
    });
  });
});

describe('Function: cancel-migration-task, grafana source, a captured untimed signature', () => {
  // Attack (issue 10, part 2): without a timestamp header Grafana signs the body alone, so a captured
  // firing notification and its signature were valid forever, and a replay cancelled a migration.
  it('refuses an untimed signed firing alert replayed: 401, and the migration keeps running', async () => {
    const alert = fixture('grafana', 'firing');
    alertAt(alert, 0).labels.instanceId = 'es-cn-demo-migrating';
    (alert.commonLabels as Record<string, string>).instanceId = 'es-cn-demo-migrating';
    const body = JSON.stringify(alert);
    const { post, calls } = setup('cancel-migration-task');

    const replayed = await post(body, grafanaHeaders(body, { timestamp: null }));
    expect(replayed.status).toBe(401);
    expect(replayed.body.error?.code).toBe('Unauthorized');
    expect(calls).toHaveLength(0);
    expect(state('es-cn-demo-migrating')).toMatchObject({ migrating: true, history: [] });

    // The same notification signed with its timestamp, as Grafana sends it from a contact point
    // with a timestamp header, still acts.
    const legitimate = await post(body, grafanaHeaders(body));
    expect(legitimate.body.results[0]).toMatchObject({ instanceId: 'es-cn-demo-migrating', outcome: 'applied' });
    expect(state('es-cn-demo-migrating')?.migrating).toBe(false);
  });
});

describe('Function: verifyGrafanaHmac', () => {
  const body = new TextEncoder().encode(firing);
  const ts = 1_795_572_240;
  it('matches what grafana/alerting signs: hex HMAC-SHA256 of "ts:body", or of the body alone', () => {
    const signed = signGrafanaHmac(GRAFANA_SECRET, body, ts);
    expect(signed).toMatch(/^[0-9a-f]{64}$/);
    expect(verifyGrafanaHmac({ signature: signed, timestamp: String(ts) }, body, [GRAFANA_SECRET], ts)).toBe(true);
    const untimed = { signature: signGrafanaHmac(GRAFANA_SECRET, body), timestamp: null };
    expect(verifyGrafanaHmac(untimed, body, [GRAFANA_SECRET], ts, { allowUntimed: true })).toBe(true);
    expect(signGrafanaHmac('secret', 'test message', 0)).not.toBe(signGrafanaHmac('secret', 'test message'));
  });

  it.each([
    [-GRAFANA_HMAC_TOLERANCE_SECONDS, true],
    [GRAFANA_HMAC_TOLERANCE_SECONDS, true],
    [-GRAFANA_HMAC_TOLERANCE_SECONDS - 1, false],
    [GRAFANA_HMAC_TOLERANCE_SECONDS + 1, false],
  ])('with the clock %i s off, accepts: %s', (offset, accepted) => {
    const signature = signGrafanaHmac(GRAFANA_SECRET, body, ts);
    expect(verifyGrafanaHmac({ signature, timestamp: String(ts) }, body, [GRAFANA_SECRET], ts + offset)).toBe(accepted);
  });

  it('refuses a valid signature without a timestamp unless untimed signatures are allowed', () => {
    const signature = signGrafanaHmac(GRAFANA_SECRET, body);
    expect(verifyGrafanaHmac({ signature, timestamp: null }, body, [GRAFANA_SECRET], ts)).toBe(false);
    expect(verifyGrafanaHmac({ signature, timestamp: null }, body, [GRAFANA_SECRET], ts, { allowUntimed: false })).toBe(
      false,
    );
    // Whatever the clock says: an untimed signature has no age.
    expect(
      verifyGrafanaHmac({ signature, timestamp: null }, body, [GRAFANA_SECRET], ts + 86_400 * 365, {
        allowUntimed: true,
      }),
    ).toBe(true);
  });

  it('returns false on a mismatch or with no secret, and throws on a programmer error', () => {
    const signature = signGrafanaHmac(GRAFANA_SECRET, body);
    const untimed = { allowUntimed: true };
    expect(verifyGrafanaHmac({ signature, timestamp: null }, body, [], ts, untimed)).toBe(false);
    expect(verifyGrafanaHmac({ signature: null, timestamp: null }, body, [GRAFANA_SECRET], ts, untimed)).toBe(false);
    expect(verifyGrafanaHmac({ signature, timestamp: '' }, body, [GRAFANA_SECRET], ts, untimed)).toBe(false);
    expect(verifyGrafanaHmac({ signature, timestamp: null }, body, ['other', GRAFANA_SECRET], ts, untimed)).toBe(true);
    expect(
      verifyGrafanaHmac({ signature: signature.toUpperCase(), timestamp: null }, body, [GRAFANA_SECRET], ts, untimed),
    ).toBe(true);
    expect(() => verifyGrafanaHmac({ signature, timestamp: null }, body, [''], ts, untimed)).toThrow(TypeError);
  });

  it('reads the documented header first, then the fallback names', () => {
    const headers = new Headers({
      'X-Grafana-Alert-Signature': 'b',
      'X-Grafana-Alerting-Signature': 'a',
      'X-Grafana-Alerting-Signature-Timestamp': '2',
    });
    expect(grafanaSignatureHeaders(headers)).toEqual({ signature: 'a', timestamp: '2' });
    expect(grafanaSignatureHeaders(new Headers())).toEqual({ signature: null, timestamp: null });
  });
});
