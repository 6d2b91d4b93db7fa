import { describe, expect, it } from 'vitest';
import { ACTIONS, type FunctionName } from '../shared/actions.ts';
import { parseConfig } from '../shared/config.ts';
import { compileGlob } from '../shared/core/glob.ts';
import { createPolicy } from '../shared/core/policy.ts';
import type { AlertState } from '../shared/core/target.ts';

const policyFor = (name: FunctionName, env: Record<string, string> = {}) =>
  createPolicy(ACTIONS[name], parseConfig({ ALLOWED_INSTANCES: 'es-cn-prod-*,ls-cn-abc', ...env }).policy);

describe('Function: createPolicy', () => {
  it.each([
    ['es-cn-prod-1', undefined],
    ['es-cn-prod-', undefined],
    ['es-cn-staging-1', 'NotAllowed'],
    ['es-cn-prod.1', 'NotAllowed'],
    ['ls-cn-abc', 'WrongInstanceKind'],
  ])('checks %s against the allow-list and the kind', (id, code) => {
    expect(policyFor('interrupt-elasticsearch-task').checkTarget(id)?.code).toBe(code);
  });

  it('refuses everything when ALLOWED_INSTANCES is unset or empty', () => {
    for (const value of [undefined, '', ' , ']) {
      const policy = createPolicy(ACTIONS['resume-logstash-task'], parseConfig({ ALLOWED_INSTANCES: value }).policy);
      expect(policy.checkTarget('ls-cn-abc')).toMatchObject({ code: 'NotAllowed', status: 403 });
    }
  });

  it('takes globs literally but for *', () => {
    expect(compileGlob('es-cn-(a|b)*').test('es-cn-(a|b)x')).toBe(true);
    expect(compileGlob('es-cn-(a|b)*').test('es-cn-ax')).toBe(false);
    expect(compileGlob('*').test('anything')).toBe(true);
  });

  it('limits the number of targets of one event', () => {
    const policy = policyFor('interrupt-elasticsearch-task', { MAX_TARGETS_PER_EVENT: '2' });
    expect(policy.checkEvent(2)).toBeUndefined();
    expect(policy.checkEvent(3)).toMatchObject({ code: 'TooManyTargets', status: 403 });
  });

  it.each<[FunctionName, string, AlertState | undefined, boolean]>([
    ['interrupt-elasticsearch-task', 'resolved', 'firing', true],
    ['interrupt-elasticsearch-task', 'resolved', 'resolved', false],
    ['interrupt-elasticsearch-task', 'resolved', 'other', false],
    ['interrupt-elasticsearch-task', 'resolved', undefined, true],
    ['cancel-migration-task', 'resolved', 'firing', true],
    ['cancel-migration-task', 'resolved', 'resolved', false],
    ['interrupt-logstash-task', 'firing', 'resolved', false],
    ['resume-elasticsearch-task', 'resolved', 'resolved', true],
    ['resume-elasticsearch-task', 'resolved', 'firing', false],
    ['resume-logstash-task', 'firing', 'firing', true],
    ['resume-logstash-task', 'firing', 'resolved', false],
    ['resume-logstash-task', 'resolved', undefined, true],
  ])('%s with RESUME_ON=%s acts on a %s alert: %s', (name, resumeOn, state, acts) => {
    const refusal = policyFor(name, { RESUME_ON: resumeOn }).checkAlertState(state);
    expect(refusal === undefined).toBe(acts);
    if (refusal) expect(refusal).toMatchObject({ code: 'AlertStateIgnored', status: 200 });
  });

  it('rejects an unknown RESUME_ON', () => {
    expect(() => parseConfig({ RESUME_ON: 'sometimes' })).toThrow(/RESUME_ON/);
  });
});
