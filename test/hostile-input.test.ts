import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEMO_INSTANCES } from '../emulator/seed.ts';
import type { ReplyRequestFn } from '../shared/async/https-reply-sender.ts';
import type { Env } from '../shared/config.ts';
import type { ResponseBody } from '../shared/core/result.ts';
import { createFunctionHandler } from '../shared/create-function.ts';
import type { FcHandler } from '../shared/fc/adapter.ts';
import type { FcContext } from '../shared/fc/events.ts';
import { SOURCE_NAMES, type SourceName } from '../shared/sources/registry.ts';
import { DINGTALK_ROBOT_CODES, DINGTALK_USER } from './fixtures/dingtalk/kit.ts';
import { FEISHU_SECRETS, FEISHU_USER } from './fixtures/feishu/kit.ts';
import { FOREIGN_SLACK_REPLY_URLS, SLACK_USER } from './fixtures/slack/kit.ts';
import { type StartedEmulator, startEmulator } from './support/emulator-server.ts';
import { cloudEnv, countingFetch } from './support/function-harness.ts';
import { type AuthKind, type HostileHttp, hostileHttp } from './support/hostile-arbitraries.ts';
import {
  ALLOWED,
  hostileId,
  hostileJson,
  hostileString,
  INVALID_UTF8,
  NOT_IDS,
  plant,
} from './support/hostile-values.ts';
import {
  ACCOUNT_ID,
  allConfiguredSecrets,
  CHAT_SOURCES,
  type Credentials,
  deliveryBody,
  deliveryRequest,
  fcHttpEvent,
  goodDelivery,
  type HttpAnswer,
  httpAnswer,
  KITS,
  MEDIA_TYPE,
  type RawHttpRequest,
  sendersEnv,
  sign,
} from './support/senders.ts';

/**
 * Hostile input, end to end through the real FC adapter, against the emulated control plane.
 * Invariants for every request: the handler resolves; no 5xx of our own; the answer is JSON (the
 * sender's reply shape for chat); no configured secret is echoed; no upstream call unless the
 * request carried valid credentials (and then only for the one allowed instance); Object.prototype
 * is untouched; and after every property run a known-good delivery still succeeds.
 */

const FN = 'interrupt-elasticsearch-task';
const LIMIT = 16_384;
const RUNS = Number(process.env.HOSTILE_RUNS ?? 1000);
/** The bot's app credentials of the hand-off handler, and the tenant token its stand-in Feishu issues. */
const FEISHU_APP = {
  id: 'cli_hostile0000000001',
  secret: 'hostile-feishu-app-secret-3f9a0c7e',
  token: 't-hostile-tenant',
};
const SECRET_TEXTS = [...allConfiguredSecrets(), FEISHU_APP.secret, FEISHU_APP.token];

let upstream: StartedEmulator;
const calls: string[] = [];
const replies: string[] = [];
const rejections: unknown[] = [];
const onRejection = (reason: unknown) => rejections.push(reason);

/** Commands the functions in hand-off mode queued (instead of invoking FC). */
const handedOff: object[] = [];

/**
 * Every request the hand-off handler's real HTTPS reply sender makes (its URL and authorization),
 * sent on to a local stand-in for Slack, DingTalk and Feishu that accepts everything and issues
 * tenant tokens.
 */
const outbound: Array<{ url: string; authorization?: string }> = [];
let chatStandIn: Server;
const toChatStandIn: ReplyRequestFn = (url, options) => {
  const headers = (options.headers ?? {}) as Record<string, string>;
  outbound.push({ url: url.href, ...(headers.authorization ? { authorization: headers.authorization } : {}) });
  const { port } = chatStandIn.address() as AddressInfo;
  return httpRequest({ ...options, host: '127.0.0.1', port, path: `${url.pathname}${url.search}`, agent: false });
};

function makeHandler(env: Env = {}, options: { handOff?: boolean } = {}): FcHandler {
  return createFunctionHandler(FN, {
    ...(options.handOff
      ? {
          invoker: {
            invoke: async (command: object) => {
              handedOff.push(command);
              return { status: 'accepted' as const };
            },
          },
        }
      : {}),
    env: {
      ...sendersEnv(),
      ...cloudEnv(upstream.url),
      ALLOWED_INSTANCES: ALLOWED,
      MAX_BODY_BYTES: String(LIMIT),
      RETRY_DEADLINE_MS: '400',
      COMMAND_DEADLINE_MS: '400',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      ...env,
    },
    fetch: countingFetch(calls),
    // The hand-off handler reports through the cloud's own reply path (token and all); the others
    // must never report anything.
    ...(options.handOff
      ? { replyRequest: toChatStandIn }
      : {
          replySender: {
            send: async (url: string) => {
              replies.push(url);
            },
          },
        }),
  });
}

const handlers = {} as Record<
  'main' | 'feishuToken' | 'feishuTokenActing' | 'anyAccount' | 'roomy' | 'allowAll' | 'handOff',
  FcHandler
>;

const seed = [{ instanceId: ALLOWED, status: 'activating' as const, migrating: false }, ...DEMO_INSTANCES];

beforeAll(async () => {
  process.on('unhandledRejection', onRejection);
  upstream = await startEmulator({ instances: seed });
  chatStandIn = createServer((req, res) => {
    req.resume();
    req.on('end', () =>
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ code: 0, tenant_access_token: FEISHU_APP.token, expire: 7200 })),
    );
  });
  await new Promise<void>((resolve) => chatStandIn.listen(0, '127.0.0.1', resolve));
  handlers.main = makeHandler();
  // Verification token only: it answers the URL check, but acts only with the explicit opt-in.
  handlers.feishuToken = makeHandler({ FEISHU_ENCRYPT_KEYS: '' });
  handlers.feishuTokenActing = makeHandler({ FEISHU_ENCRYPT_KEYS: '', FEISHU_ALLOW_TOKEN_ONLY: 'true' });
  // No account known (outside FC, ALIBABA_CLOUD_ACCOUNT_ID unset): CloudMonitor's userId is not checked.
  handlers.anyAccount = makeHandler({ FC_ACCOUNT_ID: '' });
  handlers.roomy = makeHandler({ MAX_BODY_BYTES: String(4 * 1024 * 1024) });
  handlers.allowAll = makeHandler({ ALLOWED_INSTANCES: '*' });
  // Chat senders hand their work to an async invocation of the same function (ASYNC_SOURCES default).
  handlers.handOff = makeHandler(
    { ASYNC_SOURCES: 'slack,dingtalk,feishu', FEISHU_APP_ID: FEISHU_APP.id, FEISHU_APP_SECRET: FEISHU_APP.secret },
    { handOff: true },
  );
});

afterAll(async () => {
  process.off('unhandledRejection', onRejection);
  await upstream?.close();
  chatStandIn?.closeAllConnections();
  await new Promise((resolve) => chatStandIn?.close(resolve));
  expect(rejections, 'unhandled rejections during the file').toEqual([]);
});

beforeEach(() => {
  outbound.splice(0);
  upstream.emulator.reset(seed);
  upstream.emulator.setFaults({});
});

const context = (requestId = `hostile-${Math.random().toString(36).slice(2)}`): FcContext => ({
  requestId,
  credentials: {},
  function: { name: FN },
  region: 'cn-hangzhou',
  accountId: '1234567890123456',
  retryCount: 0,
});

/** Upstream paths that acting on the allowed instance may use (the action, and the read after a refusal). */
const ALLOWED_CALL = new RegExp(`^/openapi/instances/${ALLOWED}(?:/actions/interrupt)?$`);

async function send(handler: FcHandler, request: RawHttpRequest): Promise<HttpAnswer & { calls: string[] }> {
  const before = calls.length;
  let result: unknown;
  try {
    result = await handler(fcHttpEvent(request), context());
  } catch (error) {
    throw new Error(`the handler rejected: ${(error as Error)?.stack ?? String(error)}`);
  }
  return { ...httpAnswer(result), calls: calls.slice(before) };
}

/** The invariants that hold for every answer, whatever was sent. */
function checkAnswer(answer: HttpAnswer, method = 'POST') {
  expect(answer.status, answer.text.slice(0, 300)).toBeGreaterThanOrEqual(200);
  expect(answer.status, answer.text.slice(0, 300)).toBeLessThan(500);
  if (method.trim().toUpperCase() !== 'HEAD') {
    expect(() => JSON.parse(answer.text), `not JSON: ${answer.text.slice(0, 200)}`).not.toThrow();
  }
  for (const secret of SECRET_TEXTS) expect(answer.text.includes(secret), 'a secret is echoed').toBe(false);
  // Nor the endpoint the function calls, nor the account of the invocation (the log has them).
  expect(answer.text.includes(new URL(upstream.url).host), 'the API endpoint is named').toBe(false);
  expect(answer.text.includes(context().accountId as string), 'the account ID is named').toBe(false);
  expect(({} as Record<string, unknown>).polluted, 'Object.prototype was polluted').toBeUndefined();
}

/** The bytes the app sees for a body sent with `encoding` (FC decodes base64; UTF-8 text is lossy for bad bytes). */
function seenBytes(r: HostileHttp): { seen: Buffer; rawBody?: string; base64: boolean } {
  const bytes = Buffer.from(r.body.bytes);
  if (r.encoding === 'base64') return { seen: bytes, base64: true };
  if (r.encoding === 'bad-base64') {
    const rawBody = `${bytes.toString('base64').slice(0, 10)}!!*${bytes.toString('utf8').slice(0, 20)}`;
    return { seen: Buffer.from(rawBody, 'base64'), rawBody, base64: true };
  }
  return { seen: Buffer.from(bytes.toString('utf8'), 'utf8'), base64: false };
}

function credentialsFor(source: SourceName, r: HostileHttp, seen: Buffer): Credentials {
  switch (r.auth) {
    case 'none':
      return { headers: {}, query: {} };
    case 'garbage':
      return { headers: r.garbage.headers, query: r.garbage.query as Record<string, string> };
    case 'valid':
      return sign(source, seen);
    case 'valid-alt':
      return sign(source, seen, { alternative: true });
    case 'wrong-secret':
      return sign(source, seen, { wrongSecret: true });
    case 'stale':
      // Bearer tokens have no clock: "stale" is a revoked one. CloudMonitor's token is right but the address is not.
      if (source === 'alertmanager') return sign(source, seen, { wrongSecret: true });
      if (source === 'cloudmonitor') return { ...sign(source, seen), sourceIp: '203.0.113.9' };
      return sign(source, seen, { ageSeconds: 400 });
    case 'untimed': {
      // Grafana signs the body alone; the other timed schemes lose their timestamp header. Bearer and
      // token schemes have no time to leave out: a revoked credential stands in.
      if (source === 'grafana') return sign(source, seen, { untimed: true });
      if (source === 'alertmanager' || source === 'cloudmonitor') return sign(source, seen, { wrongSecret: true });
      const signed = sign(source, seen);
      const headers = Object.fromEntries(
        Object.entries(signed.headers).filter(([name]) => !/timestamp/.test(name)),
      ) as Record<string, string>;
      return { ...signed, headers };
    }
    case 'replayed':
      throw new Error('a replayed pair is captured from a delivery first: see capturedPair');
  }
}

/**
 * DingTalk's sign covers only its timestamp: a valid callback (a greeting that names no instance)
 * is sent first, and its `timestamp`/`sign` pair returned, as someone reading its headers holds it.
 */
async function capturedPair(handler: FcHandler): Promise<Credentials> {
  const greeting = deliveryBody('dingtalk', 'hello');
  const credentials = sign('dingtalk', greeting);
  const answer = await send(
    handler,
    deliveryRequest(FN, 'dingtalk', { body: greeting, contentType: MEDIA_TYPE.dingtalk, credentials }),
  );
  expect(answer.status, answer.text).toBe(200);
  expect(answer.calls).toEqual([]);
  return credentials;
}

/**
 * A DingTalk callback that got past authentication (any answer but 401 comes from the parser) and
 * carries a JSON object must have come from a configured robot, naming only a session webhook, and
 * a hand-off of it reports only there.
 */
const SESSION_WEBHOOK = /^https:\/\/oapi\.dingtalk\.com\/robot\/sendBySession\?session=[A-Za-z0-9_-]+$/;
function expectBoundToRobot(seen: Buffer, commands: object[], label: string) {
  let message: unknown;
  try {
    message = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(seen));
  } catch {
    message = undefined; // not UTF-8 JSON: the parser refuses it, so nothing may have been done
  }
  if (typeof message === 'object' && message !== null && !Array.isArray(message)) {
    const { robotCode, sessionWebhook } = message as { robotCode?: unknown; sessionWebhook?: unknown };
    expect(DINGTALK_ROBOT_CODES as readonly unknown[], `another robot got through (${label})`).toContain(robotCode);
    if (sessionWebhook !== undefined) expect(sessionWebhook, label).toMatch(SESSION_WEBHOOK);
  } else {
    expect(commands, `acted on a body that is not a JSON object (${label})`).toEqual([]);
  }
  for (const command of commands as Array<{ reply?: { url: string } }>) {
    if (command.reply) expect(command.reply.url, label).toMatch(SESSION_WEBHOOK);
  }
}

/** Slack's response_url as its docs and real commands show it (written here, apart from the code). */
const SLACK_RESPONSE_URL = /^https:\/\/hooks\.slack\.com\/commands(?:\/[A-Za-z0-9_-]+){2,4}$/;
const FEISHU_TOKEN_URL = 'https://open.feishu.cn/open-apis/auth/v3/tenant_access_token/internal';

/** The response_url of a Slack form body, read as the source reads it; undefined when there is none or no form. */
function slackResponseUrl(seen: Buffer): string | undefined {
  try {
    return new URLSearchParams(new TextDecoder('utf-8', { fatal: true }).decode(seen)).get('response_url') ?? undefined;
  } catch {
    return undefined;
  }
}

type QueuedCommand = { source?: string; reply?: { url?: string; messageId?: string } };

/** A queued command carries a report target only of its own platform's shape (Feishu: a message ID, never a URL). */
function expectOwnReplyTarget(command: QueuedCommand, label: string) {
  if (command.reply === undefined) return;
  const own: Record<string, unknown> = {
    slack: { url: expect.stringMatching(SLACK_RESPONSE_URL) },
    dingtalk: { url: expect.stringMatching(SESSION_WEBHOOK) },
    feishu: { messageId: expect.stringMatching(/^om_[A-Za-z0-9_-]+$/) },
  };
  expect(
    command.source && own[command.source],
    `a ${command.source} command carries a report target (${label})`,
  ).toBeDefined();
  expect(command.reply, label).toEqual(own[command.source as string]);
}

/**
 * What running a command sent: only to its own report target, without credentials; for Feishu the
 * token request to the token API of the configured base, and the token only on the reply URL built
 * from the message ID.
 */
function expectReportsOnlyToOwnTarget(command: QueuedCommand, sent: typeof outbound, label: string) {
  if (command.reply === undefined) expect(sent, label).toEqual([]);
  for (const request of sent) {
    if (command.source === 'feishu' && request.url === FEISHU_TOKEN_URL) {
      expect(request.authorization, label).toBeUndefined();
    } else if (command.source === 'feishu') {
      expect(request, label).toEqual({
        url: `https://open.feishu.cn/open-apis/im/v1/messages/${command.reply?.messageId}/reply`,
        authorization: `Bearer ${FEISHU_APP.token}`,
      });
    } else {
      expect(request, label).toEqual({ url: command.reply?.url });
    }
  }
}

const VALID: readonly AuthKind[] = ['valid', 'valid-alt'];

/** Which handler a request went to: what authenticates a Feishu event differs between them. */
type HandlerName = keyof typeof handlers;

function parsedJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
const field = (value: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>(
    (node, key) => (typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined),
    value,
  );

/**
 * Whether the trust rules let this request act at all, computed here from what was sent
 * (independently of the code under test): its credentials authenticate an event for this handler
 * (a Feishu token only where FEISHU_ALLOW_TOKEN_ONLY is set and no Encrypt Key is), a Slack command
 * is this function's, the person is the allowed one, and a CloudMonitor callback is of the account.
 */
function mayAct(source: SourceName, which: HandlerName, r: HostileHttp, seen: Buffer): boolean {
  const text = seen.toString('utf8');
  if (source === 'feishu') {
    const tokenActs = which === 'feishuTokenActing' && FEISHU_SECRETS.verificationTokens.some((t) => seen.includes(t));
    if (!(which === 'feishuToken' ? false : VALID.includes(r.auth) || tokenActs)) return false;
    const push = r.body.plain ?? parsedJson(text);
    const ids = [
      field(push, 'event', 'sender', 'sender_id', 'open_id'),
      field(push, 'event', 'sender', 'sender_id', 'user_id'),
      field(push, 'event', 'sender', 'sender_id', 'union_id'),
      field(push, 'event', 'open_id'),
      field(push, 'event', 'employee_id'),
      field(push, 'event', 'union_id'),
    ];
    return ids.includes(FEISHU_USER);
  }
  if (!VALID.includes(r.auth)) return false;
  switch (source) {
    case 'slack': {
      const form = new URLSearchParams(text);
      return form.get('command')?.toLowerCase() === '/es-interrupt' && form.get('user_id') === SLACK_USER;
    }
    case 'dingtalk':
      return parsedJson(text)?.senderStaffId === DINGTALK_USER;
    case 'cloudmonitor': {
      const userIds = new URLSearchParams(text).getAll('userId');
      return which === 'anyAccount' || (userIds.length === 1 && userIds[0]?.trim() === ACCOUNT_ID);
    }
    default:
      return true;
  }
}

interface Stats {
  total: number;
  byStatus: Record<number, number>;
  /** Requests with valid credentials that got past authentication, size and media type (parsing ran). */
  parsed: number;
  upstream: number;
  handOffs: number;
  /** Hand-offs answered "accepted" whose queued command the function then refuses as invalid. */
  droppedHandOffs: string[];
}

async function sendHostile(which: HandlerName, source: SourceName, r: HostileHttp, stats: Stats) {
  const handler = handlers[which];
  const before = calls.length;
  const { seen, rawBody, base64 } = seenBytes(r);
  const credentials = r.auth === 'replayed' ? await capturedPair(handler) : credentialsFor(source, r, seen);
  const headers: Record<string, string | string[]> = {};
  if (!r.extraAfter) Object.assign(headers, r.extraHeaders);
  if (r.contentType !== null) headers['content-type'] = r.contentType ?? MEDIA_TYPE[source];
  Object.assign(headers, credentials.headers);
  if (r.extraAfter) Object.assign(headers, r.extraHeaders);
  const request: RawHttpRequest = {
    method: r.method,
    rawPath: r.path ?? `/${FN}/${source}`,
    headers,
    queryParameters: { ...r.query, ...credentials.query },
    body: seen,
    base64,
    ...(rawBody === undefined ? {} : { rawBody }),
    sourceIp: credentials.sourceIp ?? r.sourceIp,
  };
  const answer = await send(handler, request);
  const label = `${source} ${r.method} ${request.rawPath.slice(0, 60)} ${r.auth} ${r.body.kind} → ${answer.status} ${answer.text.slice(0, 200)}`;
  checkAnswer(answer, r.method);

  // A Feishu push carries its verification token in the body: with it, a challenge (or, without
  // Encrypt Keys, an event) is authenticated whatever the headers say.
  const carriesToken = source === 'feishu' && FEISHU_SECRETS.verificationTokens.some((t) => seen.includes(t));
  const authenticated = VALID.includes(r.auth) || r.body.credential === true || carriesToken;
  const allowedToAct = mayAct(source, which, r, seen);
  for (const call of answer.calls) {
    expect(authenticated, `upstream call without valid credentials: ${call} (${label})`).toBe(true);
    expect(allowedToAct, `upstream call the trust rules forbid: ${call} (${label})`).toBe(true);
    expect(new URL(call).pathname, label).toMatch(ALLOWED_CALL);
  }
  expect(replies, 'no chat reply is sent for an HTTP delivery').toEqual([]);
  const commands = handedOff.splice(0);
  stats.handOffs += commands.length;
  if (commands.length > 0) {
    expect(authenticated, `hand-off without valid credentials (${label})`).toBe(true);
    expect(allowedToAct, `hand-off the trust rules forbid (${label})`).toBe(true);
  }
  // Every DingTalk answer after authentication is a rendered 200 (refusals before it are 401, 404, 413, 415).
  if (source === 'dingtalk' && answer.status === 200) expectBoundToRobot(seen, commands, label);
  // A signed Slack command whose response_url is not Slack's own never acts, is never handed off
  // (unsigned, only an ssl_check gets past authentication, and it acts on nothing).
  const responseUrl = source === 'slack' && VALID.includes(r.auth) ? slackResponseUrl(seen) : undefined;
  if (responseUrl !== undefined && !SLACK_RESPONSE_URL.test(responseUrl)) {
    expect(answer.status, label).not.toBe(200);
    expect(answer.calls, label).toEqual([]);
    expect(commands, label).toEqual([]);
  }
  for (const command of commands as QueuedCommand[]) {
    expectOwnReplyTarget(command, label);
    const sentBefore = outbound.length;
    // "accepted" promises that the queued command runs: the same function must accept it.
    let ran: unknown;
    try {
      ran = await handler(Buffer.from(JSON.stringify(command)), context());
    } catch (error) {
      throw new Error(`the queued command made the handler reject: ${String(error)} (${label})`);
    }
    for (const call of calls.slice(before)) expect(new URL(call).pathname, label).toMatch(ALLOWED_CALL);
    const refusal = (ran as { error?: { code?: string; message?: string } }).error;
    if (refusal?.code === 'InvalidPayload')
      stats.droppedHandOffs.push(`${refusal.message} ← ${JSON.stringify(command)}`);
    expectReportsOnlyToOwnTarget(command, outbound.splice(sentBefore), label);
    replies.splice(0);
  }
  expect(outbound.splice(0), `a report outside a command (${label})`).toEqual([]);
  if (!authenticated) {
    const sslCheck = source === 'slack' && answer.status === 200 && answer.text === '{}';
    if (!sslCheck) expect([400, 401, 404, 413, 415], label).toContain(answer.status);
  }

  stats.total++;
  stats.byStatus[answer.status] = (stats.byStatus[answer.status] ?? 0) + 1;
  stats.upstream += answer.calls.length;
  const envelopeRefusal = /"code":"(InvalidEvent|PayloadTooLarge|UnsupportedMediaType|NotFound|Unauthorized)"/;
  if (authenticated && answer.status !== 401 && !envelopeRefusal.test(answer.text)) stats.parsed++;
}

/** A known-good delivery naming the allowed instance is applied: the process keeps serving. */
async function expectStillServing(handler: FcHandler, source: SourceName) {
  upstream.emulator.reset(seed);
  handedOff.splice(0);
  const answer = await send(handler, deliveryRequest(FN, source, goodDelivery(source, ALLOWED)));
  expect(answer.status, answer.text).toBe(200);
  const command = handedOff.splice(0)[0];
  if (command) {
    // In hand-off mode the delivery is accepted, and the queued command applies it.
    expect(answer.text).toMatch(/accepted/);
    const ran = (await handler(Buffer.from(JSON.stringify(command)), context())) as {
      results: Array<{ outcome: string }>;
    };
    expect(ran.results.map((r) => r.outcome)).toEqual(['applied']);
    replies.splice(0);
    outbound.splice(0);
  } else {
    expect(answer.text).toMatch(/applied/);
  }
  expect(upstream.emulator.controlPlane.snapshot().instances.find((i) => i.instanceId === ALLOWED)?.status).toBe(
    'suspended',
  );
}

const summaries: string[] = [];
afterAll(() => {
  if (summaries.length > 0) console.info(`hostile input:\n${summaries.join('\n')}`);
});

describe('Hostile input: generated bad requests per sender (fast-check)', () => {
  const rows: Array<[string, SourceName, keyof typeof handlers]> = [
    ...SOURCE_NAMES.map((s): [string, SourceName, keyof typeof handlers] => [s, s, 'main']),
    ['feishu (verification token only, FEISHU_ALLOW_TOKEN_ONLY=true)', 'feishu', 'feishuTokenActing'],
    ['cloudmonitor (account not known)', 'cloudmonitor', 'anyAccount'],
    ...CHAT_SOURCES.map((s): [string, SourceName, keyof typeof handlers] => [`${s} (async hand-off)`, s, 'handOff']),
  ];

  it.each(rows)(
    '%s: never a 5xx, never an unauthenticated upstream call, and it keeps serving',
    async (name, source, which) => {
      const handler = handlers[which];
      const stats: Stats = { total: 0, byStatus: {}, parsed: 0, upstream: 0, handOffs: 0, droppedHandOffs: [] };
      const started = performance.now();
      await fc.assert(
        fc.asyncProperty(hostileHttp(FN, source, LIMIT), (r) => sendHostile(which, source, r, stats)),
        { numRuns: RUNS },
      );
      const ms = Math.round(performance.now() - started);
      summaries.push(
        `  ${name}: ${stats.total} requests in ${ms} ms; statuses ${JSON.stringify(stats.byStatus)}; ` +
          `${stats.parsed} parsed after valid auth; ${stats.upstream} upstream calls` +
          (which === 'handOff'
            ? `; ${stats.handOffs} hand-offs, ${stats.droppedHandOffs.length} of them accepted but dropped`
            : ''),
      );
      expect(
        stats.droppedHandOffs.slice(0, 3),
        `${stats.droppedHandOffs.length} deliveries were answered "accepted" but their queued command is refused`,
      ).toEqual([]);
      // The generators must reach the parsers, not only bounce off authentication. A CloudMonitor body
      // that does not name the function's account is refused by authentication itself (the row without
      // a known account covers its parser fully).
      expect(stats.parsed).toBeGreaterThan(source === 'cloudmonitor' && which === 'main' ? RUNS / 20 : RUNS / 10);
      await expectStillServing(handler, source);
    },
  );

  it('feishu (verification token only, no opt-in): never acts, whatever is sent, yet answers the URL check', async () => {
    const stats: Stats = { total: 0, byStatus: {}, parsed: 0, upstream: 0, handOffs: 0, droppedHandOffs: [] };
    await fc.assert(
      fc.asyncProperty(hostileHttp(FN, 'feishu', LIMIT), (r) => sendHostile('feishuToken', 'feishu', r, stats)),
      { numRuns: RUNS },
    );
    summaries.push(
      `  feishu (token only, no opt-in): ${stats.total} requests; statuses ${JSON.stringify(stats.byStatus)}`,
    );
    expect(stats.upstream).toBe(0);
    // The generators did send events with the right token, and they were refused (401), not parsed.
    expect(stats.byStatus[401]).toBeGreaterThan(RUNS / 10);
    const challenge = JSON.stringify({
      challenge: 'c-1',
      token: FEISHU_SECRETS.verificationTokens[1],
      type: 'url_verification',
    });
    const answer = await send(handlers.feishuToken, signedRequest('feishu', challenge, { unsigned: true }));
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toEqual({ challenge: 'c-1' });
  });

  it('FC adapter: arbitrary events, timer- and command-shaped objects, never a crash or a 5xx', async () => {
    const handler = handlers.main;
    const maxEventBytes = Math.ceil((LIMIT * 4) / 3) + 64 * 1024;
    const instanceIdOrAllowed = fc.oneof(hostileId, fc.constant(ALLOWED));
    const timerShaped = fc.record(
      {
        triggerTime: fc.oneof(fc.constant('2026-11-25T02:00:00Z'), hostileJson),
        triggerName: fc.oneof(fc.constant('nightly'), hostileJson),
        payload: fc.oneof(
          fc
            .record(
              {
                instanceIds: fc.array(instanceIdOrAllowed, { maxLength: 4 }),
                reason: hostileJson,
                eventId: hostileJson,
                state: fc.oneof(fc.constantFrom('firing', 'resolved'), hostileJson),
              },
              { requiredKeys: ['instanceIds'] },
            )
            .map((p) => JSON.stringify(p)),
          hostileString,
          fc.integer({ min: 1, max: 8000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`),
          fc.constant(`{"instanceIds":["es-cn-demo-activating"],"reason":"${'x'.repeat(LIMIT)}"}`),
          hostileJson,
        ),
      },
      { requiredKeys: [] },
    );
    const commandShaped = fc.record(
      {
        responderCommand: fc.oneof(fc.constant(1), fc.constantFrom('1', 2, true, null, 0)),
        function: fc.oneof(fc.constant(FN), fc.constant('resume-elasticsearch-task'), hostileJson),
        source: fc.oneof(fc.constantFrom(...SOURCE_NAMES), hostileJson),
        reason: hostileJson,
        targets: fc.oneof(
          fc.array(
            fc.record(
              {
                instanceId: instanceIdOrAllowed,
                regionId: fc.oneof(fc.constant('cn-hangzhou'), hostileJson),
                eventKey: fc.oneof(fc.constant('slack:1.2'), hostileJson),
              },
              { requiredKeys: ['instanceId', 'eventKey'] },
            ),
            { maxLength: 4 },
          ),
          hostileJson,
        ),
        reply: fc.oneof(
          fc.record({
            url: fc.oneof(
              fc.constantFrom('https://hooks.slack.com/commands/1/2', 'http://127.0.0.1:1/x', 'file:///etc/passwd'),
              hostileString,
            ),
          }),
          hostileJson,
        ),
      },
      { requiredKeys: ['responderCommand'] },
    );
    const envelopeShaped = fc.record(
      {
        version: fc.oneof(fc.constant('v1'), hostileJson),
        rawPath: fc.oneof(fc.constant(`/${FN}/generic`), hostileJson),
        body: hostileJson,
        isBase64Encoded: fc.oneof(fc.boolean(), hostileJson),
        headers: fc.oneof(fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.array(fc.string()))), hostileJson),
        queryParameters: hostileJson,
        requestContext: fc.oneof(
          fc.record(
            {
              domainName: fc.oneof(
                fc.constantFrom('evil.example/x?', 'a b', '[::1', 'user:pw@host', ''),
                hostileString,
              ),
              http: fc.oneof(
                fc.record(
                  { method: fc.oneof(fc.constant('POST'), hostileJson), sourceIp: hostileJson },
                  { requiredKeys: [] },
                ),
                hostileJson,
              ),
            },
            { requiredKeys: [] },
          ),
          hostileJson,
        ),
      },
      { requiredKeys: [] },
    );
    const planted = (arb: fc.Arbitrary<unknown>) =>
      fc
        .tuple(arb, fc.option(fc.tuple(fc.constantFrom('__proto__', 'constructor', 'prototype'), fc.nat())))
        .map(([v, p]) => (p ? plant(v, p[0], { polluted: 'yes', responderCommand: 1, triggerName: 'x' }, p[1]) : v));
    const event = fc.oneof(
      { weight: 2, arbitrary: fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b)) },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
      { weight: 1, arbitrary: fc.string({ maxLength: 200 }).map((s) => Buffer.from(s)) },
      { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => Buffer.from(JSON.stringify(v) ?? 'null')) },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
      { weight: 3, arbitrary: planted(timerShaped).map((v) => Buffer.from(JSON.stringify(v))) },
      { weight: 3, arbitrary: planted(commandShaped).map((v) => Buffer.from(JSON.stringify(v))) },
      { weight: 3, arbitrary: planted(envelopeShaped).map((v) => Buffer.from(JSON.stringify(v))) },
      {
        weight: 1,
        arbitrary: fc
          .tuple(timerShaped, commandShaped, envelopeShaped)
          .map(([a, b, c]) => Buffer.from(JSON.stringify({ ...a, ...b, ...c }))),
      },
      {
        weight: 1,
        arbitrary: fc
          .constantFrom(1000, 10_000, 40_000)
          .map((n) => Buffer.from(`${'{"triggerName":'.repeat(1)}${'['.repeat(n)}${']'.repeat(n)}}`)),
      },
      {
        weight: 1,
        arbitrary: fc
          .constantFrom(maxEventBytes, maxEventBytes + 1, maxEventBytes * 2)
          .map((n) => Buffer.alloc(n, 0x20)),
      },
    );
    const contexts = fc.oneof(
      { weight: 4, arbitrary: fc.constant<FcContext | undefined>(context()) },
      { weight: 1, arbitrary: fc.constant<FcContext | undefined>(undefined) },
      {
        weight: 1,
        arbitrary: fc.constant<FcContext | undefined>({
          requestId: 'sts-half',
          credentials: { accessKeyId: 'STS.only-an-id' },
        }),
      },
      {
        weight: 1,
        arbitrary: fc.constant<FcContext | undefined>({
          requestId: 'sts-unknown',
          credentials: { accessKeyId: 'STS.unknown', accessKeySecret: 'nope', securityToken: 'CAIS-x' },
        }),
      },
    );

    let total = 0;
    const started = performance.now();
    await fc.assert(
      fc.asyncProperty(event, contexts, async (ev, ctx) => {
        const before = calls.length;
        const beforeReplies = replies.length;
        let result: unknown;
        try {
          result = await handler(ev, ctx);
        } catch (error) {
          throw new Error(`the handler rejected: ${(error as Error)?.stack ?? String(error)}`);
        }
        total++;
        expect(result, 'a result').toBeTypeOf('object');
        expect(result).not.toBeNull();
        const r = result as Record<string, unknown>;
        if ('statusCode' in r) {
          const answer = httpAnswer(r);
          checkAnswer(answer);
        } else {
          // Timer and command invocations return the result object.
          expect(Array.isArray(r.results), JSON.stringify(r).slice(0, 300)).toBe(true);
          expect((r.error as { code?: string } | undefined)?.code).not.toBe('InternalError');
          for (const secret of SECRET_TEXTS) expect(JSON.stringify(r).includes(secret)).toBe(false);
          expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        }
        // Only the trusted, non-HTTP events may act, and only on the allowed instance.
        const text = Buffer.isBuffer(ev) ? ev.toString('utf8') : (JSON.stringify(ev) ?? '');
        const newCalls = calls.slice(before);
        if (/"requestContext"|"rawPath"/.test(text)) expect(newCalls).toEqual([]);
        for (const call of newCalls) expect(new URL(call).pathname).toMatch(ALLOWED_CALL);
        for (const url of replies.slice(beforeReplies)) expect(text).toContain(JSON.stringify(url).slice(1, -1));
      }),
      { numRuns: RUNS },
    );
    summaries.push(`  FC adapter: ${total} events in ${Math.round(performance.now() - started)} ms`);

    // Still serving: a timer tick and an HTTP delivery.
    upstream.emulator.reset(seed);
    const tick = (await handler(
      Buffer.from(
        JSON.stringify({
          triggerTime: new Date().toISOString(),
          triggerName: 'after-fuzz',
          payload: JSON.stringify({ instanceIds: [ALLOWED] }),
        }),
      ),
      context(),
    )) as { results: Array<{ outcome: string }> };
    expect(tick.results.map((r) => r.outcome)).toEqual(['applied']);
    await expectStillServing(handler, 'generic');
  });
});

// ---------------------------------------------------------------------------------------------
// Named cases, per sender
// ---------------------------------------------------------------------------------------------

const SOURCES = [...SOURCE_NAMES];
const FORM = (s: SourceName) => MEDIA_TYPE[s] === 'application/x-www-form-urlencoded';

/** A request of `source` carrying `body`, signed over exactly those bytes (unless told otherwise). */
function signedRequest(
  source: SourceName,
  body: string | Uint8Array,
  options: { unsigned?: boolean; contentType?: string | null; base64?: boolean } = {},
): RawHttpRequest {
  const credentials: Credentials = options.unsigned ? { headers: {}, query: {} } : sign(source, body);
  const headers: Record<string, string> = { ...credentials.headers };
  if (options.contentType !== null) headers['content-type'] = options.contentType ?? MEDIA_TYPE[source];
  return {
    rawPath: `/${FN}/${source}`,
    headers,
    queryParameters: credentials.query,
    body,
    base64: options.base64 ?? typeof body !== 'string',
    sourceIp: credentials.sourceIp ?? '203.0.113.7',
  };
}

/** Status of a known delivery naming an instance that is not allowed (the baseline of "accepted and processed"). */
const BASELINE: Record<SourceName, number> = {
  generic: 403,
  alertmanager: 403,
  grafana: 403,
  cloudmonitor: 403,
  slack: 200,
  dingtalk: 200,
  feishu: 200,
};

describe('Hostile input: the body limit comes before authentication (and so before hashing)', () => {
  it.each(SOURCES)(
    '%s: 413 for a body over MAX_BODY_BYTES, signed or not; exactly the limit is processed',
    async (source) => {
      const base = deliveryBody(source, 'es-cn-demo-activating');
      // Padding that keeps the body valid: JSON white space, or empty form fields.
      const pad = (size: number) => base + (FORM(source) ? '&' : ' ').repeat(size - Buffer.byteLength(base));
      const atLimit = pad(LIMIT);
      const overLimit = pad(LIMIT + 1);
      expect(Buffer.byteLength(atLimit)).toBe(LIMIT);

      const exact = await send(handlers.main, signedRequest(source, atLimit));
      checkAnswer(exact);
      expect(exact.status, exact.text).toBe(BASELINE[source]);

      for (const request of [
        signedRequest(source, overLimit),
        signedRequest(source, overLimit, { unsigned: true }),
        signedRequest(source, overLimit, { base64: true }),
        // Fewer characters than the limit, more bytes.
        signedRequest(source, base + (FORM(source) ? '&x=' : ' ').concat('€'.repeat(LIMIT / 3))),
      ]) {
        const answer = await send(handlers.main, request);
        checkAnswer(answer);
        expect(answer.status, answer.text).toBe(413);
        expect(JSON.parse(answer.text).error?.code).toBe('PayloadTooLarge');
        expect(answer.calls).toEqual([]);
      }

      // A Content-Length header that lies (FC hands the whole body over) changes nothing either way.
      for (const length of [String(LIMIT + 1), '0', '-1', 'abc']) {
        const lying = signedRequest(source, base);
        lying.headers = { ...lying.headers, 'content-length': length };
        const answer = await send(handlers.main, lying);
        checkAnswer(answer);
        expect([400, 413, BASELINE[source]]).toContain(answer.status);
        expect(answer.calls).toEqual([]);
      }
    },
  );

  it('refuses an FC event larger than any envelope of an acceptable body before parsing it', async () => {
    const maxEventBytes = Math.ceil((LIMIT * 4) / 3) + 64 * 1024;
    const result = httpAnswer(await handlers.main(Buffer.alloc(maxEventBytes + 1, 0x20), context()));
    expect(result.status).toBe(413);
  });
});

describe('Hostile input: media types', () => {
  it.each(SOURCES)(
    '%s: 415 for a validly signed body of the wrong or no media type; parameters and case are fine',
    async (source) => {
      const body = deliveryBody(source, 'es-cn-demo-activating');
      const wrong = FORM(source) ? 'application/json' : 'application/x-www-form-urlencoded';
      for (const contentType of [wrong, 'text/plain', 'multipart/form-data; boundary=x', '', null]) {
        const answer = await send(handlers.main, signedRequest(source, body, { contentType }));
        checkAnswer(answer);
        expect(answer.status, String(contentType)).toBe(415);
        expect(answer.calls).toEqual([]);
      }
      const fine = await send(
        handlers.main,
        signedRequest(source, body, { contentType: `${MEDIA_TYPE[source].toUpperCase()}; charset=UTF-8` }),
      );
      expect(fine.status, fine.text).toBe(BASELINE[source]);
      const injected = await send(
        handlers.main,
        signedRequest(source, body, { contentType: `${MEDIA_TYPE[source]}\r\nAuthorization: Bearer x` }),
      );
      expect(injected.status).toBe(400);
      expect(JSON.parse(injected.text).error?.code).toBe('InvalidEvent');
    },
  );
});

describe('Hostile input: deeply nested JSON', () => {
  const shapes = (depth: number): Record<string, string> => {
    const arrays = `${'['.repeat(depth)}${']'.repeat(depth)}`;
    const objects = `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    return {
      arrays,
      objects,
      'a nested field': `{"instanceIds":${arrays},"alerts":[{"labels":${objects}}],"msgtype":"text","msgId":"m","text":${objects},"schema":"2.0","header":{"event_id":"e","event_type":"im.message.receive_v1"},"event":${objects}}`,
    };
  };
  it.each(SOURCES)(
    '%s: depth 10 000 and 100 000 under a valid signature answer a 4xx (or the reply shape)',
    async (source) => {
      for (const depth of [10_000, 100_000]) {
        for (const [shape, deep] of Object.entries(shapes(depth))) {
          const field = source === 'slack' ? 'text' : 'dimensions';
          const body = FORM(source)
            ? `userId=${ACCOUNT_ID}&command=%2Fes-interrupt&user_id=${SLACK_USER}&alertState=ALERT&ruleId=r&timestamp=1&trigger_id=1.2&${field}=${encodeURIComponent(deep)}`
            : deep;
          const answer = await send(handlers.roomy, signedRequest(source, body));
          checkAnswer(answer);
          expect(answer.calls, `${shape} at depth ${depth}`).toEqual([]);
        }
      }
    },
  );
});

describe('Hostile input: invalid UTF-8 under a valid signature', () => {
  it.each(SOURCES)('%s: refused as a payload error, never replaced silently', async (source) => {
    for (const bad of INVALID_UTF8) {
      const text = deliveryBody(source, 'es-cn-demo-activating');
      const at = text.indexOf('es-cn-demo-activating') + 'es-cn-demo-activating'.length;
      const body = Buffer.concat([Buffer.from(text.slice(0, at)), Buffer.from(bad), Buffer.from(text.slice(at))]);
      const answer = await send(handlers.main, signedRequest(source, new Uint8Array(body), { base64: true }));
      checkAnswer(answer);
      expect(answer.calls).toEqual([]);
      if (source === 'feishu') {
        // Feishu's push is decoded to be authenticated at all.
        expect([400, 401]).toContain(answer.status);
      } else if (CHAT_SOURCES.includes(source)) {
        expect(answer.status).toBe(200);
        expect(answer.text).toMatch(/not valid UTF-8/);
      } else {
        expect(answer.status).toBe(400);
        expect(JSON.parse(answer.text).error).toMatchObject({ code: 'InvalidPayload', message: /UTF-8/ });
      }
    }
  });
});

describe('Hostile input: header injection through the FC envelope', () => {
  it.each(SOURCES)('%s: CR/LF, NUL and invalid header names are refused with 400 and no call', async (source) => {
    const delivery = goodDelivery(source, ALLOWED);
    for (const extra of [
      { 'x-note': 'a\r\nAuthorization: Bearer x' } as Record<string, string>,
      { 'x-note': 'a\nb' },
      { 'x-note': 'a\u0000b' },
      { 'bad name': 'x' },
      { 'x:y': 'x' },
      { '': 'x' },
    ]) {
      const request = deliveryRequest(FN, source, delivery);
      request.headers = { ...request.headers, ...extra };
      const answer = await send(handlers.main, request);
      checkAnswer(answer);
      expect(answer.status, JSON.stringify(extra)).toBe(400);
      expect(JSON.parse(answer.text).error?.code).toBe('InvalidEvent');
      expect(answer.calls).toEqual([]);
    }
  });

  it.each(SOURCES)(
    '%s: a credential sent twice (FC multi-value header or query) is not unwrapped into a valid one',
    async (source) => {
      const delivery = goodDelivery(source, ALLOWED);
      const request = deliveryRequest(FN, source, delivery);
      if (source === 'cloudmonitor') {
        request.queryParameters = { token: ['wrong-token', delivery.credentials.query.token as string] };
      } else {
        const [name, value] = Object.entries(delivery.credentials.headers).find(([n]) =>
          /signature|^sign$|authorization/.test(n),
        ) as [string, string];
        request.headers = { ...request.headers, [name]: ['garbage', value] };
      }
      const answer = await send(handlers.main, request);
      checkAnswer(answer);
      expect(answer.status).toBe(401);
      expect(answer.calls).toEqual([]);
    },
  );

  // FC hands header values over as decoded UTF-8 text; HTTP allows such bytes (obs-text) in a value.
  // A proxy or client adding one to an unrelated header must not make a valid delivery fail for good.
  it('a non-ASCII value in an unrelated header does not refuse a valid delivery (any sender)', async () => {
    const answers: Record<string, number> = {};
    for (const source of SOURCES) {
      const request = deliveryRequest(FN, source, goodDelivery(source, 'es-cn-demo-activating'));
      request.headers = { ...request.headers, 'x-chat-title': 'ES 值班群', 'x-note': 'café' };
      const answer = await send(handlers.main, request);
      checkAnswer(answer);
      answers[source] = answer.status;
    }
    expect(answers).toEqual(BASELINE);
  });
});

describe('Hostile input: prototype-pollution keys', () => {
  /** Bodies that try to smuggle the allowed instance (or pollution) in through prototype keys. */
  const smuggling: Record<SourceName, string[]> = {
    generic: [
      `{"__proto__":{"instanceIds":["${ALLOWED}"]},"eventId":"p1"}`,
      `{"instanceIds":["es-cn-demo-activating"],"__proto__":{"polluted":"yes"}}`,
      `{"instanceIds":["es-cn-demo-activating"],"constructor":{"prototype":{"polluted":"yes"}}}`,
    ],
    alertmanager: [
      `{"version":"4","status":"firing","alerts":[{"status":"firing","labels":{"__proto__":{"instanceId":"${ALLOWED}"}},"startsAt":"2026-11-25T02:14:03Z","fingerprint":"ab"}]}`,
      `{"__proto__":{"alerts":[{"status":"firing","labels":{"instanceId":"${ALLOWED}"},"startsAt":"2026-11-25T02:14:03Z","fingerprint":"ab"}]},"version":"4","status":"firing"}`,
      `{"version":"4","status":"firing","alerts":[],"commonLabels":{"__proto__":{"polluted":"yes"},"constructor":"x"}}`,
    ],
    grafana: [],
    cloudmonitor: [
      `userId=${ACCOUNT_ID}&alertState=ALERT&ruleId=r&timestamp=1&dimensions=${encodeURIComponent(`{"__proto__":{"clusterId":"${ALLOWED}"}}`)}`,
      `userId=${ACCOUNT_ID}&alertState=ALERT&ruleId=r&timestamp=1&dimensions=${encodeURIComponent(`{__proto__=${ALLOWED}, constructor=${ALLOWED}}`)}`,
      `userId=${ACCOUNT_ID}&alertState=ALERT&ruleId=r&timestamp=1&__proto__=x&constructor=y&dimensions=${encodeURIComponent('[{"__proto__":{"instanceId":"es-cn-x"}}]')}`,
    ],
    slack: [
      `__proto__=${ALLOWED}&constructor=x&trigger_id=1.2&text=hello&command=%2Fes-interrupt&user_id=${SLACK_USER}`,
      // The allowed person smuggled in through a prototype key is no person at all.
      `__proto__=${SLACK_USER}&user_id=__proto__&trigger_id=1.3&text=${ALLOWED}&command=%2Fes-interrupt`,
    ],
    dingtalk: [
      `{"msgtype":"text","msgId":"m1","robotCode":"${DINGTALK_ROBOT_CODES[1]}","senderStaffId":"${DINGTALK_USER}","__proto__":{"text":{"content":"${ALLOWED}"}}}`,
      `{"msgtype":"richText","msgId":"m2","robotCode":"${DINGTALK_ROBOT_CODES[1]}","senderStaffId":"${DINGTALK_USER}","content":{"__proto__":{"richText":[{"text":"${ALLOWED}"}]}}}`,
      `{"msgtype":"text","msgId":"m3","senderStaffId":"${DINGTALK_USER}","text":{"content":"${ALLOWED}"},"__proto__":{"robotCode":"${DINGTALK_ROBOT_CODES[1]}"}}`,
      // The allowed person smuggled in through a prototype key is no person at all.
      `{"msgtype":"text","msgId":"m4","robotCode":"${DINGTALK_ROBOT_CODES[1]}","__proto__":{"senderStaffId":"${DINGTALK_USER}"},"text":{"content":"${ALLOWED}"}}`,
    ],
    feishu: [
      `{"schema":"2.0","header":{"event_id":"e1","event_type":"im.message.receive_v1"},"event":{"__proto__":{"message":{"message_type":"text","content":"{\\"text\\":\\"${ALLOWED}\\"}"}}}}`,
      `{"schema":"2.0","header":{"event_id":"e2","event_type":"im.message.receive_v1"},"event":{"message":{"message_type":"text","content":"{\\"__proto__\\":{\\"text\\":\\"${ALLOWED}\\"}}"}}}`,
      `{"uuid":"u1","type":"event_callback","event":{"type":"message","__proto__":{"text_without_at_bot":"${ALLOWED}"}}}`,
      `{"schema":"2.0","header":{"event_id":"e3","event_type":"im.message.receive_v1"},"event":{"message":{"message_type":"text","content":"{\\"text\\":\\"${ALLOWED}\\"}"},"sender":{"__proto__":{"sender_id":{"open_id":"${FEISHU_USER}"}}}}}`,
    ],
  };
  smuggling.grafana = smuggling.alertmanager;

  it.each(SOURCES)(
    '%s: a prototype key under a valid signature neither pollutes nor smuggles a target',
    async (source) => {
      for (const body of smuggling[source]) {
        const answer = await send(handlers.main, signedRequest(source, body));
        checkAnswer(answer);
        expect(answer.calls, body).toEqual([]);
        expect(answer.status).toBeLessThan(500);
      }
    },
  );

  it('cloudmonitor: an alertState named like an Object.prototype property is refused (400), not looked up', async () => {
    const statuses: Record<string, number> = {};
    for (const alertState of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
      const body = new URLSearchParams({
        userId: ACCOUNT_ID,
        alertState,
        ruleId: 'rule-1',
        timestamp: '1685646149981',
        dimensions: `{clusterId=${ALLOWED}}`,
      }).toString();
      const answer = await send(handlers.main, signedRequest('cloudmonitor', body));
      checkAnswer(answer);
      expect(answer.calls).toEqual([]);
      expect(answer.text).not.toMatch(/native code|\[object Object\]/);
      statuses[alertState] = answer.status;
    }
    expect(statuses).toEqual({ constructor: 400, __proto__: 400, toString: 400, hasOwnProperty: 400, valueOf: 400 });
  });
});

describe('Hostile input: the async hand-off of chat commands', () => {
  it('slack: a response_url that is not a Slack response URL is refused before anything is handed off', async () => {
    for (const url of [...FOREIGN_SLACK_REPLY_URLS, 'not a url', `https://hooks.slack.com/${'x'.repeat(2100)}`]) {
      handedOff.splice(0);
      const fields = new URLSearchParams(deliveryBody('slack', ALLOWED));
      fields.set('response_url', url);
      const answer = await send(handlers.handOff, signedRequest('slack', fields.toString()));
      checkAnswer(answer);
      expect(answer.status, url).toBe(401);
      expect(answer.calls).toEqual([]);
      expect(handedOff.splice(0)).toEqual([]);
    }
    expect(outbound.splice(0)).toEqual([]);
  });

  it.each(CHAT_SOURCES)(
    '%s: a command answered "accepted" runs and reports only to its own platform',
    async (source) => {
      upstream.emulator.reset(seed);
      handedOff.splice(0);
      let body = deliveryBody(source, ALLOWED);
      // The fixture's session webhook has expired: one still valid, as DingTalk sends it.
      if (source === 'dingtalk') {
        body = JSON.stringify({ ...JSON.parse(body), sessionWebhookExpiredTime: Date.now() + 60_000 });
      }
      const answer = await send(handlers.handOff, signedRequest(source, body));
      checkAnswer(answer);
      expect(answer.text).toMatch(/accepted/);
      const [command] = handedOff.splice(0) as QueuedCommand[];
      expect(command?.reply).toBeDefined();
      expectOwnReplyTarget(command as QueuedCommand, source);
      const ran = (await handlers.handOff(Buffer.from(JSON.stringify(command)), context())) as ResponseBody;
      expect(ran.results.map((r) => r.outcome)).toEqual(['applied']);
      const sent = outbound.splice(0);
      expect(sent.length).toBeGreaterThan(0);
      expectReportsOnlyToOwnTarget(command as QueuedCommand, sent, source);
    },
  );

  it('dingtalk: a sessionWebhook that is not a session webhook is refused before anything is handed off', async () => {
    for (const url of [
      'oapi.dingtalk.com/robot/x',
      'https://oapi.dingtalk.com/robot/send?access_token=x',
      'not a url',
    ]) {
      handedOff.splice(0);
      const body = JSON.stringify({
        ...JSON.parse(deliveryBody('dingtalk', ALLOWED)),
        sessionWebhook: url,
        sessionWebhookExpiredTime: Date.now() + 60_000,
      });
      const answer = await send(handlers.handOff, signedRequest('dingtalk', body));
      checkAnswer(answer);
      expect(answer.status, url).toBe(401);
      expect(answer.calls).toEqual([]);
      expect(handedOff.splice(0)).toEqual([]);
    }
  });
});

describe('Hostile input: instance IDs that are not IDs', () => {
  // ALLOWED_INSTANCES=* here: only the ID check stands between a bad ID and an upstream path.
  const WELL_FORMED_CALL = /^\/openapi\/instances\/[a-z]{2}-[a-z0-9][a-z0-9-]{2,62}(?:\/actions\/interrupt)?$/;
  it.each(SOURCES)('%s: never reach an upstream path, under a valid signature', async (source) => {
    for (const id of NOT_IDS) {
      const answer = await send(
        handlers.allowAll,
        deliveryRequest(FN, source, goodDelivery(source, id === '' ? ' ' : id)),
      );
      checkAnswer(answer);
      for (const call of answer.calls) expect(new URL(call).pathname, JSON.stringify(id)).toMatch(WELL_FORMED_CALL);
      if (source === 'generic') expect(answer.status, JSON.stringify(id)).toBe(400);
    }
  });
});

describe('Hostile input: secrets of one sender do not open another', () => {
  it.each(SOURCES)('%s: refuses every other configured secret in its own credential slots', async (source) => {
    const body = deliveryBody(source, ALLOWED);
    const others = allConfiguredSecrets().filter((s) => !Object.values(ownSecrets(source)).flat().includes(s));
    for (const secret of others) {
      const credentials: Credentials = { headers: {}, query: {} };
      credentials.headers.authorization = `Bearer ${secret}`;
      if (source === 'cloudmonitor') credentials.query.token = secret;
      const answer = await send(handlers.main, {
        rawPath: `/${FN}/${source}`,
        headers: { 'content-type': MEDIA_TYPE[source], ...credentials.headers },
        queryParameters: credentials.query,
        body,
        sourceIp: '10.20.30.40',
      });
      checkAnswer(answer);
      expect(answer.calls).toEqual([]);
      expect(answer.status).toBe(401);
    }
  });
});

/** The secrets a sender is configured with. */
const ownSecrets = (source: SourceName): readonly string[] => KITS[source].secrets;
