import { randomUUID } from 'node:crypto';
import type { Env } from '../../shared/config.ts';
import type { FcContext, FcHttpResult } from '../../shared/fc/events.ts';
import { SOURCE_NAMES, type SourceName } from '../../shared/sources/registry.ts';
import { ACCOUNT_ID, type Bytes, buf, type Credentials, type SenderKit, type SignOptions } from './sender-kit.ts';

export { ACCOUNT_ID, type Bytes, type Credentials, type SignOptions };

/**
 * Every sender of the contract, through its kit (test/fixtures/<source>/kit.ts: its secrets, a
 * signer written apart from the code under test, its own body format), and a raw FC 3.0
 * HTTP-trigger envelope builder that can carry what `Request`/`Headers` refuse to build (CR/LF in
 * headers, invalid methods, non-UTF-8 bodies).
 */

/** Every sender's kit, found by its name beside its fixtures: test/fixtures/<source>/kit.ts. */
async function loadKits(): Promise<Readonly<Record<SourceName, SenderKit>>> {
  const kits = await Promise.all(
    SOURCE_NAMES.map(async (source) => {
      let kit: SenderKit | undefined;
      try {
        ({ kit } = (await import(`../fixtures/${source}/kit.ts`)) as { kit?: SenderKit });
      } catch (error) {
        throw new Error(`the sender ${source} has no test kit: write test/fixtures/${source}/kit.ts`, { cause: error });
      }
      if (kit?.source !== source) throw new Error(`test/fixtures/${source}/kit.ts exports no kit of ${source}`);
      return [source, kit] as const;
    }),
  );
  return Object.fromEntries(kits) as Record<SourceName, SenderKit>;
}

export const KITS = await loadKits();
const kits = Object.values(KITS);

/** The environment that configures every sender with its kit's secrets, and who may act from chat. */
export function sendersEnv(): Env {
  return {
    FC_ACCOUNT_ID: ACCOUNT_ID,
    // With the account (and a region) known the FC 3.0 hand-off would be on: every sender answers
    // synchronously here, and a test of the hand-off opts in with its own ASYNC_SOURCES and invoker.
    ASYNC_SOURCES: 'none',
    ...Object.assign({}, ...kits.map((kit) => kit.env)),
  };
}

/** Every configured secret as text, and the other forms they take (a whsec_ secret's key). */
export function allConfiguredSecrets(): string[] {
  return [...kits.flatMap((kit) => kit.secrets), ...kits.flatMap((kit) => kit.secretForms ?? [])];
}

export const MEDIA_TYPE = Object.fromEntries(kits.map((kit) => [kit.source, kit.mediaType])) as Record<
  SourceName,
  string
>;

/** Senders whose replies are in the platform's own shape (a 200 even for refusals). */
export const CHAT_SOURCES: readonly SourceName[] = kits.filter((kit) => kit.chat).map((kit) => kit.source);

/**
 * Valid credentials for `body` (unless `wrongSecret`/`ageSeconds` say otherwise). The values are
 * computed by the sender's kit with node:crypto, not with the verifiers under test.
 */
export const sign = (source: SourceName, body: Bytes, options: SignOptions = {}): Credentials =>
  KITS[source].sign(body, options);

/** Values of the credentials that must never be logged or echoed (signatures, tokens, signs). */
export function credentialValues(credentials: Credentials): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(credentials.headers)) {
    if (/signature|^sign$|authorization/.test(name)) {
      out.push(value);
      // The part after the scheme, and the MAC alone.
      const tail = value.replace(/^(Bearer|Basic|v0=|v1,)\s*/i, '');
      if (tail !== value) out.push(tail);
    }
  }
  if (credentials.query.token) out.push(credentials.query.token);
  return out;
}

export interface Delivery {
  body: string;
  contentType: string;
  credentials: Credentials;
}

/** Body naming `instanceId` in the sender's own format (a fresh event key each time). */
export const deliveryBody = (source: SourceName, instanceId: string, options: { alert?: 'firing' | 'resolved' } = {}) =>
  KITS[source].deliveryBody(instanceId, options);

/** A delivery the function must accept: the sender's body naming `instanceId`, validly signed now. */
export function goodDelivery(
  source: SourceName,
  instanceId: string,
  options: { alert?: 'firing' | 'resolved' } & SignOptions = {},
): Delivery {
  const body = deliveryBody(source, instanceId, options);
  return { body, contentType: MEDIA_TYPE[source], credentials: sign(source, body, options) };
}

// ---------------------------------------------------------------------------------------------
// The raw FC 3.0 HTTP-trigger envelope
// ---------------------------------------------------------------------------------------------

export interface RawHttpRequest {
  method?: string;
  /** The envelope's rawPath, verbatim. */
  rawPath: string;
  headers?: Record<string, string | string[]>;
  queryParameters?: Record<string, string | string[]>;
  body?: Bytes;
  /** Send the body base64-encoded (as FC does for binary bodies). */
  base64?: boolean;
  /** The body field verbatim, overriding `body` (e.g. invalid base64). */
  rawBody?: string;
  sourceIp?: string | undefined;
  domainName?: string;
}

/** Exactly the envelope Function Compute 3.0 hands an HTTP-triggered function, as the Buffer it passes. */
export function fcHttpEvent(request: RawHttpRequest, requestId = `1-${randomUUID()}`): Buffer {
  const bytes = buf(request.body ?? '');
  const now = new Date();
  const base64 = request.base64 ?? false;
  return Buffer.from(
    JSON.stringify({
      version: 'v1',
      rawPath: request.rawPath,
      body: request.rawBody ?? (base64 ? bytes.toString('base64') : bytes.toString('utf8')),
      isBase64Encoded: base64,
      headers: request.headers ?? {},
      queryParameters: request.queryParameters ?? {},
      requestContext: {
        accountId: '1234567890123456',
        domainName: request.domainName ?? 'fc.example.test',
        domainPrefix: 'fc',
        http: {
          method: request.method ?? 'POST',
          path: request.rawPath,
          protocol: 'HTTP/1.1',
          sourceIp: request.sourceIp,
          userAgent: 'hostile-input',
        },
        requestId,
        time: `${now.toISOString().slice(0, 19)}Z`,
        timeEpoch: String(now.getTime()),
      },
    }),
  );
}

/** A delivery as the raw request that carries it to `/<function>/<source>`. */
export function deliveryRequest(functionName: string, source: SourceName, delivery: Delivery): RawHttpRequest {
  return {
    rawPath: `/${functionName}/${source}`,
    headers: { 'content-type': delivery.contentType, ...delivery.credentials.headers },
    queryParameters: delivery.credentials.query,
    body: delivery.body,
    sourceIp: delivery.credentials.sourceIp ?? '203.0.113.7',
  };
}

/** A context like FC's, with the role's STS credentials. */
export function stsContext(requestId: string, credentials?: FcContext['credentials']): FcContext {
  return {
    requestId,
    credentials: credentials ?? {},
    function: { name: 'test' },
    region: 'cn-hangzhou',
    accountId: '1234567890123456',
    retryCount: 0,
  };
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  text: string;
}

/** FC's return shape for an HTTP trigger, checked and decoded. */
export function httpAnswer(result: unknown): HttpAnswer {
  const r = result as FcHttpResult;
  if (typeof r !== 'object' || r === null || typeof r.statusCode !== 'number' || typeof r.body !== 'string') {
    throw new Error(`not an FC HTTP result: ${JSON.stringify(result)?.slice(0, 200)}`);
  }
  const text = r.isBase64Encoded ? Buffer.from(r.body, 'base64').toString('utf8') : r.body;
  return { status: r.statusCode, headers: r.headers, text };
}
