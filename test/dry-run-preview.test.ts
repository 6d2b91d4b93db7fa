import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FunctionName } from '../shared/actions.ts';
import type { ResponseBody, TargetResult } from '../shared/core/result.ts';
import { createEmbeddedStore } from '../shared/state/embedded-store.ts';
import { createRedisStore } from '../shared/state/redis-store.ts';
import type { StateStore } from '../shared/state/store.ts';
import { alertGroupBody, fixture } from './fixtures/alertmanager/kit.ts';
import { SLACK_SECRETS, SLACK_USER, fixture as slackFixture, slackSignature } from './fixtures/slack/kit.ts';
import { freePort } from './support/alertmanager.ts';
import { unreachableStore } from './support/fakes.ts';
import { type Answer, useEmulator, type WiredFunction, wireFunction } from './support/function-harness.ts';
import { findRedisServer, type RunningRedis, startRedis, warnRedisMissing } from './support/redis-server.ts';
import { redisSnapshot } from './support/redis-snapshot.ts';

/**
 * DRY_RUN through the functions as deployed (config, source, responder, the dry-run executor, the
 * guardrails' preview, the store), on both stores. Each delivery is first sent with DRY_RUN to one
 * store, then for real to a copy of that store (every real run goes to both, so they stay alike),
 * and the dry run must have said what the real run then did: the same refusals with the same codes
 * and reasons, the same status, `dry-run` where the real run called the API. A dry run calls only
 * the store's read-only operations, makes no upstream call, and leaves the store as it was (the
 * Redis namespace, byte for byte; both stores, in that every later operation answers as on the copy).
 */

const bin = findRedisServer();
if (!bin) warnRedisMissing('DRY_RUN ON THE GUARDRAILS');

let redis: RunningRedis | undefined;
beforeAll(async () => {
  if (bin) redis = await startRedis(bin);
});
const opened: StateStore[] = [];
afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
  await redis?.stop();
});

const TOKEN = 'am-dry-run-token-5e1b';
const GENERIC = 'generic-dry-run-token-77d0';
const ids = (...n: Array<number | string>) => n.map((i) => `es-cn-demo-dry-${i}`);
const upstream = useEmulator({
  seed: () => ids(1, 2, 3, 4, 5, 6, 7, 8, 'f', 'p').map((instanceId) => ({ instanceId, status: 'activating' })),
});

/** An Alertmanager group naming `names`, each a fresh alert episode. */
function group(names: string[], status: 'firing' | 'resolved'): string {
  const bodies = names.map((id) => alertGroupBody(fixture(status), id, status));
  const first = bodies[0] as ReturnType<typeof fixture>;
  return JSON.stringify({ ...first, alerts: bodies.flatMap((b) => b.alerts) });
}
const alertHeaders = { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` };
const genericHeaders = (key: string) => ({
  'content-type': 'application/json',
  authorization: `Bearer ${GENERIC}`,
  'idempotency-key': key,
});

const READ_ONLY = new Set(['peekClaim', 'peekFlip', 'getRecord']);

/** `store`, telling `seen` the name of every operation called on it. */
function spied(store: StateStore, seen: string[]): StateStore {
  return new Proxy(store, {
    get(target, key) {
      const value = Reflect.get(target, key);
      if (typeof value !== 'function' || key === 'close') return value;
      return (...args: unknown[]) => {
        seen.push(String(key));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

/** Every operation runs on `primary`, then on `mirror`, which must answer the same: two stores kept alike. */
function tee(primary: StateStore, mirror: StateStore): StateStore {
  return new Proxy(primary, {
    get(target, key) {
      const value = Reflect.get(target, key);
      if (typeof value !== 'function' || key === 'close') return value;
      return async (...args: unknown[]) => {
        const answer = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        const mirrored = Reflect.get(mirror, key) as (...a: unknown[]) => Promise<unknown>;
        expect(await mirrored.apply(mirror, args), `${String(key)} on the store the dry runs used`).toEqual(answer);
        return answer;
      };
    },
  });
}

type Factory = (clock: () => number) => { store: StateStore; snapshot: () => Promise<unknown> };
const factories: Array<[string, Factory]> = [
  ['embedded', (clock) => ({ store: createEmbeddedStore({ clock }), snapshot: async () => undefined })],
  [
    'redis',
    (clock) => {
      const namespace = `dry-${randomUUID()}`;
      const url = (redis as RunningRedis).url;
      return { store: createRedisStore({ url, clock, namespace }), snapshot: () => redisSnapshot(url, namespace) };
    },
  ],
];

/**
 * The functions twice over: with DRY_RUN on store `dry` (spied), and for real on `copy`, mirrored to
 * `dry`. Both stores read one clock, frozen: the copy holds exactly what `dry` holds.
 */
function twins(factory: Factory, env: Record<string, string>) {
  const now = Date.now();
  const dry = factory(() => now);
  const copy = factory(() => now);
  opened.push(dry.store, copy.store);
  const seen: string[] = [];
  const fullEnv = { ALERTMANAGER_BEARER_TOKENS: TOKEN, GENERIC_BEARER_TOKENS: GENERIC, ...env };
  const fns = new Map<string, WiredFunction<ResponseBody>>();
  const fn = (name: FunctionName, mode: 'dry' | 'real') => {
    const key = `${name}/${mode}`;
    let wired = fns.get(key);
    if (!wired) {
      wired =
        mode === 'dry'
          ? wireFunction(
              upstream.url,
              name,
              'alertmanager',
              { ...fullEnv, DRY_RUN: 'true' },
              {
                stateStore: spied(dry.store, seen),
              },
            )
          : wireFunction(upstream.url, name, 'alertmanager', fullEnv, { stateStore: tee(copy.store, dry.store) });
      fns.set(key, wired);
    }
    return wired;
  };

  /** The same delivery, with DRY_RUN, then for real on the copy; both answers. */
  async function previewThenRun(name: FunctionName, body: string, headers = alertHeaders, source = 'alertmanager') {
    const before = await dry.snapshot();
    seen.length = 0;
    const dryFn = fn(name, 'dry');
    const upstreamCalls = dryFn.calls.length;
    const preview = await dryFn.post(body, headers, source);
    expect(preview.body.dryRun).toBe(true);
    expect(dryFn.calls.length, 'upstream calls of the dry run').toBe(upstreamCalls);
    expect(
      seen.filter((op) => !READ_ONLY.has(op)),
      'what the dry run wrote',
    ).toEqual([]);
    expect(await dry.snapshot()).toEqual(before);
    const real = await fn(name, 'real').post(body, headers, source);
    expect(foretold(preview)).toEqual(happened(real));
    return { preview, real };
  }

  /** A real delivery, to both stores (the history the dry runs see). */
  const run = (name: FunctionName, body: string, headers = alertHeaders, source = 'alertmanager') =>
    fn(name, 'real').post(body, headers, source);

  return { previewThenRun, run, fn, seen };
}

const PREFIX = /^DRY_RUN is set: \w+ was not called, and a real run would refuse it: /;
/** `(in 9m 59s)`: the only part of a reason that depends on when it is read. */
const timeless = (message: string | undefined) => message?.replace(/ \(in [^)]*\)/g, '');

/** What a dry run said a real run would do: per target, whether it would call, or the refusal. */
function foretold({ status, body }: Answer<ResponseBody>) {
  const results = body.results.map((r: TargetResult) => {
    if (r.outcome === 'dry-run') return [r.instanceId, r.clientToken, 'called'];
    expect(r.message).toMatch(PREFIX);
    return [r.instanceId, r.clientToken, r.outcome, r.code, timeless(r.message?.replace(PREFIX, ''))];
  });
  return { status, results };
}

/** What the real run did, in the same terms. */
function happened({ status, body }: Answer<ResponseBody>) {
  const results = body.results.map((r: TargetResult) =>
    r.outcome === 'applied' || r.outcome === 'already'
      ? [r.instanceId, r.clientToken, 'called']
      : [r.instanceId, r.clientToken, r.outcome, r.code, timeless(r.message)],
  );
  return { status, results };
}

const codes = (answer: Answer<ResponseBody>) => answer.body.results.map((r) => r.code ?? r.outcome);

describe.each(factories)('Function: DRY_RUN on the guardrails, %s store', (name, factory) => {
  const skip = name === 'redis' && !bin;

  it.skipIf(skip)(
    'reports the budget refusals of a storm exactly where the real run then makes them, writing nothing',
    async () => {
      const { previewThenRun, run } = twins(factory, { FLEET_CHANGE_BUDGET: '4/10m', FLAP_GUARD: '3/30m' });
      // Three interruptions of ours: one unit of four is left.
      expect(codes(await run('interrupt-elasticsearch-task', group(ids(1, 2, 3), 'firing')))).toEqual([
        'applied',
        'applied',
        'applied',
      ]);

      const firing = group(ids(4, 5, 6), 'firing');
      const first = await previewThenRun('interrupt-elasticsearch-task', firing);
      expect(codes(first.preview)).toEqual(['dry-run', 'ChangeBudgetExhausted', 'ChangeBudgetExhausted']);
      expect(first.preview.status).toBe(200);
      expect(first.preview.body.summary).toBe(
        '1 dry-run, 2 refused (DRY_RUN: nothing was called; this is what a real run would do now)',
      );
      const [allowed, refused] = first.preview.body.results as [TargetResult, TargetResult];
      expect(allowed.message).toBe(
        "DRY_RUN is set: InterruptElasticsearchTask was not called; a real run would count it toward the fleet change budget: 4 of 4/10m, this event's earlier targets included",
      );
      expect(allowed.call).toMatchObject({ operation: 'InterruptElasticsearchTask', method: 'POST' });
      expect(refused.message).toMatch(
        /^DRY_RUN is set: InterruptElasticsearchTask was not called, and a real run would refuse it: the fleet change budget FLEET_CHANGE_BUDGET=4\/10m is spent \(4 changes started in the window\)/,
      );

      // Resolved: the two of ours resume (no budget), the one nothing of ours interrupted is refused.
      const resolved = await previewThenRun('resume-elasticsearch-task', group(ids(1, 2, 7), 'resolved'));
      expect(codes(resolved.preview)).toEqual(['dry-run', 'dry-run', 'NotInterruptedByResponder']);
      expect(resolved.preview.body.results[0]?.message).toContain('resumes an interruption an alert of ours made');

      // The storm goes on: the budget is spent; a retried delivery passes as the real one does.
      expect(codes((await previewThenRun('interrupt-elasticsearch-task', group(ids(8), 'firing'))).preview)).toEqual([
        'ChangeBudgetExhausted',
      ]);
      const retried = await previewThenRun('interrupt-elasticsearch-task', firing);
      expect(codes(retried.preview)).toEqual(['dry-run', 'ChangeBudgetExhausted', 'ChangeBudgetExhausted']);
      expect(retried.preview.body.results[0]?.message).toContain('already counted toward the fleet change budget');
    },
  );

  it.skipIf(skip)('reports a flapping instance as Flapping, as the real run then refuses it', async () => {
    const { previewThenRun, run } = twins(factory, { FLAP_GUARD: '1/30m' });
    await run('interrupt-elasticsearch-task', group(ids('f'), 'firing'));
    await run('resume-elasticsearch-task', group(ids('f'), 'resolved'));
    const { preview } = await previewThenRun('interrupt-elasticsearch-task', group(ids('f'), 'firing'));
    expect(preview.status).toBe(200);
    expect(preview.body.results[0]).toMatchObject({ outcome: 'refused', code: 'Flapping' });
    expect(preview.body.results[0]?.message).toContain('(FLAP_GUARD=1/30m)');
  });

  it.skipIf(skip)("reports that a resolved alert would not resume a person's interruption", async () => {
    const { previewThenRun, run } = twins(factory, {});
    const body = JSON.stringify({ instanceIds: ids('p') });
    expect(codes(await run('interrupt-elasticsearch-task', body, genericHeaders('p-1'), 'generic'))).toEqual([
      'applied',
    ]);
    const { preview } = await previewThenRun('resume-elasticsearch-task', group(ids('p'), 'resolved'));
    expect(preview.body.results[0]).toMatchObject({ outcome: 'refused', code: 'NotInterruptedByResponder' });
    expect(preview.body.results[0]?.message).toContain('its interruption was made by a person (generic,');
    // A person's own command needs no guardrail before its call: a plain dry run, and still nothing written.
    const own = await previewThenRun('resume-elasticsearch-task', body, genericHeaders('p-2'), 'generic');
    expect(codes(own.preview)).toEqual(['dry-run']);
  });
});

describe.each(factories)('Function: DRY_RUN of a chat command, %s store', (name, factory) => {
  it.skipIf(name === 'redis' && !bin)(
    'tells the person what a real run would count toward the budget, and writes nothing',
    async () => {
      const { run, fn, seen } = twins(factory, {
        FLEET_CHANGE_BUDGET: '1/10m',
        SLACK_SIGNING_SECRETS: SLACK_SECRETS.join(','),
        SLACK_ALLOWED_USERS: SLACK_USER,
      });
      await run('interrupt-elasticsearch-task', group(ids(1), 'firing'));
      const body = new URLSearchParams({ ...slackFixture('command'), text: `${ids('p')[0]} stuck` }).toString();
      const headers = {
        'content-type': 'application/x-www-form-urlencoded',
        ...slackSignature(body, SLACK_SECRETS[0], Math.floor(Date.now() / 1000)),
      };
      seen.length = 0;
      const reply = (await fn('interrupt-elasticsearch-task', 'dry').post(body, headers, 'slack')).body as {
        text?: string;
      };
      expect(seen.filter((op) => !READ_ONLY.has(op))).toEqual([]);
      expect(seen).toContain('peekClaim');
      expect(reply.text).toMatch(
        /^interrupt-elasticsearch-task \(InterruptElasticsearchTask\) \[DRY_RUN\]: 1 dry-run \(DRY_RUN: nothing was called; this is what a real run would do now\)\n/,
      );
      expect(reply.text).toContain(
        "🧪 `es-cn-demo-dry-p`: dry-run — DRY_RUN is set: InterruptElasticsearchTask was not called; a real run would count it toward the fleet change budget (2 of 1/10m, over the budget); a person's command is never refused by it",
      );
    },
  );
});

describe('Function: DRY_RUN when the store does not answer', () => {
  const stores: Array<[string, () => Promise<StateStore>]> = [
    ['a store failing every operation', async () => unreachableStore()],
    [
      'a Redis store nothing listens for',
      async () => createRedisStore({ url: `redis://127.0.0.1:${await freePort()}` }),
    ],
  ];

  it.each(stores)('answers as a real run does, 503 StateStoreUnavailable, with %s', async (_, open) => {
    const store = await open();
    opened.push(store);
    const env = { ALERTMANAGER_BEARER_TOKENS: TOKEN };
    const wire = (fn: FunctionName, dryRun: boolean) =>
      wireFunction(upstream.url, fn, 'alertmanager', dryRun ? { ...env, DRY_RUN: 'true' } : env, {
        stateStore: store,
      });
    // One alert (its decision needs the store), and a resolved group past MAX_TARGETS_PER_EVENT
    // (which resumptions are ours must be read before the plan).
    const deliveries: Array<[FunctionName, string]> = [
      ['interrupt-elasticsearch-task', group(ids(4), 'firing')],
      ['resume-elasticsearch-task', group(ids(1, 2, 3, 4, 5, 6), 'resolved')],
    ];
    for (const [fn, body] of deliveries) {
      const dry = wire(fn, true);
      const real = wire(fn, false);
      const [preview, answer] = [await dry.post(body, alertHeaders), await real.post(body, alertHeaders)];
      expect(preview.status).toBe(503);
      expect(answer.status).toBe(503);
      expect(preview.body.results.map((r) => r.code)).toEqual(answer.body.results.map((r) => r.code));
      expect(JSON.stringify(preview.body)).not.toMatch(/127\.0\.0\.1|connection refused/);
      expect([...dry.calls, ...real.calls]).toEqual([]);
    }
  });
});
