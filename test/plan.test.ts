import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACTIONS, type FunctionName } from '../shared/actions.ts';
import { parseConfig } from '../shared/config.ts';
import { deriveClientToken } from '../shared/core/client-token.ts';
import { type Plan, type PlanRules, plan, refusedResult, runnableTargets } from '../shared/core/plan.ts';
import { createPolicy } from '../shared/core/policy.ts';
import type { EventItem, Requester, SourceEvent } from '../shared/core/target.ts';

/** The plan's rules for a function under `env` (allow-list es-cn-ok*, default region cn-hangzhou). */
function rulesFor(name: FunctionName = 'interrupt-elasticsearch-task', env: Record<string, string> = {}): PlanRules {
  const config = parseConfig({
    ALLOWED_INSTANCES: 'es-cn-ok*,ls-cn-ok*',
    ALIBABA_CLOUD_REGION: 'cn-hangzhou',
    SLACK_ALLOWED_USERS: 'U1',
    ...env,
  });
  const action = ACTIONS[name];
  return { action, policy: createPolicy(action, config.policy, config.chat), defaultRegion: config.region };
}

const item = (instanceId: string, extra: Partial<EventItem> = {}): EventItem => ({
  instanceId,
  eventKey: 'generic:k1',
  ...extra,
});
const kinds = (p: Plan) =>
  p.items.map((i) => (i.kind === 'run' ? ['run', i.target.instanceId, ''] : [i.kind, i.instanceId, i.refusal.code]));
const token = (instanceId: string, eventKey = 'generic:k1', regionId = 'cn-hangzhou') =>
  deriveClientToken({ action: ACTIONS['interrupt-elasticsearch-task'], regionId, instanceId, eventKey });

describe('Function: plan', () => {
  it('lets an allowed target run under its derived clientToken, in the default region', () => {
    const planned = plan({ items: [item('es-cn-ok-1')] }, rulesFor());
    expect(planned).toEqual({
      items: [
        {
          kind: 'run',
          target: {
            instanceId: 'es-cn-ok-1',
            regionId: 'cn-hangzhou',
            eventKey: 'generic:k1',
            clientToken: token('es-cn-ok-1'),
            actor: 'person',
          },
        },
      ],
    });
    expect(runnableTargets(planned).map((t) => t.instanceId)).toEqual(['es-cn-ok-1']);
  });

  it('keeps the event’s order, refusing each target the policy refuses, and says why', () => {
    const planned = plan(
      {
        items: [
          item('es-cn-ok-1'),
          item('es-cn-staging'),
          item('ls-cn-ok-2'),
          item('es-cn-ok-3', { regionId: 'cn-beijing' }),
        ],
      },
      rulesFor(),
    );
    expect(kinds(planned)).toEqual([
      ['run', 'es-cn-ok-1', ''],
      ['refused', 'es-cn-staging', 'NotAllowed'],
      ['refused', 'ls-cn-ok-2', 'WrongInstanceKind'],
      ['run', 'es-cn-ok-3', ''],
    ]);
    expect(runnableTargets(planned)).toEqual([
      expect.objectContaining({ instanceId: 'es-cn-ok-1', regionId: 'cn-hangzhou' }),
      expect.objectContaining({
        instanceId: 'es-cn-ok-3',
        regionId: 'cn-beijing',
        clientToken: token('es-cn-ok-3', 'generic:k1', 'cn-beijing'),
      }),
    ]);
    expect(planned.refusal).toBeUndefined();
  });

  it('refuses a target with no region when none is configured', () => {
    const rules = { ...rulesFor(), defaultRegion: undefined };
    const planned = plan({ items: [item('es-cn-ok-1'), item('es-cn-ok-2', { regionId: 'cn-shanghai' })] }, rules);
    expect(kinds(planned)).toEqual([
      ['refused', 'es-cn-ok-1', 'NoRegion'],
      ['run', 'es-cn-ok-2', ''],
    ]);
  });

  it('refuses a whole event past MAX_TARGETS_PER_EVENT, every target with the same refusal', () => {
    const planned = plan(
      { items: ['es-cn-ok-1', 'es-cn-ok-2', 'es-cn-ok-3'].map((id) => item(id)) },
      rulesFor(undefined, { MAX_TARGETS_PER_EVENT: '2' }),
    );
    expect(planned.refusal?.code).toBe('TooManyTargets');
    expect(planned.items.every((i) => i.kind === 'refused' && i.refusal === planned.refusal)).toBe(true);
    expect(runnableTargets(planned)).toEqual([]);
  });

  it('decides who asked before any target: a chat command of someone not allowed refuses the event', () => {
    const requester: Requester = { platform: 'slack', userIds: ['U2'], command: '/es-interrupt' };
    const planned = plan({ items: [item('es-cn-ok-1')], requester }, rulesFor());
    expect(planned.refusal).toMatchObject({ code: 'UserNotAllowed', reason: 'U2 is not in SLACK_ALLOWED_USERS' });
    expect(kinds(planned)).toEqual([['refused', 'es-cn-ok-1', 'UserNotAllowed']]);
  });

  it('sets aside, after the targets, what the alert state does not call for, without counting it', () => {
    const event: SourceEvent = {
      items: [
        item('es-cn-ok-1', { alertState: 'resolved' }),
        item('es-cn-ok-2', { alertState: 'firing' }),
        item('es-cn-ok-3', { alertState: 'resolved' }),
        item('es-cn-ok-4', { alertState: 'firing' }),
      ],
    };
    const planned = plan(event, rulesFor(undefined, { MAX_TARGETS_PER_EVENT: '2' }));
    expect(kinds(planned)).toEqual([
      ['run', 'es-cn-ok-2', ''],
      ['run', 'es-cn-ok-4', ''],
      ['ignored', 'es-cn-ok-1', 'AlertStateIgnored'],
      ['ignored', 'es-cn-ok-3', 'AlertStateIgnored'],
    ]);
  });

  it('says whose change each target is: an alert’s when its state drove it, else a person’s', () => {
    const event = { items: [item('es-cn-ok-1', { alertState: 'firing' }), item('es-cn-ok-2')] };
    expect(runnableTargets(plan(event, rulesFor())).map((t) => [t.instanceId, t.actor])).toEqual([
      ['es-cn-ok-1', 'alert'],
      ['es-cn-ok-2', 'person'],
    ]);
  });

  it('acts on an instance named by a firing and a resolved alert, and does not report it set aside', () => {
    const event = {
      items: [item('es-cn-ok-1', { alertState: 'resolved' }), item('es-cn-ok-1', { alertState: 'firing' })],
    };
    expect(kinds(plan(event, rulesFor()))).toEqual([['run', 'es-cn-ok-1', '']]);
  });

  it('reports a refused or set-aside item as the contract’s refused result', () => {
    const planned = plan({ items: [item('es-cn-staging')] }, rulesFor());
    const [refused] = planned.items;
    if (refused?.kind !== 'refused') throw new Error('expected a refusal');
    expect(refusedResult(refused)).toEqual({
      instanceId: 'es-cn-staging',
      outcome: 'refused',
      code: 'NotAllowed',
      message: 'the instance is not in ALLOWED_INSTANCES',
    });
  });

  it('is a pure function of the event: the same plan every time, and one token per instance whatever the order of its items (property)', () => {
    const rules = rulesFor(undefined, { MAX_TARGETS_PER_EVENT: '1000' });
    const items = fc.array(
      fc.record({
        instanceId: fc.constantFrom('es-cn-ok-1', 'es-cn-ok-2', 'es-cn-no-3', 'ls-cn-ok-4'),
        eventKey: fc.constantFrom('am:a@1', 'am:b@2', 'am:c@3'),
        alertState: fc.constantFrom(undefined, 'firing' as const, 'resolved' as const),
      }),
      { maxLength: 12 },
    );
    fc.assert(
      fc.property(items, (list) => {
        const event = { items: list };
        expect(plan(event, rules)).toEqual(plan(structuredClone(event), rules));
        const reversed = plan({ items: [...list].reverse() }, rules);
        const tokens = (p: Plan) => new Map(runnableTargets(p).map((t) => [t.instanceId, t.clientToken]));
        expect(tokens(reversed)).toEqual(tokens(plan(event, rules)));
        // One item per instance the event names.
        const ids = plan(event, rules).items.map((i) => (i.kind === 'run' ? i.target.instanceId : i.instanceId));
        expect(new Set(ids).size).toBe(ids.length);
        expect(new Set(ids)).toEqual(new Set(list.map((i) => i.instanceId)));
      }),
    );
  });
});
