import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FUNCTION_NAMES } from '../shared/actions.ts';
import { parseConfig } from '../shared/config.ts';
import { fcSystemEnv, resolveSpec } from './support/s-yaml.ts';

/**
 * Function Compute: "The total size of all environment variables cannot exceed 4 KB" (FC 3.0 docs,
 * "Configure environment variables", Limitations). The docs count the variables' keys and values;
 * this test counts their UTF-8 bytes that way, and, in case FC measures the JSON map it stores
 * (`{"KEY":"value",…}`), that too, each against 4096 bytes. FC's own variables (FC_*, the role's
 * credentials) are injected by FC and are not part of the function's configuration.
 */
const FC_ENV_LIMIT = 4096;

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const alnum = (length: number) =>
  Array.from(randomBytes(length), (b) => 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'[b % 62]).join(
    '',
  );
/** A secret list mid-rotation: the old secret and the new one. */
const rotated = (make: () => string) => `${make()},${make()}`;
const instanceId = (prefix: 'es' | 'ls', n: number) => `${prefix}-cn-${alnum(12).toLowerCase()}${n}`;

/**
 * Realistic values: every sender configured at once, each list mid-rotation with secrets of the
 * length its platform issues (Slack signing secrets are 32 hex characters, DingTalk app secrets
 * 64 characters, Standard Webhooks `whsec_` + base64 of 32 bytes, tokens from `openssl rand -hex 32`),
 * and a 10-instance allow-list of full instance IDs.
 */
const REALISTIC: Record<string, () => string> = {
  ALLOWED_INSTANCES: () =>
    [
      ...Array.from({ length: 7 }, (_, i) => instanceId('es', i)),
      ...Array.from({ length: 3 }, (_, i) => instanceId('ls', i)),
    ].join(','),
  GENERIC_WEBHOOK_SECRETS: () => rotated(() => `whsec_${randomBytes(32).toString('base64')}`),
  SLACK_SIGNING_SECRETS: () => rotated(() => hex(16)),
  DINGTALK_APP_SECRETS: () => rotated(() => alnum(64)),
  FEISHU_ENCRYPT_KEYS: () => rotated(() => alnum(32)),
  FEISHU_VERIFICATION_TOKENS: () => rotated(() => alnum(32)),
  FEISHU_APP_ID: () => `cli_${hex(8)}`,
  FEISHU_APP_SECRET: () => alnum(32),
  // The longer of the two source-address lists README documents (China site).
  CLOUDMONITOR_SOURCE_CIDRS: () =>
    '106.11.225.0/24,106.11.226.0/24,106.11.227.0/24,106.11.242.0/24,106.11.167.0/24,106.11.245.0/24,59.82.0.0/16,59.82.84.0/24,203.119.128.0/17,203.119.156.0/24,121.41.9.246',
  ALIBABA_CLOUD_ACCOUNT_ID: () => '1273560756088235',
  ELASTICSEARCH_ENDPOINT: () => 'elasticsearch-vpc.cn-hangzhou.aliyuncs.com',
  ASYNC_SERVICE_NAME: () => 'es-change-responder',
  ASYNC_QUALIFIER: () => 'LIVE',
  ASYNC_INVOKE_ENDPOINT: () => 'https://1273560756088235.cn-hangzhou-internal.fc.aliyuncs.com',
  // A Tair custom account (`<account>:<password>`, percent-encoded) on the instance's VPC endpoint: about 90 bytes.
  STATE_STORE_URL: () =>
    `redis://:responder%3A${alnum(24)}@r-bp1${alnum(15).toLowerCase()}.redis.rds.aliyuncs.com:6379/0`,
  FLEET_CHANGE_BUDGET: () => '20/15m',
};

/** A value for any variable: the table above, two 64-character secrets for any other secret list, else s.yaml's default. */
function realistic(name: string, fallback: string): string {
  const make = REALISTIC[name];
  if (make) return make();
  if (/_(SECRETS|TOKENS|KEYS)$/.test(name)) return rotated(() => hex(32));
  if (/_ALLOWED_USERS$/.test(name)) return Array.from({ length: 10 }, () => `U0${alnum(9).toUpperCase()}`).join(',');
  return fallback;
}

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

describe('Function: the environment block of s.yaml', () => {
  const role = 'acs:ram::1273560756088235:role/es-change-responder';
  const defaults = resolveSpec({ RESPONDER_ROLE_ARN: role });
  const names = Object.keys(defaults.resources['interrupt-elasticsearch-task']?.props.environmentVariables ?? {});
  const values = Object.fromEntries(
    names.map((name) => [
      name,
      realistic(name, defaults.resources['interrupt-elasticsearch-task']?.props.environmentVariables[name] ?? ''),
    ]),
  );
  // Deployed the way a user deploys: the realistic values exported in the deploying shell.
  const spec = resolveSpec({ RESPONDER_ROLE_ARN: role, ...values });

  it.each(FUNCTION_NAMES)('stays under 4 KB for %s with every sender configured and secrets mid-rotation', (name) => {
    const props = spec.resources[name]?.props;
    if (!props) throw new Error(`s.yaml has no resource ${name}`);
    const env = props.environmentVariables;
    // The values are what the test meant them to be, and a valid configuration.
    expect(env.ALLOWED_INSTANCES?.split(',')).toHaveLength(10);
    for (const list of Object.keys(env).filter((key) => /_(SECRETS|TOKENS|KEYS)$/.test(key))) {
      expect(env[list]?.split(','), list).toHaveLength(2);
    }
    const config = parseConfig({
      ...env,
      ...fcSystemEnv(props, {
        accountId: '1273560756088235',
        credentials: { accessKeyId: 'STS.a', accessKeySecret: 'b', securityToken: 'c' },
      }),
    });
    expect(config.sources.slack.signingSecrets).toHaveLength(2);

    const keysAndValues = Object.entries(env).reduce((sum, [key, value]) => sum + bytes(key) + bytes(value), 0);
    const asJson = bytes(JSON.stringify(env));
    expect(keysAndValues, `keys + values: ${keysAndValues} bytes`).toBeLessThan(FC_ENV_LIMIT);
    expect(asJson, `as a JSON map: ${asJson} bytes`).toBeLessThan(FC_ENV_LIMIT);
  });

  it.each(FUNCTION_NAMES)(
    'stays under 4 KB for %s when every function has its own secrets, mid-rotation, for every sender',
    (name) => {
      // The shared values above, and for every function its own value of every credential variable.
      const perFunction = Object.fromEntries(
        FUNCTION_NAMES.flatMap((fn) =>
          names
            .filter((key) => /_(SECRETS|TOKENS|KEYS)$|^DINGTALK_ROBOT_CODES$|^FEISHU_APP_(ID|SECRET)$/.test(key))
            .map((key) => [`${fn.toUpperCase().replaceAll('-', '_')}_${key}`, realistic(key, '')]),
        ),
      );
      const own = resolveSpec({ RESPONDER_ROLE_ARN: role, ...values, ...perFunction });
      const env = own.resources[name]?.props.environmentVariables ?? {};
      const prefix = `${name.toUpperCase().replaceAll('-', '_')}_`;
      expect(env.GRAFANA_HMAC_SECRETS).toBe(perFunction[`${prefix}GRAFANA_HMAC_SECRETS`]);
      expect(env.SLACK_SIGNING_SECRETS?.split(',')).toHaveLength(2);
      const keysAndValues = Object.entries(env).reduce((sum, [key, value]) => sum + bytes(key) + bytes(value), 0);
      expect(keysAndValues, `keys + values: ${keysAndValues} bytes`).toBeLessThan(FC_ENV_LIMIT);
      expect(bytes(JSON.stringify(env))).toBeLessThan(FC_ENV_LIMIT);
    },
  );

  it("keeps the configuration when the unused senders' lines are dropped (README's remedy)", () => {
    // A deploy for Alertmanager alone: every other sender's variables are ''.
    const env = resolveSpec({ RESPONDER_ROLE_ARN: role, ALERTMANAGER_BEARER_TOKENS: hex(32) }).resources[
      'interrupt-elasticsearch-task'
    ]?.props.environmentVariables as Record<string, string>;
    const unused = /^(GENERIC|GRAFANA|CLOUDMONITOR|SLACK|DINGTALK|FEISHU)_/;
    const trimmed = Object.fromEntries(Object.entries(env).filter(([key]) => !unused.test(key)));
    expect(Object.keys(trimmed).length).toBeLessThan(Object.keys(env).length);
    expect(parseConfig(trimmed)).toEqual(parseConfig(env));
  });

  it('sets no variable FC reserves (FC_*) or provides itself (the role credentials)', () => {
    for (const key of names) {
      expect(key.startsWith('FC_'), key).toBe(false);
      expect(key.startsWith('ALIBABA_CLOUD_ACCESS_KEY') || key === 'ALIBABA_CLOUD_SECURITY_TOKEN', key).toBe(false);
    }
  });
});
