import fc from 'fast-check';

/**
 * The hostile values every sender's arbitraries draw from (see the kits in test/fixtures/<source>/
 * and test/support/hostile-arbitraries.ts): IDs that are not IDs, strings and JSON that break
 * parsers, prototype keys planted anywhere, chat text, and credentials of the wrong shape.
 */

/** The only instance the functions under test may act on; generators name it now and then on purpose. */
export const ALLOWED = 'es-cn-allowed-only';

export const utf8 = (text: string) => new Uint8Array(Buffer.from(text, 'utf8'));
export const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

/** Instance IDs that are not IDs (and near misses of the allowed one). */
export const NOT_IDS: readonly string[] = [
  'es-cn-../../x',
  '../../etc/passwd',
  'es-cn-demo-activating/../../x',
  'es-cn-demo%2Factivating',
  'es-cn-..%2F..%2Fx',
  'es-cn-allowed-only/../../../openapi/instances/es-cn-other',
  'es-cn-allowed-only/actions/resume',
  'es-cn-allowed-only?clientToken=x',
  'es-cn-allowed-only#x',
  'es-cn-allowed-only\u200b',
  'es-cn-allowed-onlY',
  'ES-CN-ALLOWED-ONLY',
  'es-cn-ünïcödé',
  'es-cn-ｆｕｌｌｗｉｄｔｈ',
  'es-cn-🙂🙂🙂',
  'es-cn-a\u0000b',
  'es-cn-a\r\nb',
  'es-cn-a b',
  `es-cn-${'a'.repeat(63)}`,
  `es-cn-${'a'.repeat(5000)}`,
  '',
  ' ',
  'es-',
  'es-cn',
  '__proto__',
  'constructor',
  'prototype',
  'http://evil.example/x',
  '//evil.example/x',
  '*',
  'es-cn-*',
  '\\..\\..\\x',
];

/** Bytes that are never valid UTF-8 (lone continuation, overlong, surrogate, truncated, out of range). */
export const INVALID_UTF8: readonly number[][] = [
  [0xff],
  [0xfe, 0xff],
  [0x80],
  [0xc0, 0xaf],
  [0xe0, 0x80, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xe2, 0x82],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
];

export const hostileId: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...NOT_IDS) },
  { weight: 2, arbitrary: fc.constantFrom('es-cn-demo-activating', 'ls-cn-demo-activating', 'es-cn-n6w1o1x0w001c') },
  { weight: 1, arbitrary: fc.constant(ALLOWED) },
  { weight: 2, arbitrary: fc.stringMatching(/^[a-z]{2}-[a-z0-9][a-z0-9-]{0,70}$/) },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
);

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 60 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      '\u0000',
      '\r\n',
      '__proto__',
      'constructor',
      'prototype',
      'toString',
      'hasOwnProperty',
      'null',
      'undefined',
      'NaN',
      '{}',
      '[]',
      '%00',
      '%zz',
      '\ud800',
      '\udfff',
      '\u202e',
      '#{7*7}{{7*7}}',
      '<script>alert(1)</script>',
      'x'.repeat(3000),
    ),
  },
);

export const hostileJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: hostileString },
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, 0, -1, 1e308, -0, 2 ** 53 + 1, {}, []) },
);

/** Keys and values that try prototype pollution, planted at any object of a payload. */
const PLANTS: ReadonlyArray<readonly [string, unknown]> = [
  ['__proto__', { polluted: 'yes', instanceIds: [ALLOWED], instanceId: ALLOWED }],
  ['constructor', { prototype: { polluted: 'yes' } }],
  ['prototype', { polluted: 'yes' }],
  ['__proto__', 'polluted'],
  ['__proto__', null],
  ['__proto__', [ALLOWED]],
  ['toString', 'polluted'],
  ['hasOwnProperty', 1],
  ['valueOf', {}],
];

/** A copy of `value` with `key` as an own, enumerable property of one of its objects (JSON.stringify keeps it). */
export function plant(value: unknown, key: string, planted: unknown, pick: number): unknown {
  const copy = JSON.parse(JSON.stringify(value ?? null)) as unknown;
  const nodes: object[] = [];
  const walk = (v: unknown) => {
    if (typeof v !== 'object' || v === null) return;
    if (!Array.isArray(v)) nodes.push(v);
    for (const child of Object.values(v)) walk(child);
  };
  walk(copy);
  const node = nodes[pick % Math.max(1, nodes.length)];
  if (!node) return copy;
  Object.defineProperty(node, key, { value: planted, enumerable: true, configurable: true, writable: true });
  return copy;
}

export const withPlants = (structured: fc.Arbitrary<unknown>) =>
  fc
    .tuple(structured, fc.array(fc.tuple(fc.constantFrom(...PLANTS), fc.nat()), { maxLength: 3 }))
    .map(([value, plants]) => plants.reduce((v, [[key, planted], pick]) => plant(v, key, planted, pick), value));

// ---------------------------------------------------------------------------------------------
// Chat text, labels and people
// ---------------------------------------------------------------------------------------------

const chatWord = fc.oneof(
  { weight: 3, arbitrary: hostileId },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'es-cn-demo-activating',
      '(es-cn-demo-active)',
      '`ls-cn-demo-activating`',
      '@_user_1',
      '@_all',
      '，',
      '；',
      '、',
      '<@U123|steve>',
      '&lt;es-cn-demo-x&gt;',
    ),
  },
  { weight: 2, arbitrary: fc.string({ maxLength: 12 }) },
);

export const chatText: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.array(chatWord, { maxLength: 16 }).map((words) => words.join(' ')) },
  { weight: 1, arbitrary: fc.constant(Array.from({ length: 150 }, (_, i) => `es-cn-bulk-${i}`).join(' ')) },
  { weight: 2, arbitrary: hostileString },
);

/** Label sets as alerts and CloudMonitor dimensions carry them: the names we read, prototype keys, anything. */
export const labels = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.dictionary(
      fc.oneof(
        fc.constantFrom(
          'instanceId',
          'instance_id',
          'es_instance_id',
          'regionId',
          'region',
          'alertname',
          '__proto__',
          'constructor',
        ),
        fc.string({ maxLength: 10 }),
      ),
      fc.oneof(hostileId, hostileString, fc.constantFrom('cn-hangzhou', 'cn-zz')),
      { maxKeys: 6 },
    ),
  },
  { weight: 1, arbitrary: hostileJson },
);

/** Mostly the fixtures' allowed person; else someone else, a near miss, or anything. */
export const chatUser = (allowed: string) =>
  fc.oneof(
    { weight: 5, arbitrary: fc.constant(allowed) },
    { weight: 2, arbitrary: fc.constantFrom('U0MALLORY1', `${allowed} `, allowed.toLowerCase(), '*', '') },
    { weight: 1, arbitrary: hostileString },
  );

// ---------------------------------------------------------------------------------------------
// Bodies
// ---------------------------------------------------------------------------------------------

export interface Body {
  bytes: Uint8Array;
  /** What kind of hostility, for the statistics. */
  kind: string;
  /** The body itself carries a credential (a Feishu verification token, or a Feishu push encrypted with a configured key). */
  credential?: boolean;
  /** An encrypted Feishu push: what it decrypts to. */
  plain?: unknown;
}

export function json(value: unknown, kind: string): Body {
  return { bytes: utf8(JSON.stringify(value) ?? 'null'), kind };
}

export function form(fields: Record<string, unknown>, kind: string): Body {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(fields)) params.append(key, String(value));
  return { bytes: utf8(params.toString()), kind };
}

/** Form bodies with broken percent-encoding and the field names parsers read. */
export const rawForm = fc
  .array(
    fc.tuple(
      fc.oneof(
        fc.constantFrom('text', 'trigger_id', 'alertState', 'dimensions', '__proto__', 'constructor', ''),
        fc.string(),
      ),
      fc.oneof(fc.constantFrom('%zz', '%E0%A4%A', '%00', '%', '+', '%2B%2B', '&&', '=='), fc.string()),
    ),
    { maxLength: 8 },
  )
  .map((pairs) => ({ bytes: utf8(pairs.map(([k, v]) => `${k}=${v}`).join('&')), kind: 'raw-form' }));

// ---------------------------------------------------------------------------------------------
// Credentials of the wrong shape
// ---------------------------------------------------------------------------------------------

const nowS = () => Math.floor(Date.now() / 1000);
export const timestampish = fc.oneof(
  fc.integer({ min: -400, max: 400 }).map((d) => String(nowS() + d)),
  fc.integer({ min: -400, max: 400 }).map((d) => String(Date.now() + d * 1000)),
  fc.constantFrom('', '0', '-1', '1e9', '0x10', ' 1700000000', '99999999999999999999', 'NaN', '１２３', '1.5'),
  fc.string({ maxLength: 15 }),
);

/** Authorization headers of every shape, and other senders' secrets in them. */
export function authorizationish(others: readonly string[]) {
  const other = fc.constantFrom(...others);
  return fc.oneof(
    fc.string().map((s) => `Bearer ${s}`),
    fc.constantFrom('Bearer', 'Bearer ', 'bearer', 'Basic', 'Basic !!!', 'Basic Og==', `Basic ${b64(':')}`, 'Digest x'),
    other.map((s) => `Bearer ${s}`),
    other.map((s) => `Basic ${b64(`alertmanager:${s}`)}`),
    fc.string().map((s) => `Basic ${b64(s)}`),
    fc.string(),
  );
}

export const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
export const b64mac = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('base64'));
