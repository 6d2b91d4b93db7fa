import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Function Compute's 2016-08-15 request signature, as `@alicloud/fc2` computes it
 * (lib/client.js `getSignature`, lib/helper.js `composeStringToSign`/`buildCanonicalHeaders`):
 *
 * ```
 * Authorization: FC <AccessKeyID>:base64(HMAC-SHA256(secret, stringToSign))
 * stringToSign = METHOD \n Content-MD5 \n Content-Type \n Date \n
 *                <for each x-fc-* header, names lowercased and sorted: "name:value\n">
 *                /2016-08-15<path>                       (the path as signed: not percent-encoded)
 *                [\n<"key=value" of every query parameter, sorted, joined by \n>]   (only /proxy/ paths)
 * ```
 *
 * Empty Content-MD5/Content-Type sign as empty lines. fc2's Content-MD5 is
 * `base64(hex(md5(body)))` (base64 of the hex text, not of the digest).
 */

export const FC_API_VERSION = '2016-08-15';

export function fcStringToSign(
  method: string,
  path: string,
  headers: Readonly<Record<string, string | undefined>>,
  queries?: Readonly<Record<string, string | readonly string[]>> | null,
): string {
  const lower: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) lower[name.toLowerCase().trim()] = value;
  }
  const fcHeaders = Object.keys(lower)
    .filter((name) => name.startsWith('x-fc-'))
    .sort()
    .map((name) => `${name}:${lower[name]}\n`)
    .join('');
  let text = `${method}\n${lower['content-md5'] ?? ''}\n${lower['content-type'] ?? ''}\n${lower.date}\n${fcHeaders}${path}`;
  if (queries) {
    const params: string[] = [];
    for (const [key, value] of Object.entries(queries)) {
      if (typeof value === 'string') params.push(`${key}=${value}`);
      else for (const item of value) params.push(`${key}=${item}`);
    }
    params.sort();
    text += `\n${params.join('\n')}`;
  }
  return text;
}

export function fcSignature(accessKeySecret: string, stringToSign: string): string {
  return createHmac('sha256', accessKeySecret).update(stringToSign, 'utf8').digest('base64');
}

/** `FC <AccessKeyID>:<signature>`, else undefined. */
export function parseFcAuthorization(
  value: string | undefined,
): { accessKeyId: string; signature: string } | undefined {
  const match = /^FC ([^:\s]+):(\S+)$/.exec(value?.trim() ?? '');
  if (!match?.[1] || !match[2]) return undefined;
  return { accessKeyId: match[1], signature: match[2] };
}

/** Constant-time comparison of two base64 signatures. */
export function signaturesEqual(expected: string, received: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(received, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Whether a Content-MD5 header matches the body: fc2's form (base64 of the hex digest) and the
 * RFC 1864 form (base64 of the raw digest) are both accepted.
 */
export function contentMd5Matches(header: string, body: Uint8Array): boolean {
  const digest = createHash('md5').update(body).digest();
  const candidates = [Buffer.from(digest.toString('hex'), 'utf8').toString('base64'), digest.toString('base64')];
  return candidates.some((candidate) => signaturesEqual(candidate, header.trim()));
}
