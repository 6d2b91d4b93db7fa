import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FUNCTION_NAMES, type FunctionName } from '../shared/actions.ts';
import { type Env, parseConfig } from '../shared/config.ts';
import { DEMO_ALLOWED, fixtureLoader, useEmulator, wireFunction } from './support/function-harness.ts';
import { README_TEXT, resolveSpec, S_YAML_TEXT } from './support/s-yaml.ts';

/**
 * Issue 10, part 2: a request signed for one function acted on another, because every function
 * accepted the same secrets (a Grafana firing alert meant for interrupt-elasticsearch-task, replayed
 * to /cancel-migration-task/grafana, cancelled a migration). s.yaml now gives each function its own
 * credentials when the deploying shell has `<FUNCTION>_<VARIABLE>`, else the shared `<VARIABLE>`.
 * Every function here is configured exactly as s.yaml deploys it, resolved from the shell's exports.
 */

const ROLE = 'acs:ram::1273560756088235:role/es-change-responder';
const secret = () => randomBytes(32).toString('hex');
/** `cancel-migration-task` → `CANCEL_MIGRATION_TASK_`, the prefix of its own variables. */
const own = (name: FunctionName, variable: string) => `${name.toUpperCase().replaceAll('-', '_')}_${variable}`;

/** What FC gives a function: s.yaml's variables for it (an empty one is unset, so left out). */
function deployed(shell: Env): Record<FunctionName, Env> {
  const spec = resolveSpec({ RESPONDER_ROLE_ARN: ROLE, ...shell });
  return Object.fromEntries(
    FUNCTION_NAMES.map((name) => {
      const env = spec.resources[name]?.props.environmentVariables ?? {};
      return [name, Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''))];
    }),
  ) as Record<FunctionName, Env>;
}

describe('Function: s.yaml deployed with per-function exports', () => {
  const shared = { grafana: secret(), alertmanager: secret(), slack: randomBytes(16).toString('hex') };
  const interrupt = { grafana: secret(), dingtalk: secret(), robot: 'dingInterruptRobot01' };
  const cancel = { grafana: secret(), alertmanager: secret(), cloudmonitor: secret() };
  const env = deployed({
    GRAFANA_HMAC_SECRETS: shared.grafana,
    ALERTMANAGER_BEARER_TOKENS: shared.alertmanager,
    SLACK_SIGNING_SECRETS: shared.slack,
    [own('interrupt-elasticsearch-task', 'GRAFANA_HMAC_SECRETS')]: interrupt.grafana,
    [own('interrupt-elasticsearch-task', 'DINGTALK_APP_SECRETS')]: interrupt.dingtalk,
    [own('interrupt-elasticsearch-task', 'DINGTALK_ROBOT_CODES')]: interrupt.robot,
    [own('cancel-migration-task', 'GRAFANA_HMAC_SECRETS')]: cancel.grafana,
    [own('cancel-migration-task', 'ALERTMANAGER_BEARER_TOKENS')]: cancel.alertmanager,
    [own('cancel-migration-task', 'CLOUDMONITOR_TOKENS')]: cancel.cloudmonitor,
  });
  /** The secrets each sender's section of a function's configuration holds. */
  const secrets = (name: FunctionName) => {
    const { sources } = parseConfig(env[name]);
    return {
      grafanaHmacSecrets: sources.grafana.hmacSecrets,
      dingtalkAppSecrets: sources.dingtalk.appSecrets,
      alertmanagerBearerTokens: sources.alertmanager.bearerTokens,
      slackSigningSecrets: sources.slack.signingSecrets,
      cloudmonitorTokens: sources.cloudmonitor.tokens,
    };
  };

  it('gives a function its own secrets where the shell has them, the shared ones elsewhere', () => {
    expect(secrets('interrupt-elasticsearch-task')).toMatchObject({
      grafanaHmacSecrets: [interrupt.grafana],
      dingtalkAppSecrets: [interrupt.dingtalk],
      alertmanagerBearerTokens: [shared.alertmanager],
      slackSigningSecrets: [shared.slack],
      cloudmonitorTokens: [],
    });
    expect(parseConfig(env['interrupt-elasticsearch-task']).sources.dingtalk.robotCodes).toEqual([interrupt.robot]);
    expect(secrets('cancel-migration-task')).toMatchObject({
      grafanaHmacSecrets: [cancel.grafana],
      alertmanagerBearerTokens: [cancel.alertmanager],
      cloudmonitorTokens: [cancel.cloudmonitor],
      slackSigningSecrets: [shared.slack],
      dingtalkAppSecrets: [],
    });
    for (const name of ['resume-elasticsearch-task', 'interrupt-logstash-task', 'resume-logstash-task'] as const) {
      expect(secrets(name)).toMatchObject({
        grafanaHmacSecrets: [shared.grafana],
        alertmanagerBearerTokens: [shared.alertmanager],
        dingtalkAppSecrets: [],
      });
      expect(parseConfig(env[name]).sources.dingtalk.robotCodes).toEqual([]);
    }
  });

  it("never gives a function another function's own secret", () => {
    const owned = [interrupt.grafana, interrupt.dingtalk, cancel.grafana, cancel.alertmanager, cancel.cloudmonitor];
    for (const name of FUNCTION_NAMES) {
      const values = Object.values(env[name]).join('\n');
      const mine = name === 'interrupt-elasticsearch-task' ? 2 : name === 'cancel-migration-task' ? 3 : 0;
      expect(
        owned.filter((value) => values.includes(value)),
        name,
      ).toHaveLength(mine);
    }
  });

  it('keeps the same variable names in every function (the code reads no per-function name)', () => {
    const spec = resolveSpec({ RESPONDER_ROLE_ARN: ROLE, [own('cancel-migration-task', 'GRAFANA_HMAC_SECRETS')]: 'x' });
    const names = FUNCTION_NAMES.map((name) =>
      Object.keys(spec.resources[name]?.props.environmentVariables ?? {}).sort(),
    );
    expect(names[0]).toContain('GRAFANA_HMAC_SECRETS');
    for (const list of names) expect(list).toEqual(names[0]);
  });
});

describe('File: README, "Deploying"', () => {
  it('exports only variables s.yaml reads, per-function ones included', () => {
    const section = /^## Deploying\n([\s\S]*?)(?=^## )/m.exec(README_TEXT)?.[1] ?? '';
    const exported = [...section.matchAll(/\b([A-Z][A-Z0-9_]+)=/g)].map((m) => m[1] as string);
    const read = new Set([...S_YAML_TEXT.matchAll(/env\('([A-Z0-9_]+)'/g)].map((m) => m[1]));
    expect(exported.filter((name) => name.startsWith('CANCEL_MIGRATION_TASK_')).length).toBeGreaterThan(0);
    for (const name of exported) expect(read.has(name), name).toBe(true);
  });
});

type GrafanaAlert = { alerts: Array<{ labels: Record<string, string> }>; commonLabels: Record<string, string> };
const grafanaFixture = fixtureLoader<GrafanaAlert>('grafana');

describe('Function: a Grafana alert signed for interrupt-elasticsearch-task, replayed to cancel-migration-task', () => {
  const upstream = useEmulator();
  const TARGET = 'es-cn-demo-migrating';
  const INTERRUPT_SECRET = secret();
  const CANCEL_SECRET = secret();

  /** The firing alert of the interrupt contact point, naming the migrating instance, as Grafana signs it. */
  function alert(key: string) {
    const payload = grafanaFixture('firing');
    for (const labels of [payload.commonLabels, ...payload.alerts.map((a) => a.labels)]) labels.instanceId = TARGET;
    const body = JSON.stringify(payload);
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = createHmac('sha256', key).update(`${timestamp}:`).update(body).digest('hex');
    return {
      body,
      headers: {
        'content-type': 'application/json',
        'x-grafana-alerting-signature': signature,
        'x-grafana-alerting-timestamp': timestamp,
      },
    };
  }
  const fn = (env: Record<FunctionName, Env>, name: FunctionName) =>
    wireFunction(upstream.url, name, 'grafana', { ...env[name], POWERTOOLS_LOG_LEVEL: 'SILENT' });
  const operations = () => upstream.history(TARGET).map((h) => h.action);

  it('was accepted while both functions shared GRAFANA_HMAC_SECRETS (what per-function secrets close)', async () => {
    const env = deployed({ ALLOWED_INSTANCES: DEMO_ALLOWED, GRAFANA_HMAC_SECRETS: INTERRUPT_SECRET });
    const captured = alert(INTERRUPT_SECRET);
    const replay = await fn(env, 'cancel-migration-task').post(captured.body, captured.headers);
    expect(replay.status).toBe(200);
    expect(operations()).toEqual(['CancelTask']);
  });

  describe('deployed with each contact point’s own secret', () => {
    const env = deployed({
      ALLOWED_INSTANCES: DEMO_ALLOWED,
      [own('interrupt-elasticsearch-task', 'GRAFANA_HMAC_SECRETS')]: INTERRUPT_SECRET,
      [own('cancel-migration-task', 'GRAFANA_HMAC_SECRETS')]: CANCEL_SECRET,
    });

    it('refuses the replay (401) and changes nothing', async () => {
      const captured = alert(INTERRUPT_SECRET);
      const cancel = fn(env, 'cancel-migration-task');
      const replay = await cancel.post(captured.body, captured.headers);
      expect(replay.status).toBe(401);
      expect(replay.body).toMatchObject({ results: [], error: { code: 'Unauthorized' } });
      expect(cancel.calls).toEqual([]);
      expect(upstream.state(TARGET)).toMatchObject({ status: 'activating', migrating: true, history: [] });
    });

    it('still acts on the alert where it was meant to go, and on the cancel contact point’s own', async () => {
      const captured = alert(INTERRUPT_SECRET);
      const meant = await fn(env, 'interrupt-elasticsearch-task').post(captured.body, captured.headers);
      expect(meant.status, JSON.stringify(meant.body)).toBe(200);
      expect(meant.body.results).toMatchObject([{ instanceId: TARGET, outcome: 'applied' }]);

      upstream.emulator.reset();
      const forCancel = alert(CANCEL_SECRET);
      const cancelled = await fn(env, 'cancel-migration-task').post(forCancel.body, forCancel.headers);
      expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
      expect(cancelled.body.results).toMatchObject([{ instanceId: TARGET, outcome: 'applied' }]);
      expect(operations()).toEqual(['CancelTask']);
    });
  });
});
