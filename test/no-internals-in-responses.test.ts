import { describe, expect, it } from 'vitest';
import { LOCAL_EMULATOR_CREDENTIALS } from '../emulator/credentials.ts';
import { localContext } from '../local/fc-invoke.ts';
import { createFc3Invoker } from '../shared/async/fc3-invoker.ts';
import type { Env } from '../shared/config.ts';
import { redactInternals } from '../shared/core/redact.ts';
import { createFunctionHandler, type FunctionOptions } from '../shared/create-function.ts';
import type { Transport } from '../shared/elasticsearch/transport.ts';
import { genericRequest, invokeHttp, TEST_BEARER } from './support/invoke.ts';
import { captureOutput } from './support/log-capture.ts';
import { commandRequester } from './support/requester.ts';

/**
 * Issue 10, part 5: responses to callers never carry internal URLs, hosts or account IDs (a failed
 * hand-off once returned the invoke URL); the log has them. One row per way a failure's words can
 * reach a response: the API's own message, the network's, the hand-off's, the chat report's, an
 * invalid configuration, and a bug. Each answers without the endpoint host, the FC host, the account
 * ID, an internal URL or address, and the log line of that request still says what happened.
 */

const FUNCTION = 'interrupt-elasticsearch-task';
const ACCOUNT = '1273560756088235';
const ENDPOINT_HOST = 'elasticsearch-vpc.cn-hangzhou.aliyuncs.com';
const FC_HOST = `${ACCOUNT}.cn-hangzhou-internal.fc.aliyuncs.com`;
const ADDRESS = '100.100.36.107';
const INSTANCE = 'es-cn-n6w1o1x0w001c';
const ES_ARN = `acs:elasticsearch:cn-hangzhou:${ACCOUNT}:instances/${INSTANCE}`;
const ROLE_ARN = `acs:ram::${ACCOUNT}:role/es-change-responder`;
const INTERNAL_URL = `https://${ENDPOINT_HOST}/openapi/instances/${INSTANCE}/actions/interrupt`;
/** What no response may contain, whatever failed. */
const INTERNALS = [ACCOUNT, ENDPOINT_HOST, FC_HOST, ADDRESS, 'aliyuncs.com', ES_ARN, ROLE_ARN, INTERNAL_URL];

const baseEnv: Env = {
  GENERIC_BEARER_TOKENS: TEST_BEARER,
  ALLOWED_INSTANCES: 'es-cn-*',
  ALIBABA_CLOUD_REGION: 'cn-hangzhou',
  ELASTICSEARCH_ENDPOINT: ENDPOINT_HOST,
  ALIBABA_CLOUD_ACCESS_KEY_ID: LOCAL_EMULATOR_CREDENTIALS.accessKeyId,
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: LOCAL_EMULATOR_CREDENTIALS.accessKeySecret,
  UPSTREAM_TIMEOUT_MS: '200',
  RETRY_DEADLINE_MS: '300',
  POWERTOOLS_LOG_LEVEL: 'INFO',
};
/** The same on FC with the hand-off of generic deliveries (the account and region are known there). */
const handOffEnv: Env = {
  ...baseEnv,
  FC_ACCOUNT_ID: ACCOUNT,
  FC_REGION: 'cn-hangzhou',
  ASYNC_SOURCES: 'generic',
  ASYNC_INVOKE_ENDPOINT: `https://${FC_HOST}`,
};

/** A transport that fails every call the same way. */
const failing =
  (fail: () => never | Promise<never>): Transport =>
  async () =>
    fail();
const networkError = (message: string, code?: string, cause?: object) =>
  Object.assign(new Error(message), code ? { code } : {}, cause ? { cause } : {});

const delivery = (key: string) =>
  genericRequest(FUNCTION, JSON.stringify({ instanceIds: [INSTANCE] }), {
    authorization: `Bearer ${TEST_BEARER}`,
    'idempotency-key': key,
    'content-type': 'application/json',
  });

interface Row {
  env: Env;
  options?: Omit<FunctionOptions, 'env'>;
  /** What the log must still say for this row. */
  logged: string[];
  /** What the response says instead (our words, or the API's with the internals taken out). */
  answered: RegExp;
}

/** The hand-off's invoker of these rows: FC 3.0's, its answers from `transport`. */
const fc3Invoker = (transport: Transport) =>
  createFc3Invoker({
    accountId: ACCOUNT,
    region: 'cn-hangzhou',
    functionName: FUNCTION,
    qualifier: undefined,
    endpoint: `https://${FC_HOST}`,
    timeoutMs: 500,
    transport,
  });

const ROWS: Record<string, Row> = {
  "the API refuses, its message naming the resource's ARN, the role, the endpoint and an address": {
    env: baseEnv,
    options: {
      transport: async () => ({
        status: 403,
        retryAfter: undefined,
        body: JSON.stringify({
          RequestId: 'E7E4B5D8-3C1B-4A57-9D60-1B6F2C3A4D5E',
          Code: 'NoPermission',
          Message: `You are not authorized to operate on ${ES_ARN} as ${ROLE_ARN} (endpoint ${INTERNAL_URL}, from ${ADDRESS}:443, account ${ACCOUNT}).`,
        }),
      }),
    },
    logged: [ES_ARN, ROLE_ARN, INTERNAL_URL, ADDRESS],
    answered: /NoPermission.*You are not authorized to operate on <arn> as <arn>/s,
  },
  'the endpoint does not resolve (getaddrinfo ENOTFOUND <host>)': {
    env: baseEnv,
    options: {
      transport: failing(() => {
        throw networkError(`getaddrinfo ENOTFOUND ${ENDPOINT_HOST}`, 'ENOTFOUND');
      }),
    },
    logged: [`getaddrinfo ENOTFOUND ${ENDPOINT_HOST}`],
    answered: /the connection to the API failed \(ENOTFOUND\)/,
  },
  'fetch fails, the cause naming an address (connect ECONNREFUSED <address>)': {
    env: baseEnv,
    options: {
      transport: failing(() => {
        throw networkError('fetch failed', undefined, {
          code: 'ECONNREFUSED',
          message: `connect ECONNREFUSED ${ADDRESS}:443`,
        });
      }),
    },
    logged: [`connect ECONNREFUSED ${ADDRESS}:443`],
    answered: /the connection to the API failed \(ECONNREFUSED\)/,
  },
  'a network error with no code, its message naming the endpoint and the address': {
    env: baseEnv,
    options: {
      transport: failing(() => {
        throw networkError(`socket to ${ENDPOINT_HOST} (${ADDRESS}) closed by a proxy`);
      }),
    },
    logged: [`socket to ${ENDPOINT_HOST} (${ADDRESS}) closed by a proxy`],
    answered: /the connection to the API failed/,
  },
  'the hand-off is refused by FC, its message naming the function ARN, the host and the account': {
    env: handOffEnv,
    options: {
      invoker: fc3Invoker(async () => ({
        status: 403,
        retryAfter: undefined,
        headers: { 'x-fc-request-id': 'req-denied' },
        body: JSON.stringify({
          errorCode: 'AccessDenied',
          errorMessage: `${ROLE_ARN} may not invoke acs:fc:cn-hangzhou:${ACCOUNT}:functions/${FUNCTION} at ${FC_HOST}`,
          requestId: 'req-denied',
        }),
      })),
    },
    logged: [FC_HOST, `acs:fc:cn-hangzhou:${ACCOUNT}:functions/${FUNCTION}`],
    answered: /Function Compute did not take the hand-off \(AccessDenied, HTTP 403\)/,
  },
  'the hand-off cannot reach FC (getaddrinfo ENOTFOUND <FC host>)': {
    env: handOffEnv,
    options: {
      invoker: fc3Invoker(
        failing(() => {
          throw networkError(`getaddrinfo ENOTFOUND ${FC_HOST}`, 'ENOTFOUND');
        }),
      ),
    },
    logged: [FC_HOST],
    answered: /Function Compute/,
  },
  'a bug throws an error naming an internal URL': {
    env: baseEnv,
    options: {
      api: {
        call: async () => {
          throw new TypeError(`cannot read the answer of ${INTERNAL_URL} for account ${ACCOUNT}`);
        },
      },
    },
    logged: [INTERNAL_URL],
    answered: /internal error/,
  },
  'the configuration names the endpoint with a path (invalid)': {
    env: { ...baseEnv, ELASTICSEARCH_ENDPOINT: `${INTERNAL_URL}?account=${ACCOUNT}` },
    logged: ['ELASTICSEARCH_ENDPOINT'],
    answered: /ELASTICSEARCH_ENDPOINT: must be a host name/,
  },
  'the configuration has a malformed account ID': {
    env: { ...baseEnv, ALIBABA_CLOUD_ACCOUNT_ID: `${ACCOUNT}-${FC_HOST}` },
    logged: ['ALIBABA_CLOUD_ACCOUNT_ID'],
    answered: /ALIBABA_CLOUD_ACCOUNT_ID: must be the numeric account ID/,
  },
};

describe('Function: every response path, against internal URLs, hosts and account IDs', () => {
  it.each(Object.entries(ROWS))('%s: answers without them, and the log has them', async (_, row) => {
    // From the cold start on: an invalid configuration is logged when the function is created.
    const { value: response, text: log } = await captureOutput(() =>
      invokeHttp(createFunctionHandler(FUNCTION, { env: row.env, ...row.options }), delivery(`key-${_}`)),
    );
    const body = await response.text();
    expect(body).toMatch(row.answered);
    for (const internal of INTERNALS) expect(body, internal).not.toContain(internal);
    for (const fact of row.logged) expect(log, fact).toContain(fact);
  });

  it('a chat report that fails, naming a proxy address: the command’s answer has none of it, the log has it', async () => {
    const handler = createFunctionHandler(FUNCTION, {
      env: { ...handOffEnv, SLACK_SIGNING_SECRETS: 'slacksigning1d8f3b6e9a2c5f7e0b4d', SLACK_ALLOWED_USERS: '*' },
      transport: async () => ({ status: 200, retryAfter: undefined, body: '{"RequestId":"r-1","Result":true}' }),
      replyRequest: () => {
        throw networkError(`connect ECONNREFUSED ${ADDRESS}:3128 (egress proxy of ${ENDPOINT_HOST})`, 'ECONNREFUSED');
      },
    });
    const command = {
      responderCommand: 1,
      function: FUNCTION,
      source: 'slack',
      targets: [{ instanceId: INSTANCE, regionId: 'cn-hangzhou', eventKey: 'slack:1.2.3' }],
      ...commandRequester('slack', 'U-test', FUNCTION),
      reply: { url: 'https://hooks.slack.com/commands/T024BE7LD/1234567890123/AbCdEfGhIjKlMnOpQrStUvWx' },
    };
    const { value: result, text: log } = await captureOutput(() =>
      handler(Buffer.from(JSON.stringify(command)), localContext(FUNCTION)),
    );
    const body = JSON.stringify(result);
    expect(body).toMatch(/"outcome":"applied"/);
    for (const internal of INTERNALS) expect(body, internal).not.toContain(internal);
    expect(log).toContain('report failed');
    expect(log).toContain(`${ADDRESS}:3128`);
  });
});

describe('Function: redactInternals', () => {
  it.each([
    [`denied on ${ES_ARN}`, [], 'denied on <arn>'],
    [`see ${INTERNAL_URL} now`, [], 'see <url> now'],
    [`host ${ENDPOINT_HOST}:443 down`, [], 'host <host> down'],
    [`from ${ADDRESS}:8080.`, [], 'from <address>.'],
    [`account ${ACCOUNT}.`, [], 'account <account>.'],
    ['my-endpoint.corp answered', ['my-endpoint.corp'], '<internal> answered'],
    // What stays: codes, request and instance IDs, ordinary words and numbers.
    [
      `InstanceStatusNotSupportCurrentAction: ${INSTANCE} is activating (request E7E4B5D8-3C1B-4A57-9D60-1B6F2C3A4D5E, 30 s, e.g. 1.5)`,
      [],
      `InstanceStatusNotSupportCurrentAction: ${INSTANCE} is activating (request E7E4B5D8-3C1B-4A57-9D60-1B6F2C3A4D5E, 30 s, e.g. 1.5)`,
    ],
  ])('%s → %s', (text, known, expected) => {
    expect(redactInternals(text, known)).toBe(expected);
  });

  it('cuts a long message before reading it, in linear time', () => {
    const long = `${'a.'.repeat(200_000)}x`;
    expect(redactInternals(long).length).toBeLessThan(600);
  });
});
