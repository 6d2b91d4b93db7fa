import { timingSafeEqual } from 'node:crypto';
import { acs3Signature, parseAuthorization, sha256Hex } from '../shared/elasticsearch/acs3-signer.ts';
import { type ApiReply, apiError } from './control-plane.ts';
import type { EmulatorCredential } from './credentials.ts';

/**
 * Server side of ACS3-HMAC-SHA256: recomputes the signature of a request as received, with the
 * same canonicalisation the signer uses, and refuses with the codes Alibaba's gateway answers.
 */

export interface ReceivedRequest {
  method: string;
  /** Path exactly as received, still percent-encoded. */
  path: string;
  /** Query string as received, without `?`. */
  rawQuery: string;
  /** Lowercase header names. */
  headers: Record<string, string | undefined>;
  body: Uint8Array | string;
}

export type VerifyResult =
  | {
      ok: true;
      accessKeyId: string;
      securityToken: string | undefined;
      /** The decoded query the signature covers: act on this, not on a second parse. */
      query: Record<string, string>;
    }
  | { ok: false; reply: ApiReply };

export interface Acs3VerifierOptions {
  credentials: readonly EmulatorCredential[];
  now?: (() => number) | undefined;
  /** Allowed clock skew either way, and how long a nonce is remembered. Alibaba: 15 minutes. */
  windowMs?: number | undefined;
  /** Bound on remembered nonces; past it the oldest is forgotten early. */
  maxNonces?: number | undefined;
}

/** Headers a signature must cover, or a replay could change them freely. */
export const REQUIRED_SIGNED_HEADERS = ['host', 'x-acs-content-sha256', 'x-acs-date', 'x-acs-signature-nonce'] as const;

const ACS_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

const refuse = (code: string, message: string, status = 400): VerifyResult => ({
  ok: false,
  reply: apiError(code, status, message),
});

const incomplete = (detail: string): VerifyResult =>
  refuse('IncompleteSignature', `The request signature does not conform to Aliyun standards: ${detail}`);

const mismatch = (detail: string): VerifyResult =>
  refuse(
    'SignatureDoesNotMatch',
    `The request signature we calculated does not match the signature you provided. Check your key and signing method. (${detail})`,
  );

/** Decodes `a=1&b=%20x` the RFC 3986 way (`+` stays a plus), as the signer encodes it. */
export function parseRawQuery(rawQuery: string): Record<string, string> | undefined {
  const query: Record<string, string> = {};
  for (const pair of rawQuery.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    try {
      const key = decodeURIComponent(eq === -1 ? pair : pair.slice(0, eq));
      query[key] = eq === -1 ? '' : decodeURIComponent(pair.slice(eq + 1));
    } catch {
      return undefined;
    }
  }
  return query;
}

export class Acs3Verifier {
  private readonly secrets: Map<string, string>;
  private readonly now: () => number;
  private readonly windowMs: number;
  private readonly maxNonces: number;
  /** nonce → when it may be forgotten (its x-acs-date plus the window: later it is refused as expired anyway). */
  private readonly nonces = new Map<string, number>();

  constructor(options: Acs3VerifierOptions) {
    this.secrets = new Map(options.credentials.map((c) => [c.accessKeyId, c.accessKeySecret]));
    this.now = options.now ?? Date.now;
    this.windowMs = options.windowMs ?? 15 * 60_000;
    this.maxNonces = options.maxNonces ?? 100_000;
  }

  verify(request: ReceivedRequest): VerifyResult {
    const header = (name: string): string | undefined => request.headers[name];

    const authorization = header('authorization');
    if (!authorization) return incomplete('the Authorization header is missing.');
    const parsed = parseAuthorization(authorization);
    if (!parsed)
      return incomplete('the Authorization header is not ACS3-HMAC-SHA256 Credential=…,SignedHeaders=…,Signature=….');

    const date = header('x-acs-date');
    if (!date) {
      return refuse(
        'MissingParameter',
        'The input parameter "x-acs-date" that is mandatory for processing this request is not supplied.',
      );
    }
    const signedAt = ACS_DATE.test(date) ? Date.parse(date) : Number.NaN;
    if (Number.isNaN(signedAt)) {
      return refuse('InvalidTimeStamp.Format', 'Specified time stamp or date value is not well formatted.');
    }

    const signed = new Set(parsed.signedHeaders);
    for (const name of REQUIRED_SIGNED_HEADERS) {
      if (!signed.has(name)) return incomplete(`SignedHeaders must include ${name}.`);
    }
    if (header('x-acs-security-token') !== undefined && !signed.has('x-acs-security-token')) {
      return incomplete('SignedHeaders must include x-acs-security-token when it is sent.');
    }
    const signedValues: Record<string, string> = {};
    for (const name of signed) {
      // The shared canonicalisation signs exactly these; anything else could not be recomputed.
      if (name !== 'host' && name !== 'content-type' && !name.startsWith('x-acs-')) {
        return incomplete(`SignedHeaders may list only host, content-type and x-acs-* headers, not ${name}.`);
      }
      const value = header(name);
      if (value === undefined) return incomplete(`the signed header ${name} is missing.`);
      signedValues[name] = value;
    }

    const secret = this.secrets.get(parsed.accessKeyId);
    if (secret === undefined) return refuse('InvalidAccessKeyId.NotFound', 'Specified access key is not found.', 404);

    const payloadHash = sha256Hex(request.body);
    if (header('x-acs-content-sha256') !== payloadHash) return mismatch('x-acs-content-sha256 is not the body hash');

    const query = parseRawQuery(request.rawQuery);
    if (!query) return mismatch('the query string is not valid percent-encoding');

    const { signature } = acs3Signature(
      { method: request.method, path: request.path, query, headers: signedValues, payloadHash },
      secret,
    );
    // Constant-time: both are 64 hex characters (parseAuthorization insists), so lengths match.
    const expected = Buffer.from(signature, 'utf8');
    const given = Buffer.from(parsed.signature, 'utf8');
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return mismatch('signature');

    const now = this.now();
    if (Math.abs(now - signedAt) > this.windowMs) {
      return refuse('InvalidTimeStamp.Expired', 'Specified time stamp or date value is expired.');
    }

    // Only a valid, fresh request spends its nonce, so garbage cannot burn someone else's.
    const nonce = header('x-acs-signature-nonce') ?? '';
    this.forgetExpiredNonces(now);
    const until = this.nonces.get(nonce);
    if (until !== undefined && until >= now) {
      return refuse('SignatureNonceUsed', 'Specified signature nonce was used already.');
    }
    this.rememberNonce(nonce, signedAt + this.windowMs);

    return { ok: true, accessKeyId: parsed.accessKeyId, securityToken: header('x-acs-security-token'), query };
  }

  /** Forget every nonce (for example on an emulator reset). */
  clearNonces(): void {
    this.nonces.clear();
  }

  private lastSweep = Number.NEGATIVE_INFINITY;

  /** A full sweep at most once a second keeps the per-request cost flat. */
  private forgetExpiredNonces(now: number): void {
    if (now - this.lastSweep < 1000 && this.nonces.size < this.maxNonces) return;
    this.lastSweep = now;
    for (const [nonce, until] of this.nonces) if (until < now) this.nonces.delete(nonce);
  }

  private rememberNonce(nonce: string, until: number): void {
    this.nonces.delete(nonce);
    this.nonces.set(nonce, until);
    while (this.nonces.size > this.maxNonces) {
      const oldest = this.nonces.keys().next().value;
      if (oldest === undefined) break;
      this.nonces.delete(oldest);
    }
  }
}
