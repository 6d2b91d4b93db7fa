import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalServer, startLocal } from '../local/server.ts';
import type { ResponseBody, TargetResult } from '../shared/core/result.ts';
import {
  type Delivery,
  findAlertmanager,
  freePort,
  type RunningAlertmanager,
  startAlertmanager,
  startRecordingProxy,
  until,
} from './support/alertmanager.ts';

/**
 * Issue 12's guardrails end to end: a real Prometheus Alertmanager notifies local mode (its
 * embedded store shared by the five functions). The interrupt function gets one group per
 * instance; the resume function gets one group per alertname for alerts labelled
 * `grouping="group"` (the 6-alert group), else one per instance. Small FLEET_CHANGE_BUDGET and
 * FLAP_GUARD, spent in order by the tests below: 5 interrupts (the group), 2 (the flapping
 * instance), then the storm meets the budget's last 2 units.
 */
const bin = findAlertmanager();
if (!bin) console.warn('\n!!! GUARDRAILS END-TO-END TEST SKIPPED: no prometheus-alertmanager binary found.\n');

const TOKEN = 'am-guardrails-bearer-token-91d2';
const INTERRUPT = '/interrupt-elasticsearch-task/alertmanager';
const RESUME = '/resume-elasticsearch-task/alertmanager';
const GROUP = ['g1', 'g2', 'g3', 'g4', 'g5', 'g6'].map((n) => `es-cn-demo-${n}`);
const FLAPPING = 'es-cn-demo-flap';
const STORM = ['s1', 's2', 's3', 's4'].map((n) => `es-cn-demo-${n}`);

interface Instance {
  instanceId: string;
  status: string;
  history: Array<{ action: string; clientToken: string }>;
}

describe.skipIf(!bin)('Function: the guardrails across events, driven by a real Alertmanager', () => {
  let local: LocalServer;
  let proxy: Awaited<ReturnType<typeof startRecordingProxy>>;
  let alertmanager: RunningAlertmanager | undefined;
  let dir: string;

  beforeAll(async () => {
    local = await startLocal({
      port: 0,
      env: {
        ALERTMANAGER_BEARER_TOKENS: TOKEN,
        FLEET_CHANGE_BUDGET: '9/10m',
        FLAP_GUARD: '2/10m',
        PATH: process.env.PATH,
        POWERTOOLS_LOG_LEVEL: 'SILENT',
      },
    });
    local.emulator.reset([
      ...GROUP.slice(0, 5).map((instanceId) => ({ instanceId, status: 'activating' as const })),
      // Interrupted by someone else (a person, the console): nothing of ours is recorded.
      { instanceId: GROUP[5] as string, status: 'suspended' as const },
      { instanceId: FLAPPING, status: 'activating' as const },
      ...STORM.map((instanceId) => ({ instanceId, status: 'activating' as const })),
    ]);
    proxy = await startRecordingProxy(local.url);
    dir = mkdtempSync(join(tmpdir(), 'guardrails-e2e-'));
    const receiver = (name: string, path: string) => `
  - name: ${name}
    webhook_configs:
      - url: ${proxy.url}${path}
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: ${TOKEN}`;
    const config = `
route:
  receiver: blackhole
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
  routes:
    - receiver: interrupt
      group_by: ['alertname', 'instanceId']
      continue: true
    - receiver: resume
      matchers: ['grouping="group"']
      group_by: ['alertname']
      continue: true
    - receiver: resume
      matchers: ['grouping!="group"']
      group_by: ['alertname', 'instanceId']
receivers:
  - name: blackhole${receiver('interrupt', INTERRUPT)}${receiver('resume', RESUME)}
`;
    writeFileSync(join(dir, 'alertmanager.yml'), config);
    alertmanager = await startAlertmanager({
      bin: bin as string,
      configFile: join(dir, 'alertmanager.yml'),
      storagePath: join(dir, 'data'),
      port: await freePort(),
    });
  });

  afterAll(async () => {
    await alertmanager?.stop();
    await proxy?.close();
    await local?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const instances = async () =>
    ((await (await fetch(`${local.url}/emulator/instances`)).json()) as { instances: Instance[] }).instances;
  const instance = async (id: string) => (await instances()).find((i) => i.instanceId === id) as Instance;
  const payloadOf = (d: Delivery) =>
    JSON.parse(d.body.toString('utf8')) as {
      status: string;
      alerts: Array<{ status: string; labels: { instanceId: string } }>;
    };
  const resultsOf = (d: Delivery) => (d.response as ResponseBody).results ?? [];
  const resultFor = (d: Delivery, id: string) => resultsOf(d).find((r) => r.instanceId === id) as TargetResult;
  const deliveriesFor = (path: string, id: string) =>
    proxy.deliveries.filter((d) => d.path === path && payloadOf(d).alerts.some((a) => a.labels.instanceId === id));
  const diagnostics = () =>
    `deliveries: ${JSON.stringify(proxy.deliveries.map((d) => [d.path, d.status, resultsOf(d).map((r) => [r.instanceId, r.outcome, r.code])]))}\n` +
    `alertmanager log (tail):\n${alertmanager?.log().slice(-3000)}`;

  const post = async (alerts: Array<Record<string, unknown>>) => {
    const response = await fetch(`${alertmanager?.url}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(alerts),
    });
    expect(response.status).toBe(200);
  };
  const waitFor = <T>(what: string, probe: () => Promise<T | undefined>) => until(what, probe, 20_000, diagnostics);

  it('resumes the 5 instances of a 6-alert group that we interrupted, refuses the sixth, never the group whole', {
    timeout: 60_000,
  }, async () => {
    const startsAt = new Date().toISOString();
    const alerts = GROUP.map((instanceId) => ({
      labels: { alertname: 'ClusterChangeStuck', instanceId, grouping: 'group' },
      startsAt,
    }));
    await post(alerts);
    // One group per instance to the interrupt function: the five running changes are interrupted, by us.
    await waitFor('the five to be suspended, and the sixth to be answered', async () => {
      const all = await instances();
      const suspended = GROUP.slice(0, 5).every((id) => all.find((i) => i.instanceId === id)?.status === 'suspended');
      return suspended && deliveriesFor(INTERRUPT, GROUP[5] as string).length > 0 ? true : undefined;
    });
    await post(alerts.map((a) => ({ ...a, endsAt: new Date().toISOString() })));
    const whole = await waitFor('a resolved notification of the whole group to the resume function', async () =>
      proxy.deliveries.find(
        (d) =>
          d.path === RESUME &&
          payloadOf(d).alerts.length === 6 &&
          payloadOf(d).alerts.every((a) => a.status === 'resolved'),
      ),
    );
    await waitFor('the five to be activating again', async () => {
      const all = await instances();
      return GROUP.slice(0, 5).every((id) => all.find((i) => i.instanceId === id)?.status === 'activating')
        ? true
        : undefined;
    });
    // 200: nothing for Alertmanager to retry; MAX_TARGETS_PER_EVENT (5) did not count our resumptions.
    expect(whole.status).toBe(200);
    expect(resultsOf(whole).map((r) => r.code)).not.toContain('TooManyTargets');
    expect(resultFor(whole, GROUP[5] as string)).toMatchObject({
      outcome: 'refused',
      code: 'NotInterruptedByResponder',
      message: expect.stringContaining('no interruption of it by an alert of ours is recorded'),
    });
    for (const d of proxy.deliveries.filter((x) => x.path === RESUME)) expect(d.status).toBe(200);
    for (const id of GROUP.slice(0, 5)) {
      expect(
        (await instance(id)).history.map((h) => h.action),
        id,
      ).toEqual(['InterruptElasticsearchTask', 'ResumeElasticsearchTask']);
    }
    // The seeded suspended instance: not resumed by the resolved alert, nothing done to it at all.
    expect(await instance(GROUP[5] as string)).toMatchObject({ status: 'suspended', history: [] });
  });

  it('stops a flapping alert after FLAP_GUARD flips: the instance stays as it is', { timeout: 60_000 }, async () => {
    const labels = { alertname: 'ClusterFlapping', instanceId: FLAPPING };
    const cycle = async (expected: string[]) => {
      const startsAt = new Date().toISOString();
      await post([{ labels, startsAt }]);
      await waitFor(`an interruption (${expected.length + 1})`, async () =>
        (await instance(FLAPPING)).history.length === expected.length + 1 ? true : undefined,
      );
      await post([{ labels, startsAt, endsAt: new Date().toISOString() }]);
    };
    await cycle([]);
    await waitFor('the first resumption', async () =>
      (await instance(FLAPPING)).status === 'activating' ? true : undefined,
    );
    await cycle(['interrupt', 'resume']);
    // Interrupt, resume, interrupt: two flips, FLAP_GUARD=2/10m's limit; the next automatic action is refused.
    const refused = await waitFor('the second resolved notification to be answered', async () =>
      deliveriesFor(RESUME, FLAPPING).find(
        (d) => payloadOf(d).status === 'resolved' && resultFor(d, FLAPPING)?.code === 'Flapping',
      ),
    );
    expect(refused.status).toBe(200);
    expect(resultFor(refused, FLAPPING)).toMatchObject({
      outcome: 'refused',
      message: expect.stringContaining('FLAP_GUARD=2/10m'),
    });
    const final = await instance(FLAPPING);
    expect(final.status).toBe('suspended');
    expect(final.history.map((h) => h.action)).toEqual([
      'InterruptElasticsearchTask',
      'ResumeElasticsearchTask',
      'InterruptElasticsearchTask',
    ]);
  });

  it('stops an alert storm across separate groups at FLEET_CHANGE_BUDGET', { timeout: 60_000 }, async () => {
    const startsAt = new Date().toISOString();
    await post(STORM.map((instanceId) => ({ labels: { alertname: 'ClusterStorm', instanceId }, startsAt })));
    const answers = await waitFor('every storm group to be answered', async () => {
      const each = STORM.map((id) => deliveriesFor(INTERRUPT, id)[0]);
      return each.every(Boolean) ? (each as Delivery[]) : undefined;
    });
    // 7 of the 9 units went to the group and the flapping instance: 2 changes start, 2 are refused.
    const codes = answers.map((d, i) => resultFor(d, STORM[i] as string)?.code ?? 'applied');
    expect(codes.filter((c) => c === 'applied')).toHaveLength(2);
    expect(codes.filter((c) => c === 'ChangeBudgetExhausted')).toHaveLength(2);
    for (const d of answers) expect(d.status).toBe(200);
    const refused = answers.flatMap((d) => resultsOf(d)).find((r) => r.code === 'ChangeBudgetExhausted');
    expect(refused?.message).toMatch(/FLEET_CHANGE_BUDGET=9\/10m is spent .*it frees up by \S+Z \(in \d+m/);
    const suspended = (await instances()).filter((i) => STORM.includes(i.instanceId) && i.status === 'suspended');
    expect(suspended).toHaveLength(2);
  });
});
