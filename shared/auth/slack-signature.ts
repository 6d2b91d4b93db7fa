import { createHmac } from 'node:crypto';
import { AUTHENTICATED, type AuthResult, outsideWindow, rejected } from './auth-result.ts';
import { safeEqual } from './constant-time.ts';

/** Slack rejects requests more than five minutes old; we also refuse those from the future. */
export const SLACK_TOLERANCE_SECONDS = 300;

export interface SlackSignatureHeaders {
  /** `X-Slack-Request-Timestamp` (Unix seconds). */
  timestamp: string | null;
  /** `X-Slack-Signature`: `v0=<hex>`. */
  signature: string | null;
}

/** `v0=<hex HMAC-SHA256(secret, "v0:" + timestamp + ":" + rawBody)>`, as Slack computes it. */
export function slackSignature(secret: string, timestamp: string | number, body: Uint8Array | string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:`).update(body).digest('hex')}`;
}

/**
 * Slack v0 request signing (https://api.slack.com/authentication/verifying-requests-from-slack):
 * the raw body, never a re-encoded one, against every configured signing secret (rotation),
 * saying why it fails: a missing or malformed header, a timestamp outside the window either way,
 * no secret, or a mismatch.
 */
export function checkSlackSignature(
  headers: SlackSignatureHeaders,
  body: Uint8Array,
  secrets: readonly string[],
  nowSeconds: number,
): AuthResult {
  const { timestamp, signature } = headers;
  if (secrets.length === 0) return rejected('no signing secret configured');
  if (!timestamp) return rejected('missing header X-Slack-Request-Timestamp');
  if (!signature) return rejected('missing header X-Slack-Signature');
  if (!/^\d{1,12}$/.test(timestamp)) return rejected('malformed header X-Slack-Request-Timestamp');
  const stale = outsideWindow(Number(timestamp) * 1000, nowSeconds * 1000, SLACK_TOLERANCE_SECONDS * 1000);
  if (stale) return rejected(stale);
  if (!/^v0=[0-9a-f]{64}$/.test(signature)) return rejected('malformed header X-Slack-Signature (expected v0=<hex>)');
  let matched = false;
  for (const secret of secrets) {
    if (safeEqual(signature, slackSignature(secret, timestamp, body))) matched = true;
  }
  return matched ? AUTHENTICATED : rejected('signature mismatch');
}

/**
 * Slack v0 request signing: false on a missing or malformed header, a timestamp outside the
 * window either way, no secret, or a mismatch.
 */
export function verifySlackSignature(
  headers: SlackSignatureHeaders,
  body: Uint8Array,
  secrets: readonly string[],
  nowSeconds: number,
): boolean {
  return checkSlackSignature(headers, body, secrets, nowSeconds).ok;
}
