import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import type { SourceName } from '../../shared/sources/registry.ts';
import {
  ACCOUNT_ID,
  allConfiguredSecrets,
  CHAT_USERS,
  DINGTALK_ROBOT_CODES,
  deliveryBody,
  SECRETS,
} from './senders.ts';

/**
 * fast-check arbitraries of hostile requests, per sender: bodies (arbitrary bytes, invalid UTF-8,
 * deep nesting, sizes around the limit, prototype keys, IDs that are not IDs, the sender's own
 * format with every field hostile), credentials (absent, garbage, stale, wrong secret, valid),
 * and the envelope around them (methods, paths, content types, injected headers, source addresses).
 */

/** The only instance the functions under test may act on; generators name it now and then on purpose. */
export const ALLOWED = 'es-cn-allowed-only';

const utf8 = (text: string) => new Uint8Array(Buffer.from(text, 'utf8'));
const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

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

const withPlants = (structured: fc.Arbitrary<unknown>) =>
  fc
    .tuple(structured, fc.array(fc.tuple(fc.constantFrom(...PLANTS), fc.nat()), { maxLength: 3 }))
    .map(([value, plants]) => plants.reduce((v, [[key, planted], pick]) => plant(v, key, planted, pick), value));

// ---------------------------------------------------------------------------------------------
// Chat text and the senders' own formats, every field hostile
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

const rfc3339 = fc.oneof(
  fc.constant('2026-11-25T02:14:03.51749102Z'),
  fc.constantFrom(
    '0001-01-01T00:00:00Z',
    '2026-13-45T99:99:99Z',
    '2026-11-25T02:14:03.1234567891Z',
    '2026-11-25 02:14:03',
    '',
  ),
  hostileString,
);

const labels = fc.oneof(
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

const alert = fc.record(
  {
    status: fc.oneof(fc.constantFrom('firing', 'resolved'), hostileJson),
    labels,
    annotations: fc.oneof(fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }), hostileJson),
    startsAt: rfc3339,
    endsAt: rfc3339,
    fingerprint: fc.oneof(fc.stringMatching(/^[0-9a-f]{1,64}$/), hostileJson),
    values: fc.oneof(fc.dictionary(fc.string(), fc.oneof(fc.double(), fc.constant(null))), hostileJson),
    valueString: hostileJson,
  },
  { requiredKeys: ['status', 'labels', 'startsAt', 'fingerprint'] },
);

const alertGroup = fc.record(
  {
    version: fc.oneof(fc.constantFrom('4', '1'), hostileJson),
    status: fc.oneof(fc.constantFrom('firing', 'resolved'), hostileJson),
    alerts: fc.oneof(
      { weight: 4, arbitrary: fc.array(alert, { maxLength: 6 }) },
      { weight: 1, arbitrary: hostileJson },
    ),
    commonLabels: labels,
    groupKey: hostileJson,
    truncatedAlerts: fc.oneof(fc.nat(), fc.integer(), fc.double(), hostileJson),
    orgId: fc.oneof(fc.integer(), hostileJson),
    state: fc.oneof(fc.constantFrom('alerting', 'ok'), hostileJson),
  },
  { requiredKeys: ['version', 'status', 'alerts'] },
);

const genericPayload = fc.record(
  {
    instanceIds: fc.oneof(
      { weight: 4, arbitrary: fc.array(hostileId, { maxLength: 8 }) },
      { weight: 1, arbitrary: hostileJson },
    ),
    regionId: fc.oneof(fc.constantFrom('cn-hangzhou', 'cn-zz-top'), hostileJson),
    reason: hostileJson,
    eventId: fc.oneof(fc.constant('evt-1'), hostileJson),
    state: fc.oneof(fc.constantFrom('firing', 'resolved', 'FIRING', '__proto__'), hostileJson),
    instanceID: hostileJson,
  },
  { requiredKeys: [] },
);

const javaMap = fc
  .array(
    fc.tuple(
      fc.oneof(
        fc.constantFrom('clusterId', 'instanceId', 'userId', 'regionId', '__proto__', 'constructor', '', ' ', '='),
        fc.string({ maxLength: 8 }),
      ),
      fc.oneof(hostileId, hostileString),
    ),
    { maxLength: 5 },
  )
  .map((entries) => `{${entries.map(([k, v]) => `${k}=${v}`).join(', ')}}`);

const dimensions = fc.oneof(
  { weight: 3, arbitrary: javaMap },
  {
    weight: 2,
    arbitrary: fc
      .oneof(fc.array(fc.dictionary(fc.string(), hostileJson, { maxKeys: 4 }), { maxLength: 4 }), labels)
      .chain((value) => withPlants(fc.constant(value)))
      .map((value) => JSON.stringify(value)),
  },
  { weight: 1, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 3000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`) },
);

/** Mostly the function's own account; else another account, a near miss, or anything. */
const cloudMonitorUserId = fc.oneof(
  { weight: 8, arbitrary: fc.constant(ACCOUNT_ID) },
  {
    weight: 2,
    arbitrary: fc.constantFrom('5550001112223334', `${ACCOUNT_ID}0`, ACCOUNT_ID.slice(1), '', 'null', ' '),
  },
  { weight: 1, arbitrary: hostileString },
);

const cloudMonitorFields = fc.record(
  {
    userId: cloudMonitorUserId,
    alertState: fc.oneof(
      fc.constantFrom(
        'ALERT',
        'ALARM',
        'OK',
        'INSUFFICIENT_DATA',
        'constructor',
        '__proto__',
        'toString',
        'valueOf',
        'hasOwnProperty',
        'alert',
      ),
      hostileString,
    ),
    ruleId: fc.oneof(fc.constant('rule-1'), hostileString),
    timestamp: fc.oneof(fc.constant('1685646149981'), hostileString),
    transId: fc.oneof(fc.constant('db5f2204-00ae'), hostileString),
    regionId: fc.oneof(fc.constantFrom('cn-hangzhou', 'null', 'cn hangzhou'), hostileString),
    dimensions,
    metricProject: hostileString,
    metricName: hostileString,
    curValue: hostileString,
    alertName: hostileString,
    triggerLevel: hostileString,
  },
  { requiredKeys: ['userId'] },
);

/** Mostly the fixtures' allowed person; else someone else, a near miss, or anything. */
const chatUser = (allowed: string) =>
  fc.oneof(
    { weight: 5, arbitrary: fc.constant(allowed) },
    { weight: 2, arbitrary: fc.constantFrom('U0MALLORY1', `${allowed} `, allowed.toLowerCase(), '*', '') },
    { weight: 1, arbitrary: hostileString },
  );

/**
 * Reply URLs that are not a Slack response_url: another platform's (the Feishu message API, which
 * once got the tenant token), look-alikes, and Slack's own host on another path.
 */
export const FOREIGN_SLACK_REPLY_URLS: readonly string[] = [
  'https://open.feishu.cn/open-apis/im/v1/messages/om_dc13264520392913993dd051dba21dcf/reply',
  'https://open.larksuite.com/open-apis/im/v1/messages/om_x/reply',
  'https://oapi.dingtalk.com/robot/sendBySession?session=x',
  'https://hooks.slack.com/services/T000/B000/XXXX',
  'https://hooks.slack.com.evil.example/commands/1/2',
  'https://user@hooks.slack.com/commands/1/2',
  'https://hooks.slack.com:443/commands/1/2',
  'https://hooks.slack.com/commands/1/2?token=x',
  'https://hooks.slack.com/commands/../api/chat.postMessage',
  'http://hooks.slack.com/commands/1/2',
  'http://evil.example/x',
  'javascript:alert(1)',
  '',
];

const slackFields = fc.record(
  {
    token: hostileString,
    // This function's command, every other function's, and anything.
    command: fc.oneof(
      { weight: 4, arbitrary: fc.constant('/es-interrupt') },
      {
        weight: 2,
        arbitrary: fc.constantFrom(
          '/es-resume',
          '/ls-interrupt',
          '/ls-resume',
          '/es-cancel-migration',
          '/ES-INTERRUPT',
        ),
      },
      { weight: 1, arbitrary: hostileString },
    ),
    user_id: chatUser(CHAT_USERS.slack),
    channel_id: fc.oneof(fc.constant('C2147483705'), hostileString),
    text: chatText,
    trigger_id: fc.oneof(fc.constant('13345224609.738474920.8088930838d'), hostileString),
    user_name: hostileString,
    channel_name: hostileString,
    response_url: fc.oneof(
      {
        weight: 3,
        arbitrary: fc.constantFrom(
          'https://hooks.slack.com/commands/1/2',
          'https://hooks.slack.com/commands/T024BE7LD/1234567890123/AbCdEfGhIjKlMnOpQrStUvWx',
        ),
      },
      { weight: 2, arbitrary: fc.constantFrom(...FOREIGN_SLACK_REPLY_URLS) },
      { weight: 1, arbitrary: hostileString },
    ),
    ssl_check: fc.constantFrom('1', '0', 'true', ''),
  },
  { requiredKeys: [] },
);

const dingTalkMessage = fc.record(
  {
    msgtype: fc.oneof(fc.constantFrom('text', 'richText', 'picture'), hostileJson),
    msgId: fc.oneof(fc.constant('msgDrdYSiucPlyHu23C1mi9Eg=='), hostileJson),
    text: fc.oneof(fc.record({ content: fc.oneof(chatText, hostileJson) }, { requiredKeys: [] }), hostileJson),
    content: fc.oneof(
      fc.record({ richText: fc.array(fc.record({ text: fc.oneof(chatText, hostileJson) }), { maxLength: 4 }) }),
      hostileJson,
    ),
    sessionWebhook: fc.oneof(
      { weight: 3, arbitrary: fc.constant('https://oapi.dingtalk.com/robot/sendBySession?session=x') },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          'https://oapi.dingtalk.com/robot/send?access_token=x',
          'https://oapi.dingtalk.com.evil.example/robot/sendBySession?session=x',
          'https://oapi.dingtalk.com/robot/sendBySession?session=x&session=y',
          'http://oapi.dingtalk.com/robot/sendBySession?session=x',
        ),
      },
      { weight: 1, arbitrary: hostileJson },
    ),
    // Mostly a configured robot (DINGTALK_ROBOT_CODES), so most bodies reach the parser; any other
    // value (or none: undefined leaves the key out) must never act.
    robotCode: fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...DINGTALK_ROBOT_CODES) },
      { weight: 1, arbitrary: fc.constantFrom(undefined, 'dingOtherRobot', DINGTALK_ROBOT_CODES[1].toUpperCase(), '') },
      { weight: 1, arbitrary: hostileJson },
    ),
    sessionWebhookExpiredTime: fc.oneof(fc.integer(), fc.double(), hostileJson),
    senderNick: hostileJson,
    senderStaffId: fc.oneof(
      { weight: 3, arbitrary: chatUser(CHAT_USERS.dingtalk) },
      { weight: 1, arbitrary: hostileJson },
    ),
    conversationId: hostileJson,
    conversationTitle: hostileJson,
  },
  { requiredKeys: ['robotCode'] },
);

const feishuToken = fc.constantFrom(...SECRETS.feishuToken, 'wrong-verification-token', '');

const feishuV2 = fc.record({
  schema: fc.oneof({ weight: 4, arbitrary: fc.constant('2.0') }, { weight: 1, arbitrary: hostileJson }),
  header: fc.record(
    {
      event_id: fc.oneof(fc.constant('1290b470b9fa072e63f8f374da25caca'), hostileJson),
      event_type: fc.oneof(fc.constantFrom('im.message.receive_v1', 'im.chat.member.bot.added_v1'), hostileJson),
      token: feishuToken,
    },
    { requiredKeys: [] },
  ),
  event: fc.oneof(
    fc.record(
      {
        message: fc.record(
          {
            message_type: fc.oneof(fc.constantFrom('text', 'post', 'image'), hostileJson),
            // The only part of a Feishu reply the event chooses: the reply URL is built from it.
            message_id: fc.oneof(
              { weight: 3, arbitrary: fc.constant('om_dc13264520392913993dd051dba21dcf') },
              {
                weight: 1,
                arbitrary: fc.constantFrom(
                  'om_x/../../auth/v3/tenant_access_token/internal',
                  'om_x?receive_id_type=chat_id',
                  'om_x#',
                  'https://evil.example/reply',
                  '',
                ),
              },
              { weight: 1, arbitrary: hostileJson },
            ),
            content: fc.oneof(
              chatText.map((text) => JSON.stringify({ text })),
              chatText.map((text) => JSON.stringify({ title: text, content: [[{ tag: 'text', text }]] })),
              hostileJson,
            ),
            chat_id: hostileJson,
          },
          { requiredKeys: [] },
        ),
        sender: fc.oneof(
          {
            weight: 3,
            arbitrary: fc.record({
              sender_id: fc.record(
                {
                  open_id: chatUser(CHAT_USERS.feishu),
                  user_id: fc.oneof(fc.constant(null), hostileString),
                  union_id: fc.oneof(fc.constant('on_9d281063b0791d2e40548e25ce854886'), hostileJson),
                },
                { requiredKeys: [] },
              ),
            }),
          },
          { weight: 1, arbitrary: hostileJson },
        ),
      },
      { requiredKeys: [] },
    ),
    hostileJson,
  ),
});

const feishuV1 = fc.record({
  uuid: fc.oneof(fc.constant('41b5f371157e3ad5d7ba9f8b6b6a1e08'), hostileJson),
  type: fc.oneof(fc.constant('event_callback'), hostileJson),
  token: feishuToken,
  event: fc.oneof(
    fc.record(
      {
        type: fc.oneof(fc.constant('message'), hostileJson),
        msg_type: fc.oneof(fc.constant('text'), hostileJson),
        text_without_at_bot: fc.oneof(chatText, hostileJson),
        text: hostileJson,
        open_id: fc.oneof({ weight: 3, arbitrary: chatUser(CHAT_USERS.feishu) }, { weight: 1, arbitrary: hostileJson }),
      },
      { requiredKeys: [] },
    ),
    hostileJson,
  ),
});

const feishuChallenge = fc.record({
  challenge: fc.oneof(fc.string(), hostileJson, fc.constant('c'.repeat(2000))),
  token: feishuToken,
  type: fc.constant('url_verification'),
});

/** Independently of the code under test: base64(IV + AES-256-CBC(PKCS#7)), key = SHA-256(Encrypt Key). */
export function larkEncrypted(plaintext: string, key: string): string {
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-cbc', createHash('sha256').update(key).digest(), iv);
  return Buffer.concat([iv, cipher.update(plaintext, 'utf8'), cipher.final()]).toString('base64');
}

const feishuPush = fc.oneof(feishuV2, feishuV1, feishuChallenge);
const feishuBody: fc.Arbitrary<Body> = fc.oneof(
  { weight: 4, arbitrary: withPlants(feishuPush).map((v) => json(v, 'feishu')) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(withPlants(feishuPush), fc.constantFrom(...SECRETS.feishuEncryptKey, 'not-the-encrypt-key'))
      .map(([v, key]) => ({
        bytes: utf8(JSON.stringify({ encrypt: larkEncrypted(JSON.stringify(v), key) })),
        kind: 'feishu-encrypted',
        // Decrypting with a configured key authenticates a challenge when it also has the token.
        credential: key !== 'not-the-encrypt-key',
        plain: v,
      })),
  },
  {
    weight: 1,
    arbitrary: fc
      .oneof(fc.base64String({ maxLength: 200 }), hostileString, fc.constant(b64('x'.repeat(48))))
      .map((encrypt) => json({ encrypt }, 'feishu-encrypt-garbage')),
  },
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

function json(value: unknown, kind: string): Body {
  const text = JSON.stringify(value) ?? 'null';
  return { bytes: utf8(text), kind, credential: SECRETS.feishuToken.some((t) => text.includes(t)) };
}

function form(fields: Record<string, unknown>, kind: string): Body {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(fields)) params.append(key, String(value));
  return { bytes: utf8(params.toString()), kind };
}

const rawForm = fc
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

function structuredFor(source: SourceName): fc.Arbitrary<Body> {
  switch (source) {
    case 'generic':
      return withPlants(genericPayload).map((v) => json(v, 'generic'));
    case 'alertmanager':
    case 'grafana':
      return withPlants(alertGroup).map((v) => json(v, 'alert-group'));
    case 'cloudmonitor':
      return fc.oneof(
        cloudMonitorFields.map((f) => form(f, 'cloudmonitor-form')),
        // Twice as likely: callbacks that get past authentication (the account named) to the parser.
        {
          weight: 2,
          arbitrary: fc
            .tuple(cloudMonitorFields, cloudMonitorUserId)
            .map(([f, userId]) => form({ ...f, userId, alertState: 'ALERT', ruleId: 'r', timestamp: '1' }, 'cm-alert')),
        },
        // Keyed by a hostile alertName: what CloudMonitor documents has no ruleId.
        fc
          .tuple(cloudMonitorFields, cloudMonitorUserId)
          .map(([{ ruleId: _, ...f }, userId]) =>
            form({ ...f, userId, alertState: 'ALERT', timestamp: '1' }, 'cm-no-rule'),
          ),
        rawForm,
      );
    case 'slack':
      return fc.oneof(
        slackFields.map((f) => form(f, 'slack-form')),
        rawForm,
      );
    case 'dingtalk':
      return withPlants(dingTalkMessage).map((v) => json(v, 'dingtalk'));
    case 'feishu':
      return feishuBody;
  }
}

/**
 * A valid delivery naming the allowed instance in which only what binds it varies: the Slack
 * command and person, the DingTalk and Feishu person, the CloudMonitor account. Each gets a fresh
 * event key, so a refusal cannot hide behind a token that already acted.
 */
function boundFields(source: SourceName): fc.Arbitrary<Body> | undefined {
  const fresh = fc.stringMatching(/^[0-9a-f]{16}$/);
  switch (source) {
    case 'cloudmonitor': {
      const template = deliveryBody(source, ALLOWED);
      return fc.tuple(cloudMonitorUserId, fresh).map(([userId, key]) => {
        const fields = new URLSearchParams(template);
        fields.set('userId', userId);
        fields.set('transId', key);
        fields.delete('timestamp');
        return { bytes: utf8(fields.toString()), kind: 'bound-account' };
      });
    }
    case 'slack': {
      const template = deliveryBody(source, ALLOWED);
      return fc
        .tuple(
          slackFields.map((f) => f.command ?? '/es-interrupt'),
          chatUser(CHAT_USERS.slack),
          fresh,
        )
        .map(([command, userId, key]) => {
          const fields = new URLSearchParams(template);
          fields.set('command', String(command));
          fields.set('user_id', userId);
          fields.set('trigger_id', `1.${key}`);
          return { bytes: utf8(fields.toString()), kind: 'bound-person' };
        });
    }
    case 'dingtalk': {
      const template = JSON.parse(deliveryBody(source, ALLOWED)) as Record<string, unknown>;
      return fc
        .tuple(fc.oneof(chatUser(CHAT_USERS.dingtalk), hostileJson), fresh)
        .map(([senderStaffId, key]) => json({ ...template, senderStaffId, msgId: `msg${key}` }, 'bound-person'));
    }
    case 'feishu': {
      const template = JSON.parse(deliveryBody(source, ALLOWED)) as {
        header: Record<string, unknown>;
        event: { sender: { sender_id: Record<string, unknown> } };
      };
      return fc.tuple(chatUser(CHAT_USERS.feishu), fresh).map(([openId, key]) => {
        const event = structuredClone(template);
        event.header.event_id = key;
        event.event.sender.sender_id = { open_id: openId, union_id: 'on_not_listed', user_id: null };
        return json(event, 'bound-person');
      });
    }
    default:
      return undefined;
  }
}

/** A template body in the sender's format, used to carry huge values and invalid bytes. */
function templateFor(source: SourceName, filler: string): string {
  switch (source) {
    case 'generic':
      return JSON.stringify({ instanceIds: ['es-cn-demo-activating'], reason: filler });
    case 'alertmanager':
    case 'grafana':
      return JSON.stringify({
        version: '4',
        status: 'firing',
        alerts: [
          {
            status: 'firing',
            labels: { instanceId: 'es-cn-demo-activating', note: filler },
            startsAt: '2026-11-25T02:14:03Z',
            fingerprint: 'abc',
          },
        ],
      });
    case 'cloudmonitor':
      return new URLSearchParams({
        userId: ACCOUNT_ID,
        alertState: 'ALERT',
        ruleId: 'r',
        timestamp: '1',
        dimensions: '{clusterId=es-cn-demo-activating}',
        alertName: filler,
      }).toString();
    case 'slack':
      return new URLSearchParams({
        command: '/es-interrupt',
        user_id: CHAT_USERS.slack,
        trigger_id: '1.2.3',
        text: `es-cn-demo-activating ${filler}`,
      }).toString();
    case 'dingtalk':
      return JSON.stringify({
        msgtype: 'text',
        msgId: 'm1',
        robotCode: DINGTALK_ROBOT_CODES[1],
        senderStaffId: CHAT_USERS.dingtalk,
        text: { content: `es-cn-demo-activating ${filler}` },
      });
    case 'feishu':
      return JSON.stringify({
        schema: '2.0',
        header: { event_id: 'e1', event_type: 'im.message.receive_v1', token: SECRETS.feishuToken[1] },
        event: {
          message: { message_type: 'text', content: JSON.stringify({ text: `es-cn-demo-activating ${filler}` }) },
          sender: { sender_id: { open_id: CHAT_USERS.feishu } },
        },
      });
  }
}

const FORM_SOURCES: readonly SourceName[] = ['cloudmonitor', 'slack'];

function deepFor(source: SourceName, depth: number, open: string, close: string): string {
  const deep = `${open.repeat(depth)}1${close.repeat(depth)}`;
  const field = source === 'slack' ? 'text' : 'dimensions';
  return `userId=${ACCOUNT_ID}&command=%2Fes-interrupt&user_id=${CHAT_USERS.slack}&alertState=ALERT&ruleId=r&timestamp=1&trigger_id=1.2&${field}=${encodeURIComponent(deep)}`;
}

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
  if (FORM_SOURCES.includes(source)) {
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

/** Hostile bodies for one sender, `limit` being MAX_BODY_BYTES. */
export function hostileBody(source: SourceName, limit: number): fc.Arbitrary<Body> {
  const structured = structuredFor(source);
  const deep = fc
    .record({
      depth: fc.oneof(fc.integer({ min: 1, max: 300 }), fc.constantFrom(1000, 5000, 8000, 10_000)),
      shape: fc.constantFrom<[string, string]>(['[', ']'], ['{"a":', '}'], ['{"__proto__":', '}'], ['[{"x":', '}]']),
      wrap: fc.nat(2),
    })
    .map(({ depth, shape: [open, close], wrap }) => {
      const inner = `${open.repeat(depth)}1${close.repeat(depth)}`;
      const text = FORM_SOURCES.includes(source)
        ? deepFor(source, depth, open, close)
        : [inner, `{"instanceIds":${inner}}`, `{"version":"4","status":"firing","alerts":[{"labels":${inner}}]}`][wrap];
      return { bytes: utf8(text ?? inner), kind: `deep-${depth >= 1000 ? depth : 'n'}` };
    });
  const huge = fc
    .record({
      size: fc.constantFrom(limit - 1, limit, limit + 1, limit * 2, limit * 4 + 7),
      char: fc.constantFrom('x', 'é', '€', '😀'),
    })
    .map(({ size, char }) => {
      const overhead = Buffer.byteLength(templateFor(source, ''));
      const width = Buffer.byteLength(char);
      // Form bodies percent-encode every byte of a non-ASCII character.
      const encodedWidth = FORM_SOURCES.includes(source) && width > 1 ? 3 * width : width;
      const filler = char.repeat(Math.max(0, Math.floor((size - overhead) / encodedWidth)));
      return { bytes: utf8(templateFor(source, filler)), kind: `huge-${size > limit ? 'over' : 'under'}` };
    });
  const invalidUtf8 = fc
    .tuple(fc.nat(), fc.constantFrom(...INVALID_UTF8), fc.string({ maxLength: 20 }))
    .map(([at, bad, filler]) => {
      const template = Buffer.from(templateFor(source, `${filler}XX`), 'utf8');
      // Inside a string value where possible (where the XX marker is), else anywhere.
      const marker = template.indexOf('XX');
      const index = marker >= 0 && at % 2 === 0 ? marker : at % (template.length + 1);
      return {
        bytes: new Uint8Array(Buffer.concat([template.subarray(0, index), Buffer.from(bad), template.subarray(index)])),
        kind: 'invalid-utf8',
      };
    });
  const bound = boundFields(source);
  return fc.oneof(
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
  );
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
  const own: Record<SourceName, readonly string[]> = {
    generic: [...SECRETS.genericWhsec, ...SECRETS.genericBearer],
    alertmanager: SECRETS.alertmanagerToken,
    grafana: [...SECRETS.grafanaHmac, ...SECRETS.grafanaBearer],
    cloudmonitor: SECRETS.cloudmonitorToken,
    slack: SECRETS.slackSecret,
    dingtalk: SECRETS.dingtalkSecret,
    feishu: [...SECRETS.feishuEncryptKey, ...SECRETS.feishuToken],
  };
  return allConfiguredSecrets().filter((s) => !own[source].includes(s));
}

const nowS = () => Math.floor(Date.now() / 1000);
const timestampish = fc.oneof(
  fc.integer({ min: -400, max: 400 }).map((d) => String(nowS() + d)),
  fc.integer({ min: -400, max: 400 }).map((d) => String(Date.now() + d * 1000)),
  fc.constantFrom('', '0', '-1', '1e9', '0x10', ' 1700000000', '99999999999999999999', 'NaN', '１２３', '1.5'),
  fc.string({ maxLength: 15 }),
);

function authorizationish(source: SourceName) {
  const other = fc.constantFrom(...otherSecrets(source));
  return fc.oneof(
    fc.string().map((s) => `Bearer ${s}`),
    fc.constantFrom('Bearer', 'Bearer ', 'bearer', 'Basic', 'Basic !!!', 'Basic Og==', `Basic ${b64(':')}`, 'Digest x'),
    other.map((s) => `Bearer ${s}`),
    other.map((s) => `Basic ${b64(`alertmanager:${s}`)}`),
    fc.string().map((s) => `Basic ${b64(s)}`),
    fc.string(),
  );
}

const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
const b64mac = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('base64'));

/** Garbage credentials in the sender's own headers (and, for CloudMonitor, its query token). */
export function garbageCredentials(
  source: SourceName,
): fc.Arbitrary<{ headers: Record<string, string>; query: Record<string, string | string[]> }> {
  const other = fc.constantFrom(...otherSecrets(source));
  const noQuery = (headers: fc.Arbitrary<Record<string, string>>) => headers.map((h) => ({ headers: h, query: {} }));
  switch (source) {
    case 'generic':
      return noQuery(
        fc.record(
          {
            'webhook-id': fc.oneof(fc.constant('msg_1'), fc.string()),
            'webhook-timestamp': timestampish,
            'webhook-signature': fc.oneof(
              b64mac.map((m) => `v1,${m}`),
              fc.constantFrom('v1,', 'v1', 'v2,abc', ' v1,abc', `v1,${'A'.repeat(44)} v1,${'B'.repeat(44)}`),
              fc.string(),
              fc.nat(300).map((n) => Array.from({ length: n }, () => 'v1,xx').join(' ')),
            ),
            authorization: authorizationish(source),
          },
          { requiredKeys: [] },
        ),
      );
    case 'alertmanager':
      return noQuery(fc.record({ authorization: authorizationish(source) }, { requiredKeys: [] }));
    case 'grafana':
      return noQuery(
        fc.record(
          {
            'x-grafana-alerting-signature': fc.oneof(
              hex64,
              hex64.map((h) => h.toUpperCase()),
              fc.string(),
            ),
            'x-grafana-alert-signature': fc.oneof(hex64, fc.string()),
            'x-grafana-alerting-timestamp': timestampish,
            'x-grafana-alerting-signature-timestamp': timestampish,
            authorization: authorizationish(source),
          },
          { requiredKeys: [] },
        ),
      );
    case 'cloudmonitor':
      return fc
        .oneof<fc.Arbitrary<string | string[]>[]>(
          fc.string(),
          other,
          fc.constant<string[]>([SECRETS.cloudmonitorToken[1], SECRETS.cloudmonitorToken[1]]),
          fc.constant<string[]>([SECRETS.cloudmonitorToken[0], 'x']),
          fc.constant(`${SECRETS.cloudmonitorToken[1]} `),
          fc.constant(SECRETS.cloudmonitorToken[1].toUpperCase()),
          fc.constant(''),
        )
        .map((token) => ({ headers: {}, query: { token } }));
    case 'slack':
      return noQuery(
        fc.record(
          {
            'x-slack-request-timestamp': timestampish,
            'x-slack-signature': fc.oneof(
              hex64.map((h) => `v0=${h}`),
              fc.constantFrom('v0=', 'v1=abc', 'v0'),
              fc.string(),
            ),
          },
          { requiredKeys: [] },
        ),
      );
    case 'dingtalk':
      return noQuery(
        fc.record(
          { timestamp: timestampish, sign: fc.oneof(b64mac, fc.string(), fc.constant(`${'A'.repeat(43)}=`)) },
          { requiredKeys: [] },
        ),
      );
    case 'feishu':
      return noQuery(
        fc.record(
          {
            'x-lark-request-timestamp': timestampish,
            'x-lark-request-nonce': fc.oneof(fc.string(), fc.constant('n'.repeat(200))),
            'x-lark-signature': fc.oneof(hex64, fc.string()),
          },
          { requiredKeys: [] },
        ),
      );
  }
}

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
      ...(source === 'dingtalk' ? (['replayed'] as const) : []),
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
