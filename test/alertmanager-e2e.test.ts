import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalServer, startLocal } from '../local/server.ts';
import type { ResponseBody } from '../shared/core/result.ts';
import {
  alertmanagerCounter,
  type Delivery,
  findAlertmanager,
  freePort,
  type RunningAlertmanager,
  startAlertmanager,
  startRecordingProxy,
  until,
} from './support/alertmanager.ts';

/**
 * A real Prometheus Alertmanager (Debian `prometheus-alertmanager`, 0.25) notifies the interrupt
 * and the resume function of local mode through webhook_configs with bearer authorization and
 * send_resolved, repeating every couple of seconds. A transparent proxy in between counts the
 * deliveries and keeps their bytes for a replay.
 */
const bin = findAlertmanager();
if (!bin) {
  console.warn(
    '\n!!! ALERTMANAGER END-TO-END TEST SKIPPED: no prometheus-alertmanager binary found.\n' +
      '!!! Install it with `apt-get install -y --no-install-recommends prometheus-alertmanager`\n' +
      '!!! (.ci/run does), or point ALERTMANAGER_BIN at an alertmanager binary.\n',
  );
}

const TOKEN = 'am-e2e-bearer-token-6c1d';
const INSTANCE = 'es-cn-demo-activating';
const INTERRUPT = '/interrupt-elasticsearch-task/alertmanager';
const RESUME = '/resume-elasticsearch-task/alertmanager';

interface Snapshot {
  instances: Array<{ instanceId: string; status: string; history: Array<{ action: string; clientToken: string }> }>;
}

describe.skipIf(!bin)('Function: a real Alertmanager drives interrupt and resume', () => {
  let local: LocalServer;
  let proxy: Awaited<ReturnType<typeof startRecordingProxy>>;
  let alertmanager: RunningAlertmanager | undefined;
  let dir: string;

  beforeAll(async () => {
    local = await startLocal({
      port: 0,
      env: { ALERTMANAGER_BEARER_TOKENS: TOKEN, PATH: process.env.PATH, POWERTOOLS_LOG_LEVEL: 'SILENT' },
    });
    proxy = await startRecordingProxy(local.url);
    dir = mkdtempSync(join(tmpdir(), 'alertmanager-e2e-'));
    const receiver = (name: string, path: string) => `
  - name: ${name}
    webhook_configs:
      - url: ${proxy.url}${path}
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: ${TOKEN}`;
    // group_interval bounds how often a changed group is re-sent; repeat_interval re-sends an unchanged one.
    const config = `
route:
  receiver: blackhole
  group_by: ['alertname', 'instanceId']
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 2s
  routes:
    - receiver: interrupt
      continue: true
    - receiver: resume
      continue: true
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

  const instance = async () => {
    const snapshot = (await (await fetch(`${local.url}/emulator/instances`)).json()) as Snapshot;
    return snapshot.instances.find((i) => i.instanceId === INSTANCE);
  };
  const delivered = (path: string) => proxy.deliveries.filter((d) => d.path === path);
  const payloadOf = (d: Delivery) => JSON.parse(d.body.toString('utf8')) as { status: string };
  const resultOf = (d: Delivery) => (d.response as ResponseBody).results[0];
  const diagnostics = () =>
    `deliveries: ${JSON.stringify(proxy.deliveries.map((d) => [d.path, payloadOf(d).status, d.status, resultOf(d)]))}\n` +
    `alertmanager log (tail):\n${alertmanager?.log().slice(-4000)}`;

  const postAlert = async (alert: Record<string, unknown>) => {
    const response = await fetch(`${alertmanager?.url}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([alert]),
    });
    expect(response.status).toBe(200);
  };

  it('interrupts once on firing, ignores repeats, resumes once on resolved', { timeout: 45_000 }, async () => {
    const labels = { alertname: 'ElasticsearchChangeStuck', instanceId: INSTANCE, regionId: 'cn-hangzhou' };
    const startsAt = new Date().toISOString();
    await postAlert({
      labels,
      annotations: { summary: 'the change on es-cn-demo-activating made no progress' },
      startsAt,
      generatorURL: 'http://prometheus.example:9090/graph',
    });

    // 1. The firing notification reaches the interrupt function, which suspends the instance once.
    const suspended = await until(
      'the instance to be suspended',
      async () => {
        const current = await instance();
        return current?.status === 'suspended' ? current : undefined;
      },
      15_000,
      diagnostics,
    );
    expect(suspended.history).toHaveLength(1);
    expect(suspended.history[0]?.action).toBe('InterruptElasticsearchTask');
    const interruptToken = suspended.history[0]?.clientToken;

    // 2. Alertmanager repeats the unchanged notification after repeat_interval: nothing changes.
    await until(
      'a repeated firing notification to each function',
      async () => (delivered(INTERRUPT).length >= 2 && delivered(RESUME).length >= 2 ? true : undefined),
      15_000,
      diagnostics,
    );
    expect((await instance())?.history).toHaveLength(1);
    for (const delivery of delivered(INTERRUPT)) {
      expect(delivery.status).toBe(200);
      expect(payloadOf(delivery).status).toBe('firing');
      expect(resultOf(delivery)).toMatchObject({ instanceId: INSTANCE, clientToken: interruptToken });
    }
    // The resume function saw the same firing alert and refused it: 200, so Alertmanager does not retry.
    for (const delivery of delivered(RESUME)) {
      expect(delivery.status).toBe(200);
      expect(resultOf(delivery)).toMatchObject({ outcome: 'refused', code: 'AlertStateIgnored' });
    }
    // Alertmanager's own counters agree: every notification was sent and none failed.
    const sent = await alertmanagerCounter(
      alertmanager?.url as string,
      'alertmanager_notifications_total',
      'integration="webhook"',
    );
    expect(sent).toBeGreaterThanOrEqual(4);
    expect(
      await alertmanagerCounter(
        alertmanager?.url as string,
        'alertmanager_notifications_failed_total',
        'integration="webhook"',
      ),
    ).toBe(0);

    // 3. Resolve the alert: the resume function makes the instance activating again, once.
    const firingDeliveries = proxy.deliveries.length;
    await postAlert({ labels, startsAt, endsAt: new Date().toISOString() });
    const resumed = await until(
      'the instance to be activating again',
      async () => {
        const current = await instance();
        return current?.status === 'activating' ? current : undefined;
      },
      15_000,
      diagnostics,
    );
    expect(resumed.history.map((h) => h.action)).toEqual(['InterruptElasticsearchTask', 'ResumeElasticsearchTask']);

    const resolvedTo = (path: string) =>
      proxy.deliveries.slice(firingDeliveries).filter((d) => d.path === path && payloadOf(d).status === 'resolved');
    await until(
      'the resolved notification to both functions',
      async () => (resolvedTo(INTERRUPT).length >= 1 && resolvedTo(RESUME).length >= 1 ? true : undefined),
      15_000,
      diagnostics,
    );
    const [resolvedInterrupt] = resolvedTo(INTERRUPT);
    const [resolvedResume] = resolvedTo(RESUME);
    expect(resolvedInterrupt?.status).toBe(200);
    expect(resultOf(resolvedInterrupt as Delivery)).toMatchObject({ outcome: 'refused', code: 'AlertStateIgnored' });
    expect(resolvedResume?.status).toBe(200);
    const resumeToken = resumed.history[1]?.clientToken;
    expect(resultOf(resolvedResume as Delivery)).toMatchObject({ outcome: 'applied', clientToken: resumeToken });

    // 4. A repeat of the resolved notification (a retry, or an HA peer's duplicate), byte for byte: nothing changes.
    for (const delivery of [resolvedInterrupt, resolvedResume, resolvedResume] as Delivery[]) {
      const replay = await fetch(`${local.url}${delivery.path}`, {
        method: 'POST',
        headers: {
          authorization: delivery.headers.authorization as string,
          'content-type': delivery.headers['content-type'] as string,
        },
        body: new Uint8Array(delivery.body),
      });
      expect(replay.status).toBe(200);
      const [again] = ((await replay.json()) as ResponseBody).results;
      const first = resultOf(delivery);
      // The resume ended our interruption (its record is gone): a replay of it is refused, and changes nothing.
      const code = delivery === resolvedResume ? 'NotInterruptedByResponder' : first?.code;
      expect([again?.instanceId, again?.clientToken, again?.code]).toEqual([INSTANCE, first?.clientToken, code]);
    }
    const final = await instance();
    expect(final?.status).toBe('activating');
    expect(final?.history.map((h) => [h.action, h.clientToken])).toEqual([
      ['InterruptElasticsearchTask', interruptToken],
      ['ResumeElasticsearchTask', resumeToken],
    ]);
  });
});
