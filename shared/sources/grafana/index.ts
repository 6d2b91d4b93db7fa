import { bool, list } from '../../env-schemas.ts';
import { defineSource } from '../source.ts';

export interface GrafanaSettings {
  readonly hmacSecrets: readonly string[];
  readonly bearerTokens: readonly string[];
  /** GRAFANA_ALLOW_UNTIMED: accept HMAC signatures without a signed timestamp (no replay window). */
  readonly allowUntimed: boolean;
}

/** Grafana alerting webhooks (HMAC signature with its timestamp, or bearer): see grafana.ts. */
export const grafana = defineSource({
  name: 'grafana',
  mediaTypes: ['application/json'],
  variables: { GRAFANA_HMAC_SECRETS: list, GRAFANA_BEARER_TOKENS: list, GRAFANA_ALLOW_UNTIMED: bool(false) },
  settings: (v): GrafanaSettings => ({
    hmacSecrets: v.GRAFANA_HMAC_SECRETS,
    bearerTokens: v.GRAFANA_BEARER_TOKENS,
    allowUntimed: v.GRAFANA_ALLOW_UNTIMED,
  }),
  secretVariables: ['GRAFANA_HMAC_SECRETS', 'GRAFANA_BEARER_TOKENS'],
  enabled: (s) => s.hmacSecrets.length > 0 || s.bearerTokens.length > 0,
  load: async () => (await import('./grafana.ts')).createGrafanaSource,
});
