import { describe, expect, it } from 'vitest';
import { ACTIONS, type FunctionName } from '../shared/actions.ts';
import { parseConfig } from '../shared/config.ts';
import { compileGlob } from '../shared/core/glob.ts';
import { createPolicy } from '../shared/core/policy.ts';
import { statusFor } from '../shared/core/result.ts';
import type { AlertState, Requester } from '../shared/core/target.ts';
import { ConfigError } from '../shared/errors.ts';

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
      expect(policy.checkTarget('ls-cn-abc')).toMatchObject({ code: 'NotAllowed' });
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
    expect(policy.checkEvent(3)).toMatchObject({ code: 'TooManyTargets' });
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
    if (refusal) expect(refusal).toMatchObject({ code: 'AlertStateIgnored' });
  });

  it.each([
    ['AlertStateIgnored', 200],
    ['WrongInstanceKind', 400],
    ['NoRegion', 400],
    ['WrongCommand', 400],
    ['NotAllowed', 403],
    ['TooManyTargets', 403],
    ['UserNotAllowed', 403],
    ['ChannelNotAllowed', 403],
  ])('answers an event whose every target is refused %s with %i', (code, status) => {
    expect(statusFor([{ instanceId: 'es-cn-a', outcome: 'refused', code }])).toBe(status);
  });

  it('rejects an unknown RESUME_ON', () => {
    expect(() => parseConfig({ RESUME_ON: 'sometimes' })).toThrow(/RESUME_ON/);
  });
});

describe('Function: createPolicy, checkRequester', () => {
  const chatPolicy = (name: FunctionName, env: Record<string, string> = {}) => {
    const config = parseConfig({ ALLOWED_INSTANCES: '*', ...env });
    return createPolicy(ACTIONS[name], config.policy, config.chat);
  };
  const slack = (command: string, userId = 'U1', placeId = 'C1'): Requester => ({
    platform: 'slack',
    userIds: [userId],
    userName: 'steve',
    placeId,
    command,
  });

  it('refuses every chat command when no chat setting is given at all (fail closed)', () => {
    const policy = createPolicy(ACTIONS['interrupt-elasticsearch-task'], parseConfig({}).policy);
    expect(policy.checkRequester(slack('/es-interrupt'))).toMatchObject({ code: 'UserNotAllowed' });
    expect(policy.checkRequester({ platform: 'feishu', userIds: ['ou_1'] })?.reason).toBe(
      'FEISHU_ALLOWED_USERS is not set, so every Feishu command is refused',
    );
  });

  it.each<[string, Record<string, string>, Requester, string | undefined]>([
    ['the function’s own command by an allowed user', { SLACK_ALLOWED_USERS: 'U1' }, slack('/es-interrupt'), undefined],
    ['the command in another case', { SLACK_ALLOWED_USERS: 'U1' }, slack('/ES-Interrupt'), undefined],
    ['another function’s command', { SLACK_ALLOWED_USERS: 'U1' }, slack('/es-resume'), 'WrongCommand'],
    ['no command at all', { SLACK_ALLOWED_USERS: '*' }, { platform: 'slack', userIds: ['U1'] }, 'WrongCommand'],
    ['a user not listed', { SLACK_ALLOWED_USERS: 'U2,U3' }, slack('/es-interrupt'), 'UserNotAllowed'],
    ['a user with no ID', { SLACK_ALLOWED_USERS: 'U1' }, { ...slack('/es-interrupt'), userIds: [] }, 'UserNotAllowed'],
    ['anyone with *', { SLACK_ALLOWED_USERS: '*' }, slack('/es-interrupt', 'U9'), undefined],
    [
      'a channel outside the list',
      { SLACK_ALLOWED_USERS: 'U1', SLACK_ALLOWED_CHANNELS: 'C2' },
      slack('/es-interrupt'),
      'ChannelNotAllowed',
    ],
    [
      'no channel while channels are listed',
      { SLACK_ALLOWED_USERS: 'U1', SLACK_ALLOWED_CHANNELS: 'C2' },
      { ...slack('/es-interrupt'), placeId: undefined },
      'ChannelNotAllowed',
    ],
    [
      'any channel with *',
      { SLACK_ALLOWED_USERS: 'U1', SLACK_ALLOWED_CHANNELS: '*' },
      slack('/es-interrupt'),
      undefined,
    ],
    [
      'a Feishu sender listed by a second ID',
      { FEISHU_ALLOWED_USERS: 'on_2' },
      { platform: 'feishu', userIds: ['ou_1', 'on_2'] },
      undefined,
    ],
    [
      'a DingTalk user listed for Slack only',
      { SLACK_ALLOWED_USERS: 'manager8502' },
      { platform: 'dingtalk', userIds: ['manager8502'] },
      'UserNotAllowed',
    ],
  ])('interrupt-elasticsearch-task: %s', (_case, env, requester, code) => {
    expect(chatPolicy('interrupt-elasticsearch-task', env).checkRequester(requester)?.code).toBe(code);
  });

  it('refuses a SLACK_COMMANDS that names another function’s command, as a configuration error', () => {
    const policy = chatPolicy('interrupt-elasticsearch-task', {
      SLACK_ALLOWED_USERS: '*',
      SLACK_COMMANDS: '/es-interrupt,/es-resume',
    });
    expect(() => policy.checkRequester(slack('/es-interrupt'))).toThrow(ConfigError);
    expect(() => policy.checkRequester(slack('/es-interrupt'))).toThrow(
      /SLACK_COMMANDS: \/es-resume is the command of resume-elasticsearch-task/,
    );
    // Only Slack commands depend on it.
    expect(policy.checkRequester({ platform: 'dingtalk', userIds: ['x'] })?.code).toBe('UserNotAllowed');
  });
});
