import { describe, expect, it } from 'vitest';
import { localContext } from '../local/fc-invoke.ts';
import type { FunctionName } from '../shared/actions.ts';
import { createCapturingReplySender } from '../shared/async/capturing-reply-sender.ts';
import type { Env } from '../shared/config.ts';
import {
  type DingTalkFixtureName,
  type DingTalkMessage,
  dingTalkSign,
  fixture,
  freshMillis,
} from './fixtures/dingtalk/kit.ts';
import { expectedToken, useEmulator, wireFunction } from './support/function-harness.ts';

const APP_SECRET = 'dt-app-secret-Xr7Kq2mLpW9sVb4nTz6yHc1dFg8jA3eU0oQi5';
const ROTATED_SECRET = 'dt-rotated-secret-Nq4Wv8cKx2mZp6rTb1yLs9dHf3gJa7eU';
const MINUTE_MS = 60 * 1000;
/** The robotCode of the fixtures (the robot the callbacks came from). */
const ROBOT_CODE = 'dingrm6i0xivnymx4jyr';

/** Signed at run time, independently of the code under test: base64 HMAC-SHA256(secret, `ts\nsecret`). */
function signed(options: { secret?: string; timestamp?: number } = {}): Record<string, string> {
  const secret = options.secret ?? APP_SECRET;
  const timestamp = options.timestamp ?? freshMillis();
  return {
    'content-type': 'application/json; charset=utf-8',
    timestamp: String(timestamp),
    sign: dingTalkSign(secret, timestamp),
  };
}

/** The fixtures' sender (陈海超) and conversation (ES 值班群). */
const STAFF_ID = 'manager8502';
const CONVERSATION = 'cidk+FkxOGVmgZ9W1/Bfs8ZRQ==';

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
    DINGTALK_ALLOWED_USERS: `${STAFF_ID},other0001`,
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
        `^interrupt-elasticsearch-task \\(InterruptElasticsearchTask\\): 1 applied\\n✅ es-cn-demo-activating: applied — clientToken ${token}; request \\S+\\nasked by 陈海超 \\(manager8502\\) in ES 值班群 \\(cidk\\+FkxOGVmgZ9W1/Bfs8ZRQ==\\)$`,
      ),
    );
    expect(state('es-cn-demo-activating')?.status).toBe('suspended');
    expect(calls).toHaveLength(1);
  });

  it('treats the same delivery again (same pair, same bytes) as the same event: same tokens, one change', async () => {
    const { post } = setup();
    const message = fixture('message');
    const headers = signed();
    const first = await post(message, headers);
    // DingTalk re-delivering a callback it got no timely answer for: the pair with the bytes it first came with.
    const again = await post(message, headers);
    const token = tokenFor('interrupt-elasticsearch-task', 'es-cn-demo-activating', message.msgId as string);
    expect(first.body.text?.content).toContain(`applied — clientToken ${token}`);
    expect(again.status).toBe(200);
    expect(again.body.text?.content).toContain(`clientToken ${token}`);
    expect(state('es-cn-demo-activating')?.history).toEqual([expect.objectContaining({ clientToken: token })]);
  });

  it('accepts a rotated app secret', async () => {
    const { post } = setup();
    expect((await post(fixture('message'), signed({ secret: ROTATED_SECRET }))).status).toBe(200);
  });

  it('accepts a timestamp just inside five minutes, either way (clock skew)', async () => {
    const { post } = setup();
    expect((await post(fixture('message'), signed({ timestamp: Date.now() - 5 * MINUTE_MS + 5000 }))).status).toBe(200);
    expect((await post(fixture('message'), signed({ timestamp: Date.now() + 5 * MINUTE_MS - 5000 }))).status).toBe(200);
  });

  it("accepts an older sign only when DINGTALK_MAX_AGE_SECONDS says so (at most DingTalk's hour)", async () => {
    const fiftyMinutesAgo = () => signed({ timestamp: Date.now() - 50 * MINUTE_MS });
    expect((await setup().post(fixture('message'), fiftyMinutesAgo())).status).toBe(401);
    const widened = setup('interrupt-elasticsearch-task', { DINGTALK_MAX_AGE_SECONDS: '3600' });
    expect((await widened.post(fixture('message'), fiftyMinutesAgo())).status).toBe(200);
    const beyond = setup('interrupt-elasticsearch-task', { DINGTALK_MAX_AGE_SECONDS: '3601' });
    const refused = await beyond.post(fixture('message'), signed());
    expect(refused.status).toBe(500);
    expect(refused.body.error?.message).toMatch(/DINGTALK_MAX_AGE_SECONDS: must be a whole number from 1 to 3600/);
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
    ['stale (five minutes and a second old)', () => signed({ timestamp: Date.now() - 5 * MINUTE_MS - 1000 })],
    [
      'from the future (five minutes and a second ahead)',
      () => signed({ timestamp: Date.now() + 5 * MINUTE_MS + 1000 }),
    ],
    ["50 minutes old (inside DingTalk's own hour)", () => signed({ timestamp: Date.now() - 50 * MINUTE_MS })],
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

/**
 * The sign covers only the timestamp: a `(timestamp, sign)` pair read from one callback's headers
 * signs any body. These are the attacks of issue 10 (part 1), each sent as it succeeded before.
 */
describe('Function: cancel-migration-task, dingtalk source, against captured timestamp/sign pairs', () => {
  const NAME: FunctionName = 'cancel-migration-task';
  const TARGET = 'es-cn-demo-migrating';
  /** The attacker's own robot: on DingTalk's host, so the reply host allow-list alone lets it through. */
  const ATTACKER_WEBHOOK = 'https://oapi.dingtalk.com/robot/send?access_token=attacker0robot0token';
  const GROUP_WEBHOOK = 'https://oapi.dingtalk.com/robot/sendBySession?session=0ead97e06322594b8581216d8b2c4919';

  /**
   * The function as deployed with the hand-off: the HTTP answer is `accepted`, the queued command
   * runs through the same handler, and its report is captured instead of posted. `clock` is the
   * function's time.
   */
  function deployed(env: Env = {}) {
    let clock = Date.now();
    const queued: object[] = [];
    const replies = createCapturingReplySender();
    const fn = wireFunction<DingTalkReply>(
      upstream.url,
      NAME,
      'dingtalk',
      { DINGTALK_APP_SECRETS: APP_SECRET, DINGTALK_ALLOWED_USERS: STAFF_ID, ...env },
      {
        now: () => new Date(clock),
        invoker: {
          invoke: async (event: object) => {
            queued.push(event);
            return { status: 'accepted' as const };
          },
        },
        replySender: replies,
      },
    );
    return {
      calls: fn.calls,
      replies,
      at(ms: number) {
        clock = ms;
      },
      /** Posts a callback, then runs what it handed off (as FC's async invocation would). */
      async post(message: DingTalkMessage, headers: Record<string, string>) {
        const answer = await fn.post(JSON.stringify(message), headers);
        for (const command of queued.splice(0)) {
          await fn.handler(Buffer.from(JSON.stringify(command)), localContext(NAME));
        }
        return answer;
      },
    };
  }

  /** A message of the on-call group, with a session webhook still valid at `at`. */
  function groupMessage(at: number, name: DingTalkFixtureName = 'message'): DingTalkMessage {
    const message = fixture(name);
    message.sessionWebhook = GROUP_WEBHOOK;
    message.sessionWebhookExpiredTime = at + 90 * MINUTE_MS;
    message.createAt = at;
    return message;
  }

  /** The attacker's body: a new message cancelling the migration, its outcome sent to the attacker's robot. */
  function forged(at: number, changes: Partial<DingTalkMessage> = {}): DingTalkMessage {
    return {
      ...groupMessage(at),
      msgId: 'msgF0rg3dByTh3Att4ck3r00==',
      text: { content: ` ${TARGET} 取消迁移` },
      sessionWebhook: ATTACKER_WEBHOOK,
      ...changes,
    };
  }

  const untouched = () => {
    expect(state(TARGET)).toMatchObject({ migrating: true, history: [] });
  };

  it('refuses a pair captured from one callback and replayed 50 minutes later with a new body (the reported attack)', async () => {
    const fn = deployed();
    const t0 = Date.now();
    fn.at(t0);
    // The callback whose headers leak: someone in the group greets the robot.
    const captured = signed({ timestamp: t0 });
    const greeting = await fn.post(groupMessage(t0, 'no-instance'), captured);
    expect(greeting.status).toBe(200);
    fn.replies.clear();

    fn.at(t0 + 50 * MINUTE_MS);
    const attack = await fn.post(forged(t0 + 50 * MINUTE_MS), captured);
    expect(attack.status).toBe(401);
    expect(attack.body).toMatchObject({ error: { code: 'Unauthorized' } });
    expect(attack.body.text).toBeUndefined();
    expect(fn.calls).toEqual([]);
    untouched();
    expect(fn.replies.replies()).toEqual([]);
  });

  it("refuses the same late replay even with the window widened to DingTalk's hour: the pair was used", async () => {
    const fn = deployed({ DINGTALK_MAX_AGE_SECONDS: '3600' });
    const t0 = Date.now();
    fn.at(t0);
    const captured = signed({ timestamp: t0 });
    expect((await fn.post(groupMessage(t0, 'no-instance'), captured)).status).toBe(200);
    fn.at(t0 + 50 * MINUTE_MS);
    const attack = await fn.post(forged(t0 + 50 * MINUTE_MS, { sessionWebhook: GROUP_WEBHOOK }), captured);
    expect(attack.status).toBe(401);
    expect(fn.calls).toEqual([]);
    untouched();
    expect(fn.replies.replies()).toEqual([]);
  });

  it('refuses a pair replayed inside the window with a new body (once per pair)', async () => {
    const fn = deployed();
    const t0 = Date.now();
    fn.at(t0);
    const captured = signed({ timestamp: t0 });
    expect((await fn.post(groupMessage(t0, 'no-instance'), captured)).status).toBe(200);
    fn.replies.clear();
    fn.at(t0 + 30_000);
    // Even with the group's own webhook, so only the once-only rule stands in the way.
    const attack = await fn.post(forged(t0 + 30_000, { sessionWebhook: GROUP_WEBHOOK }), captured);
    expect(attack.status).toBe(401);
    expect(fn.calls).toEqual([]);
    untouched();
    expect(fn.replies.replies()).toEqual([]);
  });

  it.each<[string, unknown]>([
    ["the attacker's own robot on DingTalk's host", ATTACKER_WEBHOOK],
    ['another host', 'https://evil.example/robot/sendBySession?session=0ead97e0'],
    ['a look-alike host', 'https://oapi.dingtalk.com.evil.example/robot/sendBySession?session=0ead97e0'],
    ['user info hiding another host', 'https://oapi.dingtalk.com@evil.example/robot/sendBySession?session=0ead97e0'],
    ['plain http', 'http://oapi.dingtalk.com/robot/sendBySession?session=0ead97e0'],
    ['an explicit port', 'https://oapi.dingtalk.com:8443/robot/sendBySession?session=0ead97e0'],
    ['another path', 'https://oapi.dingtalk.com/robot/sendBySession2?session=0ead97e0'],
    ['a dot segment', 'https://oapi.dingtalk.com/x/../robot/sendBySession?session=0ead97e0'],
    ['no session', 'https://oapi.dingtalk.com/robot/sendBySession'],
    ['a session and another parameter', 'https://oapi.dingtalk.com/robot/sendBySession?session=0ead97e0&to=x'],
    ['an upper-case host', 'https://OAPI.DINGTALK.COM/robot/sendBySession?session=0ead97e0'],
    ['not a string', { url: GROUP_WEBHOOK }],
  ])(
    'refuses a fresh callback whose sessionWebhook is %s (401, nothing done, nothing posted)',
    async (_case, webhook) => {
      const fn = deployed();
      const attack = await fn.post({ ...forged(Date.now()), sessionWebhook: webhook } as DingTalkMessage, signed());
      expect(attack.status).toBe(401);
      expect(fn.calls).toEqual([]);
      untouched();
      expect(fn.replies.replies()).toEqual([]);
    },
  );

  it.each<[string, unknown]>([
    ['another robot', 'dingOtherRobot0000'],
    ['no robotCode', undefined],
    ['a robotCode that is not a string', ['dingrm6i0xivnymx4jyr']],
  ])('refuses a fresh callback naming %s while DINGTALK_ROBOT_CODES is set', async (_case, robotCode) => {
    const fn = deployed({ DINGTALK_ROBOT_CODES: `dingRotatedRobot01,${ROBOT_CODE}` });
    const message = { ...groupMessage(Date.now()), text: { content: ` ${TARGET} 取消迁移` }, robotCode };
    const attack = await fn.post(message as DingTalkMessage, signed());
    expect(attack.status).toBe(401);
    expect(fn.calls).toEqual([]);
    untouched();
    expect(fn.replies.replies()).toEqual([]);
  });

  it('still acts on the legitimate callback, reporting to the group only, with every rule in force', async () => {
    const fn = deployed({ DINGTALK_ROBOT_CODES: ROBOT_CODE });
    const now = Date.now();
    const message = { ...groupMessage(now), text: { content: ` ${TARGET} 取消迁移` } };
    const answer = await fn.post(message, signed({ timestamp: now }));
    expect(answer.status).toBe(200);
    expect(answer.body.text?.content).toMatch(new RegExp(`⏳ ${TARGET}: accepted`));
    const token = tokenFor(NAME, TARGET, message.msgId as string);
    expect(state(TARGET)).toMatchObject({
      migrating: false,
      history: [expect.objectContaining({ action: 'CancelTask', clientToken: token })],
    });
    const replies = fn.replies.replies();
    expect(replies.map((r) => r.url)).toEqual([GROUP_WEBHOOK]);
    expect(replies[0]?.body).toMatchObject({ text: { content: expect.stringContaining(`✅ ${TARGET}: applied`) } });
  });

  it('still takes a callback without robotCode while DINGTALK_ROBOT_CODES is unset', async () => {
    const fn = deployed();
    const message: DingTalkMessage = { ...groupMessage(Date.now()), text: { content: ` ${TARGET}` } };
    delete message.robotCode;
    expect((await fn.post(message, signed())).status).toBe(200);
    expect(state(TARGET)?.migrating).toBe(false);
  });
});

describe('Function: dingtalk source, who may act (DINGTALK_ALLOWED_USERS, DINGTALK_ALLOWED_CONVERSATIONS)', () => {
  it('refuses every message while DINGTALK_ALLOWED_USERS is unset, naming the variable, with no call', async () => {
    const { post, calls } = setup('interrupt-elasticsearch-task', { DINGTALK_ALLOWED_USERS: undefined });
    const response = await post(fixture('message'), signed());
    expect(response.status).toBe(200);
    expect(response.body.text?.content).toContain(
      'interrupt-elasticsearch-task (InterruptElasticsearchTask): DINGTALK_ALLOWED_USERS is not set, so every DingTalk command is refused',
    );
    expect(calls).toHaveLength(0);
    expect(state('es-cn-demo-activating')?.history).toHaveLength(0);
  });

  it('refuses a sender who is not in the list, and one with no senderStaffId (outside the organisation)', async () => {
    const { post, calls } = setup();
    const stranger = fixture('message');
    stranger.senderStaffId = 'intern042';
    stranger.senderNick = '实习生';
    const refused = await post(stranger, signed());
    expect(refused.body.text?.content).toContain('实习生 (intern042) is not in DINGTALK_ALLOWED_USERS');
    expect(refused.body.text?.content.split('\n').at(-1)).toBe(
      `asked by 实习生 (intern042) in ES 值班群 (${CONVERSATION})`,
    );
    const external = fixture('message');
    delete external.senderStaffId;
    expect((await post(external, signed())).body.text?.content).toContain(
      '陈海超 (no user ID) is not in DINGTALK_ALLOWED_USERS',
    );
    expect(calls).toHaveLength(0);
    expect(state('es-cn-demo-activating')?.history).toHaveLength(0);
  });

  it('lets everyone act with DINGTALK_ALLOWED_USERS=*', async () => {
    const { post } = setup('interrupt-elasticsearch-task', { DINGTALK_ALLOWED_USERS: '*' });
    const message = fixture('message');
    message.senderStaffId = 'anyone77';
    expect((await post(message, signed())).body.text?.content).toContain('1 applied');
    expect(state('es-cn-demo-activating')?.status).toBe('suspended');
  });

  it('refuses a conversation outside DINGTALK_ALLOWED_CONVERSATIONS, and acts in one inside it', async () => {
    const { post, calls } = setup('interrupt-elasticsearch-task', { DINGTALK_ALLOWED_CONVERSATIONS: 'cidOnCall==' });
    const refused = await post(fixture('message'), signed());
    expect(refused.body.text?.content).toContain(
      `conversation ES 值班群 (${CONVERSATION}) is not in DINGTALK_ALLOWED_CONVERSATIONS`,
    );
    expect(calls).toHaveLength(0);
    const inside = setup('interrupt-elasticsearch-task', {
      DINGTALK_ALLOWED_CONVERSATIONS: `cidOnCall==,${CONVERSATION}`,
    });
    expect((await inside.post(fixture('message'), signed())).body.text?.content).toContain('1 applied');
  });
});
