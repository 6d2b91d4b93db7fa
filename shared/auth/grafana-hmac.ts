import { createHmac } from 'node:crypto';
import { AUTHENTICATED, type AuthResult, outsideWindow, rejected } from './auth-result.ts';
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

/** Options of a check: GRAFANA_ALLOW_UNTIMED. */
export interface GrafanaHmacOptions {
  /** Accept a signature of the body alone, which never expires (no timestamp header). */
  allowUntimed?: boolean;
}

/**
 * Checks the raw body against every secret (rotation), constant-time, without parsing it, saying
 * why it fails: a missing or malformed signature, a missing timestamp (a signature of the body
 * alone never expires: refused unless `allowUntimed`), a timestamp that is malformed or more than
 * 300 s off, no secret configured, or a mismatch. Throws only on a programmer error (an empty
 * secret in the list).
 */
export function checkGrafanaHmac(
  headers: GrafanaSignatureHeaders,
  body: Uint8Array,
  secrets: readonly string[],
  nowSeconds: number,
  options: GrafanaHmacOptions = {},
): AuthResult {
  const { signature, timestamp } = headers;
  if (secrets.length === 0) return rejected('no HMAC secret configured');
  if (signature === null) return rejected('missing header X-Grafana-Alerting-Signature');
  const offered = signature.trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(offered)) return rejected('malformed signature header (expected 64 hex digits)');
  if (timestamp === null) {
    if (!options.allowUntimed) {
      return rejected(
        'no timestamp header: a signature of the body alone never expires (set a timestamp header in the contact point, or GRAFANA_ALLOW_UNTIMED=true)',
      );
    }
  } else {
    if (!/^\d{1,12}$/.test(timestamp)) return rejected('malformed timestamp header (expected Unix seconds)');
    const stale = outsideWindow(Number(timestamp) * 1000, nowSeconds * 1000, GRAFANA_HMAC_TOLERANCE_SECONDS * 1000);
    if (stale) return rejected(stale);
  }
  let matched = false;
  for (const secret of secrets) {
    // The timestamp is signed exactly as it was sent (Grafana formats it without leading zeros).
    const expected = signGrafanaHmac(secret, body, timestamp ?? undefined);
    if (safeEqual(offered, expected)) matched = true;
  }
  if (matched) return AUTHENTICATED;
  return rejected(timestamp === null ? 'signature mismatch (no timestamp header: body alone)' : 'signature mismatch');
}

/**
 * Verifies the raw body against every secret (rotation), constant-time, without parsing it.
 * Returns false on a mismatch, a missing or malformed signature, a missing timestamp (unless
 * `allowUntimed`), a timestamp that is malformed or more than 300 s off, or when no secret is
 * configured. Throws only on a programmer error (an empty secret in the list).
 */
export function verifyGrafanaHmac(
  headers: GrafanaSignatureHeaders,
  body: Uint8Array,
  secrets: readonly string[],
  nowSeconds: number,
  options: GrafanaHmacOptions = {},
): boolean {
  return checkGrafanaHmac(headers, body, secrets, nowSeconds, options).ok;
}
