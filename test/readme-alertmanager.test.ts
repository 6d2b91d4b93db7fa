import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '../shared/config.ts';
import { findExecutable } from './support/find-executable.ts';

/**
 * README's Alertmanager configuration, as a user copies it, checked against the code: each route to
 * a function groups by the instance label the functions read by default, so that one notification
 * names one instance (a group over MAX_TARGETS_PER_EVENT is refused whole, and a refused resolution
 * keeps being re-sent). Debian's amtool, when installed, validates and routes the same text.
 */

interface Route {
  receiver?: string;
  group_by?: string[];
  continue?: boolean;
  matchers?: string[];
  routes?: Route[];
}
interface Receiver {
  name: string;
  webhook_configs?: Array<{ url: string; send_resolved?: boolean }>;
}
interface AlertmanagerConfig {
  route: Route;
  receivers: Receiver[];
}

/** The first YAML block of README's Alertmanager section, verbatim. */
function readmeAlertmanagerYaml(): string {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf('### Alertmanager (and Alibaba Cloud ARMS)');
  const end = readme.indexOf('\n### ', start + 1);
  const block = /```yaml\n([\s\S]*?)```/.exec(readme.slice(start, end))?.[1];
  if (start < 0 || !block) throw new Error('README has no Alertmanager YAML block');
  return block;
}

/** Every route with the group_by it ends up with (a child inherits its parent's unless it sets one). */
function effectiveRoutes(route: Route, inherited: string[] = []): Array<{ route: Route; groupBy: string[] }> {
  const groupBy = route.group_by ?? inherited;
  return [{ route, groupBy }, ...(route.routes ?? []).flatMap((child) => effectiveRoutes(child, groupBy))];
}

/** The routes whose receiver posts to one of the functions, with the function's path. */
function functionRoutes(config: AlertmanagerConfig) {
  return effectiveRoutes(config.route).flatMap(({ route, groupBy }) => {
    const receiver = config.receivers.find((r) => r.name === route.receiver);
    return (receiver?.webhook_configs ?? [])
      .filter((w) => w.url.endsWith('/alertmanager'))
      .map((webhook) => ({ route, groupBy, webhook }));
  });
}

const config = parse(readmeAlertmanagerYaml()) as AlertmanagerConfig;

describe('README: Alertmanager configuration', () => {
  it('routes the alert to the interrupt and the resume function, both with send_resolved', () => {
    const routes = functionRoutes(config);
    expect(routes.map(({ webhook }) => webhook.url)).toEqual([
      expect.stringMatching(/<interrupt-elasticsearch-task trigger URL>\/alertmanager$/),
      expect.stringMatching(/<resume-elasticsearch-task trigger URL>\/alertmanager$/),
    ]);
    for (const { webhook } of routes) expect(webhook.send_resolved).toBe(true);
    // The interrupt route lets the alert continue to the resume route.
    expect(routes[0]?.route.continue).toBe(true);
  });

  it('groups every route to a function by alertname and the instance label ALERT_INSTANCE_LABELS reads by default', () => {
    const defaultLabel = parseConfig({}).alertLabels.instance[0];
    expect(defaultLabel).toBe('instanceId');
    const routes = functionRoutes(config);
    expect(routes).not.toHaveLength(0);
    for (const { groupBy } of routes) expect(groupBy).toEqual(expect.arrayContaining(['alertname', defaultLabel]));
  });
});

/** Debian's `amtool` (package prometheus-alertmanager), or undefined. */
function findAmtool(): string | undefined {
  return findExecutable(['amtool'], ['/usr/bin/amtool']);
}
const amtool = findAmtool();
if (!amtool) console.warn('\n!!! README ALERTMANAGER CHECK WITH amtool SKIPPED: no amtool binary found.\n');

describe.skipIf(!amtool)('README: Alertmanager configuration through amtool', () => {
  it('is a valid configuration that sends one alert to both functions', () => {
    const dir = mkdtempSync(join(tmpdir(), 'readme-am-'));
    try {
      const file = join(dir, 'alertmanager.yml');
      // Only the placeholders change: the trigger URLs become real-looking hosts.
      writeFileSync(
        file,
        readmeAlertmanagerYaml().replace(/<([a-z-]+) trigger URL>/g, (_m, fn: string) => `${fn}.fc.example.test`),
      );
      const run = (...args: string[]) => execFileSync(amtool as string, args, { encoding: 'utf8', stdio: 'pipe' });
      expect(run('check-config', file)).toMatch(/SUCCESS/);
      expect(
        run(
          'config',
          'routes',
          'test',
          `--config.file=${file}`,
          'alertname=ElasticsearchChangeStuck',
          'instanceId=es-cn-demo-activating',
        ).trim(),
      ).toBe('es-interrupt,es-resume');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
