import { createHmac } from 'node:crypto';
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
 * the raw body, never a re-encoded one, against every configured signing secret (rotation).
 * False on a missing or malformed header, a timestamp outside the window either way, or no secret.
 */
export function verifySlackSignature(
  headers: SlackSignatureHeaders,
  body: Uint8Array,
  secrets: readonly string[],
  nowSeconds: number,
): boolean {
  const { timestamp, signature } = headers;
  if (!timestamp || !signature || secrets.length === 0) return false;
  if (!/^\d{1,12}$/.test(timestamp)) return false;
  if (Math.abs(nowSeconds - Number(timestamp)) > SLACK_TOLERANCE_SECONDS) return false;
  if (!/^v0=[0-9a-f]{64}$/.test(signature)) return false;
  let matched = false;
  for (const secret of secrets) {
    if (safeEqual(signature, slackSignature(secret, timestamp, body))) matched = true;
  }
  return matched;
}
