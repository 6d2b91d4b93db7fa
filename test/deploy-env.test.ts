import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { SeedInstance } from '../emulator/control-plane.ts';
import { LOCAL_EMULATOR_CREDENTIALS } from '../emulator/credentials.ts';
import { toFcHttpEvent } from '../local/fc-invoke.ts';
import { actionFor, FUNCTION_NAMES, type FunctionName } from '../shared/actions.ts';
import { type Env, parseConfig } from '../shared/config.ts';
import type { ResponseBody } from '../shared/core/result.ts';
import type { FcHttpResult } from '../shared/fc/events.ts';
import { SOURCE_NAMES } from '../shared/sources/registry.ts';
import { type BundleProcess, startBundle } from './support/bundle-process.ts';
import { type StartedEmulator, startEmulator } from './support/emulator-server.ts';
import { fcSystemEnv, isPlaceholder, readmeDeployExports, resolveSpec } from './support/s-yaml.ts';
import { deliveryBody, MEDIA_TYPE } from './support/senders.ts';

/**
 * A newcomer's deploy, offline: s.yaml resolved with ONLY what README's "Deploying" section exports
 * (its `…`/`<account-id>` placeholders filled with values of a realistic shape), plus what Function
 * Compute itself sets, is the environment each function gets; that environment must parse, and each
 * built bundle, loaded in a fresh process with exactly that environment, must answer a real signed
 * delivery with 2xx (never the 500 of an invalid configuration) and change its instance once.
 */

const ACCOUNT_ID = '1273560756088235';
/** The function role's STS credentials, as FC hands them over (the emulator accepts this key pair). */
const STS = {
  accessKeyId: LOCAL_EMULATOR_CREDENTIALS.accessKeyId,
  accessKeySecret: LOCAL_EMULATOR_CREDENTIALS.accessKeySecret,
  securityToken: `CAIS${randomBytes(300).toString('base64')}`,
};

/** What a newcomer puts where the README shows a placeholder. */
function fillPlaceholder(name: string, value: string): string {
  if (name === 'RESPONDER_ROLE_ARN') return value.replace('<account-id>', ACCOUNT_ID);
  if (name === 'SLACK_SIGNING_SECRETS') return randomBytes(16).toString('hex');
  if (name === 'GENERIC_WEBHOOK_SECRETS') return `whsec_${randomBytes(32).toString('base64')}`;
  if (/_(TOKENS|SECRETS|KEYS)$/.test(name)) return randomBytes(32).toString('hex');
  throw new Error(`README exports ${name}=${value}: say here what a newcomer would put there`);
}

const exported = readmeDeployExports();
const shell: Env = Object.fromEntries(
  Object.entries(exported).map(([name, value]) => [name, isPlaceholder(value) ? fillPlaceholder(name, value) : value]),
);

describe('Function: readmeDeployExports', () => {
  it('reads the README deploy commands: a role, an allow-list and at least one sender secret', () => {
    expect(Object.keys(exported)).toEqual(
      expect.arrayContaining(['RESPONDER_ROLE_ARN', 'ALLOWED_INSTANCES', 'ALERTMANAGER_BEARER_TOKENS']),
    );
    for (const [name, value] of Object.entries(shell)) expect(isPlaceholder(value ?? ''), name).toBe(false);
    expect(shell.RESPONDER_ROLE_ARN).toMatch(/^acs:ram::\d+:role\/[\w.-]+$/);
  });
});

describe('Function: resolveSpec', () => {
  const yaml = (environment: string) => `edition: 3.0.0
name: t
vars:
  region: \${env('REGION', 'cn-hangzhou')}
  role: \${env('ROLE')}
  env: &env
${environment}
resources:
  f:
    component: fc3
    props:
      region: \${vars.region}
      role: \${vars.role}
      description: in \${vars.region}
      environmentVariables: *env
`;
  const spec = (shell: Env, environment = `    A: \${env('A', '')}`) => resolveSpec(shell, yaml(environment));

  it.each([
    ['unset', {}, 'cn-hangzhou'],
    ["exported as ''", { REGION: '' }, 'cn-hangzhou'],
    ['exported', { REGION: 'cn-shanghai' }, 'cn-shanghai'],
  ])("gives env('X', 'default') the default when X is %s, else X", (_, env, region) => {
    const props = spec({ ROLE: 'r', ...env }).resources.f?.props;
    expect(props?.region).toBe(region);
    expect(props?.description).toBe(`in ${region}`);
  });

  it("fails the deploy when env('X') has no value, as Serverless Devs does", () => {
    expect(() => spec({})).toThrow("env('ROLE') not found");
    expect(() => spec({ ROLE: '' })).toThrow("env('ROLE') not found");
  });

  it("passes '' for an env('X', '') the shell lacks, through YAML aliases", () => {
    expect(spec({ ROLE: 'r' }).resources.f?.props.environmentVariables).toEqual({ A: '' });
    expect(spec({ ROLE: 'r', A: 'x' }).resources.f?.props.environmentVariables).toEqual({ A: 'x' });
  });

  it.each([
    ['neither is exported', {}, ''],
    ["only the shared one is (the function's own is '')", { SHARED: 's', OWN: '' }, 's'],
    ['both are: its own wins', { SHARED: 's', OWN: 'o' }, 'o'],
    ['only its own is', { OWN: 'o' }, 'o'],
  ])("resolves a nested env('OWN', env('SHARED', '')) when %s", (_, env, value) => {
    const props = spec({ ROLE: 'r', ...env }, `    A: \${env('OWN', env( "SHARED" , ''))}`).resources.f?.props;
    expect(props?.environmentVariables).toEqual({ A: value });
  });

  it('evaluates the inner env first, as Serverless Devs does: a nested env without a default fails the deploy', () => {
    expect(() => spec({ ROLE: 'r', OWN: 'o' }, `    A: \${env('OWN', env('SHARED'))}`)).toThrow(
      "env('SHARED') not found",
    );
    // A default that is an undefined var is no default (devs-compile's isNil).
    expect(() => spec({ ROLE: 'r' }, `    A: \${env('OWN', vars.missing)}`)).toThrow("env('OWN') not found");
    expect(
      spec({ ROLE: 'r', OWN: 'o' }, `    A: \${env('OWN', vars.missing)}`).resources.f?.props.environmentVariables,
    ).toEqual({ A: 'o' });
  });

  it('expands YAML merge keys, a key of the mapping itself winning over the merged one', () => {
    const text = `edition: 3.0.0
name: t
vars:
  shared: &shared
    A: \${env('A', 'a')}
    B: \${env('B', 'b')}
resources:
  f:
    component: fc3
    props:
      environmentVariables:
        <<: *shared
        B: \${env('F_B', env('B', 'b'))}
`;
    expect(resolveSpec({ F_B: 'own' }, text).resources.f?.props.environmentVariables).toEqual({ A: 'a', B: 'own' });
  });

  it('refuses an expression it does not model', () => {
    expect(() => spec({ ROLE: 'r' }, `    A: \${config('AccountID')}`)).toThrow(/does not model/);
    expect(() => spec({ ROLE: 'r' }, `    A: \${env('A', '') || 'x'}`)).toThrow(/does not model/);
    expect(() => spec({ ROLE: 'r' }, `    A: \${env(vars.name)}`)).toThrow(/does not model/);
  });
});

describe('Function: a README deploy of s.yaml', () => {
  const spec = resolveSpec(shell);
  const propsOf = (name: FunctionName) => {
    const props = spec.resources[name]?.props;
    if (!props) throw new Error(`s.yaml has no resource ${name}`);
    return props;
  };
  /** The environment FC gives the function: s.yaml's variables, then FC's own (which win). */
  const functionEnv = (name: FunctionName): Env => ({
    ...propsOf(name).environmentVariables,
    ...fcSystemEnv(propsOf(name), { accountId: ACCOUNT_ID, credentials: STS }),
  });

  it("passes '' for every variable the README does not export", () => {
    const env = propsOf('interrupt-elasticsearch-task').environmentVariables;
    expect(env.ALIBABA_CLOUD_ACCOUNT_ID).toBe('');
    expect(Object.values(env).filter((value) => value === '').length).toBeGreaterThan(10);
  });

  it.each(FUNCTION_NAMES)('gives %s a configuration that parses, in the region it is deployed to', (name) => {
    const config = parseConfig(functionEnv(name));
    expect(config.policy.allowedInstances).toEqual(shell.ALLOWED_INSTANCES?.split(','));
    expect(config.sources.alertmanager.bearerTokens).toEqual([shell.ALERTMANAGER_BEARER_TOKENS]);
    expect(config.region).toBe(propsOf(name).region);
    expect(config.policy.dryRun).toBe(false);
    // The default public endpoint of that region: ELASTICSEARCH_ENDPOINT is '' (unset).
    expect(config.endpoint).toBeUndefined();
  });

  describe('each built bundle against the emulated control plane', () => {
    const { dir } = inject('bundles');
    /** The README's allow-list made concrete: one instance ID its glob for `prefix` admits. */
    const allowed = (prefix: 'es-' | 'ls-', suffix: string) => {
      const glob = shell.ALLOWED_INSTANCES?.split(',').find((g) => g.startsWith(prefix));
      if (!glob) throw new Error(`the README's ALLOWED_INSTANCES admits no ${prefix} instance`);
      return glob.replace('*', suffix);
    };
    const TARGETS: Record<FunctionName, SeedInstance & { alert: 'firing' | 'resolved' }> = {
      'interrupt-elasticsearch-task': { ...seed(allowed('es-', 'n6w1o1x0w001c'), 'activating'), alert: 'firing' },
      'resume-elasticsearch-task': { ...seed(allowed('es-', 'n6w1o1x0w002d'), 'suspended'), alert: 'resolved' },
      'interrupt-logstash-task': { ...seed(allowed('ls-', '4591f1y6a001'), 'activating'), alert: 'firing' },
      'resume-logstash-task': { ...seed(allowed('ls-', '4591f1y6a002'), 'suspended'), alert: 'resolved' },
      'cancel-migration-task': { ...seed(allowed('es-', 'n6w1o1x0w003e'), 'activating', true), alert: 'firing' },
    };
    let emulator: StartedEmulator;
    beforeAll(async () => {
      emulator = await startEmulator({
        instances: Object.values(TARGETS).map(({ instanceId, status, migrating }) => ({
          instanceId,
          status,
          migrating,
        })),
      });
    });
    afterAll(() => emulator?.close());

    it.each(FUNCTION_NAMES)(
      'answers a signed Alertmanager delivery to the built %s with 2xx and changes the instance once',
      async (name) => {
        const props = propsOf(name);
        // The one change: the network. The default public endpoint is this emulator here.
        const bundle = startBundle(join(dir, name, 'index.js'), {
          ...functionEnv(name),
          ELASTICSEARCH_ENDPOINT: emulator.url,
        });
        try {
          const target = TARGETS[name];
          const body = deliveryBody('alertmanager', target.instanceId, { alert: target.alert });
          const deliver = () =>
            invoke(bundle, name, props, '/alertmanager', body, {
              'content-type': 'application/json',
              authorization: `Bearer ${shell.ALERTMANAGER_BEARER_TOKENS}`,
            });
          const first = await deliver();
          expect(first.status, JSON.stringify(first.body)).toBeGreaterThanOrEqual(200);
          expect(first.status).toBeLessThan(300);
          expect(first.body.results).toMatchObject([{ instanceId: target.instanceId, outcome: 'applied' }]);
          // Alertmanager's retry of the same delivery: the same token, still no second change.
          const retry = await deliver();
          expect(retry.status).toBeLessThan(300);
          expect(retry.body.results[0]?.clientToken).toBe(first.body.results[0]?.clientToken);
          const history = emulator.emulator.controlPlane
            .snapshot()
            .instances.find((i) => i.instanceId === target.instanceId)?.history;
          expect(history?.map((h) => h.action)).toEqual([actionFor(name).operation]);

          // Unauthenticated, every source is refused (those with no secret fail closed), never a 500.
          for (const source of SOURCE_NAMES) {
            const unsigned = await invoke(bundle, name, props, `/${source}`, body, {
              'content-type': MEDIA_TYPE[source],
            });
            expect(unsigned.status, source).toBe(401);
          }
          const logs = bundle.stdout();
          expect(logs).not.toContain('configuration error');
          expect(logs).toContain('"message":"applied"');
        } finally {
          await bundle.close();
        }
      },
    );
  });
});

function seed(instanceId: string, status: SeedInstance['status'], migrating = false): SeedInstance {
  return { instanceId, status, migrating };
}

/** One HTTP request through FC's HTTP trigger (on the function's own trigger URL) to the bundle. */
async function invoke(
  bundle: BundleProcess,
  name: FunctionName,
  props: { region: string; handler: string; memorySize: number; timeout: number },
  path: string,
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: ResponseBody }> {
  const url = `https://${name}-abcdefghij.${props.region}.fcapp.run${path}`;
  const event = await toFcHttpEvent(new Request(url, { method: 'POST', headers, body }), { sourceIp: '203.0.113.7' });
  const context = {
    requestId: `1-${randomBytes(12).toString('hex')}`,
    credentials: { ...STS },
    function: { name, handler: props.handler, memory: props.memorySize, timeout: props.timeout },
    region: props.region,
    accountId: ACCOUNT_ID,
    retryCount: 0,
  };
  const result = (await bundle.invoke(event, context)) as FcHttpResult;
  return { status: result.statusCode, body: JSON.parse(result.body) as ResponseBody };
}
