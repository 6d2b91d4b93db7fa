import { createHash, createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Env } from '../../shared/config.ts';
import type { FcContext, FcHttpResult } from '../../shared/fc/events.ts';
import type { SourceName } from '../../shared/sources/registry.ts';

/**
 * Every sender of the contract, signed the way the sender signs (independently of the code under
 * test, as in test/source-*.test.ts), and a raw FC 3.0 HTTP-trigger envelope builder that can carry
 * what `Request`/`Headers` refuse to build (CR/LF in headers, invalid methods, non-UTF-8 bodies).
 */

const whsec = (raw: string) => `whsec_${Buffer.from(raw).toString('base64')}`;

/** Two secrets per list (the second one is the one senders sign with): rotation is exercised too. */
export const SECRETS = {
  genericWhsec: [whsec('hostile-rotated-whsec-key-4e1f0a9c'), whsec('hostile-generic-whsec-key-7b2d93e5')],
  genericBearer: ['gen-rotated-bearer-0f3e9a1c7d', 'gen-bearer-token-5c8e2b7a41'],
  alertmanagerToken: ['am-rotated-token-91c4e7f2ab', 'am-bearer-token-3d6a0b8e5f'],
  grafanaHmac: ['grafana-rotated-hmac-6e2f9c1b7a', 'grafana-hmac-secret-8a1d4f7c2e'],
  grafanaBearer: ['grafana-rotated-bearer-2b7e5d9f', 'grafana-bearer-token-c4a81e6f03'],
  cloudmonitorToken: ['cm-rotated-token-5a9e2c7d1f', 'cm-callback-token-e8b3f6a2d4'],
  slackSecret: ['slackrotated7c2e9a4f1b6d3e8a0c5f', 'slacksigning1d8f3b6e9a2c5f7e0b4d'],
  dingtalkSecret: ['dt-rotated-secret-Vb4nTz6yHc1dFg8jA3eU0oQi5', 'dt-app-secret-Xr7Kq2mLpW9sVb4nTz6yHc1dFg8'],
  feishuEncryptKey: ['ek-rotated-Q8w2E5r7T1y4U6i9O3p0A', 'ek-Lp3Xw9Rt6Yq2Zs8Vn4Mb7Kc1Hd5Gf0J'],
  feishuToken: ['vtRotated0aB3cD6eF9gH2iJ5kL8mN1o', 'vt7Qm2cXz9kLpR4sTuW8yB1dF3hJ6nV0'],
} as const;

/** The signing secret of a list (the last one). */
const current = (list: readonly string[]): string => list[list.length - 1] as string;

/** DingTalk robots the callbacks may name (the second is the fixtures' robot). */
export const DINGTALK_ROBOT_CODES = ['dingRotatedRobot0001', 'dingrm6i0xivnymx4jyr'] as const;

/** CloudMonitor callbacks must come from here (CLOUDMONITOR_SOURCE_CIDRS). */
export const CLOUDMONITOR_CIDR = '10.0.0.0/8';
export const CLOUDMONITOR_IP = '10.20.30.40';

/** The people the chat fixtures name (Slack user_id, DingTalk senderStaffId, Feishu open_id), allowed to act. */
export const CHAT_USERS = {
  slack: 'U2147483697',
  dingtalk: 'manager8502',
  feishu: 'ou_ec81f38d6e7fdce6132f4605f7a37319',
} as const;

/** The account of the CloudMonitor fixtures (`userId`), as FC gives the function its own (FC_ACCOUNT_ID). */
export const ACCOUNT_ID = '1273560756088235';

/** The environment that configures every sender with the secrets above, and who may act from chat. */
export function sendersEnv(): Env {
  return {
    SLACK_ALLOWED_USERS: CHAT_USERS.slack,
    DINGTALK_ALLOWED_USERS: CHAT_USERS.dingtalk,
    FEISHU_ALLOWED_USERS: CHAT_USERS.feishu,
    FC_ACCOUNT_ID: ACCOUNT_ID,
    // With the account (and a region) known the FC 3.0 hand-off would be on: every sender answers
    // synchronously here, and a test of the hand-off opts in with its own ASYNC_SOURCES and invoker.
    ASYNC_SOURCES: 'none',
    GENERIC_WEBHOOK_SECRETS: SECRETS.genericWhsec.join(','),
    GENERIC_BEARER_TOKENS: SECRETS.genericBearer.join(','),
    ALERTMANAGER_BEARER_TOKENS: SECRETS.alertmanagerToken.join(','),
    GRAFANA_HMAC_SECRETS: SECRETS.grafanaHmac.join(','),
    GRAFANA_BEARER_TOKENS: SECRETS.grafanaBearer.join(','),
    CLOUDMONITOR_TOKENS: SECRETS.cloudmonitorToken.join(','),
    CLOUDMONITOR_SOURCE_CIDRS: CLOUDMONITOR_CIDR,
    SLACK_SIGNING_SECRETS: SECRETS.slackSecret.join(','),
    DINGTALK_APP_SECRETS: SECRETS.dingtalkSecret.join(','),
    DINGTALK_ROBOT_CODES: DINGTALK_ROBOT_CODES.join(','),
    FEISHU_ENCRYPT_KEYS: SECRETS.feishuEncryptKey.join(','),
    FEISHU_VERIFICATION_TOKENS: SECRETS.feishuToken.join(','),
  };
}

/** Every configured secret as text, and for `whsec_` secrets their base64 key alone as well. */
export function allConfiguredSecrets(): string[] {
  const values = Object.values(SECRETS).flat();
  return [...values, ...SECRETS.genericWhsec.map((s) => s.slice('whsec_'.length))];
}

export const MEDIA_TYPE: Record<SourceName, string> = {
  generic: 'application/json',
  alertmanager: 'application/json',
  grafana: 'application/json',
  cloudmonitor: 'application/x-www-form-urlencoded',
  slack: 'application/x-www-form-urlencoded',
  dingtalk: 'application/json',
  feishu: 'application/json',
};

/** Senders whose replies are in the platform's own shape (a 200 even for refusals). */
export const CHAT_SOURCES: readonly SourceName[] = ['slack', 'dingtalk', 'feishu'];

// ---------------------------------------------------------------------------------------------
// Signing, per scheme
// ---------------------------------------------------------------------------------------------

export type Bytes = Uint8Array | string;
const buf = (body: Bytes) => (typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body));
const nowSeconds = () => Math.floor(Date.now() / 1000);
let lastMillis = 0;
const freshMillis = () => {
  lastMillis = Math.max(Date.now(), lastMillis + 1);
  return lastMillis;
};

/** What authenticates a request besides its body: headers, and for CloudMonitor the query and source address. */
export interface Credentials {
  headers: Record<string, string>;
  query: Record<string, string>;
  sourceIp?: string;
}

export interface SignOptions {
  /** Sign as of this many seconds ago (301 and more is outside every window). */
  ageSeconds?: number;
  /** Sign with a secret that is not configured. */
  wrongSecret?: boolean;
  /** The alternative scheme where there is one: bearer for generic/grafana, basic for alertmanager, token for feishu. */
  alternative?: boolean;
  /** Grafana: a contact point without a timestamp header, which signs the body alone. */
  untimed?: boolean;
}

const WRONG = 'not-a-configured-secret-0000';

/**
 * Valid credentials for `body` (unless `wrongSecret`/`ageSeconds` say otherwise). The values are
 * computed here with node:crypto, not with the verifiers under test.
 */
export function sign(source: SourceName, body: Bytes, options: SignOptions = {}): Credentials {
  const bytes = buf(body);
  const ts = nowSeconds() - (options.ageSeconds ?? 0);
  const secret = (list: readonly string[]) => (options.wrongSecret ? WRONG : current(list));
  switch (source) {
    case 'generic': {
      if (options.alternative) {
        return { headers: { authorization: `Bearer ${secret(SECRETS.genericBearer)}` }, query: {} };
      }
      const id = `msg_${randomUUID()}`;
      const encoded = options.wrongSecret
        ? Buffer.from('w'.repeat(32)).toString('base64')
        : current(SECRETS.genericWhsec).slice('whsec_'.length);
      const mac = createHmac('sha256', Buffer.from(encoded, 'base64'))
        .update(`${id}.${ts}.`)
        .update(bytes)
        .digest('base64');
      return {
        headers: { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': `v1,${mac}` },
        query: {},
      };
    }
    case 'alertmanager': {
      const token = secret(SECRETS.alertmanagerToken);
      const authorization = options.alternative
        ? `Basic ${Buffer.from(`alertmanager:${token}`).toString('base64')}`
        : `Bearer ${token}`;
      return { headers: { authorization }, query: {} };
    }
    case 'grafana': {
      if (options.alternative) {
        return { headers: { authorization: `Bearer ${secret(SECRETS.grafanaBearer)}` }, query: {} };
      }
      if (options.untimed) {
        const bodyOnly = createHmac('sha256', secret(SECRETS.grafanaHmac)).update(bytes).digest('hex');
        return { headers: { 'x-grafana-alerting-signature': bodyOnly }, query: {} };
      }
      const mac = createHmac('sha256', secret(SECRETS.grafanaHmac)).update(`${ts}:`).update(bytes).digest('hex');
      return {
        headers: { 'x-grafana-alerting-signature': mac, 'x-grafana-alerting-timestamp': String(ts) },
        query: {},
      };
    }
    case 'cloudmonitor':
      return { headers: {}, query: { token: secret(SECRETS.cloudmonitorToken) }, sourceIp: CLOUDMONITOR_IP };
    case 'slack': {
      const mac = createHmac('sha256', secret(SECRETS.slackSecret)).update(`v0:${ts}:`).update(bytes).digest('hex');
      return { headers: { 'x-slack-request-timestamp': String(ts), 'x-slack-signature': `v0=${mac}` }, query: {} };
    }
    case 'dingtalk': {
      // Distinct callbacks carry distinct timestamps: two signed in one millisecond would share a
      // pair, and a pair is accepted with one body only.
      const ms = options.ageSeconds ? Date.now() - options.ageSeconds * 1000 : freshMillis();
      const key = secret(SECRETS.dingtalkSecret);
      const mac = createHmac('sha256', key).update(`${ms}\n${key}`).digest('base64');
      return { headers: { timestamp: String(ms), sign: mac }, query: {} };
    }
    case 'feishu': {
      // Token mode puts the token in the body (see feishuBody); the signature covers the raw bytes.
      const nonce = String(Math.floor(Math.random() * 1e9));
      const mac = createHash('sha256')
        .update(`${ts}${nonce}${secret(SECRETS.feishuEncryptKey)}`)
        .update(bytes)
        .digest('hex');
      return {
        headers: {
          'x-lark-request-timestamp': String(ts),
          'x-lark-request-nonce': nonce,
          'x-lark-signature': mac,
        },
        query: {},
      };
    }
  }
}

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

// ---------------------------------------------------------------------------------------------
// Known-good deliveries, per sender
// ---------------------------------------------------------------------------------------------

function fixtureJson<T>(path: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8')) as T;
}

const hex = (n: number) => createHash('sha256').update(randomUUID()).digest('hex').slice(0, n);

export interface Delivery {
  body: string;
  contentType: string;
  credentials: Credentials;
}

/** Body naming `instanceId` in the sender's own format (a fresh event key each time). */
export function deliveryBody(source: SourceName, instanceId: string, options: { alert?: 'firing' | 'resolved' } = {}) {
  const status = options.alert ?? 'firing';
  switch (source) {
    case 'generic':
      return JSON.stringify({ instanceIds: [instanceId], reason: 'hostile-input probe', eventId: `evt-${hex(12)}` });
    case 'alertmanager':
    case 'grafana': {
      const payload = fixtureJson<{
        status: string;
        alerts: Array<Record<string, unknown> & { labels: Record<string, string> }>;
        commonLabels: Record<string, string>;
        state?: string;
      }>(`${source}/firing.json`);
      const alert = payload.alerts[0] as (typeof payload.alerts)[number];
      alert.labels.instanceId = instanceId;
      alert.status = status;
      alert.fingerprint = hex(16);
      alert.startsAt = new Date().toISOString();
      payload.status = status;
      payload.commonLabels.instanceId = instanceId;
      if (source === 'grafana') payload.state = status === 'firing' ? 'alerting' : 'ok';
      return JSON.stringify(payload);
    }
    case 'cloudmonitor': {
      const fields = fixtureJson<Record<string, string>>('cloudmonitor/alert.json');
      fields.dimensions = `{clusterId=${instanceId}, userId=1273560756088235}`;
      fields.alertState = status === 'firing' ? 'ALERT' : 'OK';
      fields.timestamp = String(Date.now());
      fields.transId = randomUUID();
      return new URLSearchParams(fields).toString();
    }
    case 'slack': {
      const fields = fixtureJson<Record<string, string>>('slack/command.json');
      fields.text = `${instanceId} hostile-input probe`;
      fields.trigger_id = `${Date.now()}.${hex(10)}`;
      return new URLSearchParams(fields).toString();
    }
    case 'dingtalk': {
      const message = fixtureJson<Record<string, unknown>>('dingtalk/message.json');
      message.msgId = `msg${hex(20)}==`;
      message.text = { content: ` ${instanceId} hostile-input probe` };
      return JSON.stringify(message);
    }
    case 'feishu': {
      const event = fixtureJson<{ header: Record<string, unknown>; event: { message: Record<string, unknown> } }>(
        'feishu/message.json',
      );
      event.header.event_id = hex(32);
      event.header.token = current(SECRETS.feishuToken);
      event.event.message.content = JSON.stringify({ text: `@_user_1 ${instanceId} hostile-input probe` });
      return JSON.stringify(event);
    }
  }
}

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
