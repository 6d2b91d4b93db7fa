import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../shared/config.ts';
import {
  createGuardrails,
  type GuardDecision,
  type GuardPass,
  type GuardPreview,
  type GuardPreviewPass,
  type GuardRefusal,
  type GuardRequest,
  type Guardrails,
  OWNERSHIP_TTL_MS,
  type Settlement,
  settlementOf,
} from '../shared/guardrails/guardrails.ts';
import { CHAT_SOURCE_NAMES } from '../shared/sources/registry.ts';
import { createEmbeddedStore } from '../shared/state/embedded-store.ts';
import { createRedisStore } from '../shared/state/redis-store.ts';
import { type StateStore, StateStoreUnavailable } from '../shared/state/store.ts';
import { unreachableStore } from './support/fakes.ts';
import { findRedisServer, type RunningRedis, startRedis, warnRedisMissing } from './support/redis-server.ts';

/** The guardrails' section of the one configuration parse. */
const guardrailConfig = (env: Record<string, string | undefined>) => parseConfig(env).guardrails;

/**
 * The guardrail decisions (ownership, fleet change budget, flap guard) on both stores, with a fake
 * clock: the scenarios of issue 12 (a group of resolved alerts resuming only what we interrupted,
 * an alert storm stopping at the budget, a flapping alert stopping after the guard's limit), retries,
 * failures, crashes, people acting, and a store that does not answer.
 */

const bin = findRedisServer();
if (!bin) warnRedisMissing('THE GUARDRAIL DECISIONS');

let redis: RunningRedis | undefined;
beforeAll(async () => {
  if (bin) redis = await startRedis(bin);
});
const stores: StateStore[] = [];
afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await redis?.stop();
});

const T0 = Date.UTC(2025, 0, 6, 3, 0, 0);
const MIN = 60_000;
const soon = () => Date.now() + 5000;
const flap1 = { limit: 3, windowMs: 30 * MIN };

type Factory = (clock: () => number) => StateStore;
const factories: Array<[string, Factory]> = [
  ['embedded', (clock) => createEmbeddedStore({ clock })],
  ['redis', (clock) => createRedisStore({ url: (redis as RunningRedis).url, clock, namespace: `g-${randomUUID()}` })],
];

/** `wrap` puts a test's interleaving around the store the guardrails use. */
function setup(factory: Factory, env: Record<string, string> = {}, wrap = (store: StateStore) => store) {
  let now = T0;
  const clock = () => now;
  const inner = factory(clock);
  stores.push(inner);
  const store = wrap(inner);
  const guard = createGuardrails({
    store,
    chatSources: CHAT_SOURCE_NAMES,
    config: guardrailConfig(env),
    pendingClaimMs: 40_000,
    clock,
  });
  return { guard, store, advance: (ms: number) => (now += ms) };
}

let serial = 0;
/** A request as the pipeline would make it; each call a new episode (token) unless one is given. */
function req(
  instanceId: string,
  action: GuardRequest['action'],
  actor: GuardRequest['actor'],
  clientToken = `tok-${++serial}`,
): GuardRequest {
  const fn = action === 'cancel' ? 'cancel-migration-task' : `${action}-elasticsearch-task`;
  return {
    instanceId,
    functionName: fn,
    action,
    actor,
    clientToken,
    eventKey: `${actor === 'alert' ? 'alertmanager' : 'slack'}:${clientToken}`,
    source: actor === 'alert' ? 'alertmanager' : 'slack',
  };
}

function passed(decision: GuardDecision): GuardPass {
  if (!decision.allowed) throw new Error(`refused ${decision.code}: ${decision.message}`);
  return decision;
}

/** decide, then settle as the call would have ended; the decision. */
async function act(guard: Guardrails, request: GuardRequest, settlement: Settlement = 'applied') {
  const decision = await guard.decide(request, soon());
  if (decision.allowed) expect(await guard.settle(decision.ticket, settlement, soon())).toEqual({ stored: true });
  return decision;
}

describe.each(factories)('Function: createGuardrails on the %s store', (name, factory) => {
  const skip = name === 'redis' && !bin;

  describe.skipIf(skip)('ownership (RESUME_ONLY_OWN)', () => {
    it('resumes the 5 instances of a 6-alert group that alerts of ours interrupted, and refuses the sixth', async () => {
      const { guard } = setup(factory);
      const ours = ['es-cn-1', 'es-cn-2', 'es-cn-3', 'es-cn-4', 'es-cn-5'];
      for (const id of ours) passed(await act(guard, req(id, 'interrupt', 'alert')));
      const group = [...ours, 'es-cn-6'];
      expect([...(await guard.ownedAmong(group, soon()))].sort()).toEqual(ours);
      const decisions = await Promise.all(group.map((id) => guard.decide(req(id, 'resume', 'alert'), soon())));
      for (const d of decisions.slice(0, 5)) expect(d).toMatchObject({ allowed: true, ownResumption: true });
      expect(decisions[5]).toMatchObject({
        allowed: false,
        code: 'NotInterruptedByResponder',
        status: 200,
        retryable: false,
      });
      expect((decisions[5] as { message: string }).message).toContain('no interruption of it by an alert of ours');
      for (const d of decisions.slice(0, 5)) await guard.settle(passed(d).ticket, 'applied', soon());
      // Resumed: the interruptions are over, nothing of ours is left to resume.
      expect(await guard.ownedAmong(group, soon())).toEqual(new Set());
    });

    it('records what an alert interrupted: instance, function, clientToken, event key, time', async () => {
      const { guard } = setup(factory);
      const request = req('es-cn-rec', 'interrupt', 'alert', 'ies1-abc');
      await act(guard, request);
      expect(await guard.interruption('es-cn-rec', soon())).toEqual({
        instanceId: 'es-cn-rec',
        functionName: 'interrupt-elasticsearch-task',
        clientToken: 'ies1-abc',
        eventKey: 'alertmanager:ies1-abc',
        source: 'alertmanager',
        by: 'alert',
        at: new Date(T0).toISOString(),
      });
      expect(await guard.ownsInterruption('es-cn-rec', soon())).toBe(true);
    });

    it("never resumes a person's interruption from an alert, and says who interrupted it", async () => {
      const { guard } = setup(factory);
      await act(guard, req('es-cn-p', 'interrupt', 'alert'));
      // A person interrupts it too (it is already suspended: 'already'): the interruption is theirs now.
      await act(guard, req('es-cn-p', 'interrupt', 'person'), 'already');
      expect(await guard.ownsInterruption('es-cn-p', soon())).toBe(false);
      const refused = await guard.decide(req('es-cn-p', 'resume', 'alert'), soon());
      expect(refused).toMatchObject({ allowed: false, code: 'NotInterruptedByResponder' });
      expect((refused as { message: string }).message).toContain('by a person (slack');
      // A person may resume it, and that clears the record.
      passed(await act(guard, req('es-cn-p', 'resume', 'person')));
      expect(await guard.interruption('es-cn-p', soon())).toBeUndefined();
    });

    it("keeps a person's interruption when an alert's interrupt settles after it (a retried delivery)", async () => {
      const { guard } = setup(factory);
      // The alert's call is under way (decided, not yet settled) when a person interrupts from chat.
      const alert = passed(await guard.decide(req('es-cn-race', 'interrupt', 'alert'), soon()));
      await act(guard, req('es-cn-race', 'interrupt', 'person'), 'already');
      expect(await guard.settle(alert.ticket, 'applied', soon())).toEqual({ stored: true });
      expect(await guard.interruption('es-cn-race', soon())).toMatchObject({ by: 'person' });
      expect(await guard.decide(req('es-cn-race', 'resume', 'alert'), soon())).toMatchObject({
        allowed: false,
        code: 'NotInterruptedByResponder',
      });
    });

    it.each<[string, GuardRequest['actor'], Settlement, string]>([
      ["a person's interrupt (from chat, of an instance already suspended)", 'person', 'already', 'by a person (slack'],
      ["a newer alert's interrupt", 'alert', 'applied', 'interrupted again by a newer alert of ours'],
    ])('refuses a resume when %s is recorded while it is being decided', async (_, actor, settlement, says) => {
      let interleave: (() => Promise<unknown>) | undefined;
      // It lands after the resume's decision has read the record and before it admits anything.
      const { guard, store } = setup(factory, {}, (inner) => ({
        ...inner,
        async admitFlip(...args) {
          const other = interleave;
          interleave = undefined;
          await other?.();
          return inner.admitFlip(...args);
        },
      }));
      await act(guard, req('es-cn-mid', 'interrupt', 'alert'));
      const before = await guard.interruption('es-cn-mid', soon());
      interleave = () => act(guard, req('es-cn-mid', 'interrupt', actor), settlement);
      const resume = await guard.decide(req('es-cn-mid', 'resume', 'alert'), soon());
      expect(interleave).toBeUndefined();
      expect(resume).toMatchObject({ allowed: false, code: 'NotInterruptedByResponder', status: 200 });
      expect((resume as { message: string }).message).toContain(says);
      const after = await guard.interruption('es-cn-mid', soon());
      expect(after).toMatchObject({ by: actor });
      expect(after?.clientToken).not.toBe(before?.clientToken);
      // Nothing of the refused resume was admitted: after the last interrupt, a stop flips nothing.
      const probe = await store.admitFlip('flap:es-cn-mid', { member: 'probe', direction: 'stop' }, flap1, soon());
      expect(probe).toMatchObject({ granted: true, flips: 0 });
    });

    it("says so when a person's interrupt is recorded after the resume was decided, and keeps their record", async () => {
      const { guard } = setup(factory);
      await act(guard, req('es-cn-late', 'interrupt', 'alert'));
      const resume = passed(await guard.decide(req('es-cn-late', 'resume', 'alert'), soon()));
      // The person's command reaches the API while the instance is still suspended ('already'),
      // before the resume's call: the resume then undoes it. Only the settle can see it happened.
      await act(guard, req('es-cn-late', 'interrupt', 'person'), 'already');
      const settled = await guard.settle(resume.ticket, 'applied', soon());
      expect(settled).toEqual({
        stored: true,
        warning: expect.stringContaining('a person interrupted this instance (slack, 2025-01-06T03:00:00.000Z)'),
      });
      expect((settled as { warning: string }).warning).toContain('check it, and interrupt it again from chat');
      expect(await guard.interruption('es-cn-late', soon())).toMatchObject({ by: 'person' });
      // A resume that found nothing to do changed nothing: no warning.
      await act(guard, req('es-cn-calm', 'interrupt', 'alert'));
      const calm = passed(await guard.decide(req('es-cn-calm', 'resume', 'alert'), soon()));
      await act(guard, req('es-cn-calm', 'interrupt', 'person'), 'already');
      expect(await guard.settle(calm.ticket, 'already', soon())).toEqual({ stored: true });
    });

    it('with RESUME_ONLY_OWN=false lets the resume through whatever is recorded meanwhile', async () => {
      let interleave: (() => Promise<unknown>) | undefined;
      const { guard } = setup(factory, { RESUME_ONLY_OWN: 'false' }, (inner) => ({
        ...inner,
        async admitFlip(...args) {
          await interleave?.();
          interleave = undefined;
          return inner.admitFlip(...args);
        },
      }));
      await act(guard, req('es-cn-any', 'interrupt', 'alert'));
      interleave = () => act(guard, req('es-cn-any', 'interrupt', 'person'), 'already');
      passed(await guard.decide(req('es-cn-any', 'resume', 'alert'), soon()));
    });

    it('does not record an interrupt that did not apply, nor one that may have', async () => {
      const { guard } = setup(factory);
      for (const settlement of ['already', 'not-made', 'unknown'] as const) {
        await act(guard, req(`es-cn-${settlement}`, 'interrupt', 'alert'), settlement);
        expect(await guard.ownsInterruption(`es-cn-${settlement}`, soon())).toBe(false);
      }
    });

    it('keeps the record when our resume may not have happened, and clears it when the instance already runs', async () => {
      const { guard } = setup(factory);
      await act(guard, req('es-cn-r', 'interrupt', 'alert'));
      await act(guard, req('es-cn-r', 'resume', 'alert'), 'unknown');
      expect(await guard.ownsInterruption('es-cn-r', soon())).toBe(true);
      await act(guard, req('es-cn-r', 'resume', 'alert'), 'already');
      expect(await guard.ownsInterruption('es-cn-r', soon())).toBe(false);
    });

    it('clears only the interruption it resumed: a newer one recorded meanwhile stays', async () => {
      const { guard } = setup(factory);
      await act(guard, req('es-cn-n', 'interrupt', 'alert'));
      const resume = passed(await guard.decide(req('es-cn-n', 'resume', 'alert'), soon()));
      // Meanwhile a new episode interrupts it again (recorded under its own token).
      await act(guard, req('es-cn-n', 'interrupt', 'alert'));
      const newer = await guard.interruption('es-cn-n', soon());
      await guard.settle(resume.ticket, 'applied', soon());
      expect(await guard.interruption('es-cn-n', soon())).toEqual(newer);
    });

    it('forgets an interruption after OWNERSHIP_TTL_MS (7 days): then a person resumes it', async () => {
      const { guard, advance } = setup(factory);
      await act(guard, req('es-cn-old', 'interrupt', 'alert'));
      advance(OWNERSHIP_TTL_MS - 1);
      expect(await guard.ownsInterruption('es-cn-old', soon())).toBe(true);
      advance(1);
      expect(await guard.ownsInterruption('es-cn-old', soon())).toBe(false);
    });

    it('with RESUME_ONLY_OWN=false resumes any instance, counting it toward the budget when not ours', async () => {
      const { guard } = setup(factory, { RESUME_ONLY_OWN: 'false', FLEET_CHANGE_BUDGET: '1/10m' });
      const notOurs = passed(await guard.decide(req('es-cn-x', 'resume', 'alert'), soon()));
      expect(notOurs).toMatchObject({ ownResumption: false, ticket: { claim: 'new' } });
      expect(await guard.decide(req('es-cn-y', 'resume', 'alert'), soon())).toMatchObject({
        allowed: false,
        code: 'ChangeBudgetExhausted',
      });
    });
  });

  describe.skipIf(skip)('the fleet change budget (FLEET_CHANGE_BUDGET)', () => {
    it('stops an alert storm at the budget and says when it frees up', async () => {
      const { guard, advance } = setup(factory);
      for (let i = 0; i < 10; i++) {
        passed(await act(guard, req(`es-cn-storm-${i}`, i % 2 ? 'cancel' : 'interrupt', 'alert')));
        advance(30_000);
      }
      const refused = await guard.decide(req('es-cn-storm-10', 'interrupt', 'alert'), soon());
      expect(refused).toMatchObject({ allowed: false, code: 'ChangeBudgetExhausted', status: 200, retryable: false });
      expect((refused as { message: string }).message).toContain(
        'FLEET_CHANGE_BUDGET=10/10m is spent (10 changes started in the window); it frees up by 2025-01-06T03:10:00Z (in 5m)',
      );
      advance(5 * MIN);
      passed(await guard.decide(req('es-cn-storm-10', 'interrupt', 'alert'), soon()));
    });

    it('counts a person past the budget without refusing, and says so; never refuses a resumption of ours', async () => {
      const { guard } = setup(factory, { FLEET_CHANGE_BUDGET: '2/10m' });
      await act(guard, req('es-cn-a', 'interrupt', 'alert'));
      await act(guard, req('es-cn-b', 'interrupt', 'alert'));
      const person = passed(await guard.decide(req('es-cn-c', 'interrupt', 'person'), soon()));
      expect(person.notes).toEqual([
        "counted toward the fleet change budget (3 of 2/10m, over the budget); a person's command is never refused by it",
      ]);
      const own = passed(await guard.decide(req('es-cn-a', 'resume', 'alert'), soon()));
      expect(own).toMatchObject({ ownResumption: true, ticket: { claim: 'none' } });
    });

    it('never counts a retry or a duplicate delivery (same clientToken) twice', async () => {
      const { guard } = setup(factory, { FLEET_CHANGE_BUDGET: '2/10m' });
      const token = 'ies1-retried';
      passed(await act(guard, req('es-cn-a', 'interrupt', 'alert', token), 'unknown'));
      const retry = passed(await act(guard, req('es-cn-a', 'interrupt', 'alert', token)));
      expect(retry.ticket).toMatchObject({ claim: 'duplicate', flip: 'duplicate' });
      passed(await act(guard, req('es-cn-b', 'interrupt', 'alert')));
      expect(await guard.decide(req('es-cn-c', 'interrupt', 'alert'), soon())).toMatchObject({ allowed: false });
    });

    it('releases the claim of a call that made no change, and keeps that of a call that may have', async () => {
      const { guard, advance } = setup(factory, { FLEET_CHANGE_BUDGET: '1/10m' });
      await act(guard, req('es-cn-a', 'interrupt', 'alert'), 'not-made');
      await act(guard, req('es-cn-b', 'interrupt', 'alert'), 'already');
      passed(await act(guard, req('es-cn-c', 'interrupt', 'alert'), 'unknown'));
      advance(40_000);
      expect(await guard.decide(req('es-cn-d', 'interrupt', 'alert'), soon())).toMatchObject({
        allowed: false,
        code: 'ChangeBudgetExhausted',
      });
    });

    it('lets the claim of a crash between claim and call lapse after the pending time, never leaking the budget', async () => {
      const { guard, advance } = setup(factory, { FLEET_CHANGE_BUDGET: '1/10m' });
      passed(await guard.decide(req('es-cn-a', 'interrupt', 'alert'), soon()));
      expect(await guard.decide(req('es-cn-b', 'interrupt', 'alert'), soon())).toMatchObject({ allowed: false });
      advance(40_000);
      passed(await guard.decide(req('es-cn-b', 'interrupt', 'alert'), soon()));
    });

    it('lets only as many concurrent decisions through as the budget holds', async () => {
      const { guard } = setup(factory, { FLEET_CHANGE_BUDGET: '5/10m' });
      const decisions = await Promise.all(
        Array.from({ length: 20 }, (_, i) => guard.decide(req(`es-cn-c${i}`, 'interrupt', 'alert'), soon())),
      );
      expect(decisions.filter((d) => d.allowed)).toHaveLength(5);
      expect(decisions.filter((d) => !d.allowed && d.code === 'ChangeBudgetExhausted')).toHaveLength(15);
    });

    it('leaves no flap-guard trace of an action the budget refused', async () => {
      const { guard, store } = setup(factory, { FLEET_CHANGE_BUDGET: '1/10m', FLAP_GUARD: '1/30m' });
      await act(guard, req('es-cn-a', 'interrupt', 'alert'));
      expect(await guard.decide(req('es-cn-b', 'interrupt', 'alert'), soon())).toMatchObject({ allowed: false });
      const probe = await store.admitFlip(
        'flap:es-cn-b',
        { member: 'probe', direction: 'resume' },
        { limit: 1, windowMs: 30 * MIN },
        soon(),
      );
      expect(probe).toMatchObject({ granted: true, flips: 0 });
    });
  });

  describe.skipIf(skip)('the flap guard (FLAP_GUARD)', () => {
    it('stops a flapping alert after 3 flips, until a person acts', async () => {
      const { guard, advance } = setup(factory);
      const flips: GuardRequest['action'][] = ['interrupt', 'resume', 'interrupt', 'resume'];
      for (const action of flips) {
        passed(await act(guard, req('es-cn-f', action, 'alert')));
        advance(5_000);
      }
      const refused = await guard.decide(req('es-cn-f', 'interrupt', 'alert'), soon());
      expect(refused).toMatchObject({ allowed: false, code: 'Flapping', status: 200, retryable: false });
      expect((refused as { message: string }).message).toContain(
        'flipped between interrupt and resume 3 times within 30m (FLAP_GUARD=3/30m)',
      );
      expect((refused as { message: string }).message).toContain(
        'until a person acts from chat, or until 2025-01-06T03:30:00Z',
      );
      // A person acts from chat: the guard starts over.
      await act(guard, req('es-cn-f', 'resume', 'person'), 'already');
      passed(await guard.decide(req('es-cn-f', 'interrupt', 'alert'), soon()));
    });

    it('does not start over for a scheduled command that changed nothing, only for one that did', async () => {
      const { guard } = setup(factory, { FLAP_GUARD: '1/30m' });
      await act(guard, req('es-cn-t', 'interrupt', 'alert'));
      await act(guard, req('es-cn-t', 'resume', 'alert'));
      const tick = (action: GuardRequest['action']): GuardRequest => ({
        ...req('es-cn-t', action, 'person'),
        source: 'timer',
      });
      // A timer tick on an instance already in the state it asks for: the flapping alert stays refused.
      await act(guard, tick('interrupt'), 'already');
      expect(await guard.decide(req('es-cn-t', 'interrupt', 'alert'), soon())).toMatchObject({ code: 'Flapping' });
      // A tick that did change the instance is a person's decision: the guard starts over.
      await act(guard, tick('interrupt'), 'applied');
      passed(await guard.decide(req('es-cn-t', 'interrupt', 'alert'), soon()));
    });

    it('lets automatic actions through again once the window has passed', async () => {
      const { guard, advance } = setup(factory, { FLAP_GUARD: '1/10m' });
      await act(guard, req('es-cn-w', 'interrupt', 'alert'));
      advance(MIN);
      await act(guard, req('es-cn-w', 'resume', 'alert'));
      expect(await guard.decide(req('es-cn-w', 'interrupt', 'alert'), soon())).toMatchObject({ code: 'Flapping' });
      advance(9 * MIN);
      passed(await guard.decide(req('es-cn-w', 'interrupt', 'alert'), soon()));
    });

    it('does not count actions that changed nothing (already, refused for good, dry run)', async () => {
      const { guard } = setup(factory, { FLAP_GUARD: '1/30m' });
      await act(guard, req('es-cn-q', 'interrupt', 'alert'), 'already');
      await act(guard, req('es-cn-q', 'resume', 'alert'), 'not-made');
      await act(guard, req('es-cn-q', 'interrupt', 'alert'));
      passed(await act(guard, req('es-cn-q', 'resume', 'alert')));
    });

    it('refuses even a resumption of ours while flapping: the instance stays as it is', async () => {
      const { guard, advance } = setup(factory, { FLAP_GUARD: '2/30m' });
      for (const action of ['interrupt', 'resume', 'interrupt'] as const) {
        await act(guard, req('es-cn-s', action, 'alert'));
        advance(1000);
      }
      expect(await guard.ownsInterruption('es-cn-s', soon())).toBe(true);
      expect(await guard.decide(req('es-cn-s', 'resume', 'alert'), soon())).toMatchObject({ code: 'Flapping' });
    });
  });

  describe.skipIf(skip)('preview (DRY_RUN)', () => {
    /** A decision as a preview and a real decision can both be compared: its ticket and notes aside. */
    const gist = (d: GuardDecision | GuardPreview) =>
      d.allowed
        ? { allowed: true, claim: 'ticket' in d ? d.ticket.claim : d.claim, ownResumption: d.ownResumption }
        : { allowed: false, code: d.code, status: d.status, message: d.message };

    /** Previews `requests`, then decides and settles them for real, in order: both lists of gists. */
    async function previewThenAct(guard: Guardrails, requests: GuardRequest[]) {
      const previews = await guard.preview(requests, soon());
      const decisions: GuardDecision[] = [];
      for (const request of requests) decisions.push(await act(guard, request));
      return { previews, foretold: previews.map(gist), decided: decisions.map(gist) };
    }

    it("foretells each rule's refusal with the message a real decision then gives", async () => {
      const { guard, advance } = setup(factory, { FLEET_CHANGE_BUDGET: '4/10m', FLAP_GUARD: '1/30m' });
      await act(guard, req('es-cn-f', 'interrupt', 'alert'));
      advance(MIN);
      await act(guard, req('es-cn-f', 'resume', 'alert')); // ours: one flip, no budget
      await act(guard, req('es-cn-p', 'interrupt', 'person'));
      advance(MIN);
      const { previews, foretold, decided } = await previewThenAct(guard, [
        req('es-cn-f', 'interrupt', 'alert'), // a second flip: Flapping
        req('es-cn-p', 'resume', 'alert'), // a person's interruption: NotInterruptedByResponder
        req('es-cn-n', 'resume', 'alert'), // nothing recorded: NotInterruptedByResponder
      ]);
      expect(foretold.map((d) => ('code' in d ? d.code : 'allowed'))).toEqual([
        'Flapping',
        'NotInterruptedByResponder',
        'NotInterruptedByResponder',
      ]);
      expect(foretold).toEqual(decided);
      expect((previews[1] as GuardRefusal).message).toContain('made by a person (slack,');
    });

    it('counts the budget units an event’s earlier targets would claim, and refuses where a real run does', async () => {
      const { guard } = setup(factory, { FLEET_CHANGE_BUDGET: '3/10m', FLAP_GUARD: '5/30m' });
      await act(guard, req('es-cn-0', 'interrupt', 'alert'));
      await act(guard, req('es-cn-own', 'interrupt', 'alert'));
      const retried = req('es-cn-r', 'interrupt', 'alert');
      await act(guard, retried);
      // The budget is spent (3 of 3): a retry still passes, as does the resumption of ours.
      const storm = [
        { ...retried },
        req('es-cn-own', 'resume', 'alert'),
        req('es-cn-1', 'interrupt', 'alert'),
        req('es-cn-2', 'interrupt', 'person'),
      ];
      const { previews, foretold, decided } = await previewThenAct(guard, storm);
      expect(foretold).toEqual(decided);
      expect(foretold.map((d) => ('code' in d ? d.code : d.claim))).toEqual([
        'duplicate',
        'none',
        'ChangeBudgetExhausted',
        'new',
      ]);
      expect(previews.map((p) => (p.allowed ? p.notes : [p.message]))).toEqual([
        [expect.stringContaining('already counted toward the fleet change budget')],
        [expect.stringContaining('resumes an interruption an alert of ours made')],
        [expect.stringContaining('FLEET_CHANGE_BUDGET=3/10m is spent (3 changes started in the window)')],
        [
          expect.stringContaining(
            'a real run would count it toward the fleet change budget (4 of 3/10m, over the budget)',
          ),
        ],
      ]);
    });

    it('counts within the event: with one unit left, the first alert passes and the rest are refused', async () => {
      const { guard } = setup(factory, { FLEET_CHANGE_BUDGET: '3/10m' });
      for (const id of ['es-cn-a', 'es-cn-b']) await act(guard, req(id, 'interrupt', 'alert'));
      const event = ['es-cn-1', 'es-cn-2', 'es-cn-3'].map((id) => req(id, 'interrupt', 'alert'));
      const { previews, foretold, decided } = await previewThenAct(guard, event);
      expect(foretold).toEqual(decided);
      expect(previews.map((p) => p.allowed)).toEqual([true, false, false]);
      expect((previews[0] as GuardPreviewPass).notes).toEqual([
        "a real run would count it toward the fleet change budget: 3 of 3/10m, this event's earlier targets included",
      ]);
      // The refusal says when the first unit frees up: the oldest of the window's, not this event's.
      expect((previews[1] as GuardRefusal).message).toContain('it frees up by 2025-01-06T03:10:00Z');
    });

    it('claims, admits and records nothing', async () => {
      const { guard } = setup(factory, { FLEET_CHANGE_BUDGET: '1/10m', FLAP_GUARD: '1/30m' });
      const requests = [
        req('es-cn-d', 'interrupt', 'alert'),
        req('es-cn-e', 'interrupt', 'alert'),
        req('es-cn-p', 'interrupt', 'person'),
      ];
      for (let i = 0; i < 3; i++) {
        expect((await guard.preview(requests, soon())).map((p) => p.allowed)).toEqual([true, false, true]);
      }
      expect(await guard.interruption('es-cn-d', soon())).toBeUndefined();
      // The budget's one unit is still there for a real decision, and no flip was logged.
      passed(await act(guard, req('es-cn-e', 'interrupt', 'alert')));
      passed(await act(guard, req('es-cn-e', 'resume', 'alert')));
    });
  });
});

describe('Function: createGuardrails when the store does not answer', () => {
  const guard = createGuardrails({
    store: unreachableStore('Error: connect ECONNREFUSED 10.0.0.8:6379'),
    chatSources: CHAT_SOURCE_NAMES,
    config: guardrailConfig({}),
    pendingClaimMs: 40_000,
  });

  it.each(['interrupt', 'resume', 'cancel'] as const)(
    'refuses an alert-driven %s with StateStoreUnavailable, 503',
    async (action) => {
      const decision = await guard.decide(req('es-cn-1', action, 'alert'), soon());
      expect(decision).toMatchObject({ allowed: false, code: 'StateStoreUnavailable', status: 503, retryable: true });
      const { message, detail } = decision as { message: string; detail: string };
      expect(message).not.toContain('10.0.0.8');
      expect(detail).toContain('unreachable');
    },
  );

  it("lets a person's command through, saying it was not counted", async () => {
    const decision = passed(await guard.decide(req('es-cn-1', 'interrupt', 'person'), soon()));
    expect(decision.notes).toEqual([
      'the state store did not answer: this command was not counted toward the fleet change budget',
    ]);
    const settled = await guard.settle(decision.ticket, 'applied', soon());
    expect(settled).toMatchObject({
      stored: false,
      warning: expect.stringContaining('a resolved alert could resume this instance'),
    });
  });

  it('previews what a real run would decide: alerts refused (503), a person counted by nothing, the store asked once', async () => {
    const store = unreachableStore('Error: connect ECONNREFUSED 10.0.0.8:6379');
    let asked = 0;
    const counting = new Proxy(store, {
      get: (target, key) => {
        const value = target[key as keyof StateStore];
        return typeof value === 'function' && key !== 'close'
          ? (...args: never[]) => {
              asked++;
              return (value as (...a: never[]) => unknown)(...args);
            }
          : value;
      },
    });
    const previewing = createGuardrails({
      store: counting,
      chatSources: CHAT_SOURCE_NAMES,
      config: guardrailConfig({}),
      pendingClaimMs: 40_000,
    });
    const previews = await previewing.preview(
      [req('es-cn-1', 'interrupt', 'alert'), req('es-cn-2', 'interrupt', 'person'), req('es-cn-3', 'resume', 'alert')],
      soon(),
    );
    expect(previews).toEqual([
      expect.objectContaining({ allowed: false, code: 'StateStoreUnavailable', status: 503 }),
      {
        allowed: true,
        claim: 'none',
        ownResumption: false,
        notes: [
          'the state store did not answer: a real run would not count this command toward the fleet change budget',
        ],
      },
      expect.objectContaining({ allowed: false, code: 'StateStoreUnavailable', status: 503 }),
    ]);
    expect(asked).toBe(1);
  });

  it('rejects ownership reads with StateStoreUnavailable', async () => {
    await expect(guard.ownsInterruption('es-cn-1', soon())).rejects.toBeInstanceOf(StateStoreUnavailable);
    await expect(guard.ownedAmong(['es-cn-1'], soon())).rejects.toBeInstanceOf(StateStoreUnavailable);
  });
});

describe('Function: settlementOf', () => {
  it.each([
    [{ outcome: 'applied' }, 'applied'],
    [{ outcome: 'already' }, 'already'],
    [{ outcome: 'dry-run' }, 'not-made'],
    [{ outcome: 'refused' }, 'not-made'],
    [{ outcome: 'failed', retryable: false }, 'not-made'],
    [{ outcome: 'failed', retryable: true }, 'unknown'],
  ])('maps %o to %s', (result, settlement) => {
    expect(settlementOf(result)).toBe(settlement);
  });

  it('refuses a pending time too short to outlive a call', () => {
    expect(() =>
      createGuardrails({
        store: unreachableStore('Error: connect ECONNREFUSED 10.0.0.8:6379'),
        chatSources: CHAT_SOURCE_NAMES,
        config: guardrailConfig({}),
        pendingClaimMs: 10,
      }),
    ).toThrow('pendingClaimMs');
  });
});
