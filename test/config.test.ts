import { describe, expect, it } from 'vitest';
import { localContext, toFcHttpEvent } from '../local/fc-invoke.ts';
import { CONFIG_ENV_VARS, type ResponderConfig as Config, parseConfig } from '../shared/config.ts';
import { createFunctionHandler } from '../shared/create-function.ts';
import { ConfigError } from '../shared/errors.ts';
import type { FcHttpResult } from '../shared/fc/events.ts';
import { createRootLogger } from '../shared/logger.ts';

describe('Function: parseConfig', () => {
  it('has documented defaults', () => {
    const config = parseConfig({});
    expect(config.policy).toEqual({
      allowedInstances: undefined,
      maxTargetsPerEvent: 5,
      dryRun: false,
      resumeOn: 'resolved',
    });
    expect(config.region).toBeUndefined();
    expect(config.endpoint).toBeUndefined();
    expect(config.credentials).toBeUndefined();
    expect(config.maxBodyBytes).toBe(262_144);
    expect(config.upstreamTimeoutMs).toBe(2000);
    expect(config.retryDeadlineMs).toBe(3500);
    expect(config.commandDeadlineMs).toBe(20_000);
    expect(config.fanOutConcurrency).toBe(16);
    expect(config.async).toEqual({ sources: ['slack', 'dingtalk', 'feishu'], invoke: undefined });
    expect(config.alertLabels).toEqual({
      instance: ['instanceId', 'instance_id', 'es_instance_id'],
      region: ['regionId', 'region'],
    });
  });

  it('accepts a DingTalk sign for five minutes by default, and checks robotCode only when told which', () => {
    expect(parseConfig({}).sources.dingtalk).toMatchObject({ maxAgeMs: 300_000, robotCodes: [] });
    expect(
      parseConfig({ DINGTALK_MAX_AGE_SECONDS: '60', DINGTALK_ROBOT_CODES: 'dingA, dingB,' }).sources.dingtalk,
    ).toMatchObject({ maxAgeMs: 60_000, robotCodes: ['dingA', 'dingB'] });
  });

  it('takes the region from ALIBABA_CLOUD_REGION, else FC_REGION', () => {
    expect(parseConfig({ FC_REGION: 'cn-shanghai' }).region).toBe('cn-shanghai');
    expect(parseConfig({ FC_REGION: 'cn-shanghai', ALIBABA_CLOUD_REGION: 'cn-beijing' }).region).toBe('cn-beijing');
  });

  it('splits comma-separated lists and drops blanks, so secrets rotate', () => {
    const config = parseConfig({ SLACK_SIGNING_SECRETS: ' a , ,b,', ALLOWED_INSTANCES: 'es-cn-1, es-cn-prod-*' });
    expect(config.sources.slack.signingSecrets).toEqual(['a', 'b']);
    expect(config.policy.allowedInstances).toEqual(['es-cn-1', 'es-cn-prod-*']);
  });

  it('fails closed on trust by default: no chat user, no untimed Grafana signature, no token-only Feishu', () => {
    const config = parseConfig({});
    expect(config.chat).toEqual({
      slack: { users: undefined, places: undefined, commands: undefined },
      dingtalk: { users: undefined, places: undefined },
      feishu: { users: undefined, places: undefined },
    });
    expect(config.sources.grafana.allowUntimed).toBe(false);
    expect(config.sources.feishu.allowTokenOnly).toBe(false);
    expect(config.accountId).toBeUndefined();
  });

  it('reads the chat allow-lists, where an empty or blank list means unset', () => {
    const config = parseConfig({
      SLACK_ALLOWED_USERS: ' U1 ,U2,',
      SLACK_ALLOWED_CHANNELS: '',
      DINGTALK_ALLOWED_USERS: '*',
      DINGTALK_ALLOWED_CONVERSATIONS: ' , ',
      FEISHU_ALLOWED_USERS: 'ou_a,on_b',
      FEISHU_ALLOWED_CHATS: 'oc_c',
      SLACK_COMMANDS: '/prod-es-stop, /es-stop',
    });
    expect(config.chat).toEqual({
      slack: { users: ['U1', 'U2'], places: undefined, commands: ['/prod-es-stop', '/es-stop'] },
      dingtalk: { users: ['*'], places: undefined },
      feishu: { users: ['ou_a', 'on_b'], places: ['oc_c'] },
    });
  });

  it('knows the account from ALIBABA_CLOUD_ACCOUNT_ID, else FC_ACCOUNT_ID', () => {
    expect(parseConfig({ FC_ACCOUNT_ID: '1273560756088235' }).accountId).toBe('1273560756088235');
    const both = { FC_ACCOUNT_ID: '5550000000000001', ALIBABA_CLOUD_ACCOUNT_ID: '1273560756088235' };
    expect(parseConfig(both).accountId).toBe('1273560756088235');
    expect(parseConfig({ FC_ACCOUNT_ID: ' ' }).accountId).toBeUndefined();
  });

  it.each([
    ['FC_ACCOUNT_ID', {}],
    ['FC_ACCOUNT_ID with ALIBABA_CLOUD_ACCOUNT_ID', { ALIBABA_CLOUD_ACCOUNT_ID: '1273560756088235' }],
    ['ALIBABA_CLOUD_ACCOUNT_ID', { FC_ACCOUNT_ID: '1273560756088235' }],
  ])('derives the account once, from %s: the configuration and the hand-off name the same one', (_, others) => {
    const config = parseConfig({
      FC_ACCOUNT_ID: '1234567890123456',
      FC_REGION: 'cn-hangzhou',
      ...others,
    });
    expect(config.accountId).toMatch(/^\d{16}$/);
    expect(config.async.invoke?.accountId).toBe(config.accountId);
  });

  it('reads credentials only as a complete pair', () => {
    expect(parseConfig({ ALIBABA_CLOUD_ACCESS_KEY_ID: 'id' }).credentials).toBeUndefined();
    expect(
      parseConfig({
        ALIBABA_CLOUD_ACCESS_KEY_ID: 'id',
        ALIBABA_CLOUD_ACCESS_KEY_SECRET: 's',
        ALIBABA_CLOUD_SECURITY_TOKEN: 't',
      }).credentials,
    ).toEqual({ accessKeyId: 'id', accessKeySecret: 's', securityToken: 't' });
  });

  it('hands off through FC 3.0 with what FC sets (account, region, name), in the function’s own region', () => {
    const fc = { FC_ACCOUNT_ID: '1234567890123456', FC_REGION: 'cn-shanghai', FC_FUNCTION_NAME: 'resume-es' };
    expect(parseConfig(fc).async.invoke).toEqual({
      api: 'fc3',
      accountId: '1234567890123456',
      region: 'cn-shanghai',
      functionName: 'resume-es',
      qualifier: undefined,
      endpoint: undefined,
      timeoutMs: 1500,
    });
    // ALIBABA_CLOUD_REGION is where the targets are; the function invokes itself where it runs.
    expect(parseConfig({ ...fc, ALIBABA_CLOUD_REGION: 'cn-beijing' }).async.invoke?.region).toBe('cn-shanghai');
    expect(
      parseConfig({ ...fc, ASYNC_QUALIFIER: 'prod', ASYNC_INVOKE_ENDPOINT: 'x.cn-shanghai-internal.fc.aliyuncs.com' })
        .async.invoke,
    ).toMatchObject({ qualifier: 'prod', endpoint: 'x.cn-shanghai-internal.fc.aliyuncs.com' });
    expect(parseConfig({ FC_REGION: 'cn-shanghai' }).async.invoke).toBeUndefined();
    expect(parseConfig({}).async.invoke).toBeUndefined();
  });

  it('hands off through FC 2.0 (fc2) only when ASYNC_SERVICE_NAME names a service', () => {
    expect(
      parseConfig({ ASYNC_SERVICE_NAME: 'svc', FC_ACCOUNT_ID: '1234567890', FC_REGION: 'cn-hangzhou' }).async.invoke,
    ).toMatchObject({ api: 'fc2', serviceName: 'svc' });
    expect(
      parseConfig({ ASYNC_SERVICE_NAME: ' ', FC_ACCOUNT_ID: '1234567890', FC_REGION: 'cn-hangzhou' }).async.invoke,
    ).toMatchObject({ api: 'fc3' });
  });

  it('enables the hand-off only with service, account and region', () => {
    expect(parseConfig({ ASYNC_SERVICE_NAME: 'svc', FC_REGION: 'cn-hangzhou' }).async.invoke).toBeUndefined();
    expect(
      parseConfig({ ASYNC_SERVICE_NAME: 'svc', FC_ACCOUNT_ID: '1234567890', FC_REGION: 'cn-hangzhou' }).async.invoke,
    ).toMatchObject({
      accountId: '1234567890',
      region: 'cn-hangzhou',
      serviceName: 'svc',
      timeoutMs: 1500,
    });
  });

  it.each([
    ['MAX_TARGETS_PER_EVENT', '0'],
    ['MAX_TARGETS_PER_EVENT', 'five'],
    ['DRY_RUN', 'maybe'],
    ['RESUME_ON', 'sometimes'],
    ['ALIBABA_CLOUD_REGION', 'Hangzhou'],
    ['ELASTICSEARCH_ENDPOINT', 'https://evil.example/path?x'],
    ['GENERIC_WEBHOOK_SECRETS', 'whsec_not base64'],
    ['ASYNC_SOURCES', 'slack,pagerduty'],
    ['ALIBABA_CLOUD_ACCOUNT_ID', 'acct'],
    ['FC_ACCOUNT_ID', 'acct'],
    ['FC_ACCOUNT_ID', '1'],
    ['FC_ACCOUNT_ID', ' 1234567890123456 '],
    ['FC_ACCOUNT_ID', '1234567890123456.fc'],
    ['UPSTREAM_TIMEOUT_MS', '-1'],
    ['DINGTALK_MAX_AGE_SECONDS', '0'],
    ['DINGTALK_MAX_AGE_SECONDS', '3601'],
    ['GRAFANA_ALLOW_UNTIMED', 'yes please'],
    ['FEISHU_ALLOW_TOKEN_ONLY', 'sure'],
    ['SLACK_COMMANDS', 'es-interrupt'],
    ['SLACK_COMMANDS', '/es interrupt'],
  ])('refuses %s=%j with an error naming the variable', (name, value) => {
    let error: unknown;
    try {
      parseConfig({ [name]: value });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(name);
    // The message names the variable, never echoes a secret's value.
    if (name.endsWith('SECRETS')) expect((error as Error).message).not.toContain(value);
  });

  it.each([
    ['none', []],
    [' NONE ', []],
    ['slack', ['slack']],
    [undefined, ['slack', 'dingtalk', 'feishu']],
    ['', ['slack', 'dingtalk', 'feishu']],
  ])('reads ASYNC_SOURCES=%j as %j: empty is the default, `none` hands off nothing', (value, sources) => {
    expect(parseConfig({ ASYNC_SOURCES: value }).async.sources).toEqual(sources);
  });

  it('lists every variable it reads', () => {
    expect(CONFIG_ENV_VARS).toEqual(
      expect.arrayContaining(['ALLOWED_INSTANCES', 'SLACK_SIGNING_SECRETS', 'ASYNC_SOURCES']),
    );
  });
});

describe('Function: parseConfig with empty variables', () => {
  // s.yaml passes every variable, '' where the deploying shell has none: '' must mean "unset".
  const unset = parseConfig({});

  it.each(CONFIG_ENV_VARS)('reads %s="" as unset', (name) => {
    expect(parseConfig({ [name]: '' })).toEqual(unset);
  });

  it.each(CONFIG_ENV_VARS)('reads a blank %s as unset', (name) => {
    expect(parseConfig({ [name]: ' \t\n ' })).toEqual(unset);
  });

  it('reads every variable empty at once as the defaults', () => {
    expect(parseConfig(Object.fromEntries(CONFIG_ENV_VARS.map((name) => [name, ''])))).toEqual(unset);
  });

  it.each([
    [
      'ALIBABA_CLOUD_ACCOUNT_ID',
      { FC_ACCOUNT_ID: '1234567890123456' },
      (c: Config) => c.async.invoke?.accountId,
      '1234567890123456',
    ],
    ['ALIBABA_CLOUD_REGION', { FC_REGION: 'cn-shanghai' }, (c: Config) => c.region, 'cn-shanghai'],
    ['MAX_TARGETS_PER_EVENT', {}, (c: Config) => c.policy.maxTargetsPerEvent, 5],
    ['DRY_RUN', {}, (c: Config) => c.policy.dryRun, false],
    ['RESUME_ON', {}, (c: Config) => c.policy.resumeOn, 'resolved'],
    [
      'ALERT_INSTANCE_LABELS',
      {},
      (c: Config) => c.alertLabels.instance,
      ['instanceId', 'instance_id', 'es_instance_id'],
    ],
    ['ALLOWED_INSTANCES', {}, (c: Config) => c.policy.allowedInstances, undefined],
  ] as const)('falls back from an empty %s as from an absent one', (name, others, read, expected) => {
    const base = { ASYNC_SERVICE_NAME: 'svc', FC_ACCOUNT_ID: '1234567890123456', FC_REGION: 'cn-hangzhou', ...others };
    expect(read(parseConfig({ ...base, [name]: '' }))).toEqual(expected);
    expect(read(parseConfig({ ...base, [name]: '' }))).toEqual(read(parseConfig(base)));
  });

  it('gives the logger the next level when POWERTOOLS_LOG_LEVEL is empty', () => {
    expect(createRootLogger('x', { POWERTOOLS_LOG_LEVEL: '', LOG_LEVEL: 'error' }).getLevelName()).toBe('ERROR');
  });

  it('still refuses a value that is present and wrong', () => {
    expect(() => parseConfig({ ALIBABA_CLOUD_ACCOUNT_ID: ' acct ' })).toThrow(/ALIBABA_CLOUD_ACCOUNT_ID/);
  });
});

describe('Function: createFunctionHandler with an invalid configuration', () => {
  const handler = createFunctionHandler('interrupt-elasticsearch-task', { env: { MAX_TARGETS_PER_EVENT: 'lots' } });

  it('answers every HTTP request with a 500 naming the variable', async () => {
    const request = new Request('https://fc.example.test/interrupt-elasticsearch-task/generic', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    const result = (await handler(await toFcHttpEvent(request), localContext('x'))) as FcHttpResult;
    expect(result.statusCode).toBe(500);
    expect(JSON.parse(result.body)).toMatchObject({ error: { code: 'InvalidConfiguration' } });
    expect(result.body).toContain('MAX_TARGETS_PER_EVENT');
  });

  // FC sets FC_ACCOUNT_ID: a value that is not an account ID fails closed like any bad variable,
  // rather than reaching the hand-off's endpoint or CloudMonitor's account check.
  it('answers a 500 naming FC_ACCOUNT_ID when it is not a numeric account ID', async () => {
    const bad = createFunctionHandler('interrupt-elasticsearch-task', {
      env: { FC_ACCOUNT_ID: '1234567890123456.evil.example', FC_REGION: 'cn-hangzhou' },
    });
    const request = new Request('https://fc.example.test/interrupt-elasticsearch-task/generic', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    const result = (await bad(await toFcHttpEvent(request), localContext('x'))) as FcHttpResult;
    expect(result.statusCode).toBe(500);
    expect(JSON.parse(result.body)).toMatchObject({ error: { code: 'InvalidConfiguration' } });
    expect(result.body).toContain('FC_ACCOUNT_ID');
    expect(result.body).not.toContain('evil.example');
  });

  it('throws for a timer event, so FC retries it once the configuration is fixed', async () => {
    const timer = {
      triggerTime: '2026-11-25T02:00:00Z',
      triggerName: 'nightly',
      payload: '{"instanceIds":["es-cn-a1b"]}',
    };
    await expect(handler(Buffer.from(JSON.stringify(timer)), localContext('x'))).rejects.toThrow(/500/);
  });
});
