import { describe, expect, it } from 'vitest';
import type { FunctionName } from '../shared/actions.ts';
import type { Env } from '../shared/config.ts';
import type { ResponseBody } from '../shared/core/result.ts';
import { fixture, larkEncrypted, larkSignature } from './fixtures/feishu/kit.ts';
import { expectedToken as tokenFor, useEmulator, wireFunction } from './support/function-harness.ts';

/** The verification token in the fixtures. */
const VERIFICATION_TOKEN = 'vt7Qm2cXz9kLpR4sTuW8yB1dF3hJ6nV0';
const ROTATED_TOKEN = 'vtRotated0aB3cD6eF9gH2iJ5kL8mN1o';
const ENCRYPT_KEY = 'ek-Lp3Xw9Rt6Yq2Zs8Vn4Mb7Kc1Hd5Gf0J';
const ROTATED_KEY = 'ek-rotated-Q8w2E5r7T1y4U6i9O3p0A';

type Json = Record<string, unknown>;
const eventId = (event: Json) => (event.header as { event_id: string }).event_id;

/** The push as Feishu sends it with an Encrypt Key set: `{"encrypt": …}`. */
const encrypted = (value: Json, key = ENCRYPT_KEY) =>
  JSON.stringify({ encrypt: larkEncrypted(JSON.stringify(value), key) });

/** `X-Lark-Signature` = hex SHA-256(timestamp + nonce + encryptKey + body), signed at run time. */
function signed(body: string, options: { key?: string; timestamp?: number; nonce?: string } = {}) {
  return {
    'content-type': 'application/json; charset=utf-8',
    'user-agent': 'Go-http-client/1.1',
    ...larkSignature(
      body,
      options.key ?? ENCRYPT_KEY,
      options.timestamp ?? Math.floor(Date.now() / 1000),
      options.nonce ?? String(Math.floor(Math.random() * 1e9)),
    ),
  };
}
const plain = { 'content-type': 'application/json; charset=utf-8', 'user-agent': 'Go-http-client/1.1' };

const upstream = useEmulator();
const { state } = upstream;

type FeishuReply = Partial<ResponseBody> & { challenge?: string };

const TOKEN_MODE: Env = { FEISHU_VERIFICATION_TOKENS: `${ROTATED_TOKEN},${VERIFICATION_TOKEN}` };
/** Token mode where the operator accepted acting on the token alone. */
const TOKEN_ONLY_ACTING: Env = { ...TOKEN_MODE, FEISHU_ALLOW_TOKEN_ONLY: 'true' };
const ENCRYPT_MODE: Env = { FEISHU_ENCRYPT_KEYS: `${ROTATED_KEY},${ENCRYPT_KEY}` };

/** The fixtures' sender: open_id, union_id, and (multi.json) user_id; and their chat. */
const OPEN_ID = 'ou_ec81f38d6e7fdce6132f4605f7a37319';
const UNION_ID = 'on_9d281063b0791d2e40548e25ce854886';
const CHAT_ID = 'oc_b4cf4d73e02ea650e86c4d2122ce1ec0';

const setup = (mode: Env, name: FunctionName = 'interrupt-elasticsearch-task', env: Env = {}) =>
  wireFunction<FeishuReply>(upstream.url, name, 'feishu', {
    FEISHU_ALLOWED_USERS: `ou_someone_else,${OPEN_ID}`,
    ...mode,
    ...env,
  });

describe('Function: feishu URL verification', () => {
  it('answers the challenge in token mode when the token matches', async () => {
    const { post, calls } = setup(TOKEN_MODE);
    const response = await post(JSON.stringify(fixture('challenge')), plain);
    expect(response).toEqual({ status: 200, body: { challenge: 'ajls384kdjx98XX' } });
    expect(calls).toHaveLength(0);
  });

  it('answers an encrypted, unsigned challenge in encrypt mode', async () => {
    const { post } = setup(ENCRYPT_MODE);
    const response = await post(encrypted(fixture('challenge')), plain);
    expect(response).toEqual({ status: 200, body: { challenge: 'ajls384kdjx98XX' } });
  });

  it('answers a challenge encrypted with a rotated key', async () => {
    const { post } = setup(ENCRYPT_MODE);
    expect((await post(encrypted(fixture('challenge'), ROTATED_KEY), plain)).body.challenge).toBe('ajls384kdjx98XX');
  });

  it('checks the token too when both keys and tokens are configured', async () => {
    const { post } = setup({ ...ENCRYPT_MODE, ...TOKEN_MODE });
    expect((await post(encrypted(fixture('challenge')), plain)).status).toBe(200);
    const wrong = { ...fixture('challenge'), token: 'not-the-token' };
    expect((await post(encrypted(wrong), plain)).status).toBe(401);
  });

  it.each<[string, Env, () => string]>([
    ['a wrong token (token mode)', TOKEN_MODE, () => JSON.stringify({ ...fixture('challenge'), token: 'guess' })],
    [
      'no token (token mode)',
      TOKEN_MODE,
      () => {
        const { token: _, ...rest } = fixture('challenge');
        return JSON.stringify(rest);
      },
    ],
    ['an encrypted body in token mode', TOKEN_MODE, () => encrypted(fixture('challenge'))],
    ['a plaintext challenge in encrypt mode', ENCRYPT_MODE, () => JSON.stringify(fixture('challenge'))],
    ['a challenge encrypted with another key', ENCRYPT_MODE, () => encrypted(fixture('challenge'), 'another-key')],
    ['garbage in encrypt', ENCRYPT_MODE, () => JSON.stringify({ encrypt: 'bm90IGEgY2lwaGVydGV4dA==' })],
  ])('refuses %s with 401', async (_case, mode, body) => {
    const { post, calls } = setup(mode);
    const response = await post(body(), plain);
    expect(response.status).toBe(401);
    expect(response.body.challenge).toBeUndefined();
    expect(calls).toHaveLength(0);
  });
});

describe('Function: interrupt-elasticsearch-task, feishu source (encrypt mode)', () => {
  it('decrypts a signed, encrypted im.message.receive_v1 and acts on it', async () => {
    const { post, calls } = setup(ENCRYPT_MODE);
    const message = fixture('message');
    const body = encrypted(message);
    const response = await post(body, signed(body));
    expect(response.status).toBe(200);
    expect(response.body.results).toEqual([
      expect.objectContaining({
        instanceId: 'es-cn-demo-activating',
        outcome: 'applied',
        clientToken: tokenFor('interrupt-elasticsearch-task', 'es-cn-demo-activating', `feishu:${eventId(message)}`),
      }),
    ]);
    expect(state('es-cn-demo-activating')?.status).toBe('suspended');
    expect(calls).toHaveLength(1);
  });

  it('gives a re-sent event (same event_id, new signature) the same token: one change', async () => {
    const { post } = setup(ENCRYPT_MODE);
    const message = fixture('message');
    const first = encrypted(message);
    const again = encrypted(message); // a fresh IV: other bytes, same event
    const a = await post(first, signed(first));
    const b = await post(again, signed(again));
    expect(b.body.results?.[0]?.clientToken).toBe(a.body.results?.[0]?.clientToken);
    expect(state('es-cn-demo-activating')?.history).toHaveLength(1);
  });

  it('accepts a signed plaintext event (Feishu signs when an Encrypt Key is set)', async () => {
    const { post } = setup(ENCRYPT_MODE);
    const body = JSON.stringify(fixture('message'));
    expect((await post(body, signed(body))).body.results?.[0]?.outcome).toBe('applied');
  });

  it('accepts a rotated key', async () => {
    const { post } = setup(ENCRYPT_MODE);
    const body = encrypted(fixture('message'), ROTATED_KEY);
    expect((await post(body, signed(body, { key: ROTATED_KEY }))).status).toBe(200);
  });

  it('keeps a retryable failure non-200 so Feishu re-sends the event (same event_id, same tokens)', async () => {
    const { post } = setup(ENCRYPT_MODE, 'interrupt-elasticsearch-task', { RETRY_DEADLINE_MS: '400' });
    upstream.emulator.setFaults({ serverError: 1 });
    const body = encrypted(fixture('message'));
    const failed = await post(body, signed(body));
    expect(failed.status).toBe(502);
    expect(failed.body.results?.[0]).toMatchObject({ outcome: 'failed', retryable: true });
    upstream.emulator.setFaults({});
    const resent = await post(body, signed(body));
    expect(resent.status).toBe(200);
    expect(resent.body.results?.[0]?.clientToken).toBe(failed.body.results?.[0]?.clientToken);
  });

  const body = encrypted(fixture('message'));
  const now = () => Math.floor(Date.now() / 1000);
  const without = (name: string) => () => {
    const headers: Record<string, string> = signed(body);
    delete headers[name];
    return headers;
  };
  it.each<[string, string, () => Record<string, string>, Env?]>([
    ['unsigned', body, () => plain],
    ['without X-Lark-Signature', body, without('x-lark-signature')],
    ['without X-Lark-Request-Timestamp', body, without('x-lark-request-timestamp')],
    ['without X-Lark-Request-Nonce', body, without('x-lark-request-nonce')],
    ['signed with another key', body, () => signed(body, { key: 'another-encrypt-key' })],
    ['stale (301 s old)', body, () => signed(body, { timestamp: now() - 301 })],
    ['from the future (305 s ahead)', body, () => signed(body, { timestamp: now() + 305 })],
    ['with an altered body (one space added)', body.replace('{"encrypt":', '{"encrypt": '), () => signed(body)],
    ['with the signature of another nonce', body, () => ({ ...signed(body), 'x-lark-request-nonce': 'other' })],
    [
      'carrying only a verification token (plaintext, unsigned)',
      JSON.stringify(fixture('message')),
      () => plain,
      TOKEN_MODE,
    ],
    ['while nothing is configured (fail closed)', body, () => signed(body), { FEISHU_ENCRYPT_KEYS: '' }],
  ])('refuses an event %s with 401 and no upstream call', async (_case, sent, headers, env = {}) => {
    const { post, calls } = setup(ENCRYPT_MODE, 'interrupt-elasticsearch-task', env);
    const response = await post(sent, headers());
    expect(response.status).toBe(401);
    expect(response.body.error?.code).toBe('Unauthorized');
    expect(calls).toHaveLength(0);
    expect(state('es-cn-demo-activating')?.history).toHaveLength(0);
  });
});

describe('Function: interrupt-elasticsearch-task, feishu source (token mode, FEISHU_ALLOW_TOKEN_ONLY=true)', () => {
  it('acts on a plaintext event whose header.token matches; a re-sent one changes nothing', async () => {
    const { post } = setup(TOKEN_ONLY_ACTING);
    const message = fixture('message');
    const first = await post(JSON.stringify(message), plain);
    expect(first.status).toBe(200);
    const token = tokenFor('interrupt-elasticsearch-task', 'es-cn-demo-activating', `feishu:${eventId(message)}`);
    expect(first.body.results?.[0]).toMatchObject({ outcome: 'applied', clientToken: token });
    const again = await post(JSON.stringify(message), plain);
    expect(again.body.results?.[0]?.clientToken).toBe(token);
    expect(state('es-cn-demo-activating')?.history).toHaveLength(1);
  });

  it('accepts a rotated verification token', async () => {
    const { post } = setup(TOKEN_ONLY_ACTING);
    const message = fixture('message');
    (message.header as Json).token = ROTATED_TOKEN;
    expect((await post(JSON.stringify(message), plain)).status).toBe(200);
  });

  it('reads schema 1.0 message events, keyed by uuid', async () => {
    const { post } = setup(TOKEN_ONLY_ACTING);
    const v1 = fixture('message-v1');
    const response = await post(JSON.stringify(v1), plain);
    expect(response.body.results?.[0]).toMatchObject({
      outcome: 'applied',
      clientToken: tokenFor('interrupt-elasticsearch-task', 'es-cn-demo-activating', `feishu:${v1.uuid}`),
    });
  });

  it('reads every instance of a rich-text (post) message; refusals and all, 200', async () => {
    const { post } = setup(TOKEN_ONLY_ACTING);
    const multi = fixture('multi');
    const response = await post(JSON.stringify(multi), plain);
    expect(response.status).toBe(200);
    expect(response.body.results?.map((r) => [r.instanceId, r.outcome, r.code])).toEqual([
      ['es-cn-demo-activating', 'applied', undefined],
      ['es-cn-demo-migrating', 'applied', undefined],
      ['ls-cn-demo-activating', 'refused', 'WrongInstanceKind'],
    ]);
  });

  it('answers 200 (nothing to retry) when policy refuses every target', async () => {
    const { post, calls } = setup(TOKEN_ONLY_ACTING, 'interrupt-elasticsearch-task', { ALLOWED_INSTANCES: undefined });
    const response = await post(JSON.stringify(fixture('message')), plain);
    expect(response.status).toBe(200);
    expect(response.body.results?.[0]).toMatchObject({ outcome: 'refused', code: 'NotAllowed' });
    expect(calls).toHaveLength(0);
  });

  it('answers other event types 200 with nothing done', async () => {
    const { post, calls } = setup(TOKEN_ONLY_ACTING);
    const response = await post(JSON.stringify(fixture('bot-added')), plain);
    expect(response.status).toBe(200);
    expect(response.body.results).toEqual([]);
    expect(response.body.notes).toEqual(['a im.chat.member.bot.added_v1 event is not a command; nothing was done']);
    expect(calls).toHaveLength(0);
  });

  it.each<[string, () => Json]>([
    ['content that is not JSON (fixture)', () => fixture('malformed')],
    [
      'no instance',
      () => {
        const m = fixture('message');
        ((m.event as Json).message as Json).content = '{"text":"@_user_1 你好"}';
        return m;
      },
    ],
    [
      'an image',
      () => {
        const m = fixture('message');
        Object.assign((m.event as Json).message as Json, { message_type: 'image', content: '{"image_key":"img_x"}' });
        return m;
      },
    ],
  ])('answers an event with %s 200 (a re-send would not help) and no call', async (_case, event) => {
    const { post, calls } = setup(TOKEN_ONLY_ACTING);
    const response = await post(JSON.stringify(event()), plain);
    expect(response.status).toBe(200);
    expect(response.body.error?.code).toBe('InvalidPayload');
    expect(calls).toHaveLength(0);
  });

  it.each<[string, () => Json, Env?]>([
    [
      'a wrong token',
      () => {
        const m = fixture('message');
        (m.header as Json).token = 'guess';
        return m;
      },
    ],
    [
      'no token',
      () => {
        const m = fixture('message');
        delete (m.header as Json).token;
        return m;
      },
    ],
    ['while nothing is configured (fail closed)', () => fixture('message'), { FEISHU_VERIFICATION_TOKENS: '' }],
  ])('refuses an event with %s with 401 and no upstream call', async (_case, event, env = {}) => {
    const { post, calls } = setup(TOKEN_ONLY_ACTING, 'interrupt-elasticsearch-task', env);
    const response = await post(JSON.stringify(event()), plain);
    expect(response.status).toBe(401);
    expect(calls).toHaveLength(0);
  });
});

describe('Function: feishu source, token-only acting is an explicit opt-in', () => {
  // Attack (issue 10, part 3): the verification token sits in every event body, so whoever has seen
  // one event (or the token) forged a command that acted.
  it('refuses a forged event carrying the right token while FEISHU_ALLOW_TOKEN_ONLY is unset: nothing changes', async () => {
    const { post, calls } = setup(TOKEN_MODE);
    const forged = fixture('message');
    (forged.header as Json).event_id = 'forged00000000000000000000000001';
    const response = await post(JSON.stringify(forged), plain);
    expect(response.status).toBe(401);
    expect(response.body.error?.code).toBe('Unauthorized');
    expect(calls).toHaveLength(0);
    expect(state('es-cn-demo-activating')?.history).toHaveLength(0);

    // The console's URL check still passes with the token alone: answering it acts on nothing.
    expect((await post(JSON.stringify(fixture('challenge')), plain)).body).toEqual({ challenge: 'ajls384kdjx98XX' });
    // And the legitimate, signed event acts.
    const legitimate = setup({ ...ENCRYPT_MODE, ...TOKEN_MODE });
    const body = JSON.stringify(fixture('message'));
    expect((await legitimate.post(body, signed(body))).body.results?.[0]?.outcome).toBe('applied');
    expect(state('es-cn-demo-activating')?.history).toHaveLength(1);
  });

  it('never lets the opt-in weaken a configured Encrypt Key: unsigned events stay refused', async () => {
    const { post, calls } = setup({ ...ENCRYPT_MODE, ...TOKEN_ONLY_ACTING });
    const response = await post(JSON.stringify(fixture('message')), plain);
    expect(response.status).toBe(401);
    expect(calls).toHaveLength(0);
  });

  it('refuses an invalid FEISHU_ALLOW_TOKEN_ONLY with a 500 naming it', async () => {
    const { post } = setup(TOKEN_MODE, 'interrupt-elasticsearch-task', { FEISHU_ALLOW_TOKEN_ONLY: 'sure' });
    const response = await post(JSON.stringify(fixture('message')), plain);
    expect(response.status).toBe(500);
    expect(response.body.error?.message).toContain('FEISHU_ALLOW_TOKEN_ONLY');
  });
});

describe('Function: feishu source, who may act (FEISHU_ALLOWED_USERS, FEISHU_ALLOWED_CHATS)', () => {
  const send = async (env: Env, event: Json = fixture('message')) => {
    const fn = setup(ENCRYPT_MODE, 'interrupt-elasticsearch-task', env);
    const body = JSON.stringify(event);
    return { ...(await fn.post(body, signed(body))), calls: fn.calls };
  };

  it('refuses every message while FEISHU_ALLOWED_USERS is unset, naming the variable, with no call', async () => {
    const response = await send({ FEISHU_ALLOWED_USERS: undefined });
    expect(response.status).toBe(200);
    expect(response.body.summary).toBe('FEISHU_ALLOWED_USERS is not set, so every Feishu command is refused');
    expect(response.body.results?.[0]).toMatchObject({ outcome: 'refused', code: 'UserNotAllowed' });
    expect(response.calls).toHaveLength(0);
    expect(state('es-cn-demo-activating')?.history).toHaveLength(0);
  });

  it('refuses a sender none of whose IDs is in the list, and names them', async () => {
    const response = await send({ FEISHU_ALLOWED_USERS: 'ou_someone_else' });
    expect(response.body.summary).toBe(`${OPEN_ID} is not in FEISHU_ALLOWED_USERS`);
    expect(response.body.requestedBy).toEqual({ userId: OPEN_ID, placeId: CHAT_ID });
    expect(response.calls).toHaveLength(0);
  });

  it.each([
    ['open_id', OPEN_ID],
    ['union_id', UNION_ID],
    ['user_id', '8d3f2b1a'],
  ])('allows a sender listed by %s', async (_kind, id) => {
    const response = await send({ FEISHU_ALLOWED_USERS: id }, fixture('multi'));
    expect(response.body.results?.map((r) => r.outcome)).toEqual(['applied', 'applied', 'refused']);
  });

  it('lets everyone act with FEISHU_ALLOWED_USERS=*', async () => {
    const event = fixture('message');
    (((event.event as Json).sender as Json).sender_id as Json).open_id = 'ou_anyone';
    expect((await send({ FEISHU_ALLOWED_USERS: '*' }, event)).body.results?.[0]?.outcome).toBe('applied');
  });

  it('reads the sender of a schema 1.0 event too', async () => {
    const fn = setup(TOKEN_ONLY_ACTING, 'interrupt-elasticsearch-task', { FEISHU_ALLOWED_USERS: 'ou_someone_else' });
    const response = await fn.post(JSON.stringify(fixture('message-v1')), plain);
    expect(response.body.summary).toBe(`${OPEN_ID} is not in FEISHU_ALLOWED_USERS`);
    expect(fn.calls).toHaveLength(0);
  });

  it('refuses a chat outside FEISHU_ALLOWED_CHATS, and acts in one inside it', async () => {
    const refused = await send({ FEISHU_ALLOWED_CHATS: 'oc_oncall' });
    expect(refused.body.summary).toBe(`chat ${CHAT_ID} is not in FEISHU_ALLOWED_CHATS`);
    expect(refused.calls).toHaveLength(0);
    const inside = await send({ FEISHU_ALLOWED_CHATS: `oc_oncall,${CHAT_ID}` });
    expect(inside.body.results?.[0]?.outcome).toBe('applied');
  });
});
