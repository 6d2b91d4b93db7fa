import sdk, {
  CancelTaskRequest,
  InterruptElasticsearchTaskRequest,
  InterruptLogstashTaskRequest,
  ResumeElasticsearchTaskRequest,
  ResumeLogstashTaskRequest,
} from '@alicloud/elasticsearch20170613';
import { $OpenApiUtil, ClientError, ServerError, ThrottlingError } from '@alicloud/openapi-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LOCAL_EMULATOR_CREDENTIALS } from '../emulator/credentials.ts';
import { type StartedEmulator, startEmulator } from './support/emulator-server.ts';

/** The official SDK, pointed at the emulator, is the client the emulator must satisfy. */

// TypeScript (NodeNext) types a CJS default import as module.exports; vitest may already unwrap it.
const Client = ('default' in sdk ? sdk.default : sdk) as typeof sdk.default;
type SdkClient = InstanceType<typeof Client>;

let server: StartedEmulator;

beforeAll(async () => {
  server = await startEmulator();
});
afterAll(() => server.close());
beforeEach(() => {
  server.emulator.setFaults({});
  server.emulator.reset();
});

const client = (
  credentials: { accessKeyId: string; accessKeySecret: string; securityToken?: string } = LOCAL_EMULATOR_CREDENTIALS,
) =>
  new Client(
    new $OpenApiUtil.Config({ ...credentials, endpoint: server.endpoint, protocol: 'http', regionId: 'cn-hangzhou' }),
  );

const instance = (instanceId: string) =>
  server.emulator.controlPlane.snapshot().instances.find((i) => i.instanceId === instanceId);

/** The rejection of a call, or a failure if it resolved. */
async function failure(promise: Promise<unknown>): Promise<Error & { code?: string; statusCode?: number }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string; statusCode?: number };
  }
  throw new Error('expected the SDK call to fail');
}

type Action = {
  name: string;
  instanceId: string;
  run: (c: SdkClient, clientToken: string) => Promise<{ body?: { result?: boolean; requestId?: string } }>;
  after: { status: string; migrating: boolean };
  operation: string;
};

const actions: Action[] = [
  {
    name: 'interruptElasticsearchTask',
    instanceId: 'es-cn-demo-activating',
    run: (c, clientToken) =>
      c.interruptElasticsearchTask('es-cn-demo-activating', new InterruptElasticsearchTaskRequest({ clientToken })),
    after: { status: 'suspended', migrating: false },
    operation: 'InterruptElasticsearchTask',
  },
  {
    name: 'resumeElasticsearchTask',
    instanceId: 'es-cn-demo-suspended',
    run: (c, clientToken) =>
      c.resumeElasticsearchTask('es-cn-demo-suspended', new ResumeElasticsearchTaskRequest({ clientToken })),
    after: { status: 'activating', migrating: false },
    operation: 'ResumeElasticsearchTask',
  },
  {
    name: 'interruptLogstashTask',
    instanceId: 'ls-cn-demo-activating',
    run: (c, clientToken) =>
      c.interruptLogstashTask('ls-cn-demo-activating', new InterruptLogstashTaskRequest({ clientToken })),
    after: { status: 'suspended', migrating: false },
    operation: 'InterruptLogstashTask',
  },
  {
    name: 'resumeLogstashTask',
    instanceId: 'ls-cn-demo-suspended',
    run: (c, clientToken) =>
      c.resumeLogstashTask('ls-cn-demo-suspended', new ResumeLogstashTaskRequest({ clientToken })),
    after: { status: 'activating', migrating: false },
    operation: 'ResumeLogstashTask',
  },
  {
    name: 'cancelTask(MigrateData)',
    instanceId: 'es-cn-demo-migrating',
    run: (c, clientToken) =>
      c.cancelTask('es-cn-demo-migrating', new CancelTaskRequest({ clientToken, taskType: 'MigrateData' })),
    after: { status: 'activating', migrating: false },
    operation: 'CancelTask',
  },
];

describe('Function: createEmulator (driven by the official SDK)', () => {
  it.each(actions)('$name succeeds and changes the state', async ({ instanceId, run, after, operation }) => {
    const response = await run(client(), 'sdk-tok-1');
    expect(response.body?.result).toBe(true);
    expect(instance(instanceId)).toMatchObject({
      ...after,
      history: [{ action: operation, clientToken: 'sdk-tok-1' }],
    });
  });

  it('accepts STS credentials', async () => {
    const response = await actions[0]?.run(client({ ...LOCAL_EMULATOR_CREDENTIALS, securityToken: 'CAIS-sts' }), 't');
    expect(response?.body?.result).toBe(true);
  });

  it.each([
    ['describeInstance', (c: SdkClient) => c.describeInstance('es-cn-demo-suspended'), 'es-cn-demo-suspended'],
    ['describeLogstash', (c: SdkClient) => c.describeLogstash('ls-cn-demo-activating'), 'ls-cn-demo-activating'],
  ] as const)('%s returns the status', async (_, describeCall, instanceId) => {
    const response = await describeCall(client());
    expect(response.body?.result?.instanceId).toBe(instanceId);
    expect(response.body?.result?.status).toBe(instance(instanceId)?.status);
  });

  it.each([
    {
      name: 'an unknown instance',
      call: (c: SdkClient) => c.interruptElasticsearchTask('es-cn-nope', new InterruptElasticsearchTaskRequest({})),
      code: 'InstanceNotFound',
      statusCode: 400,
    },
    {
      name: 'a Logstash ID on an Elasticsearch path',
      call: (c: SdkClient) => c.describeInstance('ls-cn-demo-activating'),
      code: 'InstanceNotFound',
      statusCode: 400,
    },
    {
      name: 'interrupting an active instance',
      call: (c: SdkClient) =>
        c.interruptElasticsearchTask('es-cn-demo-active', new InterruptElasticsearchTaskRequest({ clientToken: 'x' })),
      code: 'InstanceStatusNotSupportCurrentAction',
      statusCode: 400,
    },
    {
      name: 'cancelling where nothing migrates',
      call: (c: SdkClient) =>
        c.cancelTask('es-cn-demo-activating', new CancelTaskRequest({ clientToken: 'x', taskType: 'MigrateData' })),
      code: 'InstanceActivating',
      statusCode: 400,
    },
    {
      name: 'a wrong secret',
      call: (c: SdkClient) => c.describeInstance('es-cn-demo-active'),
      credentials: { ...LOCAL_EMULATOR_CREDENTIALS, accessKeySecret: 'wrong' },
      code: 'SignatureDoesNotMatch',
      statusCode: 400,
    },
    {
      name: 'an unknown access key',
      call: (c: SdkClient) => c.describeInstance('es-cn-demo-active'),
      credentials: { accessKeyId: 'LTAI5tUnknown', accessKeySecret: 'x' },
      code: 'InvalidAccessKeyId.NotFound',
      statusCode: 404,
    },
  ])('refuses $name with a ClientError coded $code', async ({ call, credentials, code, statusCode }) => {
    const before = server.emulator.controlPlane.snapshot();
    const error = await failure(call(client(credentials)));
    expect(error).toBeInstanceOf(ClientError);
    expect(error).toMatchObject({ code, statusCode });
    expect(server.emulator.controlPlane.snapshot()).toEqual(before);
  });

  it('the same clientToken twice: the first result again, one history entry', async () => {
    const interrupt = actions[0] as Action;
    const first = await interrupt.run(client(), 'twice');
    const second = await interrupt.run(client(), 'twice');
    expect(second.body).toEqual(first.body);
    expect(instance(interrupt.instanceId)?.history).toHaveLength(1);
  });

  describe('with faults', () => {
    it('throttle=1: a ThrottlingError coded Throttling.User, with retryAfter, and nothing applied', async () => {
      server.emulator.setFaults({ throttle: 1 });
      const before = server.emulator.controlPlane.snapshot();
      const error = await failure((actions[0] as Action).run(client(), 'th'));
      expect(error).toBeInstanceOf(ThrottlingError);
      expect(error).toMatchObject({ code: 'Throttling.User', statusCode: 400, retryAfter: 100 });
      expect(server.emulator.controlPlane.snapshot()).toEqual(before);
    });

    it('serverError=1: a ServerError coded InternalError, and nothing applied', async () => {
      server.emulator.setFaults({ serverError: 1 });
      const before = server.emulator.controlPlane.snapshot();
      const error = await failure((actions[0] as Action).run(client(), 'se'));
      expect(error).toBeInstanceOf(ServerError);
      expect(error).toMatchObject({ code: 'InternalError', statusCode: 500 });
      expect(server.emulator.controlPlane.snapshot()).toEqual(before);
    });

    it('dropResponse=1: the call fails but the change is made; a retry with the same token succeeds without a second change', async () => {
      const interrupt = actions[0] as Action;
      server.emulator.setFaults({ dropResponse: 1 });
      const error = await failure(interrupt.run(client(), 'drop-1'));
      // A lost reply, not an API error: the connection was cut.
      expect(error).not.toBeInstanceOf(ClientError);
      expect(error.code).toBe('ECONNRESET');
      expect(instance(interrupt.instanceId)).toMatchObject({
        status: 'suspended',
        history: [{ clientToken: 'drop-1' }],
      });

      server.emulator.setFaults({});
      const retry = await interrupt.run(client(), 'drop-1');
      expect(retry.body?.result).toBe(true);
      expect(instance(interrupt.instanceId)?.history).toHaveLength(1);
    });
  });
});
