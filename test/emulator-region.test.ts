import dns from 'node:dns';
import sdk, { InterruptElasticsearchTaskRequest } from '@alicloud/elasticsearch20170613';
import { $OpenApiUtil, ClientError } from '@alicloud/openapi-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { regionOfHost } from '../emulator/app.ts';
import { type ApiReply, ControlPlane, type SeedInstance } from '../emulator/control-plane.ts';
import { LOCAL_EMULATOR_CREDENTIALS } from '../emulator/credentials.ts';
import { parseSeedInstances } from '../emulator/seed.ts';
import { LOCAL_BEARER_TOKEN } from '../local/defaults.ts';
import { type LocalServer, startLocal } from '../local/server.ts';
import type { ResponseBody } from '../shared/core/result.ts';
import { type StartedEmulator, startEmulator } from './support/emulator-server.ts';

/**
 * The emulator refuses a call made in another region than the instance's with InstanceNotFound,
 * as the real API does (each region is its own endpoint). The region of a call is the regional
 * host it signed; the official SDK, pointed at `elasticsearch.<region>.aliyuncs.com`, is the oracle.
 */

const SEED: SeedInstance[] = [
  { instanceId: 'es-cn-hz0001', status: 'activating' },
  { instanceId: 'es-cn-sh0001', status: 'activating', regionId: 'cn-shanghai' },
];

const codeOf = (reply: ApiReply) => ('Code' in reply.body ? reply.body.Code : undefined);

describe('Function: ControlPlane regions', () => {
  const interrupt = (plane: ControlPlane, instanceId: string, regionId?: string, clientToken = 't-1') =>
    plane.apply({ operation: 'InterruptElasticsearchTask', instanceId, clientToken, regionId });

  it.each([
    ['es-cn-hz0001', undefined, 200, undefined],
    ['es-cn-hz0001', 'cn-hangzhou', 200, undefined],
    ['es-cn-hz0001', 'cn-shanghai', 400, 'InstanceNotFound'],
    ['es-cn-sh0001', 'cn-shanghai', 200, undefined],
    ['es-cn-sh0001', 'cn-hangzhou', 400, 'InstanceNotFound'],
    ['es-cn-sh0001', undefined, 400, 'InstanceNotFound'],
  ])('%s called in %s answers %d %s', (instanceId, regionId, status, code) => {
    const plane = new ControlPlane({ instances: SEED });
    const reply = interrupt(plane, instanceId, regionId);
    expect(reply.status).toBe(status);
    expect(codeOf(reply)).toBe(code);
    const described = plane.describe('elasticsearch', instanceId, regionId);
    expect(codeOf(described)).toBe(code);
    expect(plane.snapshot().instances.find((i) => i.instanceId === instanceId)?.history).toHaveLength(code ? 0 : 1);
  });

  it('seeds without a regionId in the default region, which can be set', () => {
    const plane = new ControlPlane({ instances: SEED, defaultRegion: 'cn-shanghai' });
    expect(codeOf(interrupt(plane, 'es-cn-sh0001'))).toBeUndefined();
    expect(codeOf(interrupt(plane, 'es-cn-hz0001', undefined, 't-2'))).toBeUndefined();
    expect(codeOf(interrupt(new ControlPlane({ instances: SEED }), 'es-cn-hz0001', 'cn-shanghai'))).toBe(
      'InstanceNotFound',
    );
  });

  it('remembers a clientToken in its region only: a replay elsewhere is a call of its own', () => {
    const plane = new ControlPlane({ instances: SEED });
    const first = interrupt(plane, 'es-cn-hz0001', 'cn-hangzhou', 'shared-token');
    expect(interrupt(plane, 'es-cn-hz0001', 'cn-hangzhou', 'shared-token')).toEqual(first);
    const elsewhere = interrupt(plane, 'es-cn-hz0001', 'cn-shanghai', 'shared-token');
    expect(codeOf(elsewhere)).toBe('InstanceNotFound');
  });
});

describe('Function: seed regionId', () => {
  it('accepts an optional regionId', () => {
    expect(parseSeedInstances([{ instanceId: 'es-cn-x1', status: 'active', regionId: 'ap-southeast-1' }])).toEqual([
      { instanceId: 'es-cn-x1', status: 'active', migrating: false, regionId: 'ap-southeast-1' },
    ]);
  });

  it.each(['Hangzhou', 'cn_hangzhou', '', 'cn-hangzhou.evil'])('refuses regionId %j, naming it', (regionId) => {
    expect(() => parseSeedInstances([{ instanceId: 'es-cn-x1', status: 'active', regionId }])).toThrow(/regionId/);
  });
});

describe('Function: regionOfHost', () => {
  it.each([
    ['elasticsearch.cn-hangzhou.aliyuncs.com', 'cn-hangzhou'],
    ['elasticsearch-vpc.cn-shanghai.aliyuncs.com', 'cn-shanghai'],
    ['elasticsearch.ap-southeast-1.aliyuncs.com:8443', 'ap-southeast-1'],
    ['ELASTICSEARCH.CN-BEIJING.ALIYUNCS.COM', 'cn-beijing'],
    ['127.0.0.1:9000', undefined],
    ['elasticsearch.aliyuncs.com', undefined],
    ['elasticsearch.cn-hangzhou.aliyuncs.com.evil.example', undefined],
    ['ecs.cn-hangzhou.aliyuncs.com', undefined],
  ])('%s → %s', (host, region) => {
    expect(regionOfHost(host)).toBe(region);
  });
});

/**
 * Resolves `*.aliyuncs.com` to the loopback address while a test runs, like `curl --resolve`: the
 * SDK then connects to the emulator but signs and sends the regional host, as it does in the cloud.
 */
function resolveAliyuncsLocally(): () => void {
  const original = dns.lookup;
  const patched = ((hostname: string, options: unknown, callback?: unknown) => {
    const done = (typeof options === 'function' ? options : callback) as (...args: unknown[]) => void;
    const opts = (typeof options === 'function' ? {} : (options ?? {})) as { all?: boolean };
    if (!hostname.endsWith('.aliyuncs.com'))
      return (original as (...args: unknown[]) => void)(hostname, options, callback);
    return opts.all ? done(null, [{ address: '127.0.0.1', family: 4 }]) : done(null, '127.0.0.1', 4);
  }) as typeof dns.lookup;
  dns.lookup = patched;
  return () => {
    dns.lookup = original;
  };
}

const Client = ('default' in sdk ? sdk.default : sdk) as typeof sdk.default;

describe('Function: createEmulator regions, driven by the official SDK', () => {
  let server: StartedEmulator;
  let restore: () => void;
  beforeAll(async () => {
    server = await startEmulator({ instances: SEED });
    restore = resolveAliyuncsLocally();
  });
  afterAll(async () => {
    restore();
    await server.close();
  });
  beforeEach(() => server.emulator.reset());

  const port = () => server.endpoint.split(':')[1];
  /** The SDK as a user configures it for a region: no endpoint, so it builds the regional host. */
  const clientIn = (regionId: string) =>
    new Client(
      new $OpenApiUtil.Config({
        ...LOCAL_EMULATOR_CREDENTIALS,
        regionId,
        protocol: 'http',
        endpoint: `elasticsearch.${regionId}.aliyuncs.com:${port()}`,
      }),
    );

  it('applies a call made in the instance’s region', async () => {
    const response = await clientIn('cn-shanghai').interruptElasticsearchTask(
      'es-cn-sh0001',
      new InterruptElasticsearchTaskRequest({ clientToken: 'sh-1' }),
    );
    expect(response.body?.result).toBe(true);
    const described = await clientIn('cn-shanghai').describeInstance('es-cn-sh0001');
    expect(described.body?.result?.status).toBe('suspended');
  });

  it.each([
    ['cn-hangzhou', 'es-cn-sh0001'],
    ['cn-shanghai', 'es-cn-hz0001'],
    ['cn-beijing', 'es-cn-hz0001'],
  ])('refuses a call made in %s on %s with InstanceNotFound, and changes nothing', async (regionId, instanceId) => {
    const before = server.emulator.controlPlane.snapshot();
    const error = await clientIn(regionId)
      .interruptElasticsearchTask(instanceId, new InterruptElasticsearchTaskRequest({ clientToken: 'x-1' }))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(ClientError);
    expect(error).toMatchObject({ code: 'InstanceNotFound', statusCode: 400 });
    expect(server.emulator.controlPlane.snapshot()).toEqual(before);
  });

  it('treats a host that names no region (an endpoint override) as the default region', async () => {
    const local = new Client(
      new $OpenApiUtil.Config({ ...LOCAL_EMULATOR_CREDENTIALS, endpoint: server.endpoint, protocol: 'http' }),
    );
    const ok = await local.interruptElasticsearchTask(
      'es-cn-hz0001',
      new InterruptElasticsearchTaskRequest({ clientToken: 'd-1' }),
    );
    expect(ok.body?.result).toBe(true);
    const error = await local.describeInstance('es-cn-sh0001').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'InstanceNotFound' });
  });
});

describe('Function: local mode regions', () => {
  let local: LocalServer;
  beforeAll(async () => {
    local = await startLocal({ port: 0, env: { PATH: process.env.PATH, ALLOWED_INSTANCES: 'es-cn-*' } });
  });
  afterAll(() => local.close());
  beforeEach(() => local.emulator.reset(SEED));

  const interrupt = async (instanceId: string, key: string, regionId?: string) => {
    const response = await fetch(`${local.url}/interrupt-elasticsearch-task/generic`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${LOCAL_BEARER_TOKEN}`,
        'idempotency-key': key,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ instanceIds: [instanceId], ...(regionId ? { regionId } : {}) }),
    });
    return (await response.json()) as ResponseBody;
  };

  it('sends each call under its region’s host: the event’s region, else ALIBABA_CLOUD_REGION (cn-hangzhou)', async () => {
    expect((await interrupt('es-cn-hz0001', 'k-1')).results[0]).toMatchObject({
      outcome: 'applied',
      regionId: 'cn-hangzhou',
    });
    expect((await interrupt('es-cn-sh0001', 'k-2', 'cn-shanghai')).results[0]).toMatchObject({
      outcome: 'applied',
      regionId: 'cn-shanghai',
    });
  });

  it('answers InstanceNotFound, not retryable, when the event names the wrong region', async () => {
    const wrong = await interrupt('es-cn-sh0001', 'k-3');
    expect(wrong.results[0]).toMatchObject({
      outcome: 'failed',
      code: 'InstanceNotFound',
      regionId: 'cn-hangzhou',
      retryable: false,
    });
    const other = await interrupt('es-cn-hz0001', 'k-4', 'cn-shanghai');
    expect(other.results[0]).toMatchObject({ outcome: 'failed', code: 'InstanceNotFound' });
    const history = local.emulator.controlPlane.snapshot().instances.flatMap((i) => i.history);
    expect(history).toEqual([]);
  });
});
