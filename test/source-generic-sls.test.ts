import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { FunctionName } from '../shared/actions.ts';
import type { Env } from '../shared/config.ts';
import { expectedToken, useEmulator, wireFunction } from './support/function-harness.ts';
import { TEST_BEARER } from './support/invoke.ts';

/**
 * README's SLS alert template, rendered as SLS renders a Webhook-Custom notification and posted to
 * the generic source with the headers README tells SLS to send.
 */

/** The template exactly as README shows it. */
function readmeTemplate(): string {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const block = /<!-- sls-template:start -->\s*```\n([\s\S]*?)```\s*<!-- sls-template:end -->/.exec(readme)?.[1];
  if (!block) throw new Error('README has no sls-template block');
  return block;
}

/**
 * The part of SLS's new-version template language README's template uses, as SLS documents it
 * (_Variables in alert templates (new version)_, custom-webhook FAQ): `{{ alert.a.b }}` and
 * `{{ alert.a["b"] }}` are replaced by the value, an object by its JSON, a missing variable by an
 * empty string; `| quote` makes the value a JSON string. Anything else in `{{ }}` fails the test
 * rather than being rendered by guess.
 */
function renderSls(template: string, alert: Record<string, unknown>): string {
  return template.replace(/\{\{\s*([^}]*?)\s*\}\}/g, (_match, expression: string) => {
    const parsed = /^alert((?:\.[A-Za-z_][A-Za-z0-9_]*|\["[^"]*"\])*)\s*(\|\s*quote)?$/.exec(expression);
    if (!parsed) throw new Error(`the test renderer does not model {{ ${expression} }}`);
    let value: unknown = alert;
    for (const [, dotted, bracketed] of (parsed[1] ?? '').matchAll(/\.([A-Za-z0-9_]+)|\["([^"]*)"\]/g)) {
      const key = (dotted ?? bracketed) as string;
      value =
        typeof value === 'object' && value !== null && Object.hasOwn(value, key)
          ? (value as Record<string, unknown>)[key]
          : undefined;
    }
    const text =
      value === undefined || value === null ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
    return parsed[2] ? JSON.stringify(text) : text;
  });
}

/** An alert as SLS holds it (the variables of its new-version templates), for one instance. */
function slsAlert(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    aliuid: '1179186349531234',
    alert_instance_id: 'ee16a8f435485f3f-5be6b81edc520-3d6f1',
    alert_id: 'es-change-errors',
    alert_name: 'ES 变更报错 "rolling restart"',
    alert_type: 'sls_alert',
    region: 'cn-hangzhou',
    project: 'es-ops-logs',
    next_eval_interval: 60,
    alert_time: 1764037500,
    fire_time: 1764037440,
    status: 'firing',
    resolve_time: 0,
    severity: 8,
    labels: { instanceId: 'es-cn-demo-activating' },
    annotations: { title: 'errors in the change log', desc: 'cnt=42' },
    fire_results_count: 1,
    ...overrides,
  };
}

/** SLS's recovery notification of the same alert: status resolved, same rule and first firing time. */
const resolvedAlert = (overrides: Record<string, unknown> = {}) =>
  slsAlert({ status: 'resolved', alert_time: 1764038100, resolve_time: 1764038100, ...overrides });

const upstream = useEmulator();
const { state } = upstream;

function setup(name: FunctionName, env: Env = {}) {
  const fn = wireFunction(upstream.url, name, 'generic', { GENERIC_BEARER_TOKENS: TEST_BEARER, ...env });
  /** What SLS posts for one alert: the rendered template, with the two request headers README sets. */
  const notify = (alert: Record<string, unknown>) =>
    fn.post(renderSls(readmeTemplate(), alert), {
      'content-type': 'application/json',
      authorization: `Bearer ${TEST_BEARER}`,
    });
  return { ...fn, notify };
}

/** README's event key for an SLS alert. */
const keyOf = (alert: Record<string, unknown>) => `generic:sls:${alert.project}:${alert.alert_id}:${alert.fire_time}`;

describe('SLS template renderer (test support)', () => {
  it('renders README’s template to the generic payload, and quote keeps it JSON whatever a value holds', () => {
    expect(JSON.parse(renderSls(readmeTemplate(), slsAlert()))).toEqual({
      instanceIds: ['es-cn-demo-activating'],
      state: 'firing',
      eventId: 'sls:es-ops-logs:es-change-errors:1764037440',
      reason: 'ES 变更报错 "rolling restart"',
    });
    expect(renderSls('{{ alert.labels }} {{ alert.labels["instanceId"] | quote }} {{ alert.nope }}.', slsAlert())).toBe(
      '{"instanceId":"es-cn-demo-activating"} "es-cn-demo-activating" .',
    );
    expect(() => renderSls('{{ alert.status | upper }}', slsAlert())).toThrow(/does not model/);
  });
});

describe('Function: interrupt-elasticsearch-task, generic source with README’s SLS alert template', () => {
  it('interrupts on the firing notification once; SLS repeating it changes nothing', async () => {
    const { notify, calls } = setup('interrupt-elasticsearch-task');
    const token = expectedToken('interrupt-elasticsearch-task', 'es-cn-demo-activating', keyOf(slsAlert()));
    const first = await notify(slsAlert());
    expect(first.status).toBe(200);
    expect(first.body.results).toEqual([
      expect.objectContaining({ instanceId: 'es-cn-demo-activating', outcome: 'applied', clientToken: token }),
    ]);
    // A repeat of the same alert is evaluated later but first fired at the same time.
    const repeat = await notify(slsAlert({ alert_time: 1764037800 }));
    expect(repeat.body.results[0]?.clientToken).toBe(token);
    expect(state('es-cn-demo-activating')?.history).toEqual([
      expect.objectContaining({ action: 'InterruptElasticsearchTask', clientToken: token }),
    ]);
    expect(calls).toHaveLength(2);
  });

  it('does not interrupt on the recovery notification: 200, refused, no call', async () => {
    const { notify, calls } = setup('interrupt-elasticsearch-task');
    const response = await notify(resolvedAlert());
    expect(response.status).toBe(200);
    expect(response.body.results).toEqual([
      expect.objectContaining({
        instanceId: 'es-cn-demo-activating',
        outcome: 'refused',
        code: 'AlertStateIgnored',
        message: expect.stringMatching(/resolved; interrupt-elasticsearch-task acts on firing alerts only/),
      }),
    ]);
    expect(calls).toHaveLength(0);
    expect(state('es-cn-demo-activating')?.status).toBe('activating');
  });

  it('gives the next episode of the alert (a new first firing) new tokens', async () => {
    const { notify } = setup('interrupt-elasticsearch-task');
    const first = await notify(slsAlert());
    const next = await notify(slsAlert({ fire_time: 1764041040, alert_time: 1764041100 }));
    expect(next.body.results[0]?.clientToken).toBe(
      expectedToken(
        'interrupt-elasticsearch-task',
        'es-cn-demo-activating',
        'generic:sls:es-ops-logs:es-change-errors:1764041040',
      ),
    );
    expect(next.body.results[0]?.clientToken).not.toBe(first.body.results[0]?.clientToken);
  });

  it('refuses with 400 an alert without the instance label: nothing is guessed', async () => {
    const { notify, calls } = setup('interrupt-elasticsearch-task');
    const response = await notify(slsAlert({ labels: { host: 'es-cn-demo-activating' } }));
    expect(response.status).toBe(400);
    expect(response.body.error?.message).toMatch(/instanceIds\[0\]: must be an instance ID/);
    expect(calls).toHaveLength(0);
  });
});

describe('Function: resume-elasticsearch-task, generic source with README’s SLS alert template', () => {
  it('ignores the firing notification and resumes on the recovery, once (RESUME_ON=resolved, the default)', async () => {
    const interrupt = setup('interrupt-elasticsearch-task');
    const resume = setup('resume-elasticsearch-task');
    expect((await interrupt.notify(slsAlert())).body.results[0]?.outcome).toBe('applied');

    const firing = await resume.notify(slsAlert());
    expect(firing.status).toBe(200);
    expect(firing.body.results[0]).toMatchObject({ outcome: 'refused', code: 'AlertStateIgnored' });
    expect(resume.calls).toHaveLength(0);

    const token = expectedToken('resume-elasticsearch-task', 'es-cn-demo-activating', keyOf(resolvedAlert()));
    for (let delivery = 0; delivery < 2; delivery++) {
      const recovered = await resume.notify(resolvedAlert());
      expect(recovered.status).toBe(200);
      expect(recovered.body.results[0]).toMatchObject({ clientToken: token });
    }
    expect(state('es-cn-demo-activating')?.status).toBe('activating');
    expect(state('es-cn-demo-activating')?.history.map((h) => h.action)).toEqual([
      'InterruptElasticsearchTask',
      'ResumeElasticsearchTask',
    ]);
  });

  it('with RESUME_ON=firing resumes on the firing notification and ignores the recovery', async () => {
    const interrupt = setup('interrupt-elasticsearch-task');
    const resume = setup('resume-elasticsearch-task', { RESUME_ON: 'firing' });
    // The interruption to resume: another episode of the alert made it.
    expect((await interrupt.notify(slsAlert({ fire_time: 1764030000 }))).body.results[0]?.outcome).toBe('applied');

    const recovered = await resume.notify(resolvedAlert());
    expect(recovered.body.results[0]).toMatchObject({ outcome: 'refused', code: 'AlertStateIgnored' });
    expect(resume.calls).toHaveLength(0);
    const firing = await resume.notify(slsAlert());
    expect(firing.status).toBe(200);
    expect(firing.body.results[0]).toMatchObject({ outcome: 'applied' });
    expect(state('es-cn-demo-activating')?.status).toBe('activating');
  });
});
