import { createHash } from 'node:crypto';
import { createClient } from '@redis/client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FunctionName } from '../shared/actions.ts';
import type { Env } from '../shared/config.ts';
import type { FunctionOptions } from '../shared/create-function.ts';
import { createEmbeddedStore } from '../shared/state/embedded-store.ts';
import { type DingTalkMessage, dingTalkSign, fixture, freshMillis } from './fixtures/dingtalk/kit.ts';
import { unreachableStore } from './support/fakes.ts';
import {
  type Answer,
  expectedToken,
  useEmulator,
  type WiredFunction,
  wireFunction,
} from './support/function-harness.ts';
import { captureOutput, outputLines } from './support/log-capture.ts';
import { findRedisServer, type RunningRedis, startRedis, warnRedisMissing } from './support/redis-server.ts';

/**
 * DingTalk's sign covers only its timestamp, so each `(timestamp, sign)` pair is accepted with one
 * body. With a state store that memory is the store's: a pair captured from one callback and sent
 * with another body to another function instance, or to another function sharing the app secret,
 * is refused there too. Each instance here is a handler of its own, created from the same
 * environment: on the embedded store local mode gives them, and on a real redis-server through
 * STATE_STORE_URL (each handler its own connection, as each FC instance has). A store that does not
 * answer refuses the callback with 503, not a 401 that would hide the outage.
 */

const APP_SECRET = 'dt-app-secret-Xr7Kq2mLpW9sVb4nTz6yHc1dFg8jA3eU0oQi5';
const STAFF_ID = 'manager8502';
const ACTIVATING = 'es-cn-demo-activating';
const MIGRATING = 'es-cn-demo-migrating';

interface DingTalkReply {
  msgtype?: string;
  text?: { content: string };
  error?: { code: string; message: string };
}

const upstream = useEmulator();
const { state } = upstream;

const bin = findRedisServer();
if (!bin) warnRedisMissing("DINGTALK'S PAIR MEMORY");
let redis: RunningRedis | undefined;
beforeAll(async () => {
  if (bin) redis = await startRedis(bin);
});
afterAll(() => redis?.stop());

/** A plain client of the server, to see what the store holds (its own connection). */
async function plainClient(url: string) {
  const client = createClient({ url, RESP: 2 });
  await client.connect();
  return client;
}

async function flush(url: string): Promise<void> {
  const client = await plainClient(url);
  await client.flushAll();
  client.destroy();
}

function signed(timestamp = freshMillis()): Record<string, string> {
  return {
    'content-type': 'application/json',
    timestamp: String(timestamp),
    sign: dingTalkSign(APP_SECRET, timestamp),
  };
}

/** The attacker's body: a new message naming `instanceId`, sent with a pair read from another callback. */
function forged(instanceId: string): DingTalkMessage {
  return { ...fixture('message'), msgId: 'msgF0rg3dByTh3Att4ck3r00==', text: { content: ` ${instanceId} 取消` } };
}

type Instance = WiredFunction<DingTalkReply> & {
  /** Posts a callback body with its headers. */
  deliver(message: DingTalkMessage, headers: Record<string, string>): Promise<Answer<DingTalkReply>>;
};

/** A function instance: its own handler, from the environment every instance shares. */
function instance(name: FunctionName, env: Env, options: Pick<FunctionOptions, 'stateStore' | 'now'> = {}): Instance {
  const fn = wireFunction<DingTalkReply>(
    upstream.url,
    name,
    'dingtalk',
    { DINGTALK_APP_SECRETS: APP_SECRET, DINGTALK_ALLOWED_USERS: STAFF_ID, POWERTOOLS_LOG_LEVEL: 'SILENT', ...env },
    options,
  );
  return Object.assign(fn, {
    deliver: (message: DingTalkMessage, headers: Record<string, string>) => fn.post(JSON.stringify(message), headers),
  });
}

interface StoreCase {
  skip: boolean;
  /** Two instances of `first` and `second` (the same function by default) sharing one store. */
  pair(first: FunctionName, second?: FunctionName): [Instance, Instance];
}

const STORES: Array<[string, StoreCase]> = [
  [
    'the embedded store (local mode)',
    {
      skip: false,
      pair(first, second = first) {
        const stateStore = createEmbeddedStore();
        return [instance(first, {}, { stateStore }), instance(second, {}, { stateStore })];
      },
    },
  ],
  [
    'Redis (STATE_STORE_URL)',
    {
      skip: !bin,
      pair(first, second = first) {
        const env = { STATE_STORE_URL: (redis as RunningRedis).url };
        return [instance(first, env), instance(second, env)];
      },
    },
  ],
];

describe.each(STORES)('Function: dingtalk source, one captured pair at two function instances on %s', (_, store) => {
  beforeEach(async () => {
    if (redis) await flush(redis.url);
  });

  it.skipIf(store.skip)('refuses at the second instance the pair the first took with another body', async () => {
    const [a, b] = store.pair('interrupt-elasticsearch-task');
    const captured = signed();
    const legit = await a.deliver(fixture('message'), captured);
    expect(legit.body.text?.content).toContain(`✅ ${ACTIVATING}: applied`);

    const attack = await b.deliver(forged(MIGRATING), captured);
    expect(attack.status).toBe(401);
    expect(attack.body).toMatchObject({ error: { code: 'Unauthorized' } });
    expect(b.calls).toEqual([]);
    expect(state(MIGRATING)?.history).toEqual([]);
  });

  it.skipIf(store.skip)('refuses the pair at another function that shares the app secret', async () => {
    const [a, b] = store.pair('interrupt-elasticsearch-task', 'cancel-migration-task');
    const captured = signed();
    // The callback whose headers leak names nothing: someone greets the robot.
    expect((await a.deliver(fixture('no-instance'), captured)).status).toBe(200);

    const attack = await b.deliver(forged(MIGRATING), captured);
    expect(attack.status).toBe(401);
    expect(b.calls).toEqual([]);
    expect(state(MIGRATING)).toMatchObject({ migrating: true, history: [] });
  });

  it.skipIf(store.skip)(
    'refuses the captured callback replayed byte for byte to another function sharing the app secret',
    async () => {
      // DingTalk's body does not name the action, the URL does: the same bytes at cancel-migration-task
      // would cancel the migration of the instance the person asked to interrupt.
      const [a, b] = store.pair('interrupt-elasticsearch-task', 'cancel-migration-task');
      const message: DingTalkMessage = { ...fixture('message'), text: { content: ` ${MIGRATING} 中断` } };
      const captured = signed();
      expect((await a.deliver(message, captured)).status).toBe(200);

      const replay = await b.deliver(message, captured);
      expect(replay.status).toBe(401);
      expect(b.calls).toEqual([]);
      expect(state(MIGRATING)).toMatchObject({ migrating: true });
      expect(state(MIGRATING)?.history.map((change) => change.action)).not.toContain('CancelTask');
    },
  );

  it.skipIf(store.skip)('takes the same delivery again at the other instance: the same token, one change', async () => {
    const [a, b] = store.pair('interrupt-elasticsearch-task');
    const message = fixture('message');
    const headers = signed();
    const token = expectedToken('interrupt-elasticsearch-task', ACTIVATING, `dingtalk:${message.msgId}`);
    expect((await a.deliver(message, headers)).body.text?.content).toMatch(
      new RegExp(`✅ ${ACTIVATING}: applied — .*clientToken ${token}`),
    );

    // DingTalk re-delivering a callback it got no timely answer for, to another instance.
    const again = await b.deliver(message, headers);
    expect(again.status).toBe(200);
    expect(again.body.text?.content).toContain(`clientToken ${token}`);
    expect(state(ACTIVATING)?.history).toEqual([expect.objectContaining({ clientToken: token })]);
  });
});

describe('Function: dingtalk source, functions with different DINGTALK_MAX_AGE_SECONDS on one store', () => {
  it('keeps a pair spent at a 60 s function for the 1 h one that would still take it two minutes later', async () => {
    // One clock for the store and both functions, moved on by hand.
    let clock = Date.now();
    const stateStore = createEmbeddedStore({ clock: () => clock });
    const now = () => new Date(clock);
    const captured = signed(clock);
    const strict = instance('interrupt-elasticsearch-task', { DINGTALK_MAX_AGE_SECONDS: '60' }, { stateStore, now });
    const lenient = instance('cancel-migration-task', { DINGTALK_MAX_AGE_SECONDS: '3600' }, { stateStore, now });
    expect((await strict.deliver(fixture('no-instance'), captured)).status).toBe(200);

    // Two minutes on: the strict function's window has closed on the pair, the lenient one's has not.
    clock += 120_000;
    expect((await strict.deliver(fixture('no-instance'), captured)).status).toBe(401);
    const attack = await lenient.deliver(forged(MIGRATING), captured);
    expect(attack.status).toBe(401);
    expect(lenient.calls).toEqual([]);
    expect(state(MIGRATING)).toMatchObject({ migrating: true, history: [] });
  });
});

describe('Function: dingtalk source, two instances without a store (the limit the README states)', () => {
  it('remembers a pair per instance only: the second instance takes it with another body', async () => {
    const [a, b] = [instance('interrupt-elasticsearch-task', {}), instance('interrupt-elasticsearch-task', {})];
    const captured = signed();
    expect((await a.deliver(fixture('message'), captured)).status).toBe(200);
    expect((await b.deliver(forged(MIGRATING), captured)).body.text?.content).toContain(`✅ ${MIGRATING}: applied`);
    // Each instance still refuses the pair with a body other than the one it took.
    expect((await a.deliver(forged(MIGRATING), captured)).status).toBe(401);
  });
});

describe.skipIf(!bin)('Function: dingtalk source, what Redis holds of a pair', () => {
  it('holds a hash of the pair, what it first came with and when the platform hour closes on it (plus a minute of clock skew), with a TTL no longer', async () => {
    const url = (redis as RunningRedis).url;
    await flush(url);
    const fn = instance('interrupt-elasticsearch-task', { STATE_STORE_URL: url });
    const message = fixture('no-instance');
    const headers = signed();
    const sent = Date.now();
    expect((await fn.deliver(message, headers)).status).toBe(200);
    const answered = Date.now();
    // Kept until the millisecond after the pair's last valid one for any function sharing the store:
    // DingTalk's own hour, the longest DINGTALK_MAX_AGE_SECONDS allows (this function's is 5 min).
    // And a minute more for clocks of FC instances that disagree (so never shorter at a faster one).
    const closes = Number(headers.timestamp) + 60 * 60_000 + 1 + 60_000;

    const client = await plainClient(url);
    try {
      const keys = await client.keys('{es-responder}:dingtalk-pair:*');
      expect(keys).toEqual([expect.stringMatching(/^\{es-responder\}:dingtalk-pair:[A-Za-z0-9_-]{43}$/)]);
      const key = keys[0] as string;
      const value = await client.get(key);
      const bodySha = createHash('sha256').update(JSON.stringify(message)).digest('base64');
      const [expiresAt, fingerprint] = (value ?? '').split(' ');
      // What it first came with: the body, at this function (the URL names the action, not the body).
      expect(fingerprint).toBe(`interrupt-elasticsearch-task:${bodySha}`);
      // Kept for the time left to the window as the function saw it, from when the store wrote it.
      expect(Number(expiresAt)).toBeGreaterThanOrEqual(closes);
      expect(Number(expiresAt)).toBeLessThanOrEqual(closes + (answered - sent));
      // Nothing that signs a body: the sign is in neither the key nor the value, in any encoding.
      const sign = Buffer.from(headers.sign as string, 'base64');
      for (const encoding of ['base64', 'base64url', 'hex'] as const) {
        expect(`${key} ${value}`).not.toContain(sign.toString(encoding).replace(/=+$/, ''));
      }
      const ttl = await client.pTTL(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(closes - sent);
    } finally {
      client.destroy();
    }
  });
});

/** The 503 a callback gets while the store is down: the store's code, no host, port or cause in it. */
function expectStoreRefusal(answer: Answer<DingTalkReply>, hidden: readonly string[]) {
  expect(answer.status).toBe(503);
  expect(answer.body.error?.code).toBe('StateStoreUnavailable');
  expect(answer.body.text).toBeUndefined();
  const text = JSON.stringify(answer.body);
  for (const internal of hidden) expect(text).not.toContain(internal);
}

describe('Function: dingtalk source, when the store cannot answer', () => {
  it('refuses a signed callback with 503 StateStoreUnavailable, the cause in the log only, nothing called', async () => {
    const fn = instance(
      'interrupt-elasticsearch-task',
      { POWERTOOLS_LOG_LEVEL: 'INFO' },
      { stateStore: unreachableStore('Error: connect ECONNREFUSED 10.0.0.8:6379') },
    );
    const { value: answer, text } = await captureOutput(() => fn.deliver(fixture('message'), signed()));
    expectStoreRefusal(answer, ['10.0.0.8', '6379', 'ECONNREFUSED']);
    expect(fn.calls).toEqual([]);
    expect(state(ACTIVATING)?.history).toEqual([]);
    const lines = outputLines(text).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'ERROR',
        message: 'not verified',
        code: 'StateStoreUnavailable',
        status: 503,
        detail: 'Error: connect ECONNREFUSED 10.0.0.8:6379',
      }),
    );
  });

  it('still refuses an unsigned callback with 401 before the store is asked', async () => {
    const fn = instance(
      'interrupt-elasticsearch-task',
      {},
      { stateStore: unreachableStore('Error: connect ECONNREFUSED 10.0.0.8:6379') },
    );
    const answer = await fn.deliver(fixture('message'), { ...signed(), sign: dingTalkSign('not-the-secret', 1) });
    expect(answer.status).toBe(401);
  });

  describe.skipIf(!bin)('a real redis-server that goes down', () => {
    let outage: RunningRedis;
    beforeAll(async () => {
      outage = await startRedis(bin as string);
    });
    afterAll(() => outage?.stop());

    it('refuses with 503 while the server is killed or frozen, and takes the retried callback once it is back', async () => {
      const fn = instance('interrupt-elasticsearch-task', { STATE_STORE_URL: outage.url });
      const message = fixture('message');
      const headers = signed();
      const hidden = ['127.0.0.1', String(outage.port), 'ECONNREFUSED', 'redis://'];

      await outage.kill();
      expectStoreRefusal(await fn.deliver(message, headers), hidden);
      await outage.restart();
      outage.pause();
      try {
        expectStoreRefusal(await fn.deliver(message, headers), hidden);
      } finally {
        outage.resume();
      }
      expect(fn.calls).toEqual([]);
      expect(state(ACTIVATING)?.history).toEqual([]);

      // DingTalk (or the user) sends the callback again: the pair was never remembered, so it acts, once.
      const back = await fn.deliver(message, headers);
      expect(back.status).toBe(200);
      expect(back.body.text?.content).toContain(`✅ ${ACTIVATING}: applied`);
      expect(state(ACTIVATING)?.history).toHaveLength(1);
    });
  });
});
