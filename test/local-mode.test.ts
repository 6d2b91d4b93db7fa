import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_BEARER_TOKEN } from '../local/defaults.ts';
import { type LocalServer, startLocal } from '../local/server.ts';
import type { ResponseBody } from '../shared/core/result.ts';

const run = promisify(execFile);

interface Snapshot {
  instances: Array<{
    instanceId: string;
    status: string;
    migrating: boolean;
    history: Array<{ action: string; clientToken: string; at: string }>;
  }>;
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

describe('Function: npm start', () => {
  it('prints what a newcomer needs, and the README curl works against it, twice, with one change', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'local/main.ts'], {
      cwd: new URL('..', import.meta.url),
      env: { PATH: process.env.PATH, PORT: '0', POWERTOOLS_LOG_LEVEL: 'SILENT' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes('See what changed')) resolve();
        });
        child.once('exit', (code) => reject(new Error(`npm start exited with ${code}: ${out}`)));
      });
      const url = /local mode on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1] as string;
      expect(url).toBeDefined();
      expect(out).toContain('es-cn-demo-activating');
      expect(out).toContain('webhook-signature: v1,');

      const curl = readmeCurl().replaceAll('http://127.0.0.1:9000', url);
      const first = JSON.parse((await run('sh', ['-c', curl])).stdout) as ResponseBody;
      const second = JSON.parse((await run('sh', ['-c', curl])).stdout) as ResponseBody;
      expect(first.results[0]?.outcome).toBe('applied');
      expect(second.results[0]?.clientToken).toBe(first.results[0]?.clientToken);

      // The signed curl printed by npm start works too: a new webhook-id, so a new token, and the API
      // refuses a second interrupt; the instance is read and the answer is "already".
      const signed = out
        .split('Standard Webhooks signature')[1]
        ?.split('\n\n')[0]
        ?.split('\n')
        .slice(1)
        .join('\n') as string;
      const third = JSON.parse((await run('sh', ['-c', signed])).stdout) as ResponseBody;
      expect(third.results[0]).toMatchObject({
        instanceId: 'es-cn-demo-activating',
        outcome: 'already',
        code: 'InstanceStatusNotSupportCurrentAction',
      });

      const snapshot = JSON.parse((await run('curl', ['-sS', `${url}/emulator/instances`])).stdout) as Snapshot;
      expect(snapshot.instances.find((i) => i.instanceId === 'es-cn-demo-activating')?.history).toHaveLength(1);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
