import { beforeAll, describe, expect, it } from 'vitest';
import { outsideWindow } from '../shared/auth/auth-result.ts';
import type { Env } from '../shared/config.ts';
import { createFunctionHandler } from '../shared/create-function.ts';
import type { ElasticsearchApi } from '../shared/elasticsearch/client.ts';
import { SOURCE_NAMES, type SourceName, sourceDefinition } from '../shared/sources/registry.ts';
import { CLOUDMONITOR_TOKENS } from './fixtures/cloudmonitor/kit.ts';
import { captureOutput, outputLines } from './support/log-capture.ts';
import {
  allConfiguredSecrets,
  type Bytes,
  credentialValues,
  deliveryBody,
  deliveryRequest,
  fcHttpEvent,
  type HttpAnswer,
  httpAnswer,
  MEDIA_TYPE,
  type RawHttpRequest,
  type SignOptions,
  sendersEnv,
  sign,
  stsContext,
} from './support/senders.ts';

/**
 * Every 401 is logged with the reason it was refused (so clock skew and mis-set secrets can be
 * diagnosed), while the sender gets the same bytes whatever the reason; no reason, and no other
 * line, holds a secret, signature or token.
 */

const FN = 'interrupt-elasticsearch-task';

/** No upstream call may happen for an unauthenticated request: this API records any attempt. */
const upstreamCalls: string[] = [];
const api: ElasticsearchApi = {
  call: async (call) => {
    upstreamCalls.push(call.path);
    throw new Error('no upstream call may be made for an unauthenticated request');
  },
};

const env = (overrides: Env = {}): Env => ({
  ...sendersEnv(),
  ALLOWED_INSTANCES: '*',
  ALIBABA_CLOUD_REGION: 'cn-hangzhou',
  POWERTOOLS_LOG_LEVEL: 'DEBUG',
  ...overrides,
});
const configured = createFunctionHandler(FN, { env: env(), api });
/** The same function with none of one source's secrets set. */
const unconfigured = (source: SourceName) =>
  createFunctionHandler(FN, {
    env: env(Object.fromEntries(sourceDefinition(source).secretVariables.map((name) => [name, undefined]))),
    api,
  });

/** Every credential value the requests below sent. */
const sent = new Set<string>();

/** A delivery of `source` naming a demo instance, signed with `options`, then edited. */
function delivery(
  source: SourceName,
  options: SignOptions = {},
  edit: (request: RawHttpRequest & { headers: Record<string, string> }) => void = () => {},
  body: Bytes = deliveryBody(source, 'es-cn-demo-activating'),
): RawHttpRequest {
  const credentials = sign(source, body, options);
  for (const value of credentialValues(credentials)) sent.add(value);
  const request = deliveryRequest(FN, source, {
    body: typeof body === 'string' ? body : Buffer.from(body).toString('utf8'),
    contentType: MEDIA_TYPE[source],
    credentials,
  }) as RawHttpRequest & { headers: Record<string, string> };
  edit(request);
  return request;
}

/** DingTalk's sign covers only its timestamp: this pair comes first with a greeting (beforeAll). */
const greeting = deliveryBody('dingtalk', 'hello');
const capturedPair = sign('dingtalk', greeting);
for (const value of credentialValues(capturedPair)) sent.add(value);
beforeAll(async () => {
  const answer = httpAnswer(
    await configured(
      fcHttpEvent(
        deliveryRequest(FN, 'dingtalk', {
          body: greeting,
          contentType: MEDIA_TYPE.dingtalk,
          credentials: capturedPair,
        }),
      ),
      stsContext('fc-dingtalk-greeting'),
    ),
  );
  expect(answer.status).toBe(200);
});

/** A DingTalk delivery naming a demo instance, with `changes` made to its body. */
const dingTalkBody = (changes: Record<string, unknown>) =>
  JSON.stringify({ ...JSON.parse(deliveryBody('dingtalk', 'es-cn-demo-activating')), ...changes });

/** A CloudMonitor callback naming a demo instance, its fields edited. */
const cloudMonitorBody = (edit: (fields: URLSearchParams) => void) => {
  const fields = new URLSearchParams(deliveryBody('cloudmonitor', 'es-cn-demo-activating'));
  edit(fields);
  return fields.toString();
};

const NONE = 'none';
type Case = [label: string, reason: RegExp, request: () => RawHttpRequest, handler?: typeof NONE];

/** The reason for a timestamp `age` seconds old (a second more if the clock ticked between signing and receipt). */
const stale = (window: number, age: number, way: 'past' | 'future' = 'past') => {
  const [a, b] = way === 'past' ? [age, age + 1] : [age - 1, age];
  return new RegExp(
    `^timestamp outside the window by (${a - window}|${b - window}) s \\((${a}|${b}) s in the ${way}; the window is ±${window} s\\)$`,
  );
};

const CASES: Record<SourceName, Case[]> = {
  generic: [
    [
      'missing webhook-id',
      /^missing header webhook-id$/,
      () => delivery('generic', {}, (r) => delete r.headers['webhook-id']),
    ],
    ['stale timestamp', stale(300, 400), () => delivery('generic', { ageSeconds: 400 })],
    ['timestamp from the future', stale(300, 400, 'future'), () => delivery('generic', { ageSeconds: -400 })],
    ['wrong secret', /^signature mismatch$/, () => delivery('generic', { wrongSecret: true })],
    [
      'no v1 signature',
      /^no v1 signature in header webhook-signature$/,
      () =>
        delivery('generic', {}, (r) => {
          r.headers['webhook-signature'] = 'v2,c2lnbmF0dXJl';
        }),
    ],
    [
      'wrong bearer token',
      /^bearer token mismatch$/,
      () => delivery('generic', { alternative: true, wrongSecret: true }),
    ],
    [
      'no credentials at all',
      /^missing header Authorization$/,
      () =>
        delivery('generic', {}, (r) => {
          r.headers = { 'content-type': MEDIA_TYPE.generic };
        }),
    ],
  ],
  alertmanager: [
    [
      'missing Authorization',
      /^missing header Authorization$/,
      () => delivery('alertmanager', {}, (r) => delete r.headers.authorization),
    ],
    [
      'another scheme',
      /^Authorization is not "Bearer <token>"$/,
      () =>
        delivery('alertmanager', {}, (r) => {
          r.headers.authorization = 'Token abc';
        }),
    ],
    ['wrong bearer token', /^bearer token mismatch$/, () => delivery('alertmanager', { wrongSecret: true })],
    [
      'wrong basic-auth password',
      /^basic-auth password mismatch$/,
      () => delivery('alertmanager', { alternative: true, wrongSecret: true }),
    ],
  ],
  grafana: [
    ['stale timestamp', stale(300, 400), () => delivery('grafana', { ageSeconds: 400 })],
    ['wrong secret', /^signature mismatch$/, () => delivery('grafana', { wrongSecret: true })],
    [
      'malformed signature',
      /^malformed signature header \(expected 64 hex digits\)$/,
      () =>
        delivery('grafana', {}, (r) => {
          r.headers['x-grafana-alerting-signature'] = 'not-hex';
        }),
    ],
    [
      'wrong bearer token',
      /^bearer token mismatch$/,
      () => delivery('grafana', { alternative: true, wrongSecret: true }),
    ],
    [
      'a signature without its timestamp',
      /^no timestamp header: a signature of the body alone never expires \(set a timestamp header in the contact point, or GRAFANA_ALLOW_UNTIMED=true\)$/,
      () => delivery('grafana', { untimed: true }),
    ],
  ],
  cloudmonitor: [
    [
      'missing token',
      /^missing query parameter token$/,
      () =>
        delivery('cloudmonitor', {}, (r) => {
          r.queryParameters = {};
        }),
    ],
    [
      'token given twice',
      /^query parameter token given 2 times$/,
      () =>
        delivery('cloudmonitor', {}, (r) => {
          r.queryParameters = { token: [CLOUDMONITOR_TOKENS[1], CLOUDMONITOR_TOKENS[1]] };
        }),
    ],
    ['wrong token', /^token mismatch$/, () => delivery('cloudmonitor', { wrongSecret: true })],
    [
      'outside the source ranges',
      /^source address 203\.0\.113\.9 is outside CLOUDMONITOR_SOURCE_CIDRS$/,
      () =>
        delivery('cloudmonitor', {}, (r) => {
          r.sourceIp = '203.0.113.9';
        }),
    ],
    [
      'another account',
      /^userId 5550001112223334 is not the function's account$/,
      () =>
        delivery(
          'cloudmonitor',
          {},
          () => {},
          cloudMonitorBody((f) => f.set('userId', '5550001112223334')),
        ),
    ],
    [
      'no account named',
      /^no single userId in the callback, and the function's account is known$/,
      () =>
        delivery(
          'cloudmonitor',
          {},
          () => {},
          cloudMonitorBody((f) => f.delete('userId')),
        ),
    ],
  ],
  slack: [
    [
      'missing signature',
      /^missing header X-Slack-Signature$/,
      () => delivery('slack', {}, (r) => delete r.headers['x-slack-signature']),
    ],
    ['stale timestamp', stale(300, 400), () => delivery('slack', { ageSeconds: 400 })],
    ['wrong secret', /^signature mismatch$/, () => delivery('slack', { wrongSecret: true })],
  ],
  dingtalk: [
    ['missing sign', /^missing header sign$/, () => delivery('dingtalk', {}, (r) => delete r.headers.sign)],
    // DINGTALK_MAX_AGE_SECONDS: 300 by default.
    ['stale timestamp', stale(300, 400), () => delivery('dingtalk', { ageSeconds: 400 })],
    ['wrong secret', /^sign mismatch$/, () => delivery('dingtalk', { wrongSecret: true })],
    [
      'replayed pair',
      /^this timestamp\/sign pair already came with another body \(a replayed pair\)$/,
      () => delivery('dingtalk', {}, (r) => Object.assign(r.headers, capturedPair.headers)),
    ],
    [
      'another robot',
      /^robotCode is not one of DINGTALK_ROBOT_CODES$/,
      () => delivery('dingtalk', {}, () => {}, dingTalkBody({ robotCode: 'dingOtherRobot' })),
    ],
    [
      'foreign session webhook',
      /^sessionWebhook is not a DingTalk session webhook$/,
      () =>
        delivery(
          'dingtalk',
          {},
          () => {},
          dingTalkBody({ sessionWebhook: 'https://oapi.dingtalk.com/robot/send?access_token=x' }),
        ),
    ],
  ],
  feishu: [
    [
      'missing signature',
      /^missing header X-Lark-Signature$/,
      () => delivery('feishu', {}, (r) => delete r.headers['x-lark-signature']),
    ],
    ['stale timestamp', stale(300, 400), () => delivery('feishu', { ageSeconds: 400 })],
    ['wrong Encrypt Key', /^signature mismatch$/, () => delivery('feishu', { wrongSecret: true })],
    ['not a JSON object', /^the body is not a JSON object$/, () => delivery('feishu', {}, () => {}, '[1,2]')],
  ],
};

interface Refusal {
  label: string;
  answer: HttpAnswer;
  lines: Array<Record<string, unknown>>;
  text: string;
}

async function send(source: SourceName, label: string, request: RawHttpRequest, unset: boolean): Promise<Refusal> {
  const requestId = `fc-${source}-${label.replaceAll(' ', '-')}`;
  const handler = unset ? unconfigured(source) : configured;
  const { value, text } = await captureOutput(async () =>
    httpAnswer(await handler(fcHttpEvent(request), stsContext(requestId))),
  );
  const lines = outputLines(text).map((line) => JSON.parse(line) as Record<string, unknown>);
  return { label, answer: value, lines, text };
}

describe.each(SOURCE_NAMES)('Function: a 401 of %s', (source) => {
  const cases: Case[] = [
    [
      'no secret configured',
      new RegExp(`^no secret configured \\(set ${sourceDefinition(source).secretVariables.join(' or ')}\\)$`),
      () => delivery(source),
      NONE,
    ],
    ...CASES[source],
  ];

  it.each(cases)('logs why: %s', async (label, reason, request, handler) => {
    upstreamCalls.length = 0;
    const refusal = await send(source, label, request(), handler === NONE);
    expect(refusal.answer.status).toBe(401);
    const refused = refusal.lines.filter((line) => line.message === 'refused');
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({
      level: 'WARN',
      code: 'Unauthorized',
      status: 401,
      source,
      requestId: `fc-${source}-${label.replaceAll(' ', '-')}`,
      reason: expect.stringMatching(reason),
    });
    expect(upstreamCalls).toEqual([]);
  });

  it('answers the same bytes whatever the reason, and logs no secret', async () => {
    const refusals: Refusal[] = [];
    for (const [label, , request, handler] of cases)
      refusals.push(await send(source, label, request(), handler === NONE));
    const [first, ...rest] = refusals.map((r) => r.answer);
    expect(first?.status).toBe(401);
    for (const answer of rest) expect(answer).toEqual(first);
    // The answer says nothing of which check failed.
    expect(first?.text).not.toMatch(/mismatch|missing|window|configured|header/);

    const text = refusals.map((r) => r.text).join('\n');
    const secrets = [...allConfiguredSecrets(), ...sent].filter((secret) => secret.length >= 8);
    expect(secrets.length).toBeGreaterThan(10);
    expect(secrets.filter((secret) => text.includes(secret))).toEqual([]);
  });
});

describe('Function: outsideWindow', () => {
  it.each([
    [1_000_000, 1_000_000, 300_000, undefined],
    [1_000_000 - 300_000, 1_000_000, 300_000, undefined],
    [
      1_000_000 - 342_000,
      1_000_000,
      300_000,
      'timestamp outside the window by 42 s (342 s in the past; the window is ±300 s)',
    ],
    [
      1_000_000 + 301_500,
      1_000_000,
      300_000,
      'timestamp outside the window by 2 s (302 s in the future; the window is ±300 s)',
    ],
  ])('sent %d, now %d, ±%d ms: %s', (sent, now, tolerance, expected) => {
    expect(outsideWindow(sent, now, tolerance)).toBe(expected);
  });
});

describe('Function: a 401 of feishu configured with a verification token only', () => {
  it('says the event has no signature to check, and which variables decide', async () => {
    const handler = createFunctionHandler(FN, { env: env({ FEISHU_ENCRYPT_KEYS: undefined }), api });
    upstreamCalls.length = 0;
    const { value, text } = await captureOutput(async () =>
      httpAnswer(await handler(fcHttpEvent(delivery('feishu')), stsContext('fc-feishu-token-only'))),
    );
    expect(value.status).toBe(401);
    const refused = outputLines(text)
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.message === 'refused');
    expect(refused).toEqual([
      expect.objectContaining({
        code: 'Unauthorized',
        reason:
          'an event with no X-Lark-Signature to check: FEISHU_ENCRYPT_KEYS is not set, and FEISHU_ALLOW_TOKEN_ONLY is not true',
      }),
    ]);
    expect(upstreamCalls).toEqual([]);
  });
});
