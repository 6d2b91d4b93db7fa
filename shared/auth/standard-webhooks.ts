import { createHmac } from 'node:crypto';
import { AUTHENTICATED, type AuthResult, outsideWindow, rejected } from './auth-result.ts';
import { safeEqual } from './constant-time.ts';

/** Standard Webhooks (https://www.standardwebhooks.com): tolerance of the timestamp, either way. */
export const STANDARD_WEBHOOKS_TOLERANCE_SECONDS = 300;

export interface StandardWebhookHeaders {
  id: string | null;
  timestamp: string | null;
  signature: string | null;
}

/** Decodes a `whsec_…` secret to its key bytes. Throws on a malformed secret: that is a configuration error. */
export function standardWebhookKey(secret: string): Buffer {
  const encoded = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) {
    throw new TypeError('a Standard Webhooks secret must be whsec_ followed by base64');
  }
  const key = Buffer.from(encoded, 'base64');
  if (key.length < 16) throw new TypeError('a Standard Webhooks secret must hold at least 16 bytes');
  return key;
}

/** `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, the signature a sender puts in `webhook-signature`. */
export function signStandardWebhook(key: Buffer, id: string, timestamp: number, body: Uint8Array | string): string {
  const mac = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64');
  return `v1,${mac}`;
}

/**
 * Checks the raw body against every key (rotation), saying why it fails: a missing or malformed
 * header, a timestamp outside the window, no `v1` signature, or a mismatch. It never parses the body.
 */
export function checkStandardWebhook(
  headers: StandardWebhookHeaders,
  body: Uint8Array,
  keys: readonly Buffer[],
  nowSeconds: number,
): AuthResult {
  const { id, timestamp, signature } = headers;
  if (keys.length === 0) return rejected('no Standard Webhooks secret configured');
  if (!id) return rejected('missing header webhook-id');
  if (!timestamp) return rejected('missing header webhook-timestamp');
  if (!signature) return rejected('missing header webhook-signature');
  // Canonical digits only: the signature covers the number, so `0170…` must not pass as another header.
  if (!/^[1-9]\d{0,11}$/.test(timestamp)) return rejected('malformed header webhook-timestamp (expected Unix seconds)');
  const ts = Number(timestamp);
  const stale = outsideWindow(ts * 1000, nowSeconds * 1000, STANDARD_WEBHOOKS_TOLERANCE_SECONDS * 1000);
  if (stale) return rejected(stale);
  const offered = signature
    .split(' ')
    .filter((entry) => entry.startsWith('v1,'))
    .map((entry) => entry.slice(3));
  if (offered.length === 0) return rejected('no v1 signature in header webhook-signature');
  let matched = false;
  for (const key of keys) {
    const expected = signStandardWebhook(key, id, ts, body).slice(3);
    for (const candidate of offered) {
      if (safeEqual(candidate, expected)) matched = true;
    }
  }
  return matched ? AUTHENTICATED : rejected('signature mismatch');
}

/**
 * Verifies the raw body against every key (rotation). Returns false on any mismatch, a missing
 * header or a timestamp outside the window; it never parses the body.
 */
export function verifyStandardWebhook(
  headers: StandardWebhookHeaders,
  body: Uint8Array,
  keys: readonly Buffer[],
  nowSeconds: number,
): boolean {
  return checkStandardWebhook(headers, body, keys, nowSeconds).ok;
}
