import * as z from 'zod/mini';
import { type AuthResult, rejected } from '../../auth/auth-result.ts';
import { checkBearer } from '../../auth/bearer.ts';
import { checkGrafanaHmac, grafanaSignatureHeaders } from '../../auth/grafana-hmac.ts';
import type { SourceEvent } from '../../core/target.ts';
import { alertmanagerAlertSchema, alertmanagerPayloadSchema, eventFromAlerts } from '../alertmanager/alertmanager.ts';
import { bodyText, parseJson, validate } from '../payload.ts';
import { type InboundRequest, type SharedSettings, type SourceHandlers, verdictOf } from '../source.ts';
import type { GrafanaSettings } from './index.ts';

/** One alert of a Grafana notification: Alertmanager's fields plus Grafana's extras. */
const grafanaAlertSchema = z.extend(alertmanagerAlertSchema, {
  values: z.optional(z.nullable(z.record(z.string(), z.nullable(z.number())))),
  valueString: z.optional(z.string()),
  dashboardURL: z.optional(z.string()),
  panelURL: z.optional(z.string()),
  silenceURL: z.optional(z.string()),
  imageURL: z.optional(z.string()),
});

/**
 * The default body of Grafana's webhook contact point (grafana/alerting `receivers/webhook`:
 * `ExtendedData` plus `version` "1", `groupKey`, `truncatedAlerts`, `orgId`, `title`, `state`,
 * `message`). A custom payload template is not this shape and gets a 400 naming the field.
 */
const grafanaPayloadSchema = z.extend(alertmanagerPayloadSchema, {
  orgId: z.optional(z.number().check(z.int())),
  title: z.optional(z.string()),
  state: z.optional(z.enum(['alerting', 'ok'])),
  message: z.optional(z.string()),
  alerts: z.array(grafanaAlertSchema),
});

/**
 * Grafana alerting webhooks: the HMAC signature (`X-Grafana-Alerting-Signature` with its signed
 * timestamp header, ±300 s; untimed signatures only with GRAFANA_ALLOW_UNTIMED=true) against
 * GRAFANA_HMAC_SECRETS, or `Authorization: Bearer` against GRAFANA_BEARER_TOKENS. A request that
 * carries a signature is judged by it when HMAC secrets are configured. Mapping as for Alertmanager, event key `grafana:<fingerprint>@<startsAt>`.
 */
export function createGrafanaSource(settings: GrafanaSettings, shared: SharedSettings): SourceHandlers<InboundRequest> {
  const { hmacSecrets: secrets, bearerTokens: tokens, allowUntimed } = settings;

  function check(request: InboundRequest): AuthResult {
    const signed = grafanaSignatureHeaders(request.headers);
    if (signed.signature !== null && secrets.length > 0) {
      return checkGrafanaHmac(signed, request.body, secrets, Math.floor(request.receivedAt.getTime() / 1000), {
        allowUntimed,
      });
    }
    if (tokens.length === 0) {
      return rejected(
        signed.signature === null
          ? 'no X-Grafana-Alerting-Signature header, and GRAFANA_BEARER_TOKENS is not set for bearer tokens'
          : 'a signature header was sent, but GRAFANA_HMAC_SECRETS is not set',
      );
    }
    return checkBearer(request.headers.get('authorization'), tokens);
  }

  return {
    verify: (request) => verdictOf(check(request), request),
    parse(request): SourceEvent {
      const payload = validate(grafanaPayloadSchema, parseJson(bodyText(request.body)), 'Grafana notification');
      return eventFromAlerts(payload, shared.alertLabels, 'grafana');
    },
  };
}
