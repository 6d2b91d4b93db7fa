import { list } from '../../env-schemas.ts';
import { defineSource } from '../source.ts';

export interface CloudMonitorSettings {
  /** CLOUDMONITOR_TOKENS: the `?token=` of the callback URL. */
  readonly tokens: readonly string[];
  /** CLOUDMONITOR_SOURCE_CIDRS, as given: a bad range refuses every callback with a 500 naming it. */
  readonly sourceCidrs: readonly string[];
}

/** Alibaba Cloud CloudMonitor alarm callbacks (URL token, source ranges, account): see cloudmonitor.ts. */
export const cloudmonitor = defineSource({
  name: 'cloudmonitor',
  mediaTypes: ['application/x-www-form-urlencoded'],
  variables: { CLOUDMONITOR_TOKENS: list, CLOUDMONITOR_SOURCE_CIDRS: list },
  settings: (v): CloudMonitorSettings => ({ tokens: v.CLOUDMONITOR_TOKENS, sourceCidrs: v.CLOUDMONITOR_SOURCE_CIDRS }),
  secretVariables: ['CLOUDMONITOR_TOKENS'],
  enabled: (s) => s.tokens.length > 0,
  load: async () => (await import('./cloudmonitor.ts')).createCloudMonitorSource,
});
