import { list } from '../../env-schemas.ts';
import { defineSource } from '../source.ts';

export interface AlertmanagerSettings {
  readonly bearerTokens: readonly string[];
}

/** Prometheus Alertmanager and ARMS webhooks (bearer or basic auth): see alertmanager.ts. */
export const alertmanager = defineSource({
  name: 'alertmanager',
  mediaTypes: ['application/json'],
  variables: { ALERTMANAGER_BEARER_TOKENS: list },
  settings: (v): AlertmanagerSettings => ({ bearerTokens: v.ALERTMANAGER_BEARER_TOKENS }),
  secretVariables: ['ALERTMANAGER_BEARER_TOKENS'],
  enabled: (s) => s.bearerTokens.length > 0,
  load: async () => (await import('./alertmanager.ts')).createAlertmanagerSource,
});
