import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { AUTHENTICATED, type AuthResult, outsideWindow, rejected } from './auth-result.ts';
import { safeEqual } from './constant-time.ts';

/** Replay window on `X-Lark-Request-Timestamp` (Unix seconds), either way. */
export const LARK_TOLERANCE_SECONDS = 300;

export interface LarkSignatureHeaders {
  /** `X-Lark-Request-Timestamp` (Unix seconds). */
  timestamp: string | null;
  /** `X-Lark-Request-Nonce`. */
  nonce: string | null;
  /** `X-Lark-Signature`: lowercase hex. */
  signature: string | null;
}

/** `hex(SHA-256(timestamp + nonce + encryptKey + rawBody))`, the Lark/Feishu event signature. */
export function larkSignature(timestamp: string, nonce: string, encryptKey: string, body: Uint8Array | string): string {
  return createHash('sha256').update(`${timestamp}${nonce}${encryptKey}`).update(body).digest('hex');
}

/**
 * Checks a Lark/Feishu event push signed with the app's Encrypt Key, against every configured key
 * (rotation), saying why it fails. The signature covers the raw body.
 */
export function checkLarkSignature(
  headers: LarkSignatureHeaders,
  body: Uint8Array,
  encryptKeys: readonly string[],
  nowSeconds: number,
): AuthResult {
  const { timestamp, nonce, signature } = headers;
  if (encryptKeys.length === 0) return rejected('no Encrypt Key configured');
  if (!timestamp) return rejected('missing header X-Lark-Request-Timestamp');
  if (!nonce) return rejected('missing header X-Lark-Request-Nonce');
  if (!signature) return rejected('missing header X-Lark-Signature');
  if (!/^\d{1,12}$/.test(timestamp)) return rejected('malformed header X-Lark-Request-Timestamp');
  if (nonce.length > 128) return rejected('malformed header X-Lark-Request-Nonce (longer than 128)');
  const stale = outsideWindow(Number(timestamp) * 1000, nowSeconds * 1000, LARK_TOLERANCE_SECONDS * 1000);
  if (stale) return rejected(stale);
  if (!/^[0-9a-f]{64}$/.test(signature)) return rejected('malformed header X-Lark-Signature (expected 64 hex digits)');
  let matched = false;
  for (const key of encryptKeys) {
    if (safeEqual(signature, larkSignature(timestamp, nonce, key, body))) matched = true;
  }
  return matched ? AUTHENTICATED : rejected('signature mismatch');
}

/**
 * Verifies a Lark/Feishu event push signed with the app's Encrypt Key, against every configured
 * key (rotation). The signature covers the raw body; false on a missing header, a timestamp
 * outside the window either way, or no key.
 */
export function verifyLarkSignature(
  headers: LarkSignatureHeaders,
  body: Uint8Array,
  encryptKeys: readonly string[],
  nowSeconds: number,
): boolean {
  return checkLarkSignature(headers, body, encryptKeys, nowSeconds).ok;
}

const aesKey = (encryptKey: string): Buffer => createHash('sha256').update(encryptKey).digest();
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decrypts the `encrypt` field of a Lark/Feishu push: base64(IV(16 bytes) + AES-256-CBC(PKCS#7)),
 * key = SHA-256(Encrypt Key). Undefined when the data is malformed or the key is not the one
 * it was encrypted with (bad padding or not UTF-8); never throws.
 */
export function larkDecrypt(encrypt: string, encryptKey: string): string | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encrypt)) return undefined;
  const data = Buffer.from(encrypt, 'base64');
  if (data.length < 32 || data.length % 16 !== 0) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-cbc', aesKey(encryptKey), data.subarray(0, 16));
    return utf8.decode(Buffer.concat([decipher.update(data.subarray(16)), decipher.final()]));
  } catch {
    return undefined;
  }
}

/** The sender's side of {@link larkDecrypt} (tests, local tooling): a fresh random IV each time. */
export function larkEncrypt(plaintext: string, encryptKey: string, iv: Buffer = randomBytes(16)): string {
  const cipher = createCipheriv('aes-256-cbc', aesKey(encryptKey), iv);
  return Buffer.concat([iv, cipher.update(plaintext, 'utf8'), cipher.final()]).toString('base64');
}
