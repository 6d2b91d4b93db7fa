import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_BEARER_TOKEN, LOCAL_WEBHOOK_SECRET } from '../local/defaults.ts';
import { type LocalServer, startLocal } from '../local/server.ts';
import { FUNCTION_NAMES } from '../shared/actions.ts';
import type { ResponseBody } from '../shared/core/result.ts';
import { SOURCE_NAMES } from '../shared/sources/registry.ts';

const run = promisify(execFile);

interface Snapshot {
  instances: Array<{
    instanceId: string;
    status: string;
    migrating: boolean;
    history: Array<{ action: string; clientToken: string; at: string }>;
  }>;
}

/** `npm start` as a process: what it printed until `until` showed up (or it exited), and its exit code. */
async function npmStart(
  env: Record<string, string>,
  until = 'See what changed',
): Promise<{ out: string; err: string; code: number | null; stop: () => void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/main.ts'], {
    cwd: new URL('..', import.meta.url),
    env: { PATH: process.env.PATH, PORT: '0', POWERTOOLS_LOG_LEVEL: 'SILENT', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes(until)) resolve(null);
    });
    child.once('close', (exitCode) => resolve(exitCode));
  });
  return { out, err, code, stop: () => child.kill('SIGTERM') };
}

/** The curl command the README shows, exactly as written there. */
function readmeCurl(): string {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const block = /<!-- readme-curl:start -->\s*```sh\n([\s\S]*?)```/.exec(readme)?.[1];
  if (!block) throw new Error('README has no readme-curl block');
  return block.trim();
}

describe('Function: startLocal', () => {
  let local: LocalServer;
  beforeAll(async () => {
    local = await startLocal({ port: 0, env: { PATH: process.env.PATH } });
  });
  afterAll(() => local.close());

  const interrupt = () =>
    fetch(`${local.url}/interrupt-elasticsearch-task/generic`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${LOCAL_BEARER_TOKEN}`,
        'idempotency-key': 'demo-1',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ instanceIds: ['es-cn-demo-activating'], reason: 'demo from the README' }),
    });

  it('interrupts a demo instance once; the same request again gives the same token and no second change', async () => {
    await fetch(`${local.url}/emulator/reset`, { method: 'POST' });
    const first = (await (await interrupt()).json()) as ResponseBody;
    const second = (await (await interrupt()).json()) as ResponseBody;
    expect(first.results[0]).toMatchObject({ outcome: 'applied', instanceId: 'es-cn-demo-activating' });
    expect(second.results[0]?.clientToken).toBe(first.results[0]?.clientToken);
    // The README shows this very token: derivation is stable across versions of the code.
    expect(readFileSync(new URL('../README.md', import.meta.url), 'utf8')).toContain(first.results[0]?.clientToken);

    const snapshot = (await (await fetch(`${local.url}/emulator/instances`)).json()) as Snapshot;
    const instance = snapshot.instances.find((i) => i.instanceId === 'es-cn-demo-activating');
    expect(instance).toMatchObject({ status: 'suspended', migrating: false });
    expect(instance?.history).toEqual([
      { action: 'InterruptElasticsearchTask', clientToken: first.results[0]?.clientToken, at: expect.any(String) },
    ]);
  });

  it('serves every function and the emulator API on one port', async () => {
    for (const fn of [
      'resume-elasticsearch-task',
      'interrupt-logstash-task',
      'resume-logstash-task',
      'cancel-migration-task',
    ]) {
      const response = await fetch(`${local.url}/${fn}/generic`, {
        method: 'POST',
        body: '{}',
        headers: { 'content-type': 'application/json' },
      });
      expect(response.status, fn).toBe(401);
    }
    const unsigned = await fetch(`${local.url}/openapi/instances/es-cn-demo-active`);
    expect(unsigned.status).toBe(400);
    expect(((await unsigned.json()) as { Code: string }).Code).toBe('IncompleteSignature');
  });

  it('resets to a seed given in the body, and accepts faults', async () => {
    const seed = [{ instanceId: 'es-cn-seeded0001', status: 'activating', migrating: false }];
    expect(
      (
        await fetch(`${local.url}/emulator/reset`, {
          method: 'POST',
          body: JSON.stringify(seed),
          headers: { 'content-type': 'application/json' },
        })
      ).status,
    ).toBe(200);
    const snapshot = (await (await fetch(`${local.url}/emulator/instances`)).json()) as Snapshot;
    expect(snapshot.instances.map((i) => i.instanceId)).toEqual(['es-cn-seeded0001']);
    const faults = await fetch(`${local.url}/emulator/faults`, {
      method: 'PUT',
      body: '{"throttle":1}',
      headers: { 'content-type': 'application/json' },
    });
    expect(faults.status).toBe(200);
    await fetch(`${local.url}/emulator/faults`, {
      method: 'PUT',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    await fetch(`${local.url}/emulator/reset`, { method: 'POST' });
  });
});

describe('Function: startLocal routes that do not exist', () => {
  let local: LocalServer;
  beforeAll(async () => {
    local = await startLocal({ port: 0, env: { PATH: process.env.PATH } });
  });
  afterAll(() => local.close());

  it.each([
    [
      'an unknown function',
      'POST',
      '/interupt-elasticsearch-task/generic',
      /^no function "interupt-elasticsearch-task": /,
    ],
    ['the root', 'GET', '/', /^no route GET \/: /],
    ['an unknown admin route', 'GET', '/emulator/nothing', /^no route GET \/emulator\/nothing: /],
  ])('answers %s with a JSON 404 listing the functions and sources', async (_case, method, path, message) => {
    const response = await fetch(`${local.url}${path}`, { method, ...(method === 'POST' ? { body: '{}' } : {}) });
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await response.json()) as { results: unknown[]; error: Record<string, unknown> };
    expect(body.results).toEqual([]);
    expect(body.error).toMatchObject({
      code: 'NotFound',
      message: expect.stringMatching(message),
      functions: [...FUNCTION_NAMES],
      sources: [...SOURCE_NAMES],
      routes: expect.arrayContaining(['POST /<function>/<source>', 'POST /emulator/timer/<function>']),
    });
    expect(body.error.message).toContain(`with function one of ${FUNCTION_NAMES.join(', ')}`);
  });

  it('answers an unknown source of a known function with the function’s own JSON 404, listing the sources', async () => {
    const response = await fetch(`${local.url}/interrupt-elasticsearch-task/pagerduty`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(404);
    const body = (await response.json()) as ResponseBody;
    expect(body.error).toMatchObject({ code: 'NotFound', sources: [...SOURCE_NAMES] });
    expect(body.error?.message).toMatch(/^unknown source "pagerduty": /);
  });

  it('keeps the emulated API’s own 404 for an unknown API path', async () => {
    const response = await fetch(`${local.url}/openapi/nothing`);
    expect(response.status).toBe(404);
    expect(((await response.json()) as { Code: string }).Code).toBe('InvalidApi.NotFound');
  });
});

describe('Function: startLocal with GENERIC_WEBHOOK_SECRETS set', () => {
  it('still accepts the README’s demo bearer token', async () => {
    const own = `whsec_${Buffer.from('my-own-webhook-secret-0123456789').toString('base64')}`;
    const local = await startLocal({ port: 0, env: { PATH: process.env.PATH, GENERIC_WEBHOOK_SECRETS: own } });
    try {
      expect(local.env.GENERIC_WEBHOOK_SECRETS).toBe(own);
      const curl = readmeCurl().replaceAll('http://127.0.0.1:9000', local.url);
      const answer = JSON.parse((await run('sh', ['-c', curl])).stdout) as ResponseBody;
      expect(answer.results[0]).toMatchObject({ instanceId: 'es-cn-demo-activating', outcome: 'applied' });
    } finally {
      await local.close();
    }
  });
});

describe('Function: npm start', () => {
  it('prints what a newcomer needs, and the README curl works against it, twice, with one change', async () => {
    const started = await npmStart({});
    try {
      const { out } = started;
      expect(started.code, started.err).toBeNull();
      const url = /local mode on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1] as string;
      expect(url).toBeDefined();
      expect(out).toContain('es-cn-demo-activating');
      expect(out).toContain('webhook-signature: v1,');
      // The local whsec_ secret, so a newcomer can sign with their own Standard Webhooks library.
      expect(out).toContain(`Standard Webhooks secret of the generic source (local only): ${LOCAL_WEBHOOK_SECRET}`);
      // Chat commands act only for allowed people; local mode allows its demo users, and says so.
      expect(out).toContain(
        'Chat commands are allowed for: Slack U2147483697, DingTalk manager8502, Feishu ou_ec81f38d6e7fdce6132f4605f7a37319\n  (the local demo users;',
      );

      const curl = readmeCurl().replaceAll('http://127.0.0.1:9000', url);
      const first = JSON.parse((await run('sh', ['-c', curl])).stdout) as ResponseBody;
      const second = JSON.parse((await run('sh', ['-c', curl])).stdout) as ResponseBody;
      expect(first.results[0]?.outcome).toBe('applied');
      expect(second.results[0]?.clientToken).toBe(first.results[0]?.clientToken);

      // The signed curl printed by npm start works too: a new webhook-id, so a new token, and the API
      // refuses a second interrupt; the instance is read and the answer is "already".
      const printed = (after: string) =>
        out.split(after)[1]?.split('\n\n')[0]?.split('\n').slice(1).join('\n') as string;
      const third = JSON.parse(
        (await run('sh', ['-c', printed('Standard Webhooks signature')])).stdout,
      ) as ResponseBody;
      expect(third.results[0]).toMatchObject({
        instanceId: 'es-cn-demo-activating',
        outcome: 'already',
        code: 'InstanceStatusNotSupportCurrentAction',
      });

      // The printed timer curl fires a real FC timer event at the function.
      const timer = JSON.parse((await run('sh', ['-c', printed('Fire a timer trigger')])).stdout) as {
        event: { triggerName: string; triggerTime: string; payload: string };
        result: ResponseBody;
      };
      expect(timer.event).toMatchObject({ triggerName: 'nightly', triggerTime: expect.stringMatching(/Z$/) });
      expect(timer.result).toMatchObject({ source: 'timer', results: [{ instanceId: 'es-cn-demo-activating' }] });

      const snapshot = JSON.parse((await run('curl', ['-sS', `${url}/emulator/instances`])).stdout) as Snapshot;
      expect(snapshot.instances.find((i) => i.instanceId === 'es-cn-demo-activating')?.history).toHaveLength(1);
    } finally {
      started.stop();
    }
  });

  it('says so when GENERIC_BEARER_TOKENS replaces the demo token, and keeps the local whsec_ secret', async () => {
    const started = await npmStart({ GENERIC_BEARER_TOKENS: 'my-own-token-1234' });
    started.stop();
    expect(started.out).toContain(
      `GENERIC_BEARER_TOKENS is set: the README's demo token ${LOCAL_BEARER_TOKEN} is not accepted; send one of your tokens.`,
    );
    expect(started.out).not.toContain(`Authorization: Bearer ${LOCAL_BEARER_TOKEN}`);
    expect(started.out).not.toContain('my-own-token-1234');
    expect(started.out).toContain(LOCAL_WEBHOOK_SECRET);
  });

  it.each<[string, string]>([
    ['DRY_RUN', 'TRUE'],
    ['MAX_TARGETS_PER_EVENT', 'ten'],
    ['GENERIC_WEBHOOK_SECRETS', 'not-a-whsec-secret!'],
    ['EMULATOR_FAULTS', '{"throttle": 2}'],
    ['EMULATOR_INSTANCES', '/no/such/seed.json'],
  ])('exits non-zero before serving when %s=%s, naming the variable', async (name, value) => {
    const started = await npmStart({ [name]: value });
    started.stop();
    expect(started.code).not.toBe(0);
    expect(started.code).not.toBeNull();
    expect(started.err).toContain(name);
    expect(started.err).toMatch(/^npm start: /);
    expect(started.out).not.toContain('local mode on');
  });
});
