import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import { describe, expect, it } from 'vitest';
import { FUNCTION_NAMES } from '../shared/actions.ts';
import { type FcProps, readmeDeployExports, resolveSpec, S_YAML_TEXT } from './support/s-yaml.ts';

/**
 * s.yaml against the facts of the fc3 component's published schema (test/schemas/fc3-props.schema.json,
 * the project's own schema; its $comment names the fc3 commit), offline and after the variables are
 * resolved, since fc3 validates resolved props. fc3 itself only logs a mismatch at debug level
 * (src/utils/verify.ts), so a wrong s.yaml would otherwise reach the FC API or deploy silently.
 */

const schema = JSON.parse(readFileSync(new URL('./schemas/fc3-props.schema.json', import.meta.url), 'utf8')) as {
  $id: string;
};
// The options fc3 validates with (allErrors, strict schema), strict on everything else too.
const ajv = new Ajv({ allErrors: true, strict: true });
const validateSpec = ajv.compile(schema);
const validateProps = ajv.getSchema(`${schema.$id}#/definitions/props`);
if (!validateProps) throw new Error('the schema has no definitions/props');

/** s.yaml as a README deploy resolves it (placeholders filled); the role is the only required export. */
const shell = {
  ...readmeDeployExports(),
  RESPONDER_ROLE_ARN: 'acs:ram::1273560756088235:role/es-change-responder',
  ALERTMANAGER_BEARER_TOKENS: 'b'.repeat(64),
  SLACK_SIGNING_SECRETS: 's'.repeat(32),
};
const spec = resolveSpec(shell);

const errorsOf = (errors: ErrorObject[] | null | undefined) =>
  (errors ?? []).map((e) => `${e.instancePath || '/'} ${e.keyword}: ${e.message ?? ''}`);

describe('Function: the fc3 props schema', () => {
  it('is a valid draft-07 schema under Ajv strict mode', () => {
    expect(ajv.validateSchema(schema)).toBe(true);
  });

  it('accepts the whole resolved s.yaml', () => {
    expect(validateSpec(spec), errorsOf(validateSpec.errors).join('\n')).toBe(true);
  });

  it.each(FUNCTION_NAMES)('accepts the resolved props of %s', (name) => {
    const props = spec.resources[name]?.props;
    expect(props).toBeDefined();
    expect(validateProps(props), errorsOf(validateProps.errors).join('\n')).toBe(true);
  });

  it("accepts s.yaml with the VPC of the guardrails' store uncommented as README says, and refuses a partial one", () => {
    const uncommented = S_YAML_TEXT.replace(
      /^(\s*)# (vpcConfig: [&*]vpcConfig| {2}vpcId:| {2}vSwitchIds:| {4}- \$\{env\('RESPONDER_VSWITCH_ID'\)\}| {2}securityGroupId:)/gm,
      '$1$2',
    );
    const vpc = {
      RESPONDER_VPC_ID: 'vpc-bp1aevy8sofi8mh1q****',
      RESPONDER_VSWITCH_ID: 'vsw-bp1sduggd7hb1bydz****',
      RESPONDER_SECURITY_GROUP_ID: 'sg-bp1243pi65bw4cjj****',
    };
    const withVpc = resolveSpec({ ...shell, ...vpc }, uncommented);
    for (const name of FUNCTION_NAMES) {
      expect(withVpc.resources[name]?.props.vpcConfig, name).toEqual({
        vpcId: vpc.RESPONDER_VPC_ID,
        vSwitchIds: [vpc.RESPONDER_VSWITCH_ID],
        securityGroupId: vpc.RESPONDER_SECURITY_GROUP_ID,
      });
    }
    expect(validateSpec(withVpc), errorsOf(validateSpec.errors).join('\n')).toBe(true);
    const props = structuredClone(withVpc.resources['interrupt-elasticsearch-task']?.props) as FcProps;
    delete (props.vpcConfig as Record<string, unknown>).securityGroupId;
    expect(validateProps(props)).toBe(false);
    expect(validateProps({ ...props, vpcConfig: 'auto' })).toBe(true);
  });

  it('accepts s.yaml resolved with nothing exported but the role', () => {
    const bare = resolveSpec({ RESPONDER_ROLE_ARN: shell.RESPONDER_ROLE_ARN });
    expect(validateSpec(bare), errorsOf(validateSpec.errors).join('\n')).toBe(true);
  });

  it('rejects a region the deploying shell sets that FC does not have (variables are resolved first)', () => {
    const elsewhere = resolveSpec({ ...shell, ALIBABA_CLOUD_REGION: 'cn-atlantis' });
    expect(validateSpec(elsewhere)).toBe(false);
    expect(errorsOf(validateSpec.errors)).toContainEqual(
      expect.stringMatching(/^\/resources\/[\w-]+\/props\/region enum/),
    );
  });

  type Mutation = (props: FcProps) => void;
  const http = (p: FcProps) => p.triggers.find((t) => t.triggerType === 'http')?.triggerConfig ?? {};
  const timer = (p: FcProps) => {
    const t = p.triggers.find((x) => x.triggerType === 'timer');
    if (!t) throw new Error('interrupt-elasticsearch-task has no timer trigger');
    return t.triggerConfig;
  };
  it.each<[string, Mutation, string, string]>([
    ['a runtime fc3 does not know', (p) => (p.runtime = 'nodejs21'), '/runtime', 'enum'],
    ['a container runtime (needs customContainerConfig)', (p) => (p.runtime = 'custom-container'), '/runtime', 'enum'],
    ['memorySize under 128 MB', (p) => (p.memorySize = 64), '/memorySize', 'minimum'],
    ['memorySize not a multiple of 64', (p) => (p.memorySize = 500), '/memorySize', 'multipleOf'],
    ['memorySize over 32 GB', (p) => (p.memorySize = 32832), '/memorySize', 'maximum'],
    ['a fractional timeout', (p) => (p.timeout = 2.5), '/timeout', 'type'],
    ['timeout 0', (p) => (p.timeout = 0), '/timeout', 'minimum'],
    ['timeout over a day', (p) => (p.timeout = 86401), '/timeout', 'maximum'],
    ['a misspelt key', (p) => (p.memorySzie = 512), '', 'additionalProperties'],
    ['no handler for a nodejs runtime', (p) => delete (p as Partial<FcProps>).handler, '', 'required'],
    ['no code', (p) => delete (p as Partial<FcProps>).code, '', 'required'],
    ['a function name starting with a digit', (p) => (p.functionName = '5-responders'), '/functionName', 'pattern'],
    [
      'a number as an environment value',
      (p) => ((p.environmentVariables as unknown as Record<string, number>).MAX_TARGETS_PER_EVENT = 5),
      '/environmentVariables/MAX_TARGETS_PER_EVENT',
      'type',
    ],
    [
      'a reserved FC_ environment key',
      (p) => (p.environmentVariables.FC_REGION = 'cn-hangzhou'),
      '/environmentVariables',
      'propertyNames',
    ],
    [
      'an environment key with a hyphen',
      (p) => (p.environmentVariables['ALLOWED-INSTANCES'] = 'x'),
      '/environmentVariables',
      'propertyNames',
    ],
    [
      'an HTTP trigger authType FC does not have',
      (p) => (http(p).authType = 'none'),
      '/triggers/0/triggerConfig/authType',
      'enum',
    ],
    [
      'an HTTP method FC does not have',
      (p) => (http(p).methods = ['FETCH']),
      '/triggers/0/triggerConfig/methods/0',
      'enum',
    ],
    ['an HTTP trigger without methods', (p) => delete http(p).methods, '/triggers/0/triggerConfig', 'required'],
    ['an unknown HTTP trigger key', (p) => (http(p).cors = true), '/triggers/0/triggerConfig', 'additionalProperties'],
    ['a timer trigger without enable', (p) => delete timer(p).enable, '/triggers/1/triggerConfig', 'required'],
    [
      'a timer enable given as a string',
      (p) => (timer(p).enable = 'false'),
      '/triggers/1/triggerConfig/enable',
      'type',
    ],
    [
      'a trigger type this schema does not describe',
      (p) => ((p.triggers[0] as { triggerType: string }).triggerType = 'oss'),
      '/triggers/0/triggerType',
      'enum',
    ],
    [
      'more async retries than FC allows',
      (p) => ((p.asyncInvokeConfig as Record<string, unknown>).maxAsyncRetryAttempts = 9),
      '/asyncInvokeConfig/maxAsyncRetryAttempts',
      'maximum',
    ],
    [
      "fc2's statefulInvocation instead of fc3's asyncTask",
      (p) => ((p.asyncInvokeConfig as Record<string, unknown>).statefulInvocation = true),
      '/asyncInvokeConfig',
      'additionalProperties',
    ],
    [
      'a log config without a logstore',
      (p) => delete (p.logConfig as Record<string, unknown>).logstore,
      '/logConfig',
      'required',
    ],
  ])('rejects %s', (_, mutate, instancePath, keyword) => {
    const props = structuredClone(spec.resources['interrupt-elasticsearch-task']?.props) as FcProps;
    expect(validateProps(props)).toBe(true);
    mutate(props);
    expect(validateProps(props)).toBe(false);
    expect(validateProps.errors?.map((e) => `${e.instancePath} ${e.keyword}`)).toContainEqual(
      `${instancePath} ${keyword}`,
    );
  });
});
