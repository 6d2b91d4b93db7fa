import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { FunctionName } from '../shared/actions.ts';
import type { Env } from '../shared/config.ts';
import { expectedToken, fixtureLoader, useEmulator, wireFunction } from './support/function-harness.ts';

const APP_SECRET = 'dt-app-secret-Xr7Kq2mLpW9sVb4nTz6yHc1dFg8jA3eU0oQi5';
const ROTATED_SECRET = 'dt-rotated-secret-Nq4Wv8cKx2mZp6rTb1yLs9dHf3gJa7eU';
const HOUR_MS = 60 * 60 * 1000;

interface DingTalkMessage {
  msgId?: string;
  msgtype: string;
  text?: { content: string };
  [key: string]: unknown;
}
type FixtureName = 'message' | 'multi' | 'no-instance' | 'malformed';
/** A real robot callback body, cloned: a test may mutate its copy freely. */
const fixture = fixtureLoader<DingTalkMessage, FixtureName>('dingtalk');

/** Signed at run time, independently of the code under test: base64 HMAC-SHA256(secret, `ts\nsecret`). */
function signed(options: { secret?: string; timestamp?: number } = {}): Record<string, string> {
  const secret = options.secret ?? APP_SECRET;
  const timestamp = String(options.timestamp ?? Date.now());
  return {
    'content-type': 'application/json; charset=utf-8',
    timestamp,
    sign: createHmac('sha256', secret).update(`${timestamp}\n${secret}`).digest('base64'),
  };
}

const upstream = useEmulator();
const { state } = upstream;

interface DingTalkReply {
  msgtype?: string;
  text?: { content: string };
  error?: { code: string; message: string };
}

function setup(name: FunctionName = 'interrupt-elasticsearch-task', env: Env = {}) {
  const fn = wireFunction<DingTalkReply>(upstream.url, name, 'dingtalk', {
    DINGTALK_APP_SECRETS: `${ROTATED_SECRET},${APP_SECRET}`,
    ...env,
  });
  const post = (message: DingTalkMessage | string, headers: Record<string, string>) =>
    fn.post(typeof message === 'string' ? message : JSON.stringify(message), headers);
  return { calls: fn.calls, post };
}

const tokenFor = (name: FunctionName, instanceId: string, msgId: string) =>
  expectedToken(name, instanceId, `dingtalk:${msgId}`);

describe('Function: interrupt-elasticsearch-task, dingtalk source', () => {
  it('interrupts the instance named in text.content and replies with a DingTalk text message', async () => {
    const { post, calls } = setup();
    const message = fixture('message');
    const response = await post(message, signed());
    expect(response.status).toBe(200);
    expect(response.body.msgtype).toBe('text');
    const token = tokenFor('interrupt-elasticsearch-task', 'es-cn-demo-activating', message.msgId as string);
    expect(response.body.text?.content).toMatch(
      new RegExp(
        `^interrupt-elasticsearch-task \\(InterruptElasticsearchTask\\): 1 applied\\n✅ es-cn-demo-activating: applied — clientToken ${token}; request \\S+$`,
      ),
    );
    expect(state('es-cn-demo-activating')?.status).toBe('suspended');
    expect(calls).toHaveLength(1);
  });

  it('dedupes on msgId: the sign does not cover the body, so a replay within the hour is the same event', async () => {
    const { post } = setup();
    const message = fixture('message');
    const headers = signed();
    const first = await post(message, headers);
    // The same timestamp and sign replayed (DingTalk re-delivery, or a captured pair) with the same msgId.
    const replay = await post(message, headers);
    const token = tokenFor('interrupt-elasticsearch-task', 'es-cn-demo-activating', message.msgId as string);
    expect(first.body.text?.content).toContain(token);
    expect(replay.body.text?.content).toContain(token);
    expect(state('es-cn-demo-activating')?.history).toEqual([expect.objectContaining({ clientToken: token })]);
  });

  it('accepts a rotated app secret', async () => {
    const { post } = setup();
    expect((await post(fixture('message'), signed({ secret: ROTATED_SECRET }))).status).toBe(200);
  });

  it('accepts a timestamp just inside the hour, either way', async () => {
    const { post } = setup();
    expect((await post(fixture('message'), signed({ timestamp: Date.now() - HOUR_MS + 5000 }))).status).toBe(200);
    expect((await post(fixture('message'), signed({ timestamp: Date.now() + HOUR_MS - 5000 }))).status).toBe(200);
  });

  it('answers every instance named, CJK separators included, with 200', async () => {
    const { post } = setup();
    const multi = fixture('multi');
    const response = await post(multi, signed());
    expect(response.status).toBe(200);
    const lines = response.body.text?.content.split('\n') ?? [];
    expect(lines[0]).toBe('interrupt-elasticsearch-task (InterruptElasticsearchTask): 2 applied, 1 refused');
    for (const [i, id] of [
      [1, 'es-cn-demo-activating'],
      [2, 'es-cn-demo-migrating'],
    ] as const) {
      expect(lines[i]).toContain(
        `✅ ${id}: applied — clientToken ${tokenFor('interrupt-elasticsearch-task', id, multi.msgId as string)}`,
      );
    }
    expect(lines[3]).toMatch(/^🚫 ls-cn-demo-activating: refused — WrongInstanceKind: /);
  });

  it('replies 200 with the refusal when policy refuses everything', async () => {
    const { post, calls } = setup('interrupt-elasticsearch-task', { ALLOWED_INSTANCES: 'es-cn-prod-*' });
    const response = await post(fixture('message'), signed());
    expect(response.status).toBe(200);
    expect(response.body.text?.content).toContain(
      '🚫 es-cn-demo-activating: refused — NotAllowed: the instance is not in ALLOWED_INSTANCES',
    );
    expect(calls).toHaveLength(0);
  });

  it('answers a message naming no instance with a usage reply', async () => {
    const { post, calls } = setup();
    const response = await post(fixture('no-instance'), signed());
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      msgtype: 'text',
      text: { content: expect.stringContaining('nothing was done — name at least one instance: @robot es-cn-…') },
    });
    expect(calls).toHaveLength(0);
  });

  it('reads the text of a richText message', async () => {
    const { post } = setup();
    const message = fixture('message');
    delete message.text;
    message.msgtype = 'richText';
    message.content = { richText: [{ text: '中断' }, { downloadCode: 'img-1' }, { text: 'es-cn-demo-activating' }] };
    const response = await post(message, signed());
    expect(response.body.text?.content).toContain('✅ es-cn-demo-activating: applied');
  });

  it.each<[string, () => DingTalkMessage | string]>([
    ['without msgId (fixture)', () => fixture('malformed')],
    ['that is not JSON', () => '{"msgtype": "text", '],
    [
      'of a type that carries no text',
      () => ({ ...fixture('message'), msgtype: 'picture', text: undefined, content: { downloadCode: 'x' } }),
    ],
  ])('answers a message %s with 200 and the reason, and no call', async (_case, message) => {
    const { post, calls } = setup();
    const response = await post(message(), signed());
    expect(response.status).toBe(200);
    expect(response.body.text?.content).toMatch(
      /^⚠️ interrupt-elasticsearch-task \(InterruptElasticsearchTask\): nothing was done — /,
    );
    expect(calls).toHaveLength(0);
  });

  it.each<[string, () => Record<string, string>, Env?]>([
    ['unsigned', () => ({ 'content-type': 'application/json' })],
    [
      'without the timestamp header',
      () => {
        const { timestamp: _, ...rest } = signed();
        return rest;
      },
    ],
    [
      'without the sign header',
      () => {
        const { sign: _, ...rest } = signed();
        return rest;
      },
    ],
    ['signed with a wrong secret', () => signed({ secret: 'not-the-app-secret' })],
    ['stale (an hour and a second old)', () => signed({ timestamp: Date.now() - HOUR_MS - 1000 })],
    ['from the future (an hour and a second ahead)', () => signed({ timestamp: Date.now() + HOUR_MS + 1000 })],
    [
      'with the sign of another timestamp',
      () => {
        const at = Date.now();
        return { ...signed({ timestamp: at }), timestamp: String(at - 1) };
      },
    ],
    ['with a timestamp in seconds', () => signed({ timestamp: Math.floor(Date.now() / 1000) })],
    ['while no app secret is configured (fail closed)', () => signed(), { DINGTALK_APP_SECRETS: '' }],
  ])('refuses a request %s with a plain 401 and no upstream call', async (_case, headers, env = {}) => {
    const { post, calls } = setup('interrupt-elasticsearch-task', env);
    const response = await post(fixture('message'), headers());
    expect(response.status).toBe(401);
    expect(response.body.error?.code).toBe('Unauthorized');
    expect(response.body.msgtype).toBeUndefined();
    expect(calls).toHaveLength(0);
    expect(state('es-cn-demo-activating')?.history).toHaveLength(0);
  });
});
