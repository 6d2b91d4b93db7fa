import { createHash, createHmac } from 'node:crypto';
import type { Credentials } from '../core/invocation.ts';

/**
 * ACS3-HMAC-SHA256, the V3 request signature of Alibaba Cloud OpenAPI, as the official
 * `@alicloud/openapi-core` computes it (its `getAuthorization`): a lean copy keeps the 2 MB
 * generated SDK off the cold path, and `test/acs3-signer.test.ts` proves both agree.
 */
export const ACS3_ALGORITHM = 'ACS3-HMAC-SHA256';

export interface CanonicalInput {
  method: string;
  /** Path exactly as sent on the wire (already percent-encoded where needed). */
  path: string;
  query: Record<string, string>;
  /** Header names in any case; only `host`, `content-type` and `x-acs-*` are signed. */
  headers: Record<string, string>;
  /** Hex SHA-256 of the body, as sent in `x-acs-content-sha256`. */
  payloadHash: string;
}

export const sha256Hex = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** RFC 3986 encoding as the SDK does it: encodeURIComponent plus !'()* escaped. */
export const percentEncode = (value: string): string =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

export const canonicalQueryString = (query: Record<string, string>): string =>
  Object.keys(query)
    .sort()
    .map((key) => `${key}=${percentEncode(query[key] ?? '')}`)
    .join('&');

const isSignedHeader = (name: string): boolean =>
  name === 'host' || name === 'content-type' || name.startsWith('x-acs-');

export function canonicalHeaders(headers: Record<string, string>): { block: string; signed: string[] } {
  const byName = new Map<string, string[]>();
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (!isSignedHeader(lower)) continue;
    const values = byName.get(lower) ?? [];
    values.push(value.trim());
    byName.set(lower, values);
  }
  const signed = [...byName.keys()].sort();
  const block = signed.map((name) => `${name}:${(byName.get(name) ?? []).sort().join(',')}\n`).join('');
  return { block, signed };
}

export function canonicalRequest(input: CanonicalInput): { text: string; signedHeaders: string[] } {
  // The SDK normalises these three encodings of the path before signing; so must a verifier.
  const uri = input.path.replace(/\+/g, '%20').replace(/\*/g, '%2A').replace(/%7E/g, '~');
  const { block, signed } = canonicalHeaders(input.headers);
  const text = [
    input.method.toUpperCase(),
    uri,
    canonicalQueryString(input.query),
    block,
    signed.join(';'),
    input.payloadHash,
  ].join('\n');
  return { text, signedHeaders: signed };
}

export function acs3Signature(
  input: CanonicalInput,
  accessKeySecret: string,
): { signature: string; signedHeaders: string[] } {
  const { text, signedHeaders } = canonicalRequest(input);
  const stringToSign = `${ACS3_ALGORITHM}\n${sha256Hex(text)}`;
  const signature = createHmac('sha256', accessKeySecret).update(stringToSign).digest('hex');
  return { signature, signedHeaders };
}

/** `x-acs-date` format: ISO 8601 in UTC without milliseconds. */
export const acsDate = (date: Date): string => `${date.toISOString().slice(0, 19)}Z`;

export interface SignRequestInput {
  method: string;
  host: string;
  path: string;
  query: Record<string, string>;
  action: string;
  version: string;
  body?: string;
  contentType?: string;
  credentials: Credentials;
  date: Date;
  nonce: string;
  /** Extra headers (for example `user-agent`, `accept`); `x-acs-*` ones among them are signed. */
  extraHeaders?: Record<string, string>;
}

/** Returns every header the request must carry, `Authorization` included. */
export function signRequest(input: SignRequestInput): Record<string, string> {
  const payloadHash = sha256Hex(input.body ?? '');
  const headers: Record<string, string> = {
    host: input.host,
    'x-acs-version': input.version,
    'x-acs-action': input.action,
    'x-acs-date': acsDate(input.date),
    'x-acs-signature-nonce': input.nonce,
    ...input.extraHeaders,
    'x-acs-content-sha256': payloadHash,
  };
  if (input.contentType) headers['content-type'] = input.contentType;
  const { securityToken } = input.credentials;
  if (securityToken) {
    headers['x-acs-accesskey-id'] = input.credentials.accessKeyId;
    headers['x-acs-security-token'] = securityToken;
  }
  const { signature, signedHeaders } = acs3Signature(
    { method: input.method, path: input.path, query: input.query, headers, payloadHash },
    input.credentials.accessKeySecret,
  );
  headers.authorization = `${ACS3_ALGORITHM} Credential=${input.credentials.accessKeyId},SignedHeaders=${signedHeaders.join(';')},Signature=${signature}`;
  return headers;
}

/** Parses an ACS3 `Authorization` header; `undefined` when it is not one. */
export function parseAuthorization(
  value: string,
): { accessKeyId: string; signedHeaders: string[]; signature: string } | undefined {
  const match = /^ACS3-HMAC-SHA256 Credential=([^,\s]+),SignedHeaders=([^,\s]*),Signature=([0-9a-f]{64})$/.exec(
    value.trim(),
  );
  if (!match) return undefined;
  const [, accessKeyId = '', signed = '', signature = ''] = match;
  return { accessKeyId, signedHeaders: signed.split(';').filter(Boolean), signature };
}
