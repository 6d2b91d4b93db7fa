import * as z from 'zod/mini';
import type { AuthResult } from '../../auth/auth-result.ts';
import { checkBasicPassword } from '../../auth/basic-auth.ts';
import { checkBearer } from '../../auth/bearer.ts';
import type { EventItem, SourceEvent } from '../../core/target.ts';
import { targetFromLabels } from '../alert-labels.ts';
import { bodyText, parseJson, validate } from '../payload.ts';
import {
  type AlertLabelNames,
  type InboundRequest,
  type SharedSettings,
  type SourceHandlers,
  verdictOf,
} from '../source.ts';
import type { AlertmanagerSettings } from './index.ts';

/** RFC 3339 as Go's `time.Time` marshals it: `2024-05-01T10:00:00.123456789Z`, `…+02:00`. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;
const timestamp = z.string().check(
  z.regex(RFC3339, 'must be an RFC 3339 timestamp such as 2024-05-01T10:00:00Z'),
  z.refine((value) => !Number.isNaN(Date.parse(value)), 'must be a valid date'),
);
const labelSet = z.record(z.string(), z.string());
const status = z.enum(['firing', 'resolved']);

/**
 * One alert of an Alertmanager notification (`template.Alert`): the fields we read are required,
 * the others are typed when present. Unknown keys are ignored (newer versions add fields).
 */
export const alertmanagerAlertSchema = z.object({
  status,
  labels: labelSet,
  annotations: z.optional(labelSet),
  startsAt: timestamp,
  /** `0001-01-01T00:00:00Z` while firing (or the sender's expected end). */
  endsAt: z.optional(timestamp),
  generatorURL: z.optional(z.string()),
  fingerprint: z.string().check(z.regex(/^[0-9a-f]{1,64}$/i, 'must be a hex fingerprint')),
});

/**
 * The body of an Alertmanager `webhook_config` notification (`notify/webhook.Message`: the
 * template `Data` plus `version`, `groupKey`, `truncatedAlerts`); Alibaba Cloud ARMS renders the
 * same format. Only `version`, `status` and `alerts` are required, so an older or trimmed sender
 * is not refused forever (a 4xx is never retried).
 */
export const alertmanagerPayloadSchema = z.object({
  version: z.string(),
  groupKey: z.optional(z.string()),
  truncatedAlerts: z.optional(z.number().check(z.int(), z.nonnegative())),
  status,
  receiver: z.optional(z.string()),
  groupLabels: z.optional(labelSet),
  commonLabels: z.optional(labelSet),
  commonAnnotations: z.optional(labelSet),
  externalURL: z.optional(z.string()),
  alerts: z.array(alertmanagerAlertSchema),
});

type Alert = z.infer<typeof alertmanagerAlertSchema>;

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * Every alert of a group, each on its own: one item per alert that names an instance, with its
 * own state, and the event key `${prefix}:${fingerprint}@${startsAt}` of its episode (so a repeat,
 * or an HA peer's duplicate, gives the same clientToken, and a new episode a new one). Alerts
 * naming no usable instance are counted in `notes`, by reason; no label value is echoed.
 */
export function eventFromAlerts(
  payload: {
    alerts: readonly Alert[];
    truncatedAlerts?: number | undefined;
    commonLabels?: Readonly<Record<string, string>> | undefined;
  },
  names: AlertLabelNames,
  prefix: 'alertmanager' | 'grafana',
): SourceEvent {
  const items: EventItem[] = [];
  const skipped = new Map<string, number>();
  for (const alert of payload.alerts) {
    const target = targetFromLabels(alert.labels, names);
    if ('note' in target) {
      skipped.set(target.note, (skipped.get(target.note) ?? 0) + 1);
      continue;
    }
    items.push({
      instanceId: target.instanceId,
      regionId: target.regionId,
      eventKey: `${prefix}:${alert.fingerprint}@${alert.startsAt}`,
      alertState: alert.status,
    });
  }
  const notes = [...skipped].map(([reason, n]) => `${plural(n, 'alert')} passed over: ${reason}`);
  if (payload.truncatedAlerts) {
    notes.push(`${plural(payload.truncatedAlerts, 'alert')} left out by the sender (max_alerts) were not considered`);
  }
  const alertname = payload.commonLabels?.alertname;
  return {
    items,
    reason: alertname ? alertname.slice(0, 200) : undefined,
    notes: notes.length > 0 ? notes : undefined,
  };
}

/**
 * Prometheus Alertmanager (and ARMS) webhooks: `Authorization: Bearer` (`http_config.authorization`)
 * or basic auth (`http_config.basic_auth`, the password is checked), both against
 * ALERTMANAGER_BEARER_TOKENS. Targets come from alert labels (ALERT_INSTANCE_LABELS,
 * ALERT_REGION_LABELS); firing and resolved alerts are told apart per alert.
 */
export function createAlertmanagerSource(
  settings: AlertmanagerSettings,
  shared: SharedSettings,
): SourceHandlers<InboundRequest> {
  const tokens = settings.bearerTokens;
  function check(request: InboundRequest): AuthResult {
    const authorization = request.headers.get('authorization');
    if (/^Basic[ \t]/i.test(authorization ?? '')) return checkBasicPassword(authorization, tokens);
    return checkBearer(authorization, tokens);
  }
  return {
    verify: (request) => verdictOf(check(request), request),
    parse(request): SourceEvent {
      const payload = validate(
        alertmanagerPayloadSchema,
        parseJson(bodyText(request.body)),
        'Alertmanager notification',
      );
      return eventFromAlerts(payload, shared.alertLabels, 'alertmanager');
    },
  };
}
