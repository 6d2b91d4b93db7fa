import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { localContext } from '../local/fc-invoke.ts';
import type { FunctionName } from '../shared/actions.ts';
import type { Env } from '../shared/config.ts';
import { parseDimensions } from '../shared/sources/cloudmonitor/dimensions.ts';
import { fixture } from './fixtures/cloudmonitor/kit.ts';
import { expectedToken as tokenFor, useEmulator, wireFunction } from './support/function-harness.ts';

const TOKEN = 'cm-callback-token-6f2b9e41d8a3';
const ROTATED_TOKEN = 'cm-rotated-token-0c7a53e9b1';
/**
 * The callback ranges CloudMonitor publishes for the international site ("Use threshold alert
 * callbacks"), plus an IPv6 range of our own to show IPv6 matching (CloudMonitor lists none).
 */
const CIDRS = '47.74.206.0/26,47.74.206.64/26,47.74.206.128/26,47.74.206.192/26,8.222.159.116,2400:3200:1600::/40';
const CLOUDMONITOR_IP = '47.74.206.70';
/** The account (`userId`) of the fixtures' callbacks, and the function's own. */
const ACCOUNT_ID = '1273560756088235';

type Fields = Record<string, string>;

const upstream = useEmulator();
const { state } = upstream;

interface PostOptions {
  /** `?token=` value; null for none. */
  token?: string | null;
  /** Raw query string instead of `?token=`. */
  query?: string;
  /** The FC envelope's requestContext.http.sourceIp; null removes it. */
  sourceIp?: string | null;
  contentType?: string;
}

/** A function wired like in the cloud, with a fetch that counts upstream calls. */
function setup(name: FunctionName = 'interrupt-elasticsearch-task', env: Env = {}) {
  const fn = wireFunction(upstream.url, name, 'cloudmonitor', {
    CLOUDMONITOR_TOKENS: `${ROTATED_TOKEN},${TOKEN}`,
    // As Function Compute sets it: the account of the fixtures' callbacks.
    FC_ACCOUNT_ID: ACCOUNT_ID,
    ...env,
  });
  /** Posts a callback the way CloudMonitor does: a form body, the token in the URL, through a real FC envelope. */
  const post = async (fields: Fields | string | Uint8Array, options: PostOptions = {}) => {
    const body =
      typeof fields === 'string'
        ? fields
        : fields instanceof Uint8Array
          ? Buffer.from(fields)
          : new URLSearchParams(fields).toString();
    const url = new URL(`https://fc.example.test/${name}/cloudmonitor`);
    if (options.query !== undefined) url.search = options.query;
    else if (options.token !== null) url.searchParams.set('token', options.token ?? TOKEN);
    const request = new Request(url, {
      method: 'POST',
      headers: {
        'content-type': options.contentType ?? 'application/x-www-form-urlencoded; charset=UTF-8',
        'user-agent': 'Apache-HttpClient/4.5.13 (Java/1.8.0_152)',
      },
      body,
    });
    return fn.send(request, localContext(name), {
      sourceIp: options.sourceIp === null ? null : (options.sourceIp ?? CLOUDMONITOR_IP),
      base64: typeof body !== 'string',
    });
  };
  return { calls: fn.calls, post };
}

const keyOf = (f: Fields, instanceId: string) => `cloudmonitor:${f.ruleId}:${instanceId}:${f.timestamp}`;

/**
 * A callback with only the parameters CloudMonitor documents (no ruleId, transId or regionId),
 * as the raw form body it posts.
 */
const documentedBody = () =>
  readFileSync(new URL('./fixtures/cloudmonitor/no-rule-id.form', import.meta.url), 'utf8').trim();
/** The documented callback's fields, to change one and post the rest. */
const documented = (): Fields => Object.fromEntries(new URLSearchParams(documentedBody()));
/** README's key for a callback without ruleId: the alert name's digest stands for the rule. */
const nameKeyOf = (f: Fields, instanceId: string, moment = f.timestamp) =>
  `cloudmonitor:alertName#${createHash('sha256').update(String(f.alertName)).digest('hex').slice(0, 32)}:${instanceId}:${moment}`;

describe('Function: interrupt-elasticsearch-task, cloudmonitor source', () => {
  it('interrupts on ALERT (Java-map dimensions), and a retried callback changes nothing', async () => {
    const { post, calls } = setup();
    const alert = fixture('alert');
    const first = await post(alert);
    expect(first.status).toBe(200);
    const token = tokenFor(
      'interrupt-elasticsearch-task',
      'es-cn-demo-activating',
      keyOf(alert, 'es-cn-demo-activating'),
    );
    expect(first.body.results).toEqual([
      expect.objectContaining({
        instanceId: 'es-cn-demo-activating',
        regionId: 'cn-hangzhou',
        outcome: 'applied',
        clientToken: token,
      }),
    ]);
    expect(state('es-cn-demo-activating')?.status).toBe('suspended');

    // CloudMonitor retries up to three times with the same content.
    const retry = await post(alert);
    expect(retry.status).toBe(200);
    expect(retry.body.results[0]?.clientToken).toBe(token);
    expect(state('es-cn-demo-activating')?.history).toEqual([
      expect.objectContaining({ action: 'InterruptElasticsearchTask', clientToken: token }),
    ]);
    expect(calls).toHaveLength(2);
  });

  it('accepts a rotated token', async () => {
    const { post } = setup();
    expect((await post(fixture('alert'), { token: ROTATED_TOKEN })).status).toBe(200);
  });

  it('does not act on OK: the alert is resolved', async () => {
    const { post, calls } = setup();
    const response = await post(fixture('ok'));
    expect(response.status).toBe(200);
    expect(response.body.results).toEqual([
      expect.objectContaining({ instanceId: 'es-cn-demo-activating', outcome: 'refused', code: 'AlertStateIgnored' }),
    ]);
    expect(calls).toHaveLength(0);
  });

  it('takes every object of JSON dimensions as a target, each with its own key, and says which it passed over', async () => {
    const { post } = setup();
    const multi = fixture('multi-json-dimensions');
    const response = await post(multi);
    expect(response.status).toBe(200);
    expect(response.body.results.map((r) => [r.instanceId, r.outcome, r.clientToken])).toEqual([
      [
        'es-cn-demo-activating',
        'applied',
        tokenFor('interrupt-elasticsearch-task', 'es-cn-demo-activating', keyOf(multi, 'es-cn-demo-activating')),
      ],
      [
        'es-cn-demo-migrating',
        'applied',
        tokenFor('interrupt-elasticsearch-task', 'es-cn-demo-migrating', keyOf(multi, 'es-cn-demo-migrating')),
      ],
    ]);
    // The ECS-style dimension names no Elasticsearch or Logstash instance.
    expect(response.body.notes).toEqual(['dimensions: label instanceId does not hold an instance ID']);
  });

  it('reads "null" strings as absent: regionId falls back to a region dimension, then the default', async () => {
    const noDefault = setup('interrupt-elasticsearch-task', { ALIBABA_CLOUD_REGION: undefined });
    const alert = fixture('alert');
    alert.regionId = 'null';
    alert.dimensions = '{clusterId=es-cn-demo-activating, region=cn-hangzhou, nodeIP=null, userId=1273560756088235}';
    const viaDimension = await noDefault.post(alert);
    expect(viaDimension.status).toBe(200);
    expect(viaDimension.body.results[0]).toMatchObject({ outcome: 'applied', regionId: 'cn-hangzhou' });

    // Neither the callback nor the deployment names a region: refused, never guessed.
    const neither = fixture('alert');
    neither.regionId = 'null';
    neither.timestamp = '1685646150000';
    const refused = await noDefault.post(neither);
    expect(refused.status).toBe(400);
    expect(refused.body.results[0]).toMatchObject({ outcome: 'refused', code: 'NoRegion' });
  });

  it('falls back to transId when timestamp is "null"', async () => {
    const { post } = setup();
    const alert = fixture('alert');
    alert.timestamp = 'null';
    const response = await post(alert);
    expect(response.body.results[0]?.clientToken).toBe(
      tokenFor(
        'interrupt-elasticsearch-task',
        'es-cn-demo-activating',
        `cloudmonitor:${alert.ruleId}:es-cn-demo-activating:${alert.transId}`,
      ),
    );
  });

  it('answers 200 with a note when the dimensions are "null" or name no instance', async () => {
    const { post, calls } = setup();
    const none = fixture('alert');
    none.dimensions = 'null';
    const a = await post(none);
    expect(a.status).toBe(200);
    expect(a.body.results).toEqual([]);
    expect(a.body.notes).toEqual(['the callback has no dimensions, so it names no instance']);

    const other = fixture('alert');
    other.dimensions = '{userId=1273560756088235, nodeIP=10.0.0.1}';
    const b = await post(other);
    expect(b.status).toBe(200);
    expect(b.body.notes?.[0]).toMatch(/^dimensions: no label among instanceId, instance_id, es_instance_id, clusterId/);
    expect(calls).toHaveLength(0);
  });

  it('honours ALERT_INSTANCE_LABELS for a dimension of the operator’s own', async () => {
    const { post } = setup('interrupt-elasticsearch-task', { ALERT_INSTANCE_LABELS: 'es_cluster' });
    const alert = fixture('alert');
    alert.dimensions = '{es_cluster=es-cn-demo-activating, userId=1273560756088235}';
    expect((await post(alert)).body.results[0]?.outcome).toBe('applied');
  });

  it.each<[string, (f: Fields) => Fields | string | Uint8Array, PostOptions, number, string]>([
    // Of the function's account (the malformed fixture names none), so authentication passes and parsing refuses.
    [
      'malformed JSON dimensions (fixture)',
      () => ({ userId: ACCOUNT_ID, ...fixture('malformed') }),
      {},
      400,
      'InvalidPayload',
    ],
    [
      'dimensions that are neither a map nor JSON',
      (f) => ({ ...f, dimensions: 'clusterId=es-cn-demo-activating' }),
      {},
      400,
      'InvalidPayload',
    ],
    ['no alertState', ({ alertState: _, ...f }) => f, {}, 400, 'InvalidPayload'],
    ['an unknown alertState', (f) => ({ ...f, alertState: 'FIRING' }), {}, 400, 'InvalidPayload'],
    ['neither ruleId nor alertName', ({ ruleId: _, ...f }) => ({ ...f, alertName: 'null' }), {}, 400, 'InvalidPayload'],
    ['neither timestamp nor transId', (f) => ({ ...f, timestamp: 'null', transId: 'null' }), {}, 400, 'InvalidPayload'],
    ['a malformed regionId', (f) => ({ ...f, regionId: 'cn hangzhou' }), {}, 400, 'InvalidPayload'],
    [
      'a body that is not UTF-8',
      () => Uint8Array.from([...Buffer.from(`userId=${ACCOUNT_ID}&a=`), 0xff, 0xfe]),
      {},
      400,
      'InvalidPayload',
    ],
    ['JSON by media type', (f) => JSON.stringify(f), { contentType: 'application/json' }, 415, 'UnsupportedMediaType'],
  ])('refuses a callback with %s, with no upstream call', async (_case, mutate, options, status, code) => {
    const { post, calls } = setup();
    const response = await post(mutate(fixture('alert')), options);
    expect(response.status).toBe(status);
    expect(response.body.error?.code).toBe(code);
    expect(calls).toHaveLength(0);
  });
});

describe('Function: interrupt-elasticsearch-task, cloudmonitor callbacks without ruleId', () => {
  it('interrupts on the documented callback, keyed by alert name, instance and timestamp', async () => {
    const { post, calls } = setup();
    const fields = documented();
    expect(fields.ruleId).toBeUndefined();
    const first = await post(documentedBody());
    expect(first.status).toBe(200);
    const token = tokenFor(
      'interrupt-elasticsearch-task',
      'es-cn-demo-activating',
      nameKeyOf(fields, 'es-cn-demo-activating'),
    );
    // No regionId in the callback: the function's region.
    expect(first.body.results).toEqual([
      expect.objectContaining({
        instanceId: 'es-cn-demo-activating',
        regionId: 'cn-hangzhou',
        outcome: 'applied',
        clientToken: token,
      }),
    ]);

    // CloudMonitor's retries post the same body: the same token, and the API applies it once.
    for (let retry = 0; retry < 3; retry++) {
      const again = await post(documentedBody());
      expect(again.status).toBe(200);
      expect(again.body.results[0]?.clientToken).toBe(token);
    }
    expect(state('es-cn-demo-activating')?.history).toEqual([
      expect.objectContaining({ action: 'InterruptElasticsearchTask', clientToken: token }),
    ]);
    expect(calls).toHaveLength(4);
  });

  it.each<[string, (f: Fields) => Fields]>([
    [
      'a later notification of the rule (new timestamp)',
      (f) => ({ ...f, timestamp: String(Number(f.timestamp) + 60_000) }),
    ],
    [
      'another rule on the same instance at the same moment',
      (f) => ({ ...f, alertName: 'Elasticsearch节点磁盘使用率' }),
    ],
    [
      'the same notification for another instance',
      (f) => ({ ...f, dimensions: '{clusterId=es-cn-demo-migrating, userId=1}' }),
    ],
  ])('gives %s its own token', async (_case, change) => {
    const { post } = setup();
    const base = documented();
    const changed = change(documented());
    const instanceOf = (f: Fields) => /(es-cn-[a-z-]+)/.exec(String(f.dimensions))?.[1] as string;
    const [a, b] = [await post(base), await post(changed)];
    expect(a.body.results[0]?.clientToken).toBe(
      tokenFor('interrupt-elasticsearch-task', instanceOf(base), nameKeyOf(base, instanceOf(base))),
    );
    expect(b.body.results[0]?.clientToken).toBe(
      tokenFor('interrupt-elasticsearch-task', instanceOf(changed), nameKeyOf(changed, instanceOf(changed))),
    );
    expect(b.body.results[0]?.clientToken).not.toBe(a.body.results[0]?.clientToken);
  });

  it('prefers ruleId when present, so the tokens of ruleId callbacks stay what they were', async () => {
    const { post } = setup();
    const alert = fixture('alert');
    const withRule = await post(alert);
    expect(withRule.body.results[0]?.clientToken).toBe(
      tokenFor('interrupt-elasticsearch-task', 'es-cn-demo-activating', keyOf(alert, 'es-cn-demo-activating')),
    );
    // The same callback with ruleId "null" (absent) falls back to its alert name.
    const noRule = { ...fixture('alert'), ruleId: 'null' };
    const withName = await post(noRule);
    expect(withName.status).toBe(200);
    expect(withName.body.results[0]?.clientToken).toBe(
      tokenFor('interrupt-elasticsearch-task', 'es-cn-demo-activating', nameKeyOf(noRule, 'es-cn-demo-activating')),
    );
  });

  it('falls back to transId when there is neither ruleId nor timestamp', async () => {
    const { post } = setup();
    const fields = { ...documented(), timestamp: 'null', transId: 'c3d8a1e2-00c7-11ee-9c2a-00163e2e4b9a' };
    const response = await post(fields);
    expect(response.status).toBe(200);
    expect(response.body.results[0]?.clientToken).toBe(
      tokenFor(
        'interrupt-elasticsearch-task',
        'es-cn-demo-activating',
        nameKeyOf(fields, 'es-cn-demo-activating', fields.transId),
      ),
    );
  });
});

describe('Function: resume-elasticsearch-task, cloudmonitor callbacks without ruleId', () => {
  it('resumes on the OK that ends the documented alert, once', async () => {
    const interrupt = setup('interrupt-elasticsearch-task');
    const resume = setup('resume-elasticsearch-task');
    expect((await interrupt.post(documentedBody())).body.results[0]?.outcome).toBe('applied');
    const ok = { ...documented(), alertState: 'OK', curValue: '0', timestamp: '1685652733000' };
    const token = tokenFor(
      'resume-elasticsearch-task',
      'es-cn-demo-activating',
      nameKeyOf(ok, 'es-cn-demo-activating'),
    );
    for (let delivery = 0; delivery < 2; delivery++) {
      const resumed = await resume.post(ok);
      expect(resumed.status).toBe(200);
      expect(resumed.body.results[0]).toMatchObject({ clientToken: token });
    }
    expect(state('es-cn-demo-activating')?.status).toBe('activating');
    expect(state('es-cn-demo-activating')?.history.map((h) => [h.action, h.clientToken])).toEqual([
      ['InterruptElasticsearchTask', expect.any(String)],
      ['ResumeElasticsearchTask', token],
    ]);
  });
});

describe('Function: resume-elasticsearch-task, cloudmonitor source', () => {
  it('resumes on OK what ALERT interrupted (RESUME_ON default), each with its own token', async () => {
    const interrupt = setup('interrupt-elasticsearch-task');
    const resume = setup('resume-elasticsearch-task');
    expect((await interrupt.post(fixture('alert'))).body.results[0]?.outcome).toBe('applied');
    // The resume function ignores the ALERT …
    const alertToResume = await resume.post(fixture('alert'));
    expect(alertToResume.status).toBe(200);
    expect(alertToResume.body.results[0]).toMatchObject({ outcome: 'refused', code: 'AlertStateIgnored' });
    // … and acts on the OK that ends it.
    const ok = fixture('ok');
    const resumed = await resume.post(ok);
    expect(resumed.status).toBe(200);
    expect(resumed.body.results[0]).toMatchObject({
      outcome: 'applied',
      clientToken: tokenFor('resume-elasticsearch-task', 'es-cn-demo-activating', keyOf(ok, 'es-cn-demo-activating')),
    });
    expect(state('es-cn-demo-activating')?.status).toBe('activating');
    expect(state('es-cn-demo-activating')?.history.map((h) => h.action)).toEqual([
      'InterruptElasticsearchTask',
      'ResumeElasticsearchTask',
    ]);
    expect(resume.calls).toHaveLength(1);
  });

  it.each<FunctionName>(['interrupt-elasticsearch-task', 'resume-elasticsearch-task', 'cancel-migration-task'])(
    '%s refuses INSUFFICIENT_DATA with 200 and no call',
    async (name) => {
      const { post, calls } = setup(name);
      const response = await post(fixture('insufficient-data'));
      expect(response.status).toBe(200);
      expect(response.body.results).toEqual([
        expect.objectContaining({
          instanceId: 'es-cn-demo-activating',
          outcome: 'refused',
          code: 'AlertStateIgnored',
          message: expect.stringMatching(/neither firing nor resolved/),
        }),
      ]);
      expect(calls).toHaveLength(0);
    },
  );
});

describe('Function: interrupt-logstash-task, cloudmonitor source', () => {
  it('reads instanceId from the dimensions and the default region when regionId is "null"', async () => {
    const { post } = setup('interrupt-logstash-task');
    const alert = fixture('logstash-alert');
    const response = await post(alert);
    expect(response.status).toBe(200);
    expect(response.body.results[0]).toMatchObject({
      instanceId: 'ls-cn-demo-activating',
      regionId: 'cn-hangzhou',
      outcome: 'applied',
      clientToken: tokenFor('interrupt-logstash-task', 'ls-cn-demo-activating', keyOf(alert, 'ls-cn-demo-activating')),
    });
    expect(state('ls-cn-demo-activating')?.status).toBe('suspended');
  });
});

describe('Function: cloudmonitor callbacks bound to the function’s account', () => {
  // Attack (issue 10, part 3): the token authenticates the URL, not the sender; a forged body naming
  // another account (or a leaked callback URL used by another account's rule) reached the API.
  it('refuses a forged callback whose userId is another account: 401, nothing reached the API', async () => {
    const { post, calls } = setup();
    const forged = { ...fixture('alert'), userId: '5550001112223334' };
    const response = await post(forged);
    expect(response.status).toBe(401);
    expect(response.body.error?.code).toBe('Unauthorized');
    // The answer never carries the account ID, the function's or the forged one.
    expect(JSON.stringify(response.body)).not.toContain(ACCOUNT_ID);
    expect(JSON.stringify(response.body)).not.toContain('5550001112223334');
    expect(calls).toHaveLength(0);
    expect(state('es-cn-demo-activating')?.history).toHaveLength(0);

    // The legitimate callback of the function's own account still acts.
    const legitimate = await post(fixture('alert'));
    expect(legitimate.body.results[0]).toMatchObject({ instanceId: 'es-cn-demo-activating', outcome: 'applied' });
    expect(calls.length).toBeGreaterThan(0);
  });

  it.each<[string, (f: Fields) => Fields | string, Env]>([
    ['no userId', ({ userId: _, ...f }) => f, {}],
    ['userId "null"', (f) => ({ ...f, userId: 'null' }), {}],
    ['two userIds, one right', (f) => `${new URLSearchParams(f).toString()}&userId=5550001112223334`, {}],
    ['a userId that only starts like the account', (f) => ({ ...f, userId: `${ACCOUNT_ID}0` }), {}],
    [
      'another account than ALIBABA_CLOUD_ACCOUNT_ID, which wins over FC_ACCOUNT_ID',
      (f) => f,
      { ALIBABA_CLOUD_ACCOUNT_ID: '5550001112223334' },
    ],
  ])('refuses a callback with %s with 401 when the account is known', async (_case, mutate, env) => {
    const { post, calls } = setup('interrupt-elasticsearch-task', env);
    const response = await post(mutate(fixture('alert')));
    expect(response.status).toBe(401);
    expect(calls).toHaveLength(0);
  });

  it('accepts the account from ALIBABA_CLOUD_ACCOUNT_ID, and any userId when no account is known', async () => {
    const own = setup('interrupt-elasticsearch-task', {
      FC_ACCOUNT_ID: undefined,
      ALIBABA_CLOUD_ACCOUNT_ID: ACCOUNT_ID,
    });
    expect((await own.post(fixture('alert'))).status).toBe(200);
    const unknown = setup('resume-elasticsearch-task', { FC_ACCOUNT_ID: undefined });
    const other = { ...fixture('ok'), userId: '5550001112223334' };
    expect((await unknown.post(other)).status).toBe(200);
  });
});

describe('Function: cloudmonitor authentication', () => {
  const withCidrs = { CLOUDMONITOR_SOURCE_CIDRS: CIDRS };
  it.each<[string, Env, PostOptions]>([
    ['no token', {}, { token: null }],
    ['an empty token', {}, { query: 'token=' }],
    ['a wrong token', {}, { token: 'cm-callback-token-6f2b9e41d8a4' }],
    ['the token as a prefix', {}, { token: TOKEN.slice(0, -1) }],
    ['two tokens, one right', {}, { query: `token=guess&token=${TOKEN}` }],
    ['the token under another name', {}, { query: `Token=${TOKEN}` }],
    ['a source IP outside the CIDRs', withCidrs, { sourceIp: '203.0.113.7' }],
    ['a source IP next to a range', withCidrs, { sourceIp: '47.74.207.1' }],
    ['an IPv6 source outside the CIDRs', withCidrs, { sourceIp: '2001:db8::1' }],
    ['no source IP while CIDRs are set', withCidrs, { sourceIp: null }],
    ['a malformed source IP', withCidrs, { sourceIp: '47.74.206.70:5555' }],
    ['no token configured (fail closed)', { CLOUDMONITOR_TOKENS: '' }, {}],
  ])('refuses %s with 401 and no upstream call', async (_case, env, options) => {
    const { post, calls } = setup('interrupt-elasticsearch-task', env);
    const response = await post(fixture('alert'), options);
    expect(response.status).toBe(401);
    expect(response.body.error?.code).toBe('Unauthorized');
    expect(response.body.results).toEqual([]);
    expect(calls).toHaveLength(0);
    expect(state('es-cn-demo-activating')?.history).toHaveLength(0);
  });

  it.each([
    ['an IPv4 source inside a /26', '47.74.206.130'],
    ['a single listed address', '8.222.159.116'],
    ['an IPv4-mapped IPv6 source', '::ffff:47.74.206.5'],
    ['an IPv6 source inside a range', '2400:3200:1600::abcd'],
  ])('accepts %s', async (_case, sourceIp) => {
    const { post } = setup('interrupt-elasticsearch-task', withCidrs);
    expect((await post(fixture('alert'), { sourceIp })).status).toBe(200);
  });

  it('accepts any source when no CIDRs are configured', async () => {
    const { post } = setup();
    expect((await post(fixture('alert'), { sourceIp: '198.51.100.9' })).status).toBe(200);
  });

  it('fails closed with a 500 naming the variable when a CIDR is invalid', async () => {
    const { post, calls } = setup('interrupt-elasticsearch-task', {
      CLOUDMONITOR_SOURCE_CIDRS: '47.74.206.0/26,47.74.206.0/33',
    });
    const response = await post(fixture('alert'));
    expect(response.status).toBe(500);
    expect(response.body.error?.message).toMatch(/CLOUDMONITOR_SOURCE_CIDRS: "47\.74\.206\.0\/33"/);
    expect(calls).toHaveLength(0);
  });

  it('never echoes the token', async () => {
    const { post } = setup();
    const texts = [
      JSON.stringify((await post(fixture('alert'))).body),
      JSON.stringify((await post(fixture('alert'), { token: `${TOKEN}x` })).body),
    ].join('\n');
    expect(texts).not.toContain(TOKEN);
  });
});

describe('CloudMonitor dimensions', () => {
  it.each<[string, string | undefined, Array<Record<string, string>>]>([
    ['absent', undefined, []],
    ['a Java map', '{instanceId=es-cn-x1, userId=123}', [{ instanceId: 'es-cn-x1', userId: '123' }]],
    ['a Java map with "null" values', '{clusterId=es-cn-x1, nodeIP=null}', [{ clusterId: 'es-cn-x1' }]],
    [
      'a Java map whose value holds a comma',
      '{tag=a,b, instanceId=es-cn-x1}',
      [{ tag: 'a,b', instanceId: 'es-cn-x1' }],
    ],
    ['an empty Java map', '{}', [{}]],
    ['a JSON object', '{"instanceId":"es-cn-x1","userId":123}', [{ instanceId: 'es-cn-x1', userId: '123' }]],
    [
      'a JSON array',
      '[{"instanceId":"es-cn-x1"},{"instanceId":"es-cn-x2","nodeIP":null}]',
      [{ instanceId: 'es-cn-x1' }, { instanceId: 'es-cn-x2' }],
    ],
  ])('parses %s', (_case, raw, expected) => {
    expect(parseDimensions(raw)).toEqual(expected);
  });
});
