import { createHmac } from 'node:crypto';
import { AUTHENTICATED, type AuthResult, outsideWindow, rejected } from './auth-result.ts';
import { safeEqual } from './constant-time.ts';

/** DingTalk asks robots to refuse a `timestamp` more than one hour off (either way). */
export const DINGTALK_TOLERANCE_MS = 60 * 60 * 1000;

export interface DingTalkSignHeaders {
  /** `timestamp` header: Unix milliseconds. */
  timestamp: string | null;
  /** `sign` header: base64 HMAC-SHA256. */
  sign: string | null;
}

/** `base64(HMAC-SHA256(key = appSecret, msg = timestamp + "\n" + appSecret))`. */
export function dingTalkSign(appSecret: string, timestamp: string | number): string {
  return createHmac('sha256', appSecret).update(`${timestamp}\n${appSecret}`).digest('base64');
}

/**
 * DingTalk robot callback signature, against every configured app secret (rotation), saying why
 * it fails. The sign covers the timestamp only, not the body: it proves the sender knows the
 * secret and bounds replays to the window, and the event key (msgId) makes a replay within it a no-op.
 */
export function checkDingTalkSign(headers: DingTalkSignHeaders, secrets: readonly string[], nowMs: number): AuthResult {
  const { timestamp, sign } = headers;
  if (secrets.length === 0) return rejected('no app secret configured');
  if (!timestamp) return rejected('missing header timestamp');
  if (!sign) return rejected('missing header sign');
  if (!/^\d{1,15}$/.test(timestamp)) return rejected('malformed header timestamp (expected Unix milliseconds)');
  const stale = outsideWindow(Number(timestamp), nowMs, DINGTALK_TOLERANCE_MS);
  if (stale) return rejected(stale);
  if (!/^[A-Za-z0-9+/]{43}=$/.test(sign)) return rejected('malformed header sign (expected base64 HMAC-SHA256)');
  let matched = false;
  for (const secret of secrets) {
    if (safeEqual(sign, dingTalkSign(secret, timestamp))) matched = true;
  }
  return matched ? AUTHENTICATED : rejected('sign mismatch');
}

/** DingTalk robot callback signature: false on any mismatch, missing or malformed header, or stale timestamp. */
export function verifyDingTalkSign(headers: DingTalkSignHeaders, secrets: readonly string[], nowMs: number): boolean {
  return checkDingTalkSign(headers, secrets, nowMs).ok;
}
