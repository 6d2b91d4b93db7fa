import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { localContext } from '../local/fc-invoke.ts';
import type { FunctionName } from '../shared/actions.ts';
import type { CommandEvent } from '../shared/async/command-event.ts';
import type { ReplyRequestFn } from '../shared/async/https-reply-sender.ts';
import type { ResponseBody } from '../shared/core/result.ts';
import type { SourceName } from '../shared/sources/registry.ts';
import { useEmulator, wireFunction } from './support/function-harness.ts';
import { captureOutput, outputLines } from './support/log-capture.ts';
import { commandRequester } from './support/requester.ts';
import { deliveryBody, goodDelivery, MEDIA_TYPE, sendersEnv, sign } from './support/senders.ts';

/**
 * Issue 10, part 5: the Feishu tenant access token was attached to a URL taken from a Slack
 * `response_url`. The function here is wired as in the cloud (the real HTTPS reply sender, the
 * bot's tenant token), its hand-off queued and then run as FC runs it; every request the reply
 * sender makes is recorded (URL, authorization) and answered by a local stand-in for Slack,
 * DingTalk and Feishu, which issues tenant tokens to whoever asks.
 */

const NAME: FunctionName = 'interrupt-elasticsearch-task';
const TARGET = 'es-cn-demo-activating';
const APP = { id: 'cli_a8f89f0647789013', secret: 'feishu-app-secret-for-reply-tests', token: 't-g1044ghJ5PKZZ3TOKEN' };
const MESSAGE_ID = 'om_dc13264520392913993dd051dba21dcf';
const FEISHU_REPLY = `https://open.feishu.cn/open-apis/im/v1/messages/${MESSAGE_ID}/reply`;
const FEISHU_TOKEN_URL = 'https://open.feishu.cn/open-apis/auth/v3/tenant_access_token/internal';
const SLACK_REPLY = 'https://hooks.slack.com/commands/T024BE7LD/1234567890123/AbCdEfGhIjKlMnOpQrStUvWx';
const SESSION_WEBHOOK = 'https://oapi.dingtalk.com/robot/sendBySession?session=0ead97e06322594b8581216d8b2c4919';

const upstream = useEmulator();
let standIn: Server;
const sent: Array<{ url: string; authorization?: string; body: string }> = [];
/** The real reply sender's requests, recorded, then sent to the stand-in instead of the Internet. */
const toStandIn: ReplyRequestFn = (url, options) => {
  const { authorization } = (options.headers ?? {}) as Record<string, string>;
  const entry = { url: url.href, ...(authorization ? { authorization } : {}), body: '' };
  sent.push(entry);
  const { port } = standIn.address() as AddressInfo;
  const req = httpRequest({ ...options, host: '127.0.0.1', port, path: `${url.pathname}${url.search}`, agent: false });
  const end = req.end.bind(req);
  req.end = ((chunk?: unknown) => {
    if (Buffer.isBuffer(chunk)) entry.body = chunk.toString('utf8');
    return end(chunk as Buffer);
  }) as typeof req.end;
  return req;
};

beforeAll(async () => {
  standIn = createServer((req, res) => {
    req.resume();
    req.on('end', () =>
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ code: 0, ok: true, tenant_access_token: APP.token, expire: 7200 })),
    );
  });
  await new Promise<void>((resolve) => standIn.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  standIn.closeAllConnections();
  await new Promise((resolve) => standIn.close(resolve));
});
beforeEach(() => {
  sent.splice(0);
});

/** The function with every chat sender and the bot's Feishu app configured, handing chat commands off. */
function deployed() {
  const queued: CommandEvent[] = [];
  const fn = wireFunction(
    upstream.url,
    NAME,
    'slack',
    {
      ...sendersEnv(),
      FEISHU_APP_ID: APP.id,
      FEISHU_APP_SECRET: APP.secret,
      ASYNC_SOURCES: 'slack,dingtalk,feishu',
      // What the chat trust settings of the same issue ask for; everyone here.
      SLACK_ALLOWED_USERS: '*',
      DINGTALK_ALLOWED_USERS: '*',
      FEISHU_ALLOWED_USERS: '*',
      POWERTOOLS_LOG_LEVEL: 'INFO',
    },
    {
      invoker: {
        invoke: async (event: object) => {
          queued.push(event as CommandEvent);
          return { status: 'accepted' as const };
        },
      },
      replyRequest: toStandIn,
    },
  );
  /** Runs a command event as FC's async invocation delivers it. */
  const run = async (command: object) =>
    (await fn.handler(Buffer.from(JSON.stringify(command)), localContext(NAME))) as ResponseBody;
  return { ...fn, queued, run };
}

/** A signed Slack slash command naming the target, with `response_url` as given. */
function slackCommand(responseUrl: string) {
  const fields = new URLSearchParams(deliveryBody('slack', TARGET));
  fields.set('response_url', responseUrl);
  const body = fields.toString();
  return { body, headers: { 'content-type': MEDIA_TYPE.slack, ...sign('slack', body).headers } };
}

/** A command event as the hand-off queues it, for `source`, reporting to `reply`. */
const command = (source: SourceName, reply: CommandEvent['reply']): CommandEvent => ({
  responderCommand: 1,
  function: NAME,
  source,
  targets: [{ instanceId: TARGET, regionId: 'cn-hangzhou', eventKey: `${source}:reply-target-${Math.random()}` }],
  ...commandRequester(source),
  ...(reply ? { reply } : {}),
});

const history = () => upstream.history(TARGET).map((h) => h.action);

describe('Function: a Slack command whose response_url is not Slack’s', () => {
  it.each([
    ['the Feishu message API (the reported attack: the tenant token was attached to it)', FEISHU_REPLY],
    ['Feishu’s token API', FEISHU_TOKEN_URL],
    ['a DingTalk session webhook', SESSION_WEBHOOK],
    ['an attacker’s host', 'https://collect.evil.example/commands/T1/2/abc'],
    ['a look-alike of Slack’s host', 'https://hooks.slack.com.evil.example/commands/T1/2/abc'],
    ['a Slack incoming webhook of another workspace', 'https://hooks.slack.com/services/T9/B9/xyz'],
  ])('is refused when it points at %s: 401, no token, no post, nothing changed', async (_, url) => {
    const fn = deployed();
    const { body, headers } = slackCommand(url);
    const answer = await fn.post(body, headers);
    expect(answer.status).toBe(401);
    expect(fn.queued).toEqual([]);
    expect(fn.calls).toEqual([]);
    expect(history()).toEqual([]);
    expect(sent).toEqual([]);
  });

  it('still acts on a command with Slack’s own response_url, and reports there without any credential', async () => {
    const fn = deployed();
    const { body, headers } = slackCommand(SLACK_REPLY);
    const answer = await fn.post(body, headers);
    expect(answer.status).toBe(200);
    expect(JSON.stringify(answer.body)).toMatch(/accepted/);
    const [queued] = fn.queued;
    expect(queued?.reply).toEqual({ url: SLACK_REPLY });
    expect((await fn.run(queued as CommandEvent)).results).toMatchObject([{ instanceId: TARGET, outcome: 'applied' }]);
    expect(history()).toEqual(['InterruptElasticsearchTask']);
    expect(sent).toEqual([{ url: SLACK_REPLY, body: expect.stringMatching(/applied/) }]);
  });
});

describe('Function: a command event carrying a reply target of another platform', () => {
  it.each<[string, SourceName, CommandEvent['reply']]>([
    ['a Slack command reporting to Feishu’s message API', 'slack', { url: FEISHU_REPLY }],
    ['a Slack command reporting to an attacker', 'slack', { url: 'https://collect.evil.example/x' }],
    ['a Slack command naming a Feishu message', 'slack', { messageId: MESSAGE_ID }],
    ['a DingTalk command reporting to Slack', 'dingtalk', { url: SLACK_REPLY }],
    [
      'a DingTalk command reporting to a robot webhook',
      'dingtalk',
      { url: 'https://oapi.dingtalk.com/robot/send?access_token=x' },
    ],
    ['a Feishu command carrying a URL, even its own reply URL', 'feishu', { url: FEISHU_REPLY }],
    ['a generic command reporting to Slack', 'generic', { url: SLACK_REPLY }],
  ])('%s: runs, posts nothing, fetches no token, and the log says why', async (_, source, reply) => {
    const fn = deployed();
    const { value: result, text } = await captureOutput(() => fn.run(command(source, reply)));
    // The command itself is FC's invocation of this function: it acts as planned.
    expect(result.results).toMatchObject([{ instanceId: TARGET, outcome: 'applied' }]);
    expect(sent).toEqual([]);
    const refused = outputLines(text)
      .map((line) => JSON.parse(line) as { message?: string; code?: string; detail?: string })
      .find((line) => line.message === 'report failed');
    expect(refused).toMatchObject({ code: 'ReplyUrlRefused', detail: expect.stringContaining(source) });
    expect(text).not.toContain(APP.token);
  });

  it.each<[string, SourceName, CommandEvent['reply'], Array<{ url: string; authorization?: string }>]>([
    ['Slack, to its response_url', 'slack', { url: SLACK_REPLY }, [{ url: SLACK_REPLY }]],
    ['DingTalk, to its session webhook', 'dingtalk', { url: SESSION_WEBHOOK }, [{ url: SESSION_WEBHOOK }]],
    [
      'Feishu, to the reply URL built from the message ID, the one request with the token',
      'feishu',
      { messageId: MESSAGE_ID },
      [{ url: FEISHU_TOKEN_URL }, { url: FEISHU_REPLY, authorization: `Bearer ${APP.token}` }],
    ],
  ])('reports %s', async (_, source, reply, expected) => {
    const fn = deployed();
    const result = await fn.run(command(source, reply));
    expect(result.results).toMatchObject([{ outcome: 'applied' }]);
    expect(sent.map(({ url, authorization }) => ({ url, ...(authorization ? { authorization } : {}) }))).toEqual(
      expected,
    );
    if (source === 'feishu') {
      // The app secret went to the token API of the configured base, and nowhere else.
      expect(JSON.parse(sent[0]?.body ?? '{}')).toEqual({ app_id: APP.id, app_secret: APP.secret });
      expect(sent.slice(1).some((request) => request.body.includes(APP.secret))).toBe(false);
    }
  });

  it('hands off a signed Feishu message with its message ID, never a URL, and replies to that message', async () => {
    const fn = deployed();
    const delivery = goodDelivery('feishu', TARGET);
    const answer = await fn.post(
      delivery.body,
      { 'content-type': MEDIA_TYPE.feishu, ...delivery.credentials.headers },
      'feishu',
    );
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const queued = fn.queued[0] as CommandEvent;
    expect(queued.reply).toEqual({ messageId: expect.stringMatching(/^om_/) });
    await fn.run(queued);
    const { messageId } = queued.reply as { messageId: string };
    expect(sent.map((request) => request.url)).toEqual([
      FEISHU_TOKEN_URL,
      `https://open.feishu.cn/open-apis/im/v1/messages/${messageId}/reply`,
    ]);
  });
});
