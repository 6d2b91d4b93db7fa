import { larkDecrypt } from '../../auth/feishu-signature.ts';
import { bodyText, type Json, parseObject } from '../payload.ts';

/**
 * A Feishu push as JSON: decrypted (AES-256-CBC, see auth/feishu-signature.ts) with the first
 * configured Encrypt Key that opens it when it came as `{"encrypt": …}`.
 */

/** The push as the app sees it: decrypted when it came as `{"encrypt": …}`. */
export interface Decoded {
  value: Json;
  /** Decrypted with a configured Encrypt Key (which proves the sender holds it). */
  encrypted: boolean;
}

/** The push, decrypted when it is encrypted; else why it cannot be read (for the log). */
export function decode(body: Uint8Array, encryptKeys: readonly string[]): Decoded | { reason: string } {
  let outer: Json | undefined;
  try {
    outer = parseObject(bodyText(body));
  } catch {
    return { reason: 'the body is not UTF-8' };
  }
  if (!outer) return { reason: 'the body is not a JSON object' };
  if (typeof outer.encrypt !== 'string') return { value: outer, encrypted: false };
  if (encryptKeys.length === 0) return { reason: 'an encrypted body, but FEISHU_ENCRYPT_KEYS is not set' };
  for (const key of encryptKeys) {
    const plain = larkDecrypt(outer.encrypt, key);
    const value = plain === undefined ? undefined : parseObject(plain);
    if (value) return { value, encrypted: true };
  }
  return { reason: 'no configured Encrypt Key decrypts the body' };
}
