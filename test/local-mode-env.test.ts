import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_BEARER_TOKEN, LOCAL_CHAT_USERS, LOCAL_WEBHOOK_SECRET, localEnv } from '../local/defaults.ts';
import { fromFcHttpResult, localContext, toFcHttpEvent } from '../local/fc-invoke.ts';
import { type LocalServer, startLocal } from '../local/server.ts';
import type { ResponseBody } from '../shared/core/result.ts';
import { createFunctionHandler } from '../shared/create-function.ts';
import { TEST_BEARER } from './support/invoke.ts';

describe('Function: startLocal with EMULATOR_INSTANCES and EMULATOR_FAULTS', () => {
  let dir: string;
  let local: LocalServer;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'responder-seed-'));
    const seed = join(dir, 'instances.json');
    await writeFile(
      seed,
      JSON.stringify([{ instanceId: 'es-cn-seededfromfile', status: 'activating', migrating: true }]),
    );
    local = await startLocal({
      port: 0,
      env: { PATH: process.env.PATH, EMULATOR_INSTANCES: seed, EMULATOR_FAULTS: '{"throttle":1,"seed":3}' },
    });
  });
  afterAll(async () => {
    await local.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('seeds the emulator from the file and starts with the faults', async () => {
    const { instances } = (await (await fetch(`${local.url}/emulator/instances`)).json()) as {
      instances: Array<{ instanceId: string; status: string; migrating: boolean; history: unknown[] }>;
    };
    expect(instances).toEqual([
      { instanceId: 'es-cn-seededfromfile', status: 'activating', migrating: true, history: [] },
    ]);
    expect(await (await fetch(`${local.url}/emulator/faults`)).json()).toEqual({ faults: { throttle: 1, seed: 3 } });
  });
});

describe('Function: the short route on a function’s own trigger URL', () => {
  it('serves POST /<source> as well as POST /<function>/<source>', async () => {
    const handler = createFunctionHandler('cancel-migration-task', {
      env: {
        GENERIC_BEARER_TOKENS: TEST_BEARER,
        ALLOWED_INSTANCES: '*',
        DRY_RUN: 'true',
        ALIBABA_CLOUD_REGION: 'cn-hangzhou',
      },
    });
    for (const path of ['/generic', '/cancel-migration-task/generic']) {
      const request = new Request(`https://cancel-migration-task-abc.cn-hangzhou.fcapp.run${path}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${TEST_BEARER}`,
          'idempotency-key': 'k-1',
          'content-type': 'application/json',
        },
        body: JSON.stringify({ instanceIds: ['es-cn-abc0001'] }),
      });
      const response = fromFcHttpResult(
        await handler(await toFcHttpEvent(request), localContext('cancel-migration-task')),
      );
      expect(response.status, path).toBe(200);
      expect(((await response.json()) as ResponseBody).results[0]?.outcome).toBe('dry-run');
    }
  });
});

describe('Function: localEnv', () => {
  it('gives an empty variable the local default, as the configuration reads it as unset', () => {
    const env = localEnv(
      {
        ALLOWED_INSTANCES: '',
        ALIBABA_CLOUD_REGION: ' ',
        ALIBABA_CLOUD_ACCOUNT_ID: '',
        GENERIC_BEARER_TOKENS: '',
        GENERIC_WEBHOOK_SECRETS: '',
      },
      'http://127.0.0.1:1',
    );
    expect(env).toMatchObject({
      ALLOWED_INSTANCES: 'es-cn-demo-*,ls-cn-demo-*',
      ALIBABA_CLOUD_REGION: 'cn-hangzhou',
      ALIBABA_CLOUD_ACCOUNT_ID: '1234567890123456',
      GENERIC_BEARER_TOKENS: LOCAL_BEARER_TOKEN,
      GENERIC_WEBHOOK_SECRETS: LOCAL_WEBHOOK_SECRET,
    });
  });

  it('keeps what the caller set', () => {
    const env = localEnv({ ALLOWED_INSTANCES: 'es-cn-mine', GENERIC_BEARER_TOKENS: 'mine' }, 'http://127.0.0.1:1');
    expect(env.ALLOWED_INSTANCES).toBe('es-cn-mine');
    expect(env.GENERIC_BEARER_TOKENS).toBe('mine');
    expect(env.GENERIC_WEBHOOK_SECRETS).toBe(LOCAL_WEBHOOK_SECRET);
  });
});

describe('Function: localEnv, who may act from chat', () => {
  it('allows the demo users when the chat allow-lists are unset or empty, and keeps the caller’s', () => {
    expect(localEnv({}, 'http://127.0.0.1:1')).toMatchObject(LOCAL_CHAT_USERS);
    expect(localEnv({ SLACK_ALLOWED_USERS: '' }, 'http://127.0.0.1:1').SLACK_ALLOWED_USERS).toBe('U2147483697');
    const mine = localEnv({ SLACK_ALLOWED_USERS: 'U0MINE', FEISHU_ALLOWED_USERS: '*' }, 'http://127.0.0.1:1');
    expect(mine).toMatchObject({
      SLACK_ALLOWED_USERS: 'U0MINE',
      DINGTALK_ALLOWED_USERS: 'manager8502',
      FEISHU_ALLOWED_USERS: '*',
    });
  });
});
