import { createHmac } from 'node:crypto';
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
 * DingTalk robot callback signature, against every configured app secret (rotation). The sign
 * covers the timestamp only, not the body: it proves the sender knows the secret and bounds
 * replays to the window, and the event key (msgId) makes a replay within it a no-op.
 */
export function verifyDingTalkSign(headers: DingTalkSignHeaders, secrets: readonly string[], nowMs: number): boolean {
  const { timestamp, sign } = headers;
  if (!timestamp || !sign || secrets.length === 0) return false;
  if (!/^\d{1,15}$/.test(timestamp)) return false;
  if (Math.abs(nowMs - Number(timestamp)) > DINGTALK_TOLERANCE_MS) return false;
  if (!/^[A-Za-z0-9+/]{43}=$/.test(sign)) return false;
  let matched = false;
  for (const secret of secrets) {
    if (safeEqual(sign, dingTalkSign(secret, timestamp))) matched = true;
  }
  return matched;
}
