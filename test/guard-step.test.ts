import { describe, expect, it } from 'vitest';
import { ACTIONS, type FunctionName } from '../shared/actions.ts';
import { createHandOffExecutor } from '../shared/async/hand-off-executor.ts';
import type { AsyncInvoker } from '../shared/async/invoker.ts';
import { parseConfig } from '../shared/config.ts';
import type { PlannedTarget } from '../shared/core/plan.ts';
import { createResponder, type Executor } from '../shared/core/responder.ts';
import type { TargetResult } from '../shared/core/result.ts';
import type { SourceEvent } from '../shared/core/target.ts';
import { createGuardStep, SETTLE_RESERVE_MS } from '../shared/guardrails/guard-step.ts';
import { createGuardrails, type GuardRequest, type Guardrails } from '../shared/guardrails/guardrails.ts';
import { CHAT_SOURCE_NAMES } from '../shared/sources/registry.ts';
import { createEmbeddedStore } from '../shared/state/embedded-store.ts';
import { type StateStore, StateStoreUnavailable } from '../shared/state/store.ts';
import { fakeInvocation } from './support/fakes.ts';

/** The guardrails' section of the one configuration parse. */
const guardrailConfig = (env: Record<string, string | undefined>) => parseConfig(env).guardrails;

/**
 * The guard step in the responder, on the embedded store with one fake clock for everything (the
 * store's time, the deadlines, the time calls and store operations take): the ownership check and
 * the admission as one step, whatever lands between the plan and the decision; the time kept back
 * from the calls for the settle; and the hand-off path, where MAX_TARGETS_PER_EVENT still counts the
 * whole event before it is split into commands.
 */

const T0 = Date.UTC(2025, 0, 6, 3, 0, 0);

function fakeTime() {
  let now = T0;
  return { now: () => now, set: (t: number) => (now = Math.max(now, t)), advance: (ms: number) => (now += ms) };
}

type Time = ReturnType<typeof fakeTime>;

/**
 * The store as the Redis adapter behaves in time: each operation takes `latencyMs`, and one that
 * cannot finish by its deadline rejects with StateStoreUnavailable (timeout) without acting. `down`
 * makes every operation fail as an unreachable store's.
 */
function timedStore(time: Time, latencyMs: number) {
  const inner = createEmbeddedStore({ clock: time.now });
  const state = { down: false, reads: 0 };
  const timed =
    <A extends unknown[], R>(op: (...args: A) => Promise<R>, deadlineAt: number) =>
    async (...args: A): Promise<R> => {
      if (state.down) throw new StateStoreUnavailable('unreachable', 'test: connection refused');
      const deadline = args[deadlineAt] as number;
      if (time.now() + latencyMs > deadline) throw new StateStoreUnavailable('timeout', 'test: no time left');
      time.advance(latencyMs);
      return op(...args);
    };
  const store: StateStore = {
    kind: 'redis',
    claim: timed(inner.claim, 3),
    commit: timed(inner.commit, 3),
    release: timed(inner.release, 2),
    peekClaim: timed(inner.peekClaim, 3),
    admitFlip: timed(inner.admitFlip, 3),
    dropFlip: timed(inner.dropFlip, 3),
    peekFlip: timed(inner.peekFlip, 3),
    getRecord: (key, deadline) => {
      state.reads++;
      return timed(inner.getRecord, 1)(key, deadline);
    },
    putRecord: timed(inner.putRecord, 3),
    deleteRecord: timed(inner.deleteRecord, 1),
    rememberOnce: timed(inner.rememberOnce, 3),
    deleteKey: timed(inner.deleteKey, 1),
    close: inner.close,
  };
  return { store, inner, state };
}

interface Setup {
  fn: FunctionName;
  env?: Record<string, string>;
  latencyMs?: number;
  /** Wraps the guardrails the guard step uses (a test's interleaving). */
  wrap?: (guardrails: Guardrails) => Guardrails;
}

function setup({ fn, env = {}, latencyMs = 5, wrap = (g) => g }: Setup) {
  const time = fakeTime();
  const { store, inner, state } = timedStore(time, latencyMs);
  const config = parseConfig({
    ALIBABA_CLOUD_REGION: 'cn-hangzhou',
    ALLOWED_INSTANCES: 'es-cn-*',
    MAX_TARGETS_PER_EVENT: '2',
    ...env,
  });
  const guardrails = createGuardrails({
    store,
    chatSources: CHAT_SOURCE_NAMES,
    config: guardrailConfig(env),
    pendingClaimMs: 40_000,
    clock: time.now,
  });
  const action = fn === 'resume-elasticsearch-task' ? 'resume' : 'interrupt';
  const guard = createGuardStep({ guardrails: wrap(guardrails), functionName: fn, action, now: time.now });
  const responder = createResponder({ action: ACTIONS[fn], policy: config.policy, region: config.region, guard });
  return { time, store, inner, state, guardrails, responder };
}

/** An executor standing for the API: each call takes until `endsAt(deadline)` of the fake clock. */
function callingExecutor(time: Time, endsAt: (deadline: number) => number = (d) => d) {
  const seen: { deadlines: number[]; targets: string[] } = { deadlines: [], targets: [] };
  const executor: Executor = {
    guardrails: 'decide',
    async run(targets, _request, invocation) {
      seen.deadlines.push(invocation.deadline);
      seen.targets.push(...targets.map((t) => t.instanceId));
      time.set(endsAt(invocation.deadline));
      return targets.map((t: PlannedTarget): TargetResult => ({ ...base(t), outcome: 'applied' }));
    },
  };
  return { executor, seen };
}

const base = (t: PlannedTarget) => ({ instanceId: t.instanceId, regionId: t.regionId, clientToken: t.clientToken });

const alerts = (state: 'firing' | 'resolved', ids: string[]): SourceEvent => ({
  items: ids.map((instanceId) => ({ instanceId, eventKey: `alertmanager:${instanceId}@t`, alertState: state })),
});

let serial = 0;
const personInterrupt = (instanceId: string): GuardRequest => ({
  instanceId,
  functionName: 'interrupt-elasticsearch-task',
  action: 'interrupt',
  actor: 'person',
  clientToken: `ies1-person-${++serial}`,
  eventKey: `slack:${serial}`,
  source: 'slack',
});

/** What an interrupt of ours leaves: the record, as the interrupt function's settle writes it. */
async function interruptedByUs(guardrails: Guardrails, ids: string[]) {
  for (const instanceId of ids) {
    const decision = await guardrails.decide(
      { ...personInterrupt(instanceId), actor: 'alert', eventKey: `alertmanager:${instanceId}@f`, source: 'x' },
      T0 + 60_000,
    );
    if (!decision.allowed) throw new Error(decision.message);
    await guardrails.settle(decision.ticket, 'applied', T0 + 60_000);
  }
}

/** A person's interrupt from chat of an instance already suspended: decided, called ('already'), settled. */
async function personActs(guardrails: Guardrails, instanceId: string) {
  const decision = await guardrails.decide(personInterrupt(instanceId), T0 + 60_000);
  if (!decision.allowed) throw new Error(decision.message);
  await guardrails.settle(decision.ticket, 'already', T0 + 60_000);
}

describe("Function: createGuardStep in the responder, a person's interrupt racing a resolved alert's resume", () => {
  const ids = ['es-cn-r1', 'es-cn-r2', 'es-cn-r3'];

  it.each([
    ['between the plan and the decision', 'plan'],
    ['inside the decision, after it read the record', 'decide'],
  ] as const)('lets the person win when their interrupt is recorded %s', async (_, when) => {
    let interleave: (() => Promise<unknown>) | undefined;
    const landing = async () => {
      const other = interleave;
      interleave = undefined;
      await other?.();
    };
    const { time, responder, guardrails, store } = setup({
      fn: 'resume-elasticsearch-task',
      wrap: (g) => ({
        ...g,
        // The plan reads which resumptions are ours (3 targets, MAX_TARGETS_PER_EVENT=2)…
        ownedAmong: async (...args) => {
          const owned = await g.ownedAmong(...args);
          if (when === 'plan') await landing();
          return owned;
        },
      }),
    });
    const admitFlip = store.admitFlip;
    // …and the decision reads the record, then admits the flip.
    store.admitFlip = async (...args) => {
      if (when === 'decide' && args[0] === 'flap:es-cn-r2') await landing();
      return admitFlip(...args);
    };
    await interruptedByUs(guardrails, ids);
    interleave = () => personActs(guardrails, 'es-cn-r2');
    const { executor, seen } = callingExecutor(time, () => time.now());
    const outcome = await responder.respond(alerts('resolved', ids), 'alertmanager', executor, fakeInvocation());
    expect(interleave).toBeUndefined();
    // The plan counted all three as ours (no TooManyTargets); the decision refused the one a person took.
    expect(seen.targets).toEqual(['es-cn-r1', 'es-cn-r3']);
    expect(outcome.status).toBe(200);
    expect(outcome.body.results.map((r) => [r.instanceId, r.outcome, r.code])).toEqual([
      ['es-cn-r1', 'applied', undefined],
      ['es-cn-r2', 'refused', 'NotInterruptedByResponder'],
      ['es-cn-r3', 'applied', undefined],
    ]);
    expect(outcome.body.results[1]?.message).toContain('by a person (slack');
    expect(await guardrails.interruption('es-cn-r2', T0 + 60_000)).toMatchObject({ by: 'person' });
  });
});

describe("Function: createGuardStep in the responder, a person's interrupt during the resume's call", () => {
  it('cannot be prevented by the decision before it; the settle sees it, says so, and keeps their record', async () => {
    const { time, responder, guardrails } = setup({ fn: 'resume-elasticsearch-task' });
    await interruptedByUs(guardrails, ['es-cn-c1']);
    const { executor } = callingExecutor(time, () => time.now());
    const calling: Executor = {
      ...executor,
      async run(targets, request, invocation) {
        // The person's command reaches the API first ('already'), and is recorded before this call's settle.
        await personActs(guardrails, 'es-cn-c1');
        return executor.run(targets, request, invocation);
      },
    };
    const invocation = fakeInvocation();
    const outcome = await responder.respond(alerts('resolved', ['es-cn-c1']), 'alertmanager', calling, invocation);
    expect(outcome.body.results[0]).toMatchObject({ outcome: 'applied' });
    expect(outcome.body.results[0]?.message).toContain('a person interrupted this instance (slack');
    expect(invocation.lines.find((l) => l.message === 'raced')).toMatchObject({
      level: 'warn',
      attributes: { instanceId: 'es-cn-c1', clientToken: expect.stringMatching(/^res1-/) },
    });
    expect(await guardrails.interruption('es-cn-c1', T0 + 60_000)).toMatchObject({ by: 'person' });
  });
});

describe('Function: createGuardStep in the responder, the time kept for the settle', () => {
  const deliveryDeadline = T0 + 3500;

  it('stops the calls SETTLE_RESERVE_MS early, so a call that runs to its deadline still has its claim committed', async () => {
    const { time, responder, guardrails } = setup({
      fn: 'interrupt-elasticsearch-task',
      env: { FLEET_CHANGE_BUDGET: '1/10m' },
      latencyMs: 20,
    });
    const { executor, seen } = callingExecutor(time);
    const outcome = await responder.respond(
      alerts('firing', ['es-cn-slow']),
      'alertmanager',
      executor,
      fakeInvocation({ deadline: deliveryDeadline }),
    );
    expect(seen.deadlines).toEqual([deliveryDeadline - SETTLE_RESERVE_MS]);
    expect(outcome.status).toBe(200);
    expect(outcome.body.results[0]).toMatchObject({ outcome: 'applied' });
    // Recorded: no warning in the answer, the interruption is ours…
    expect(outcome.body.results[0]?.message).toBeUndefined();
    expect(await guardrails.ownsInterruption('es-cn-slow', time.now() + 1000)).toBe(true);
    expect(time.now()).toBeLessThanOrEqual(deliveryDeadline);
    // …and the unit committed: past the pending time it still counts, and the next alert is refused.
    time.advance(60_000);
    const next = await guardrails.decide(
      { ...personInterrupt('es-cn-next'), actor: 'alert', source: 'alertmanager' },
      time.now() + 1000,
    );
    expect(next).toMatchObject({ allowed: false, code: 'ChangeBudgetExhausted' });
  });

  it('keeps a quarter of the time left when that is less than SETTLE_RESERVE_MS', async () => {
    const { time, responder } = setup({ fn: 'interrupt-elasticsearch-task', latencyMs: 1 });
    const { executor, seen } = callingExecutor(time);
    await responder.respond(
      alerts('firing', ['es-cn-short']),
      'alertmanager',
      executor,
      fakeInvocation({ deadline: T0 + 400 }),
    );
    expect(seen.deadlines).toEqual([T0 + 300]);
  });

  it('answers 503 StateStoreUnavailable, no call made, when the store is down before the decision', async () => {
    const { time, responder, state } = setup({ fn: 'interrupt-elasticsearch-task' });
    state.down = true;
    const { executor, seen } = callingExecutor(time);
    const outcome = await responder.respond(
      alerts('firing', ['es-cn-down']),
      'alertmanager',
      executor,
      fakeInvocation({ deadline: deliveryDeadline }),
    );
    expect(seen.targets).toEqual([]);
    expect(outcome.status).toBe(503);
    expect(outcome.body.results[0]).toMatchObject({ outcome: 'refused', code: 'StateStoreUnavailable' });
  });

  it('reports the change made, with what could not be recorded, when the store goes down during the call', async () => {
    const { time, responder, state } = setup({ fn: 'interrupt-elasticsearch-task' });
    const executor: Executor = {
      guardrails: 'decide',
      async run(targets, request, invocation) {
        state.down = true;
        return callingExecutor(time).executor.run(targets, request, invocation);
      },
    };
    const outcome = await responder.respond(
      alerts('firing', ['es-cn-lost']),
      'alertmanager',
      executor,
      fakeInvocation({ deadline: deliveryDeadline }),
    );
    expect(outcome.status).toBe(200);
    expect(outcome.body.results[0]).toMatchObject({ outcome: 'applied' });
    expect(outcome.body.results[0]?.message).toContain('this interruption is not recorded as ours');
  });
});

describe('Function: createGuardStep in the responder, the hand-off path', () => {
  const invoker: AsyncInvoker = { invoke: async () => ({ status: 'accepted', requestId: 'fc-1' }) };
  const ids = ['es-cn-h1', 'es-cn-h2', 'es-cn-h3'];
  const countingInvoker = () => {
    const invoked = { count: 0 };
    const counting: AsyncInvoker = {
      async invoke(...args) {
        invoked.count += 1;
        return invoker.invoke(...args);
      },
    };
    return { counting, invoked };
  };

  it('reads on the hand-off path too which resumptions are ours when there are more than MAX_TARGETS_PER_EVENT: a store that is down refuses the event, nothing handed off', async () => {
    const { responder, state } = setup({ fn: 'resume-elasticsearch-task' });
    state.down = true;
    const { counting, invoked } = countingInvoker();
    const handOff = createHandOffExecutor({
      action: ACTIONS['resume-elasticsearch-task'],
      invoker: counting,
      concurrency: 4,
    });
    await expect(
      responder.respond(alerts('resolved', ids), 'alertmanager', handOff, fakeInvocation()),
    ).rejects.toBeInstanceOf(StateStoreUnavailable);
    expect(state.reads).toBeGreaterThan(0);
    expect(invoked.count).toBe(0);
  });

  it('applies MAX_TARGETS_PER_EVENT to the whole event before handing off (split into commands, each would count only its own)', async () => {
    const { responder } = setup({ fn: 'resume-elasticsearch-task' });
    const { counting, invoked } = countingInvoker();
    const handOff = createHandOffExecutor({
      action: ACTIONS['resume-elasticsearch-task'],
      invoker: counting,
      concurrency: 4,
    });
    // None of the three is ours: three changes started, past 2, refused whole at the HTTP invocation.
    const outcome = await responder.respond(alerts('resolved', ids), 'alertmanager', handOff, fakeInvocation());
    expect(outcome.status).toBe(403);
    expect(outcome.body.results.map((r) => r.code)).toEqual(['TooManyTargets', 'TooManyTargets', 'TooManyTargets']);
    expect(invoked.count).toBe(0);
  });

  it('still counts every target of a person (a chat command) on the hand-off path', async () => {
    const { responder, state } = setup({ fn: 'resume-elasticsearch-task' });
    state.down = true;
    const handOff = createHandOffExecutor({ action: ACTIONS['resume-elasticsearch-task'], invoker, concurrency: 4 });
    const event: SourceEvent = { items: ids.map((instanceId) => ({ instanceId, eventKey: `generic:${instanceId}` })) };
    const outcome = await responder.respond(event, 'generic', handOff, fakeInvocation());
    expect(outcome.status).toBe(403);
    expect(state.reads).toBe(0);
  });
});
