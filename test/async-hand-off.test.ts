import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LOCAL_BEARER_TOKEN } from '../local/defaults.ts';
import { type LocalServer, startLocal } from '../local/server.ts';
import { slackSignature } from '../shared/auth/slack-signature.ts';
import type { ResponseBody } from '../shared/core/result.ts';

/**
 * The async hand-off in local mode, end to end: the HTTP path answers at once with `accepted`,
 * the real @alicloud/fc2 client invokes the emulated FC API, which runs the same function with
 * the internal command event; a duplicate delivery is refused by the invocation ID.
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
    expect(runs[0]).toMatchObject({ status: 'succeeded', invocationId: `rsp1_${body.results[0]?.clientToken}` });
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

  it('hands off one invocation per target, each under its own token', async () => {
    const response = await deliver('handoff-many', ['es-cn-demo-activating', 'es-cn-demo-migrating']);
    const body = (await response.json()) as ResponseBody;
    expect(body.results.map((r) => r.outcome)).toEqual(['accepted', 'accepted']);
    await local.fcInvoke.idle();
    expect(history('es-cn-demo-activating')).toHaveLength(1);
    expect(history('es-cn-demo-migrating')).toHaveLength(1);
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

describe('Function: a Slack slash command handed off in local mode', () => {
  const SECRET = 'slack-signing-secret-for-local-tests';
  let slackLocal: LocalServer;
  beforeAll(async () => {
    slackLocal = await startLocal({
      port: 0,
      env: { PATH: process.env.PATH, SLACK_SIGNING_SECRETS: SECRET, POWERTOOLS_LOG_LEVEL: 'SILENT' },
    });
  });
  afterAll(() => slackLocal.close());

  const command = (triggerId: string) => {
    const body = new URLSearchParams({
      token: 'deprecated-verification-token',
      team_id: 'T0001',
      channel_id: 'C2147483705',
      channel_name: 'sre-oncall',
      user_id: 'U2147483697',
      user_name: 'oncall',
      command: '/es-interrupt',
      text: 'es-cn-demo-activating rollout stuck',
      response_url: 'https://hooks.slack.com/commands/T0001/1234567890/abcdefABCDEF',
      trigger_id: triggerId,
    }).toString();
    const ts = Math.floor(Date.now() / 1000);
    return {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': String(ts),
        'x-slack-signature': slackSignature(SECRET, ts, body),
      },
      body,
    };
  };

  it('acknowledges well under 3 s despite a slow, faulty API, changes once, and posts the outcome to response_url', async () => {
    // Every API attempt takes 400 ms and the first ones fail: a synchronous run could not answer in 3 s.
    slackLocal.emulator.setFaults({ latencyMs: 400, throttle: 0.6, seed: 13 });
    const started = performance.now();
    const response = await fetch(
      `${slackLocal.url}/interrupt-elasticsearch-task/slack`,
      command('13345224609.738474920.8088930838d88f008e0'),
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
    const snapshot = slackLocal.emulator.controlPlane.snapshot();
    const history = snapshot.instances.find((i) => i.instanceId === 'es-cn-demo-activating')?.history ?? [];
    expect(history).toHaveLength(1);

    const replies = (await (await fetch(`${slackLocal.url}/emulator/replies`)).json()) as {
      replies: Array<{ url: string; body: { response_type: string; text: string }; at: string }>;
    };
    expect(replies.replies).toHaveLength(1);
    expect(replies.replies[0]?.url).toBe('https://hooks.slack.com/commands/T0001/1234567890/abcdefABCDEF');
    expect(replies.replies[0]?.body.text).toMatch(/applied/);
    expect(replies.replies[0]?.body.text).toContain(history[0]?.clientToken as string);
  });

  it('runs a source that ASYNC_SOURCES does not list (by default: anything but chat) synchronously', async () => {
    slackLocal.emulator.reset();
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
  });

  it('refuses a duplicate delivery of the same command by its invocation ID', async () => {
    slackLocal.emulator.reset();
    slackLocal.emulator.setFaults({});
    await slackLocal.fcInvoke.idle();
    slackLocal.fcInvoke.reset();
    slackLocal.replies.clear();
    const delivery = command('13345224609.738474920.duplicate');
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
