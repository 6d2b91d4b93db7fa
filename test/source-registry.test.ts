import { describe, expect, it } from 'vitest';
import { createReplayGuard } from '../shared/auth/replay-guard.ts';
import { CONFIG_ENV_VARS, parseConfig } from '../shared/config.ts';
import { MAX_REMEMBERED_PAIRS } from '../shared/sources/dingtalk/dingtalk.ts';
import { createSources, SOURCE_NAMES, SOURCES } from '../shared/sources/registry.ts';
import type { InboundRequest } from '../shared/sources/source.ts';
import { DINGTALK_SECRETS, dingTalkSign, freshMillis } from './fixtures/dingtalk/kit.ts';
import { fixture as feishuFixture } from './fixtures/feishu/kit.ts';
import { SLACK_SECRETS, fixture as slackFixture, slackSignature } from './fixtures/slack/kit.ts';
import { sendersEnv } from './support/senders.ts';

/**
 * A sender is one definition in the registry: its variables are its own section of the
 * configuration, and its verify decides (verified, handshake or refused) before parse reads only
 * what verify vouched for, with no bookkeeping between the two calls.
 */

const config = () => parseConfig({ ...sendersEnv(), ALLOWED_INSTANCES: '*' });

function request(body: string, headers: Record<string, string>, receivedAt = new Date()): InboundRequest {
  return {
    method: 'POST',
    url: new URL('https://fc.example.test/interrupt-elasticsearch-task/x'),
    headers: new Headers(headers),
    body: new Uint8Array(Buffer.from(body)),
    receivedAt,
    deadline: receivedAt.getTime() + 2500,
  };
}

const slackCommand = () => new URLSearchParams(slackFixture('command')).toString();
const signedNow = (body: string) => slackSignature(body, SLACK_SECRETS[1], Math.floor(Date.now() / 1000));

describe('Function: the source registry', () => {
  it('lists every sender of the contract once, in the order routes name them', () => {
    expect(SOURCE_NAMES).toEqual(['generic', 'alertmanager', 'grafana', 'cloudmonitor', 'slack', 'dingtalk', 'feishu']);
  });

  it.each(SOURCES.map((source) => [source.name, source] as const))(
    'composes the variables of %s into the configuration, its secrets among them',
    (_name, source) => {
      const variables = Object.keys(source.variables);
      expect(CONFIG_ENV_VARS).toEqual(expect.arrayContaining(variables));
      expect(variables).toEqual(expect.arrayContaining([...source.secretVariables]));
      // No variable belongs to two sections.
      for (const other of SOURCES.filter((s) => s !== source)) {
        expect(Object.keys(other.variables).filter((v) => variables.includes(v))).toEqual([]);
      }
    },
  );

  it("gives each sender its own section's settings, and a bad value names the variable", () => {
    const parsed = parseConfig({ SLACK_SIGNING_SECRETS: 'a,b', DINGTALK_MAX_AGE_SECONDS: '60' });
    expect(parsed.sources.slack).toEqual({ signingSecrets: ['a', 'b'] });
    expect(parsed.sources.dingtalk).toEqual({ appSecrets: [], maxAgeMs: 60_000, robotCodes: [] });
    expect(() => parseConfig({ DINGTALK_MAX_AGE_SECONDS: '0', MAX_TARGETS_PER_EVENT: 'x' })).toThrow(
      /DINGTALK_MAX_AGE_SECONDS: must be a whole number from 1 to 3600; MAX_TARGETS_PER_EVENT: /,
    );
  });

  it('builds a sender on first use only, once', async () => {
    const sources = createSources(config());
    const first = sources.slack();
    expect(sources.slack()).toBe(first);
    expect((await first).name).toBe('slack');
    expect((await sources.generic()).secretVariables).toEqual(['GENERIC_WEBHOOK_SECRETS', 'GENERIC_BEARER_TOKENS']);
  });
});

describe('Function: verify, then parse', () => {
  it('verifies a signed Slack command, and parse reads the verified fields', async () => {
    const slack = await createSources(config()).slack();
    const body = slackCommand();
    const verdict = await slack.verify(request(body, signedNow(body)));
    expect(verdict.kind).toBe('verified');
    if (verdict.kind !== 'verified') return;
    expect(slack.parse(verdict.value).items).toEqual([
      { instanceId: 'es-cn-demo-activating', eventKey: `slack:${slackFixture('command').trigger_id}` },
    ]);
  });

  it('needs nothing from the verify call before it: another instance of the sender parses the verified value', async () => {
    const body = slackCommand();
    const verdict = await (await createSources(config()).slack()).verify(request(body, signedNow(body)));
    if (verdict.kind !== 'verified') throw new Error(`not verified: ${verdict.kind}`);
    const other = await createSources(config()).slack();
    expect(other.parse(verdict.value).requester?.userIds).toEqual(['U2147483697']);
  });

  it("answers Slack's unsigned ssl_check as a handshake, and refuses any other unsigned body with the log's reason", async () => {
    const slack = await createSources(config()).slack();
    const check = new URLSearchParams(slackFixture('ssl-check')).toString();
    expect(await slack.verify(request(check, {}))).toEqual({ kind: 'handshake', reply: { status: 200, body: {} } });
    expect(await slack.verify(request(slackCommand(), {}))).toEqual({
      kind: 'refused',
      reason: expect.stringMatching(/^missing header/),
    });
  });

  it("answers Feishu's URL verification as a handshake when its token matches", async () => {
    const feishu = await createSources(config()).feishu();
    const challenge = JSON.stringify(feishuFixture('challenge'));
    expect(await feishu.verify(request(challenge, {}))).toEqual({
      kind: 'handshake',
      reply: { status: 200, body: { challenge: 'ajls384kdjx98XX' } },
    });
    const wrong = JSON.stringify({ ...feishuFixture('challenge'), token: 'guess' });
    expect(await feishu.verify(request(wrong, {}))).toEqual({ kind: 'refused', reason: 'verification token mismatch' });
  });

  it('refuses a DingTalk timestamp/sign pair that comes again with another body', async () => {
    const dingtalk = await createSources(config()).dingtalk();
    const ms = freshMillis();
    const headers = { timestamp: String(ms), sign: dingTalkSign(DINGTALK_SECRETS[1], ms) };
    const body = (text: string) =>
      JSON.stringify({ msgtype: 'text', msgId: 'm1', robotCode: 'dingrm6i0xivnymx4jyr', text: { content: text } });
    expect((await dingtalk.verify(request(body('es-cn-demo-activating'), headers))).kind).toBe('verified');
    expect((await dingtalk.verify(request(body('es-cn-demo-activating'), headers))).kind).toBe('verified');
    expect(await dingtalk.verify(request(body('es-cn-other'), headers))).toEqual({
      kind: 'refused',
      reason: 'this timestamp/sign pair already came with another body (a replayed pair)',
    });
  });
});

describe('Function: the DingTalk sender, when its own pair memory is full', () => {
  const callback = (ms: number) => ({ timestamp: String(ms), sign: dingTalkSign(DINGTALK_SECRETS[1], ms) });
  const body = (msgId: string) =>
    JSON.stringify({ msgtype: 'text', msgId, robotCode: 'dingrm6i0xivnymx4jyr', text: { content: 'es-cn-demo-1' } });
  const FULL = {
    kind: 'refused',
    reason: 'every timestamp/sign pair remembered is still inside its window; refused rather than forget one',
  };

  it('refuses a new signed callback rather than forget a live pair, and takes new ones again once pairs expire', async () => {
    const t0 = Date.now();
    const dingtalk = await createSources(config(), { replayMemory: createReplayGuard({ maxEntries: 2 }) }).dingtalk();
    const at = (ms: number) => new Date(ms);
    expect((await dingtalk.verify(request(body('m1'), callback(t0), at(t0)))).kind).toBe('verified');
    expect((await dingtalk.verify(request(body('m2'), callback(t0 + 1), at(t0 + 1)))).kind).toBe('verified');
    expect(await dingtalk.verify(request(body('m3'), callback(t0 + 2), at(t0 + 2)))).toEqual(FULL);
    // The pairs it holds are still spent: a retried delivery passes, another body does not.
    expect((await dingtalk.verify(request(body('m1'), callback(t0), at(t0 + 3)))).kind).toBe('verified');
    expect((await dingtalk.verify(request(body('m9'), callback(t0), at(t0 + 3)))).kind).toBe('refused');
    // Five minutes on, the first two pairs' windows have closed: a new callback is remembered again.
    const later = t0 + 5 * 60_000 + 2;
    expect((await dingtalk.verify(request(body('m4'), callback(later), at(later)))).kind).toBe('verified');
  });

  it(`refuses the signed callback past ${MAX_REMEMBERED_PAIRS} live pairs in the memory it keeps without a store`, async () => {
    const dingtalk = await createSources(config()).dingtalk();
    const t0 = Date.now() - 60_000;
    const now = new Date();
    for (let i = 0; i < MAX_REMEMBERED_PAIRS; i++) {
      const verdict = await dingtalk.verify(request(body(`m${i}`), callback(t0 + i), now));
      if (verdict.kind !== 'verified') throw new Error(`callback ${i} not verified: ${JSON.stringify(verdict)}`);
    }
    expect(await dingtalk.verify(request(body('one-more'), callback(t0 + MAX_REMEMBERED_PAIRS), now))).toEqual(FULL);
  });
});
