import { createHmac } from 'node:crypto';
import { safeEqual } from './constant-time.ts';

/**
 * Grafana alerting webhook HMAC (grafana/alerting `http/hmac.go`, Grafana 12+): the signature
 * header holds the lowercase hex HMAC-SHA256 of the raw body, keyed with the raw secret; when the
 * contact point names a timestamp header, Grafana puts Unix seconds in it and signs
 * `${seconds}:${body}` instead.
 *
 * Header names, in the order they are looked for:
 * - signature: `X-Grafana-Alerting-Signature` (the documented default and the UI placeholder),
 *   then `X-Grafana-Alert-Signature` (what grafana/alerting's round tripper falls back to when the
 *   contact point leaves the header empty);
 * - timestamp: Grafana has no default; `X-Grafana-Alerting-Timestamp` (the Terraform provider's
 *   example) and `X-Grafana-Alerting-Signature-Timestamp` (the provisioning docs' example).
 */
export const GRAFANA_SIGNATURE_HEADERS = ['x-grafana-alerting-signature', 'x-grafana-alert-signature'] as const;
export const GRAFANA_TIMESTAMP_HEADERS = [
  'x-grafana-alerting-timestamp',
  'x-grafana-alerting-signature-timestamp',
] as const;

/** Accepted clock difference, either way, when a timestamp is signed. */
export const GRAFANA_HMAC_TOLERANCE_SECONDS = 300;

export interface GrafanaSignatureHeaders {
  signature: string | null;
  /** null when the contact point has no timestamp header: the body alone is signed. */
  timestamp: string | null;
}

/** The first of the known header names that the request carries. */
export function grafanaSignatureHeaders(headers: Headers): GrafanaSignatureHeaders {
  const first = (names: readonly string[]) =>
    names.map((name) => headers.get(name)).find((value): value is string => value !== null) ?? null;
  return { signature: first(GRAFANA_SIGNATURE_HEADERS), timestamp: first(GRAFANA_TIMESTAMP_HEADERS) };
}

/** The signature Grafana sends: hex HMAC-SHA256 of `${timestamp}:${body}`, or of the body alone. */
export function signGrafanaHmac(secret: string, body: Uint8Array | string, timestamp?: number | string): string {
  if (typeof secret !== 'string' || secret.length === 0) {
    throw new TypeError('a Grafana HMAC secret must be a non-empty string');
  }
  const mac = createHmac('sha256', secret);
  if (timestamp !== undefined) mac.update(`${timestamp}:`);
  return mac.update(body).digest('hex');
}

/**
 * Verifies the raw body against every secret (rotation), constant-time, without parsing it.
 * Returns false on a mismatch, a missing or malformed signature, a timestamp that is malformed
 * or more than 300 s off, or when no secret is configured. Throws only on a programmer error
 * (an empty secret in the list).
 */
export function verifyGrafanaHmac(
  headers: GrafanaSignatureHeaders,
  body: Uint8Array,
  secrets: readonly string[],
  nowSeconds: number,
): boolean {
  const { signature, timestamp } = headers;
  if (signature === null || secrets.length === 0) return false;
  const offered = signature.trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(offered)) return false;
  if (timestamp !== null) {
    if (!/^\d{1,12}$/.test(timestamp)) return false;
    if (Math.abs(nowSeconds - Number(timestamp)) > GRAFANA_HMAC_TOLERANCE_SECONDS) return false;
  }
  let matched = false;
  for (const secret of secrets) {
    // The timestamp is signed exactly as it was sent (Grafana formats it without leading zeros).
    const expected = signGrafanaHmac(secret, body, timestamp ?? undefined);
    if (safeEqual(offered, expected)) matched = true;
  }
  return matched;
}
