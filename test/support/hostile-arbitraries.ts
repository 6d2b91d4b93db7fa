import fc from 'fast-check';
import type { SourceName } from '../../shared/sources/registry.ts';
import {
  ALLOWED,
  type Body,
  hostileId,
  hostileJson,
  hostileString,
  INVALID_UTF8,
  json,
  utf8,
} from './hostile-values.ts';
import type { GarbageCredentials, SenderKit } from './sender-kit.ts';
import { allConfiguredSecrets, deliveryBody, KITS } from './senders.ts';

/**
 * fast-check arbitraries of hostile requests, per sender: bodies (arbitrary bytes, invalid UTF-8,
 * deep nesting, sizes around the limit, prototype keys, IDs that are not IDs, the sender's own
 * format with every field hostile, from its kit), credentials (absent, garbage, stale, wrong
 * secret, valid), and the envelope around them (methods, paths, content types, injected headers,
 * source addresses).
 */

type JsonPath = Array<string | number>;
function leafPaths(value: unknown, path: JsonPath = []): JsonPath[] {
  if (typeof value !== 'object' || value === null) return [path];
  const entries = Object.entries(value);
  if (entries.length === 0) return [path];
  return [path, ...entries.flatMap(([k, v]) => leafPaths(v, [...path, Array.isArray(value) ? Number(k) : k]))];
}
function setAt(root: unknown, path: JsonPath, replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const copy = JSON.parse(JSON.stringify(root)) as Record<string | number, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path[path.length - 1] as string | number] = replacement;
  return copy;
}

/**
 * A valid delivery naming the allowed instance, with at most one field (of any depth) replaced
 * by a hostile value: reaches policy, tokens and the call path under a valid signature.
 */
function nearlyValid(source: SourceName): fc.Arbitrary<Body> {
  const template = deliveryBody(source, ALLOWED);
  if (isForm(KITS[source])) {
    const names = [...new URLSearchParams(template).keys()];
    return fc.tuple(fc.nat(), fc.oneof(hostileString, hostileId), fc.boolean()).map(([pick, value, mutate]) => {
      const fields = new URLSearchParams(template);
      if (mutate) fields.set(names[pick % names.length] as string, value);
      return { bytes: utf8(fields.toString()), kind: mutate ? 'nearly-valid' : 'valid-allowed' };
    });
  }
  const parsed = JSON.parse(template) as unknown;
  const paths = leafPaths(parsed);
  return fc.tuple(fc.nat(), fc.oneof(hostileJson, hostileId), fc.nat(4)).map(([pick, value, mode]) => {
    const mutated = mode === 0 ? parsed : setAt(parsed, paths[pick % paths.length] as JsonPath, value);
    return json(mutated, mode === 0 ? 'valid-allowed' : 'nearly-valid');
  });
}

/** Form senders percent-encode their fields; the others post JSON. */
const isForm = (kit: SenderKit) => kit.mediaType === 'application/x-www-form-urlencoded';

/** The body marked when it carries a credential of its sender's (a Feishu verification token). */
function withBodyCredentials(kit: SenderKit, body: Body): Body {
  if (body.credential !== undefined || !kit.hostile.bodyCredentials) return body;
  const text = Buffer.from(body.bytes).toString('utf8');
  return { ...body, credential: kit.hostile.bodyCredentials.some((credential) => text.includes(credential)) };
}

/** Hostile bodies for one sender, `limit` being MAX_BODY_BYTES. */
export function hostileBody(source: SourceName, limit: number): fc.Arbitrary<Body> {
  const kit = KITS[source];
  const { structured, template, deepForm, bound } = kit.hostile;
  const deep = fc
    .record({
      depth: fc.oneof(fc.integer({ min: 1, max: 300 }), fc.constantFrom(1000, 5000, 8000, 10_000)),
      shape: fc.constantFrom<[string, string]>(['[', ']'], ['{"a":', '}'], ['{"__proto__":', '}'], ['[{"x":', '}]']),
      wrap: fc.nat(2),
    })
    .map(({ depth, shape: [open, close], wrap }) => {
      const inner = `${open.repeat(depth)}1${close.repeat(depth)}`;
      const text = deepForm
        ? deepForm(inner)
        : [inner, `{"instanceIds":${inner}}`, `{"version":"4","status":"firing","alerts":[{"labels":${inner}}]}`][wrap];
      return { bytes: utf8(text ?? inner), kind: `deep-${depth >= 1000 ? depth : 'n'}` };
    });
  const huge = fc
    .record({
      size: fc.constantFrom(limit - 1, limit, limit + 1, limit * 2, limit * 4 + 7),
      char: fc.constantFrom('x', 'é', '€', '😀'),
    })
    .map(({ size, char }) => {
      const overhead = Buffer.byteLength(template(''));
      const width = Buffer.byteLength(char);
      // Form bodies percent-encode every byte of a non-ASCII character.
      const encodedWidth = isForm(kit) && width > 1 ? 3 * width : width;
      const filler = char.repeat(Math.max(0, Math.floor((size - overhead) / encodedWidth)));
      return { bytes: utf8(template(filler)), kind: `huge-${size > limit ? 'over' : 'under'}` };
    });
  const invalidUtf8 = fc
    .tuple(fc.nat(), fc.constantFrom(...INVALID_UTF8), fc.string({ maxLength: 20 }))
    .map(([at, bad, filler]) => {
      const carrier = Buffer.from(template(`${filler}XX`), 'utf8');
      // Inside a string value where possible (where the XX marker is), else anywhere.
      const marker = carrier.indexOf('XX');
      const index = marker >= 0 && at % 2 === 0 ? marker : at % (carrier.length + 1);
      return {
        bytes: new Uint8Array(Buffer.concat([carrier.subarray(0, index), Buffer.from(bad), carrier.subarray(index)])),
        kind: 'invalid-utf8',
      };
    });
  return fc
    .oneof(
      { weight: 8, arbitrary: structured },
      { weight: 4, arbitrary: nearlyValid(source) },
      ...(bound ? [{ weight: 2, arbitrary: bound }] : []),
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 600 }).map((bytes) => ({ bytes, kind: 'bytes' })) },
      {
        weight: 1,
        arbitrary: fc.string({ unit: 'binary', maxLength: 300 }).map((s) => ({ bytes: utf8(s), kind: 'text' })),
      },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => json(v, 'json')) },
      { weight: 2, arbitrary: invalidUtf8 },
      { weight: 1, arbitrary: deep },
      { weight: 1, arbitrary: huge },
    )
    .map((body) => withBodyCredentials(kit, body));
}

// ---------------------------------------------------------------------------------------------
// Credentials, headers and the envelope
// ---------------------------------------------------------------------------------------------

/**
 * `replayed` (DingTalk only): a valid pair that already came with another body. `untimed`: the
 * sender's valid signature with its timestamp left out (Grafana: the HMAC of the body alone, valid
 * forever); every timed scheme must refuse it, Grafana unless GRAFANA_ALLOW_UNTIMED.
 */
export type AuthKind = 'none' | 'garbage' | 'valid' | 'valid-alt' | 'stale' | 'wrong-secret' | 'replayed' | 'untimed';

/** Secrets of every other sender: presented to this one they must not work. */
export function otherSecrets(source: SourceName): string[] {
  const own = KITS[source].secrets;
  return allConfiguredSecrets().filter((s) => !own.includes(s));
}

/** Garbage credentials in the sender's own headers (and, for CloudMonitor, its query token). */
export const garbageCredentials = (source: SourceName): fc.Arbitrary<GarbageCredentials> =>
  KITS[source].hostile.garbage(otherSecrets(source));

const headerName = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'x-custom',
      'Authorization',
      'AUTHORIZATION',
      'Content-Type',
      'content-length',
      'transfer-encoding',
      'host',
      'x-forwarded-for',
      'webhook-signature',
      'x-slack-signature',
      'x-lark-signature',
      'sign',
      'timestamp',
      '__proto__',
      'constructor',
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom('bad name', 'x\r\ny', 'x:y', '', 'é', 'x\u0000') },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
);

const headerValue = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'a\r\nAuthorization: Bearer x',
      '\n',
      '\r',
      '\u0000',
      'é',
      '值班群',
      '\u2028',
      ' padded ',
      '0',
      '-1',
      '99999999999',
      'abc',
    ),
  },
  { weight: 1, arbitrary: fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }) },
);

export const METHODS_OTHER = [
  'post',
  'GET',
  'HEAD',
  'PUT',
  'DELETE',
  'OPTIONS',
  'PATCH',
  'TRACE',
  'CONNECT',
  'PO ST',
  'POST\r\nX: y',
  '',
];

function altPaths(fn: string, source: string): string[] {
  return [
    `/${source}`,
    `/${fn}/${source}/`,
    `/${fn}/${source}/extra`,
    `/${fn}/${source.toUpperCase()}`,
    `/../${fn}/${source}`,
    `/${fn}/%2e%2e/${source}`,
    `//${fn}/${source}`,
    `/${fn}/${source}%00`,
    `/${fn}/${source}?x=1`,
    `/${fn}/${source}#frag`,
    `/${fn}/timer`,
    `/${fn}/command`,
    `/resume-elasticsearch-task/${source}`,
    `${fn}/${source}`,
    `/${fn}/%E0%A4%A`,
    `/${fn}/__proto__`,
    `/${fn}/constructor`,
    `/${fn}/hasOwnProperty`,
    `/${'a'.repeat(5000)}`,
    '',
    '/',
    'http://evil.example/x',
  ];
}

export interface HostileHttp {
  method: string;
  /** null: the sender's own path. */
  path: string | null;
  /** undefined: the sender's media type; null: no content-type at all. */
  contentType: string | null | undefined;
  body: Body;
  encoding: 'utf8' | 'base64' | 'bad-base64';
  auth: AuthKind;
  garbage: { headers: Record<string, string>; query: Record<string, string | string[]> };
  extraHeaders: Record<string, string | string[]>;
  /** Apply the extra headers after the credentials (they may then override them). */
  extraAfter: boolean;
  query: Record<string, string | string[]>;
  sourceIp: string | undefined;
}

/** One hostile HTTP request to `/<fn>/<source>` (mostly), with its credentials decided at send time. */
export function hostileHttp(fn: string, source: SourceName, limit: number): fc.Arbitrary<HostileHttp> {
  return fc.record({
    method: fc.oneof(
      { weight: 14, arbitrary: fc.constant('POST') },
      { weight: 1, arbitrary: fc.constantFrom(...METHODS_OTHER) },
      { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
    ),
    path: fc.oneof(
      { weight: 14, arbitrary: fc.constant(null) },
      { weight: 2, arbitrary: fc.constantFrom(...altPaths(fn, source)) },
      { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
    ),
    contentType: fc.oneof(
      { weight: 12, arbitrary: fc.constant(undefined) },
      {
        weight: 3,
        arbitrary: fc.constantFrom(
          null,
          '',
          'APPLICATION/JSON; charset=UTF-8',
          'application/json;',
          'application/json; charset=latin1',
          'application/x-www-form-urlencoded',
          'Application/X-WWW-Form-Urlencoded; charset=utf-8',
          'text/plain',
          'multipart/form-data; boundary=x',
          'application/json\r\nX-Injected: 1',
          'application/jsonp',
          ';application/json',
          ' application/json ',
        ),
      },
      { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
    ),
    body: hostileBody(source, limit),
    encoding: fc.oneof(
      { weight: 8, arbitrary: fc.constant<'utf8'>('utf8') },
      { weight: 3, arbitrary: fc.constant<'base64'>('base64') },
      { weight: 1, arbitrary: fc.constant<'bad-base64'>('bad-base64') },
    ),
    auth: fc.constantFrom<AuthKind>(
      'none',
      'garbage',
      'garbage',
      'valid',
      'valid',
      'valid',
      'valid-alt',
      'stale',
      'wrong-secret',
      ...(KITS[source].hostile.replayable ? (['replayed'] as const) : []),
      'untimed',
    ),
    garbage: garbageCredentials(source),
    extraHeaders: fc.oneof(
      { weight: 3, arbitrary: fc.constant({}) },
      { weight: 1, arbitrary: fc.dictionary(headerName, headerValue, { maxKeys: 4 }) },
    ),
    extraAfter: fc.boolean(),
    query: fc.oneof(
      { weight: 4, arbitrary: fc.constant({}) },
      {
        weight: 1,
        arbitrary: fc.dictionary(
          fc.oneof(fc.constantFrom('token', '__proto__', 'constructor'), fc.string({ maxLength: 10 })),
          fc.oneof(fc.string(), fc.array(fc.string(), { maxLength: 3 })),
          { maxKeys: 3 },
        ),
      },
    ),
    sourceIp: fc.oneof(
      fc.constant(undefined),
      fc.constantFrom('203.0.113.1', '::ffff:10.1.1.1', 'not-an-ip', '999.1.1.1', '', '10.0.0.1/8', '::'),
      fc.ipV4(),
      fc.ipV6(),
      fc.string({ maxLength: 20 }),
    ),
  });
}
