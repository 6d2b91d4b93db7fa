import type { IncomingHttpHeaders } from 'node:http';
import sdk, {
  CancelTaskRequest,
  InterruptElasticsearchTaskRequest,
  InterruptLogstashTaskRequest,
  ResumeElasticsearchTaskRequest,
  ResumeLogstashTaskRequest,
} from '@alicloud/elasticsearch20170613';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIONS, API_VERSION, actionPath, describePath, type FunctionName } from '../shared/actions.ts';
import { parseAuthorization, signRequest } from '../shared/elasticsearch/acs3-signer.ts';
import { type Captured, type CaptureServer, startCaptureServer } from './support/capture-server.ts';

/**
 * The oracle: the official SDK signs a request, a capturing server records it, and our lean signer,
 * given the same inputs (and the SDK's own date and nonce), must produce the identical Authorization.
 */

// TypeScript (NodeNext) types a CJS default import as module.exports; vitest may already unwrap it.
const Client = ('default' in sdk ? sdk.default : sdk) as typeof sdk.default;
type SdkClient = InstanceType<typeof Client>;

let wireServer: CaptureServer;
let endpoint: string;

beforeAll(async () => {
  wireServer = await startCaptureServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json;charset=utf-8' });
    // Describe* results are objects, the actions' a boolean; the SDK checks the type.
    const result = req.method === 'GET' ? {} : true;
    res.end(JSON.stringify({ RequestId: '5E1B2C3D-0000-4000-8000-000000000000', Result: result }));
  });
  endpoint = wireServer.host;
});

afterAll(() => wireServer.close());

const credentials = { accessKeyId: 'LTAI5tOracleKey', accessKeySecret: 'oracle-secret' };

const sdkClient = (securityToken?: string): SdkClient =>
  new Client(
    new $OpenApiUtil.Config({ ...credentials, securityToken, endpoint, protocol: 'http', regionId: 'cn-hangzhou' }),
  );

/** Sends one SDK call and returns what reached the wire. */
async function capture(call: (client: SdkClient) => Promise<unknown>, securityToken?: string): Promise<Captured> {
  const before = wireServer.captured.length;
  await call(sdkClient(securityToken));
  expect(wireServer.captured).toHaveLength(before + 1);
  return wireServer.captured[before] as Captured;
}

const single = (headers: IncomingHttpHeaders, name: string): string => {
  const value = headers[name];
  if (typeof value !== 'string') throw new Error(`header ${name} missing from the SDK request`);
  return value;
};

/** Our signer on the SDK's inputs; the SDK's x-acs-* extras (e.g. x-acs-credentials-provider) are passed through. */
function ourHeaders(
  wire: Captured,
  input: { method: string; path: string; query: Record<string, string>; action: string; securityToken?: string },
): Record<string, string> {
  const ownHeaders = new Set([
    'x-acs-version',
    'x-acs-action',
    'x-acs-date',
    'x-acs-signature-nonce',
    'x-acs-content-sha256',
    'x-acs-accesskey-id',
    'x-acs-security-token',
  ]);
  const extraHeaders: Record<string, string> = {};
  for (const name of Object.keys(wire.headers)) {
    if (name.startsWith('x-acs-') && !ownHeaders.has(name)) extraHeaders[name] = single(wire.headers, name);
  }
  return signRequest({
    method: input.method,
    host: endpoint,
    path: input.path,
    query: input.query,
    action: input.action,
    version: API_VERSION,
    body: wire.body === '' ? undefined : wire.body,
    credentials: { ...credentials, securityToken: input.securityToken },
    date: new Date(single(wire.headers, 'x-acs-date')),
    nonce: single(wire.headers, 'x-acs-signature-nonce'),
    extraHeaders,
  });
}

const encodingToken = "tok !'()*~ é/+=&%x";

type ActionCase = {
  name: string;
  fn: FunctionName;
  instanceId: string;
  query: Record<string, string>;
  securityToken: string | undefined;
  call: (client: SdkClient, instanceId: string, query: Record<string, string>) => Promise<unknown>;
};

const interruptEs: ActionCase['call'] = (client, id, query) =>
  client.interruptElasticsearchTask(id, new InterruptElasticsearchTaskRequest(query));
const resumeEs: ActionCase['call'] = (client, id, query) =>
  client.resumeElasticsearchTask(id, new ResumeElasticsearchTaskRequest(query));
const interruptLs: ActionCase['call'] = (client, id, query) =>
  client.interruptLogstashTask(id, new InterruptLogstashTaskRequest(query));
const resumeLs: ActionCase['call'] = (client, id, query) =>
  client.resumeLogstashTask(id, new ResumeLogstashTaskRequest(query));
const cancel: ActionCase['call'] = (client, id, query) => client.cancelTask(id, new CancelTaskRequest(query));

const sts = 'CAIS-sts-token/with+odd=chars';

const actionCases: ActionCase[] = [
  {
    name: 'interrupt ES',
    fn: 'interrupt-elasticsearch-task',
    instanceId: 'es-cn-oracle1',
    query: { clientToken: 'ies-1' },
    securityToken: undefined,
    call: interruptEs,
  },
  {
    name: 'interrupt ES with STS',
    fn: 'interrupt-elasticsearch-task',
    instanceId: 'es-cn-oracle1',
    query: { clientToken: 'ies-2' },
    securityToken: sts,
    call: interruptEs,
  },
  {
    name: 'interrupt ES without a token',
    fn: 'interrupt-elasticsearch-task',
    instanceId: 'es-cn-oracle1',
    query: {},
    securityToken: undefined,
    call: interruptEs,
  },
  {
    name: 'resume ES',
    fn: 'resume-elasticsearch-task',
    instanceId: 'es-cn-oracle2',
    query: { clientToken: 'res-1' },
    securityToken: undefined,
    call: resumeEs,
  },
  {
    name: 'interrupt LS with STS',
    fn: 'interrupt-logstash-task',
    instanceId: 'ls-cn-oracle3',
    query: { clientToken: 'ils-1' },
    securityToken: sts,
    call: interruptLs,
  },
  {
    name: 'resume LS',
    fn: 'resume-logstash-task',
    instanceId: 'ls-cn-oracle3',
    query: { clientToken: 'rls-1' },
    securityToken: undefined,
    call: resumeLs,
  },
  {
    name: 'resume LS with STS',
    fn: 'resume-logstash-task',
    instanceId: 'ls-cn-oracle3',
    query: { clientToken: 'rls-2' },
    securityToken: sts,
    call: resumeLs,
  },
  {
    name: 'CancelTask with taskType and clientToken',
    fn: 'cancel-migration-task',
    instanceId: 'es-cn-oracle4',
    query: { clientToken: 'cmt-1', taskType: 'MigrateData' },
    securityToken: undefined,
    call: cancel,
  },
  {
    name: 'CancelTask with STS',
    fn: 'cancel-migration-task',
    instanceId: 'es-cn-oracle4',
    query: { clientToken: 'cmt-2', taskType: 'MigrateData' },
    securityToken: sts,
    call: cancel,
  },
  {
    name: 'a query value needing encoding',
    fn: 'cancel-migration-task',
    instanceId: 'es-cn-oracle5',
    query: { clientToken: encodingToken, taskType: 'MigrateData' },
    securityToken: undefined,
    call: cancel,
  },
];

describe('Function: signRequest', () => {
  it.each(actionCases)(
    'signs $name exactly as the official SDK',
    async ({ fn, instanceId, query, securityToken, call }) => {
      const spec = ACTIONS[fn];
      const wire = await capture((client) => call(client, instanceId, query), securityToken);
      const path = actionPath(spec, instanceId);

      expect(wire.method).toBe('POST');
      expect(wire.url.split('?')[0]).toBe(path);
      const ours = ourHeaders(wire, { method: 'POST', path, query, action: spec.operation, securityToken });

      expect(ours.authorization).toBe(single(wire.headers, 'authorization'));
      // Every header we sign is the one the SDK sent.
      for (const [name, value] of Object.entries(ours)) expect(single(wire.headers, name)).toBe(value);
    },
  );

  it.each([
    { name: 'DescribeInstance', kind: 'elasticsearch' as const, instanceId: 'es-cn-oracle6', securityToken: undefined },
    { name: 'DescribeLogstash with STS', kind: 'logstash' as const, instanceId: 'ls-cn-oracle7', securityToken: sts },
  ])('signs $name (GET, no query) exactly as the official SDK', async ({ name, kind, instanceId, securityToken }) => {
    const wire = await capture(
      (client) => (kind === 'logstash' ? client.describeLogstash(instanceId) : client.describeInstance(instanceId)),
      securityToken,
    );
    const path = describePath(kind, instanceId);
    expect(wire.method).toBe('GET');
    expect(wire.url).toBe(path);
    const ours = ourHeaders(wire, { method: 'GET', path, query: {}, action: name.split(' ')[0] ?? '', securityToken });
    expect(ours.authorization).toBe(single(wire.headers, 'authorization'));
  });

  it('signs host, x-acs-* and nothing else; the STS token and its key id are signed', async () => {
    const wire = await capture((client) => interruptEs(client, 'es-cn-oracle8', { clientToken: 'x' }), sts);
    const parsed = parseAuthorization(single(wire.headers, 'authorization'));
    expect(parsed?.accessKeyId).toBe(credentials.accessKeyId);
    expect(parsed?.signedHeaders).toEqual(
      expect.arrayContaining(['host', 'x-acs-security-token', 'x-acs-accesskey-id']),
    );
    expect(parsed?.signedHeaders.every((h) => h === 'host' || h === 'content-type' || h.startsWith('x-acs-'))).toBe(
      true,
    );
  });

  it('differs from the SDK when any input differs (the comparison is not vacuous)', async () => {
    const spec = ACTIONS['interrupt-elasticsearch-task'];
    const wire = await capture((client) => interruptEs(client, 'es-cn-oracle9', { clientToken: 'a' }));
    const path = actionPath(spec, 'es-cn-oracle9');
    const other = ourHeaders(wire, { method: 'POST', path, query: { clientToken: 'b' }, action: spec.operation });
    expect(other.authorization).not.toBe(single(wire.headers, 'authorization'));
  });
});
