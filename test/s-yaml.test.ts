import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { FUNCTION_NAMES } from '../shared/actions.ts';
import { CONFIG_ENV_VARS } from '../shared/config.ts';
import { SOURCES } from '../shared/sources/registry.ts';

interface Trigger {
  triggerName: string;
  triggerType: string;
  triggerConfig: Record<string, unknown>;
}
interface Props {
  region: string;
  functionName: string;
  runtime: string;
  code: string;
  handler: string;
  role: string;
  timeout: number;
  memorySize: number;
  environmentVariables: Record<string, string>;
  logConfig: Record<string, unknown>;
  triggers: Trigger[];
}

const file = readFileSync(new URL('../s.yaml', import.meta.url), 'utf8');
const spec = parse(file, { merge: true }) as {
  edition: string;
  resources: Record<string, { component: string; props: Props }>;
};
/** Variables FC itself provides (credentials from the role) or reserves (FC_*): never set in s.yaml. */
const PROVIDED_BY_FC = [
  'FC_REGION',
  'FC_ACCOUNT_ID',
  'FC_FUNCTION_NAME',
  'ALIBABA_CLOUD_ACCESS_KEY_ID',
  'ALIBABA_CLOUD_ACCESS_KEY_SECRET',
  'ALIBABA_CLOUD_SECURITY_TOKEN',
];
const LOGGER_VARS = ['POWERTOOLS_LOG_LEVEL'];
/**
 * Every sender's secrets, and what names the robot or app they belong to: each function may carry
 * its own (a request signed for one function opens no other), falling back to the shared variable.
 */
const PER_FUNCTION = [
  ...SOURCES.flatMap((source) => source.secretVariables),
  'DINGTALK_ROBOT_CODES',
  'FEISHU_APP_ID',
  'FEISHU_APP_SECRET',
];
/** A function's own and nobody else's: no shared value to fall back to (one list for all would undo the binding). */
const ONLY_PER_FUNCTION = ['SLACK_COMMANDS'];
/** `cancel-migration-task` → `CANCEL_MIGRATION_TASK`: the prefix of a function's own variables. */
const prefixOf = (name: string) => name.toUpperCase().replaceAll('-', '_');
/** A Serverless Devs reference such as `${vars.region}`, spelled out as s.yaml has it. */
const vars = (name: string) => `$\{vars.${name}}`;

describe('File: s.yaml', () => {
  it('is a Serverless Devs 3 project of fc3 resources', () => {
    expect(spec.edition).toBe('3.0.0');
    for (const resource of Object.values(spec.resources)) expect(resource.component).toBe('fc3');
  });

  it('declares exactly the functions that exist', () => {
    const folders = readdirSync(new URL('../functions', import.meta.url)).sort();
    expect(folders).toEqual([...FUNCTION_NAMES].sort());
    expect(Object.keys(spec.resources).sort()).toEqual(folders);
  });

  it.each(FUNCTION_NAMES)('deploys %s as a nodejs20 bundle with an anonymous POST HTTP trigger', (name) => {
    const props = spec.resources[name]?.props as Props;
    expect(props).toMatchObject({
      functionName: name,
      runtime: 'nodejs20',
      code: `./dist/${name}`,
      handler: 'index.handler',
      region: vars('region'),
      role: vars('role'),
    });
    expect(props.timeout).toBeGreaterThanOrEqual(10);
    expect(props.logConfig).toMatchObject({ project: vars('logProject'), logstore: vars('logstore') });
    // Hand-offs are async invocations of the function itself; FC retries them, tokens make that safe.
    expect((props as unknown as { asyncInvokeConfig: unknown }).asyncInvokeConfig).toMatchObject({
      asyncTask: true,
      maxAsyncRetryAttempts: 3,
    });
    const http = props.triggers.filter((t) => t.triggerType === 'http');
    expect(http).toHaveLength(1);
    expect(http[0]?.triggerConfig).toEqual({ authType: 'anonymous', methods: ['POST'] });
  });

  it.each(FUNCTION_NAMES)('gives %s every variable the configuration reads, and no other', (name) => {
    const env = spec.resources[name]?.props.environmentVariables ?? {};
    const expected = CONFIG_ENV_VARS.filter((v) => !PROVIDED_BY_FC.includes(v));
    expect(Object.keys(env).sort()).toEqual([...expected, ...LOGGER_VARS].sort());
    for (const [key, value] of Object.entries(env)) {
      // Every value comes from the deploying shell, never a literal secret.
      if (PER_FUNCTION.includes(key)) {
        expect(value, key).toBe(`$\{env('${prefixOf(name)}_${key}', env('${key}', ''))}`);
      } else if (ONLY_PER_FUNCTION.includes(key)) {
        expect(value, key).toBe(`$\{env('${prefixOf(name)}_${key}', '')}`);
      } else {
        expect(value, key).toMatch(new RegExp(`^\\$\\{env\\('${key}'(, '[^']*')?\\)\\}$`));
      }
      expect(key.startsWith('FC_'), key).toBe(false);
    }
  });

  it('shares every variable but the credentials through one block, merged into each function', () => {
    const functions = FUNCTION_NAMES.map((name) => spec.resources[name]?.props.environmentVariables ?? {});
    const shared = Object.keys(functions[0] ?? {}).filter(
      (key) => !PER_FUNCTION.includes(key) && !ONLY_PER_FUNCTION.includes(key),
    );
    for (const env of functions) {
      for (const key of shared) expect(env[key], key).toBe(functions[0]?.[key]);
    }
    // The merge key itself (`<<: *environment`), as Serverless Devs' YAML loader reads it too.
    expect(file.match(/^ {8}<<: \*environment$/gm)).toHaveLength(FUNCTION_NAMES.length);
  });

  it('has an example timer trigger whose payload is a valid generic payload', async () => {
    const { genericPayloadSchema } = await import('../shared/sources/generic-payload.ts');
    const timers = Object.values(spec.resources).flatMap((r) =>
      r.props.triggers.filter((t) => t.triggerType === 'timer'),
    );
    expect(timers.length).toBeGreaterThan(0);
    for (const timer of timers) {
      expect(String(timer.triggerConfig.cronExpression)).toMatch(/^(CRON_TZ=\S+ )?(\S+ ){5}\S+$|^@every /);
      expect(genericPayloadSchema().safeParse(JSON.parse(String(timer.triggerConfig.payload))).success).toBe(true);
    }
  });

  it('reads only variables with defaults, except the role (and the VPC of the store, once uncommented)', () => {
    const required = (text: string) => [...text.matchAll(/\$\{env\('([A-Z_]+)'\)\}/g)].map((m) => m[1]);
    const active = file.replace(/^\s*#.*$/gm, '');
    expect(required(active)).toEqual(['RESPONDER_ROLE_ARN']);
    expect(required(file)).toEqual([
      'RESPONDER_ROLE_ARN',
      'RESPONDER_VPC_ID',
      'RESPONDER_VSWITCH_ID',
      'RESPONDER_SECURITY_GROUP_ID',
    ]);
  });
});
