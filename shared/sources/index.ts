import type { ResponderConfig } from '../config.ts';
import type { Source, SourceName } from './source.ts';

export type SourceLoader = () => Promise<Source>;

/**
 * Every source this build knows, each built once, on first use. An invocation serves one
 * sender, and building the others' schemas costs a cold start ~15 ms for nothing: the dynamic
 * imports let the bundler evaluate a sender's module only when it is first asked for.
 */
export function createSources(config: ResponderConfig): Record<SourceName, SourceLoader> {
  const once = (build: () => Promise<Source>): SourceLoader => {
    let source: Promise<Source> | undefined;
    return () => {
      source ??= build();
      return source;
    };
  };
  return {
    generic: once(async () => (await import('./generic.ts')).createGenericSource(config.secrets)),
    alertmanager: once(async () => (await import('./alertmanager.ts')).createAlertmanagerSource(config)),
    grafana: once(async () => (await import('./grafana.ts')).createGrafanaSource(config)),
    cloudmonitor: once(async () => (await import('./cloudmonitor.ts')).createCloudMonitorSource(config)),
    slack: once(async () => (await import('./slack.ts')).createSlackSource(config.secrets)),
    dingtalk: once(async () => (await import('./dingtalk.ts')).createDingTalkSource(config)),
    feishu: once(async () => (await import('./feishu.ts')).createFeishuSource(config.secrets)),
  };
}
