import type { ResponderConfig } from '../config.ts';
import { createAlertmanagerSource } from './alertmanager.ts';
import { createCloudMonitorSource } from './cloudmonitor.ts';
import { createDingTalkSource } from './dingtalk.ts';
import { createFeishuSource } from './feishu.ts';
import { createGenericSource } from './generic.ts';
import { createGrafanaSource } from './grafana.ts';
import { createSlackSource } from './slack.ts';
import type { Source, SourceName } from './source.ts';

/** Every source this build knows, each built once from the config. */
export function createSources(config: ResponderConfig): Partial<Record<SourceName, Source>> {
  return {
    generic: createGenericSource(config.secrets),
    alertmanager: createAlertmanagerSource(config),
    grafana: createGrafanaSource(config),
    cloudmonitor: createCloudMonitorSource(config),
    slack: createSlackSource(config.secrets),
    dingtalk: createDingTalkSource(config.secrets),
    feishu: createFeishuSource(config.secrets),
  };
}
