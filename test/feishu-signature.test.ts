import { createDecipheriv, createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { larkDecrypt, larkEncrypt, larkSignature, verifyLarkSignature } from '../shared/auth/feishu-signature.ts';

const KEY = 'lark-encrypt-key';
const BODY = '{"schema":"2.0"}';
/** Computed with sha256sum: printf '1700000000nonce-1lark-encrypt-key{"schema":"2.0"}' | sha256sum */
const SIGNATURE = '6f9bd69504fe152c5fef29ba828fd58a7e1eb6130804e1efe07dfd295a538ff1';
const body = new TextEncoder().encode(BODY);
const at = 1_700_000_000;
const headers = { timestamp: '1700000000', nonce: 'nonce-1', signature: SIGNATURE };

describe('Lark/Feishu event signature', () => {
  it('matches an independent computation', () => {
    expect(larkSignature('1700000000', 'nonce-1', KEY, BODY)).toBe(SIGNATURE);
    expect(verifyLarkSignature(headers, body, [KEY], at)).toBe(true);
  });

  it('accepts any configured key and the edges of the window', () => {
    expect(verifyLarkSignature(headers, body, ['rotated', KEY], at + 300)).toBe(true);
    expect(verifyLarkSignature(headers, body, [KEY], at - 300)).toBe(true);
  });

  it.each<[string, Partial<typeof headers> | Record<string, null>, readonly string[], number, string?]>([
    ['no key configured', {}, [], at],
    ['no timestamp', { timestamp: null }, [KEY], at],
    ['no nonce', { nonce: null }, [KEY], at],
    ['no signature', { signature: null }, [KEY], at],
    ['a wrong key', {}, ['other'], at],
    ['a stale timestamp', {}, [KEY], at + 301],
    ['a future timestamp', {}, [KEY], at - 301],
    ['another nonce', { nonce: 'nonce-2' }, [KEY], at],
    ['an altered body', {}, [KEY], at, '{"schema":"2.0" }'],
    ['an upper-case signature', { signature: SIGNATURE.toUpperCase() }, [KEY], at],
  ])('refuses %s', (_case, override, keys, now, other) => {
    const h = { ...headers, ...override } as {
      timestamp: string | null;
      nonce: string | null;
      signature: string | null;
    };
    expect(verifyLarkSignature(h, new TextEncoder().encode(other ?? BODY), keys, now)).toBe(false);
  });
});

describe('Lark/Feishu event decryption', () => {
  it('decrypts the vector of Feishu’s documentation', () => {
    expect(larkDecrypt('P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk=', 'test key')).toBe('hello world');
  });

  it('round-trips, with the IV in the first 16 bytes and SHA-256 of the key as AES key', () => {
    const encrypt = larkEncrypt('{"type":"url_verification"}', KEY);
    expect(larkDecrypt(encrypt, KEY)).toBe('{"type":"url_verification"}');
    const data = Buffer.from(encrypt, 'base64');
    const decipher = createDecipheriv('aes-256-cbc', createHash('sha256').update(KEY).digest(), data.subarray(0, 16));
    expect(Buffer.concat([decipher.update(data.subarray(16)), decipher.final()]).toString()).toBe(
      '{"type":"url_verification"}',
    );
  });

  it.each([
    ['a wrong key', 'P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk=', 'other key'],
    ['too short', 'AAAA', 'test key'],
    ['not a whole block', Buffer.alloc(40).toString('base64'), 'test key'],
    ['not base64', 'P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk=!', 'test key'],
  ])('returns undefined for %s, never throws', (_case, encrypt, key) => {
    expect(larkDecrypt(encrypt, key)).toBeUndefined();
  });
});
