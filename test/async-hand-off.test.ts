import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LOCAL_BEARER_TOKEN } from '../local/defaults.ts';
import { type LocalServer, startLocal } from '../local/server.ts';
import type { CommandEvent } from '../shared/async/command-event.ts';
import { handOffIdFor } from '../shared/async/invoker.ts';
import { dingTalkSign } from '../shared/auth/dingtalk-sign.ts';
import { slackSignature } from '../shared/auth/slack-signature.ts';
import type { ResponseBody } from '../shared/core/result.ts';
import { parseCommandText } from '../shared/sources/chat-command.ts';
import feishuMessage from './fixtures/feishu/message.json' with { type: 'json' };

/**
 * The async hand-off in local mode, end to end: the HTTP path answers at once with `accepted`,
 * the function invokes itself through the emulated FC API (FC 3.0's by default, FC 2.0's through
 * the real @alicloud/fc2 client when ASYNC_SERVICE_NAME is set), which runs the same function
 * with the internal command event; a duplicate delivery is refused by the task ID.
 */
let local: LocalServer;
beforeAll(async () => {
  local = await startLocal({
    port: 0,
    env: { PATH: process.env.PATH, ASYNC_SOURCES: 'generic,slack,dingtalk,feishu', POWERTOOLS_LOG_LEVEL: 'SILENT' },
  });
});
afterAll(() => local.close());
beforeEach(async () => {
  await local.fcInvoke.idle();
  local.fcInvoke.reset();
  local.replies.clear();
  local.emulator.reset();
  local.emulator.setFaults({});
});

const history = (id: string) =>
  local.emulator.controlPlane.snapshot().instances.find((i) => i.instanceId === id)?.history ?? [];

function deliver(key: string, instanceIds: string[] = ['es-cn-demo-activating']) {
  return fetch(`${local.url}/interrupt-elasticsearch-task/generic`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${LOCAL_BEARER_TOKEN}`,
      'idempotency-key': key,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ instanceIds }),
  });
}

describe('Function: async hand-off in local mode', () => {
  it('answers 202 accepted before the change, which then happens exactly once', async () => {
    local.emulator.setFaults({ latencyMs: 200 });
    const response = await deliver('handoff-1');
    expect(response.status).toBe(202);
    const body = (await response.json()) as ResponseBody;
    expect(body.results[0]).toMatchObject({
      instanceId: 'es-cn-demo-activating',
      outcome: 'accepted',
      clientToken: expect.stringMatching(/^ies1-/),
    });
    // Answered while the emulator still holds the call for 200 ms: nothing has changed yet.
    expect(history('es-cn-demo-activating')).toHaveLength(0);

    await local.fcInvoke.idle();
    expect(history('es-cn-demo-activating')).toEqual([
      { action: 'InterruptElasticsearchTask', clientToken: body.results[0]?.clientToken, at: expect.any(String) },
    ]);
    const runs = local.fcInvoke.invocations().filter((i) => i.functionName === 'interrupt-elasticsearch-task');
    expect(runs).toHaveLength(1);
    // By default through FC 3.0's own API, the task ID derived from the clientToken.
    expect(runs[0]).toMatchObject({
      api: '2023-03-30',
      status: 'succeeded',
      invocationId: `rsp1_${body.results[0]?.clientToken}`,
    });
  });

  it('refuses a duplicate hand-off by its invocation ID, and reports it as accepted', async () => {
    const first = (await (await deliver('handoff-dup')).json()) as ResponseBody;
    const second = await deliver('handoff-dup');
    expect(second.status).toBe(202);
    const again = (await second.json()) as ResponseBody;
    expect(again.results[0]).toMatchObject({ outcome: 'accepted', clientToken: first.results[0]?.clientToken });
    expect(again.results[0]?.message).toMatch(/already handed off/);
    await local.fcInvoke.idle();
    expect(local.fcInvoke.invocations().filter((i) => i.status === 'succeeded')).toHaveLength(1);
    expect(history('es-cn-demo-activating')).toHaveLength(1);
  });

  it('hands off one command for all of an event’s targets, each changed once under its own token', async () => {
    const response = await deliver('handoff-many', ['es-cn-demo-activating', 'es-cn-demo-migrating']);
    const body = (await response.json()) as ResponseBody;
    expect(body.results.map((r) => r.outcome)).toEqual(['accepted', 'accepted']);
    const tokens = body.results.map((r) => r.clientToken as string);
    expect(new Set(tokens).size).toBe(2);
    await local.fcInvoke.idle();
    const [run, ...more] = local.fcInvoke.invocations();
    expect(more).toEqual([]);
    expect(run?.invocationId).toBe(handOffIdFor(tokens));
    expect((JSON.parse(run?.payload ?? '{}') as CommandEvent).targets.map((t) => t.instanceId)).toEqual([
      'es-cn-demo-activating',
      'es-cn-demo-migrating',
    ]);
    expect(history('es-cn-demo-activating').map((h) => h.clientToken)).toEqual([tokens[0]]);
    expect(history('es-cn-demo-migrating').map((h) => h.clientToken)).toEqual([tokens[1]]);
  });

  it('retries the command invocation when the API fails for a while, and still changes once', async () => {
    local.emulator.setFaults({ serverError: 1 });
    const response = await deliver('handoff-faults');
    expect(response.status).toBe(202);
    // Let the first run fail on 5xx, then heal the API: FC's async retry (same event, same token) completes it.
    await new Promise<void>((resolve) => {
      const check = () =>
        local.fcInvoke.invocations().some((i) => (i as { attempts?: number }).attempts ?? 0)
          ? resolve()
          : setImmediate(check);
      check();
    });
    local.emulator.setFaults({});
    await local.fcInvoke.idle();
    expect(history('es-cn-demo-activating')).toHaveLength(1);
  });
});

const SLACK_SECRET = 'slack-signing-secret-for-local-tests';
const RESPONSE_URL = 'https://hooks.slack.com/commands/T0001/1234567890/abcdefABCDEF';

/** A slash command as Slack sends it, signed now. */
function slackCommand(triggerId: string, text = 'es-cn-demo-activating rollout stuck'): RequestInit {
  const body = new URLSearchParams({
    token: 'deprecated-verification-token',
    team_id: 'T0001',
    channel_id: 'C2147483705',
    channel_name: 'sre-oncall',
    user_id: 'U2147483697',
    user_name: 'oncall',
    command: '/es-interrupt',
    text,
    response_url: RESPONSE_URL,
    trigger_id: triggerId,
  }).toString();
  const ts = Math.floor(Date.now() / 1000);
  return {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(ts),
      'x-slack-signature': slackSignature(SLACK_SECRET, ts, body),
    },
    body,
  };
}

describe.each([
  { path: 'FC 3.0 (default settings)', env: {}, api: '2023-03-30' },
  { path: 'FC 2.0 (ASYNC_SERVICE_NAME set)', env: { ASYNC_SERVICE_NAME: 'es-change-responder' }, api: '2016-08-15' },
])('Function: a Slack slash command handed off in local mode, through $path', ({ env, api }) => {
  let slackLocal: LocalServer;
  beforeAll(async () => {
    slackLocal = await startLocal({
      port: 0,
      env: { PATH: process.env.PATH, SLACK_SIGNING_SECRETS: SLACK_SECRET, POWERTOOLS_LOG_LEVEL: 'SILENT', ...env },
    });
  });
  afterAll(() => slackLocal.close());
  beforeEach(async () => {
    await slackLocal.fcInvoke.idle();
    slackLocal.fcInvoke.reset();
    slackLocal.replies.clear();
    slackLocal.emulator.reset();
    slackLocal.emulator.setFaults({});
  });

  const slackHistory = (id: string) =>
    slackLocal.emulator.controlPlane.snapshot().instances.find((i) => i.instanceId === id)?.history ?? [];

  it(`acknowledges well under 3 s despite a slow, faulty API, changes once through the ${api} route, and posts the outcome to response_url`, async () => {
    // Every API attempt takes 400 ms and the first ones fail: a synchronous run could not answer in 3 s.
    slackLocal.emulator.setFaults({ latencyMs: 400, throttle: 0.6, seed: 13 });
    const started = performance.now();
    const response = await fetch(
      `${slackLocal.url}/interrupt-elasticsearch-task/slack`,
      slackCommand('13345224609.738474920.8088930838d88f008e0'),
    );
    const elapsed = performance.now() - started;
    expect(response.status).toBe(200);
    const reply = (await response.json()) as { response_type: string; text: string };
    expect(reply.response_type).toBe('in_channel');
    expect(reply.text).toMatch(/es-cn-demo-activating/);
    expect(reply.text).toMatch(/accepted/);
    // Generous bound for a loaded CI machine; the synchronous path would need > 1.2 s of latency alone.
    expect(elapsed).toBeLessThan(2500);

    await slackLocal.fcInvoke.idle();
    const history = slackHistory('es-cn-demo-activating');
    expect(history).toHaveLength(1);
    expect(slackLocal.fcInvoke.invocations().map((i) => [i.api, i.status])).toEqual([[api, 'succeeded']]);

    const replies = (await (await fetch(`${slackLocal.url}/emulator/replies`)).json()) as {
      replies: Array<{ url: string; body: { response_type: string; text: string }; at: string }>;
    };
    expect(replies.replies).toHaveLength(1);
    expect(replies.replies[0]?.url).toBe(RESPONSE_URL);
    expect(replies.replies[0]?.body.text).toMatch(/applied/);
    expect(replies.replies[0]?.body.text).toContain(history[0]?.clientToken as string);
  });

  it('reports a command naming several instances in one message, each changed once', async () => {
    const ids = ['es-cn-demo-activating', 'es-cn-demo-migrating', 'es-cn-demo-suspended'];
    const response = await fetch(
      `${slackLocal.url}/interrupt-elasticsearch-task/slack`,
      slackCommand('13345224609.738474920.several', `${ids.join(' ')} stuck`),
    );
    expect(((await response.json()) as { text: string }).text).toMatch(/3 accepted/);
    await slackLocal.fcInvoke.idle();
    expect(slackLocal.fcInvoke.invocations()).toHaveLength(1);
    const replies = slackLocal.replies.replies();
    expect(replies).toHaveLength(1);
    const text = (replies[0]?.body as { text?: string } | undefined)?.text ?? '';
    for (const id of ids) expect(text).toContain(id);
    expect(slackHistory('es-cn-demo-activating')).toHaveLength(1);
    expect(slackHistory('es-cn-demo-migrating')).toHaveLength(1);
  });

  it('runs a source that ASYNC_SOURCES does not list (by default: anything but chat) synchronously', async () => {
    const response = await fetch(`${slackLocal.url}/interrupt-elasticsearch-task/generic`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${LOCAL_BEARER_TOKEN}`,
        'idempotency-key': 'sync-1',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ instanceIds: ['es-cn-demo-activating'] }),
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as ResponseBody).results[0]?.outcome).toBe('applied');
    expect(slackLocal.fcInvoke.invocations()).toEqual([]);
  });

  it('refuses a duplicate delivery of the same command by its task ID', async () => {
    const delivery = slackCommand('13345224609.738474920.duplicate');
    const first = await fetch(`${slackLocal.url}/interrupt-elasticsearch-task/slack`, delivery);
    const second = await fetch(`${slackLocal.url}/interrupt-elasticsearch-task/slack`, delivery);
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(((await second.json()) as { text: string }).text).toMatch(/already handed off/);
    await slackLocal.fcInvoke.idle();
    const runs = slackLocal.fcInvoke.invocations().filter((i) => i.status === 'succeeded');
    expect(runs).toHaveLength(1);
    expect(slackLocal.replies.replies()).toHaveLength(1);
  });
});

describe('Function: DingTalk and Feishu commands handed off in local mode report back', () => {
  const DINGTALK_SECRET = 'dingtalk-app-secret-for-local-tests';
  const FEISHU_ENCRYPT_KEY = 'feishu-encrypt-key-for-local-tests';
  const FEISHU_APP_SECRET = 'feishu-app-secret-for-local-tests';
  let chatLocal: LocalServer;
  beforeAll(async () => {
    chatLocal = await startLocal({
      port: 0,
      env: {
        PATH: process.env.PATH,
        DINGTALK_APP_SECRETS: DINGTALK_SECRET,
        FEISHU_ENCRYPT_KEYS: FEISHU_ENCRYPT_KEY,
        FEISHU_APP_ID: 'cli_a8f89f0647789013',
        FEISHU_APP_SECRET,
        POWERTOOLS_LOG_LEVEL: 'SILENT',
      },
    });
  });
  afterAll(() => chatLocal.close());
  beforeEach(async () => {
    await chatLocal.fcInvoke.idle();
    chatLocal.fcInvoke.reset();
    chatLocal.replies.clear();
    chatLocal.emulator.reset();
  });

  it('posts the DingTalk outcome to the session webhook', async () => {
    const ts = Date.now();
    const webhook = 'https://oapi.dingtalk.com/robot/sendBySession?session=c0ffee';
    const response = await fetch(`${chatLocal.url}/interrupt-elasticsearch-task/dingtalk`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', timestamp: String(ts), sign: dingTalkSign(DINGTALK_SECRET, ts) },
      body: JSON.stringify({
        msgtype: 'text',
        text: { content: ' es-cn-demo-activating 变更卡住，先中断' },
        msgId: 'msgQ1w2E3r4T5y6U7i8O9p0==',
        createAt: ts,
        conversationId: 'cidABCDEF==',
        conversationTitle: 'SRE 值班',
        senderNick: 'oncall',
        // Local mode's demo user (DINGTALK_ALLOWED_USERS): chat commands act only for allowed people.
        senderStaffId: 'manager8502',
        sessionWebhook: webhook,
        sessionWebhookExpiredTime: ts + 3_600_000,
      }),
    });
    expect(response.status).toBe(200);
    const inline = (await response.json()) as { msgtype: string; text: { content: string } };
    expect(inline.text.content).toMatch(/accepted/);
    await chatLocal.fcInvoke.idle();
    const [reply] = chatLocal.replies.replies();
    expect(reply?.url).toBe(webhook);
    expect(reply?.body).toMatchObject({ msgtype: 'text', text: { content: expect.stringMatching(/applied.*ies1-/s) } });
  });

  it('replies to the Feishu message through the message API, without leaking the app secret', async () => {
    const event = structuredClone(feishuMessage);
    const sent = JSON.stringify(event);
    // Signed as Feishu signs with an Encrypt Key: events act only when signed (FEISHU_ALLOW_TOKEN_ONLY unset).
    const timestamp = String(Math.floor(Date.now() / 1000));
    const nonce = 'n0nce';
    const response = await fetch(`${chatLocal.url}/interrupt-elasticsearch-task/feishu`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-lark-request-timestamp': timestamp,
        'x-lark-request-nonce': nonce,
        'x-lark-signature': createHash('sha256')
          .update(`${timestamp}${nonce}${FEISHU_ENCRYPT_KEY}${sent}`)
          .digest('hex'),
      },
      body: sent,
    });
    expect(response.status).toBe(200);
    await chatLocal.fcInvoke.idle();
    const replies = chatLocal.replies.replies();
    expect(replies).toHaveLength(1);
    expect(replies[0]?.url).toBe(
      `https://open.feishu.cn/open-apis/im/v1/messages/${event.event.message.message_id}/reply`,
    );
    const body = replies[0]?.body as { msg_type: string; content: string };
    expect(body.msg_type).toBe('text');
    expect((JSON.parse(body.content) as { text: string }).text).toMatch(/es-cn-demo-activating.*applied.*ies1-/s);
    expect(JSON.stringify(replies)).not.toContain(FEISHU_APP_SECRET);
    const history = chatLocal.emulator.controlPlane
      .snapshot()
      .instances.find((i) => i.instanceId === 'es-cn-demo-activating');
    expect(history?.history).toHaveLength(1);
  });
});

describe('Function: a hand-off whose run failed for good, then the sender’s retry', () => {
  let failing: LocalServer;
  beforeAll(async () => {
    failing = await startLocal({
      port: 0,
      env: {
        PATH: process.env.PATH,
        ASYNC_SOURCES: 'generic',
        // Each run gives up quickly, so FC's async retries (3) are spent in a moment.
        COMMAND_DEADLINE_MS: '200',
        UPSTREAM_TIMEOUT_MS: '100',
        POWERTOOLS_LOG_LEVEL: 'SILENT',
      },
    });
  });
  afterAll(() => failing.close());
  beforeEach(async () => {
    await failing.fcInvoke.idle();
    failing.fcInvoke.reset();
    failing.emulator.reset();
    failing.emulator.setFaults({});
  });

  const deliverTo = (key: string) =>
    fetch(`${failing.url}/interrupt-elasticsearch-task/generic`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${LOCAL_BEARER_TOKEN}`,
        'idempotency-key': key,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ instanceIds: ['es-cn-demo-activating'] }),
    });
  const changes = () =>
    failing.emulator.controlPlane.snapshot().instances.find((i) => i.instanceId === 'es-cn-demo-activating')?.history ??
    [];

  it.each([
    // The API refuses every attempt: nothing changes until the sender's retry runs again.
    { fault: 'serverError', changesAfterFailure: 0 },
    // The API applies the first attempt and every reply is lost: the retry finds it done (same clientToken).
    { fault: 'dropResponse', changesAfterFailure: 1 },
  ])(
    'with $fault on every call: the retry runs again under a new task ID, and the change happens once',
    async ({ fault, changesAfterFailure }) => {
      failing.emulator.setFaults({ [fault]: 1 });
      const first = (await (await deliverTo(`failed-for-good-${fault}`)).json()) as ResponseBody;
      const token = first.results[0]?.clientToken as string;
      await failing.fcInvoke.idle();
      expect(failing.fcInvoke.invocations()).toEqual([
        expect.objectContaining({ invocationId: `rsp1_${token}`, status: 'failed', attempts: 4 }),
      ]);
      expect(changes()).toHaveLength(changesAfterFailure);

      // The sender retries the same delivery once the API is healthy again: same event key, same clientToken.
      failing.emulator.setFaults({});
      const retry = await deliverTo(`failed-for-good-${fault}`);
      expect(retry.status).toBe(202);
      const retried = (await retry.json()) as ResponseBody;
      expect(retried.results[0]).toMatchObject({ outcome: 'accepted', clientToken: token });
      expect(retried.results[0]?.message).not.toMatch(/already handed off/);
      await failing.fcInvoke.idle();
      expect(failing.fcInvoke.invocations().map((i) => [i.invocationId, i.status])).toEqual([
        [`rsp1_${token}`, 'failed'],
        [`g2_rsp1_${token}`, 'succeeded'],
      ]);
      expect(changes().map((h) => h.clientToken)).toEqual([token]);

      // A further retry finds the hand-off done: reported as one hand-off, nothing runs again.
      const again = (await (await deliverTo(`failed-for-good-${fault}`)).json()) as ResponseBody;
      expect(again.results[0]?.message).toMatch(/already handed off/);
      await failing.fcInvoke.idle();
      expect(failing.fcInvoke.invocations()).toHaveLength(2);
      expect(changes()).toHaveLength(1);
    },
  );
});

describe('File: README.md, the Slack follow-up example', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf('### Slack (slash commands)');
  const section = readme.slice(start, readme.indexOf('\n### ', start + 1));
  const commandText = /`\/es-interrupt ([^`]+)`/.exec(section)?.[1] ?? '';
  const allowed = /`ALLOWED_INSTANCES=([^`]+)`/.exec(section)?.[1] ?? '';
  const [acknowledgement, followUp] = [...section.matchAll(/```text\n([\s\S]*?)\n```/g)].map((m) => m[1]);
  /** What varies from run to run, written in the README as placeholders. */
  const placeholders = (text: string) =>
    text.replace(/ies1-[0-9a-f]{40}/g, 'ies1-…').replace(/[0-9A-F]{8}(?:-[0-9A-F]{4}){3}-[0-9A-F]{12}/g, '…');

  let readmeLocal: LocalServer;
  beforeAll(async () => {
    readmeLocal = await startLocal({
      port: 0,
      env: {
        PATH: process.env.PATH,
        SLACK_SIGNING_SECRETS: SLACK_SECRET,
        ALLOWED_INSTANCES: allowed,
        POWERTOOLS_LOG_LEVEL: 'SILENT',
      },
    });
    // Every instance the example names and allows exists, with a change running.
    const named = parseCommandText(commandText).instanceIds.filter((id) => id.startsWith(allowed.replace('*', '')));
    readmeLocal.emulator.reset(named.map((instanceId) => ({ instanceId, status: 'activating' as const })));
  });
  afterAll(() => readmeLocal.close());

  it('shows the command, the acknowledgement and the one follow-up message exactly as posted', async () => {
    expect(commandText).not.toBe('');
    expect(allowed).not.toBe('');
    const response = await fetch(
      `${readmeLocal.url}/interrupt-elasticsearch-task/slack`,
      slackCommand('13345224609.738474920.readme', commandText),
    );
    const inline = ((await response.json()) as { text: string }).text;
    expect(placeholders(inline)).toBe(acknowledgement);
    await readmeLocal.fcInvoke.idle();
    const posted = readmeLocal.replies.replies();
    expect(posted).toHaveLength(1);
    expect(placeholders((posted[0]?.body as { text?: string } | undefined)?.text ?? '')).toBe(followUp);
  });
});
