import { createHash } from 'node:crypto';
import { AUTHENTICATED, type AuthResult, rejected } from '../../auth/auth-result.ts';
import { parseCidrs, type SourceAllowList } from '../../auth/cidr.ts';
import { matchesAny } from '../../auth/constant-time.ts';
import { type AlertState, type EventItem, REGION_PATTERN, type SourceEvent } from '../../core/target.ts';
import { ConfigError, PayloadError } from '../../errors.ts';
import { targetFromLabels } from '../alert-labels.ts';
import { bodyText, EVENT_KEY_PATTERN } from '../payload.ts';
import { type InboundRequest, type SharedSettings, type SourceHandlers, verdictOf } from '../source.ts';
import { parseDimensions, present } from './dimensions.ts';
import type { CloudMonitorSettings } from './index.ts';

/** CloudMonitor's alert states; `ALARM` is the spelling of older documents and of the rule API. */
const ALERT_STATES: Record<string, AlertState> = {
  ALERT: 'firing',
  ALARM: 'firing',
  OK: 'resolved',
  INSUFFICIENT_DATA: 'other',
};

/** Dimension keys that name the instance whatever ALERT_INSTANCE_LABELS says: acs_elasticsearch uses clusterId. */
const DIMENSION_INSTANCE_KEYS = ['instanceId', 'clusterId'];

/**
 * What tells the alert rule apart in the event key: `ruleId` when the callback has it (as real
 * callbacks do), else the documented `alertName`. The name is free text (often Chinese), so it
 * enters the key as a digest (printable ASCII of fixed length), behind a prefix no ruleId has.
 */
function ruleKey(ruleId: string | undefined, alertName: string | undefined): string {
  if (ruleId !== undefined) return ruleId;
  if (alertName === undefined) {
    throw new PayloadError('ruleId or alertName: one is required to tell alert rules apart');
  }
  return `alertName#${createHash('sha256').update(alertName, 'utf8').digest('hex').slice(0, 32)}`;
}

/**
 * The `userId` a callback names (the account that owns the alert rule), read only to bind the
 * callback to the function's account; undefined when absent or not exactly one. Invalid UTF-8 is
 * left to parse, which refuses it as a payload error.
 */
function callbackAccount(body: Uint8Array): string | undefined {
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  const values = new URLSearchParams(text).getAll('userId');
  return values.length === 1 ? values[0]?.trim() : undefined;
}

/**
 * Alibaba Cloud CloudMonitor threshold alert callbacks (form-encoded POST, 5 s timeout, up to 3
 * retries). CloudMonitor cannot sign with a secret of ours (its `signature` field's algorithm is not
 * published), so the callback URL carries `?token=`, compared constant-time with
 * CLOUDMONITOR_TOKENS; CLOUDMONITOR_SOURCE_CIDRS, when set, also requires the request to come
 * from one of those ranges (a request with no source address is refused). When the function's
 * account is known (ALIBABA_CLOUD_ACCOUNT_ID, else FC's FC_ACCOUNT_ID), the callback's `userId` must
 * be that account: a leaked callback URL used by another account's rule, or a forged body that
 * does not know the account, is refused (401) like a wrong token.
 *
 * Each monitored object in `dimensions` is a target: its instance from `instanceId`, `clusterId`
 * or an ALERT_INSTANCE_LABELS key; its region from the `regionId` field, else a region dimension.
 * alertState ALERT → firing, OK → resolved, INSUFFICIENT_DATA → neither (never acted on).
 * Event key: `cloudmonitor:<rule>:<instanceId>:<timestamp, else transId>`, where the rule is the
 * `ruleId` real callbacks carry, else (it is not in CloudMonitor's documented parameter list) the
 * documented `alertName`, as `alertName#<digest>`. A retried callback is the same body, so the
 * same key and tokens; the next notification (and the OK that ends the alert) has a new timestamp.
 * transId only stands in for a missing timestamp: what it identifies is not documented, and the
 * key of a ruleId callback stays what it was, so its tokens survive an upgrade.
 */
export function createCloudMonitorSource(
  settings: CloudMonitorSettings,
  shared: SharedSettings,
): SourceHandlers<InboundRequest> {
  const { tokens, sourceCidrs } = settings;
  let allowList: SourceAllowList | undefined;
  let cidrError: string | undefined;
  try {
    allowList = sourceCidrs.length ? parseCidrs(sourceCidrs) : undefined;
  } catch (error) {
    cidrError = (error as Error).message;
  }
  const names = {
    instance: [...new Set([...shared.alertLabels.instance, ...DIMENSION_INSTANCE_KEYS])],
    region: shared.alertLabels.region,
  };
  const accountId = shared.accountId;

  function check(request: InboundRequest): AuthResult {
    // A bad range list must not silently let everyone in, nor silently lock everyone out.
    if (cidrError) throw new ConfigError(`invalid configuration: CLOUDMONITOR_SOURCE_CIDRS: ${cidrError}`);
    const offered = request.url.searchParams.getAll('token');
    if (offered.length === 0) return rejected('missing query parameter token');
    if (offered.length > 1) return rejected(`query parameter token given ${offered.length} times`);
    if (!matchesAny(offered[0] as string, tokens)) return rejected('token mismatch');
    if (allowList !== undefined && !allowList.allows(request.sourceIp)) {
      // A source address is no secret: naming it tells a changed CloudMonitor range from an attack.
      return rejected(
        request.sourceIp
          ? `source address ${request.sourceIp.slice(0, 45)} is outside CLOUDMONITOR_SOURCE_CIDRS`
          : 'no source address, and CLOUDMONITOR_SOURCE_CIDRS is set',
      );
    }
    if (accountId === undefined) return AUTHENTICATED;
    const named = callbackAccount(request.body);
    if (named === accountId) return AUTHENTICATED;
    // The log may name the account a callback claims (never the answer): it tells a wrong
    // ALIBABA_CLOUD_ACCOUNT_ID from another account's rule or a forgery.
    return rejected(
      named === undefined
        ? "no single userId in the callback, and the function's account is known"
        : `userId ${/^\d{1,20}$/.test(named) ? named : '(not an account ID)'} is not the function's account`,
    );
  }

  return {
    verify: (request) => verdictOf(check(request), request),
    parse(request): SourceEvent {
      const form = new URLSearchParams(bodyText(request.body));
      const field = (name: string) => present(form.get(name));

      const rawState = field('alertState');
      const alertState =
        rawState === undefined ? undefined : Object.hasOwn(ALERT_STATES, rawState) ? ALERT_STATES[rawState] : undefined;
      if (!alertState) throw new PayloadError('alertState: must be ALERT, OK or INSUFFICIENT_DATA');
      const rule = ruleKey(field('ruleId'), field('alertName'));
      const moment = field('timestamp') ?? field('transId');
      if (!moment) throw new PayloadError('timestamp or transId: one is required to tell notifications apart');
      const regionId = field('regionId');
      if (regionId !== undefined && !REGION_PATTERN.test(regionId)) {
        throw new PayloadError('regionId: must be a region ID such as cn-hangzhou');
      }

      const items: EventItem[] = [];
      const notes: string[] = [];
      const dimensions = parseDimensions(field('dimensions'));
      if (dimensions.length === 0) notes.push('the callback has no dimensions, so it names no instance');
      for (const labels of dimensions) {
        const target = targetFromLabels(labels, names);
        if ('note' in target) {
          notes.push(`dimensions: ${target.note}`);
          continue;
        }
        const eventKey = `cloudmonitor:${rule}:${target.instanceId}:${moment}`;
        if (!EVENT_KEY_PATTERN.test(eventKey)) {
          throw new PayloadError('ruleId, timestamp and transId must be printable ASCII of sane length');
        }
        items.push({ instanceId: target.instanceId, regionId: regionId ?? target.regionId, eventKey, alertState });
      }
      const what = [field('metricProject'), field('metricName')].filter(Boolean).join('/');
      const reason = [
        field('alertName'),
        rawState,
        what && `${what}=${field('curValue') ?? '?'}`,
        field('triggerLevel'),
      ]
        .filter(Boolean)
        .join(' ');
      return { items, reason: reason.slice(0, 1000), notes: notes.length ? notes : undefined };
    },
  };
}
