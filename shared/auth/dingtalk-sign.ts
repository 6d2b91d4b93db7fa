import { createHmac } from 'node:crypto';
import { AUTHENTICATED, type AuthResult, outsideWindow, rejected } from './auth-result.ts';
import { safeEqual } from './constant-time.ts';

/** DingTalk's own rule: refuse a `timestamp` more than one hour off (either way). Ours is stricter. */
export const DINGTALK_PLATFORM_MAX_AGE_MS = 60 * 60 * 1000;

/**
 * What we accept by default: DingTalk posts a callback as the message arrives, so five minutes is
 * room for clock skew, while a captured pair stops working long before DingTalk's hour.
 */
export const DINGTALK_DEFAULT_MAX_AGE_MS = 5 * 60 * 1000;

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
 * DingTalk robot callback signature, against every configured app secret (rotation), with a
 * timestamp at most `maxAgeMs` off (either way), saying why it fails. The sign covers the
 * timestamp only, not the body: it proves the sender knew the secret within the window, nothing
 * about the body. The source binds the rest (one body per pair, robotCode, session webhook shape).
 */
export function checkDingTalkSign(
  headers: DingTalkSignHeaders,
  secrets: readonly string[],
  nowMs: number,
  maxAgeMs: number = DINGTALK_DEFAULT_MAX_AGE_MS,
): AuthResult {
  if (!Number.isInteger(maxAgeMs) || maxAgeMs < 1 || maxAgeMs > DINGTALK_PLATFORM_MAX_AGE_MS) {
    throw new TypeError(`maxAgeMs must be a whole number from 1 to ${DINGTALK_PLATFORM_MAX_AGE_MS}`);
  }
  const { timestamp, sign } = headers;
  if (secrets.length === 0) return rejected('no app secret configured');
  if (!timestamp) return rejected('missing header timestamp');
  if (!sign) return rejected('missing header sign');
  if (!/^\d{1,15}$/.test(timestamp)) return rejected('malformed header timestamp (expected Unix milliseconds)');
  const stale = outsideWindow(Number(timestamp), nowMs, maxAgeMs);
  if (stale) return rejected(stale);
  if (!/^[A-Za-z0-9+/]{43}=$/.test(sign)) return rejected('malformed header sign (expected base64 HMAC-SHA256)');
  let matched = false;
  for (const secret of secrets) {
    if (safeEqual(sign, dingTalkSign(secret, timestamp))) matched = true;
  }
  return matched ? AUTHENTICATED : rejected('sign mismatch');
}

/** DingTalk robot callback signature: false on any mismatch, missing or malformed header, or stale timestamp. */
export function verifyDingTalkSign(
  headers: DingTalkSignHeaders,
  secrets: readonly string[],
  nowMs: number,
  maxAgeMs: number = DINGTALK_DEFAULT_MAX_AGE_MS,
): boolean {
  return checkDingTalkSign(headers, secrets, nowMs, maxAgeMs).ok;
}
