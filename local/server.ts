import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { type Context, Hono } from 'hono';
import { createEmulator } from '../emulator/app.ts';
import { emulatorCredentialsFromEnv } from '../emulator/credentials.ts';
import { parseFaults } from '../emulator/faults.ts';
import { createFcInvokeApi } from '../emulator/fc-invoke-api.ts';
import { createRepliesApp } from '../emulator/replies.ts';
import { seedFromEnv } from '../emulator/seed.ts';
import { FUNCTION_NAMES, type FunctionName, isFunctionName } from '../shared/actions.ts';
import { createCapturingReplySender } from '../shared/async/capturing-reply-sender.ts';
import { type Env, parseConfig } from '../shared/config.ts';
import { createFunctionHandler } from '../shared/create-function.ts';
import type { FcHandler } from '../shared/fc/adapter.ts';
import { openStateStore } from '../shared/guardrails/open-store.ts';
import { SOURCE_NAMES } from '../shared/sources/registry.ts';
import { createEmbeddedStore } from '../shared/state/embedded-store.ts';
import type { StateStore } from '../shared/state/store.ts';
import { LOCAL_ACCOUNT_ID, LOCAL_SERVICE_NAME, localEnv } from './defaults.ts';
import { emulatorTransport } from './emulator-transport.ts';
import { fromFcHttpResult, localContext, toFcHttpEvent } from './fc-invoke.ts';
import { fireTimer } from './timer.ts';

export interface LocalServer {
  url: string;
  port: number;
  env: Env;
  emulator: ReturnType<typeof createEmulator>;
  /** The emulated FC invoke API (2023-03-30 and 2016-08-15): async hand-offs queue and run here. */
  fcInvoke: ReturnType<typeof createFcInvokeApi>;
  /** Chat replies captured instead of sent. */
  replies: ReturnType<typeof createCapturingReplySender>;
  /** The guardrails' store the five functions share: embedded, or Redis when STATE_STORE_URL is set. */
  stateStore: StateStore;
  close(): Promise<void>;
}

/** The routes of local mode, as a 404 lists them. */
const LOCAL_ROUTES = [
  'POST /<function>/<source>',
  'POST /emulator/timer/<function>',
  'GET /emulator/instances',
  'POST /emulator/reset',
  'GET|PUT /emulator/faults',
  'GET /emulator/replies',
  '/openapi/… (the emulated Elasticsearch API)',
  '/2023-03-30/functions/… (the emulated FC 3.0 invoke API)',
  '/2016-08-15/services/… (the emulated FC 2.0 invoke API)',
];

/** What an unknown path gets: a JSON 404 naming the functions, sources and routes that exist. */
function notFound(what: string): Response {
  const message = `${what}: POST /<function>/<source> with function one of ${FUNCTION_NAMES.join(', ')} and source one of ${SOURCE_NAMES.join(', ')}`;
  return Response.json(
    {
      results: [],
      error: { code: 'NotFound', message, functions: FUNCTION_NAMES, sources: SOURCE_NAMES, routes: LOCAL_ROUTES },
    },
    { status: 404, headers: { 'cache-control': 'no-store' } },
  );
}

/** A path segment as it may be echoed back: short, printable ASCII. */
const echo = (segment: string) => segment.slice(0, 60).replace(/[^\x20-\x7e]/g, '?');

/**
 * Local mode: every function at `POST /<function>/<source>`, invoked through the same FC adapter
 * as in the cloud (the request becomes an FC HTTP-trigger event), and the emulated control plane
 * with its admin routes, on one port of 127.0.0.1. Throws, before listening, on an invalid
 * configuration (the message names the variable), seed or faults.
 */
export async function startLocal(options: { port?: number; env?: Env } = {}): Promise<LocalServer> {
  const base = options.env ?? process.env;
  // The configuration every function will run with, checked before anything listens: in the cloud
  // a bad variable answers 500 on every request; here it stops `npm start` with the variable named.
  const config = parseConfig(localEnv(base, `http://127.0.0.1:${options.port ?? 9000}`));
  const seed = seedFromEnv(base);
  const faults = parseFaults(base.EMULATOR_FAULTS);
  const emulator = createEmulator({
    instances: seed,
    faults,
    credentials: [emulatorCredentialsFromEnv(base)],
  });
  const handlers = new Map<FunctionName, FcHandler>();
  const replies = createCapturingReplySender();
  // Async hand-offs come back to this emulated invoke API (FC 3.0's, or FC 2.0's through the real
  // fc2 client), which runs the same handler with the internal command event, as FC would.
  const fcInvoke = createFcInvokeApi({
    credentials: [emulatorCredentialsFromEnv(base)],
    accountId: base.ALIBABA_CLOUD_ACCOUNT_ID || LOCAL_ACCOUNT_ID,
    region: base.FC_REGION || base.ALIBABA_CLOUD_REGION || 'cn-hangzhou',
    serviceName: base.ASYNC_SERVICE_NAME?.trim() || LOCAL_SERVICE_NAME,
    functions: FUNCTION_NAMES,
    runner: async (fn, event, ctx) => {
      const handler = handlers.get(fn as FunctionName);
      if (!handler) throw new Error(`no function ${fn}`);
      return handler(event, { ...localContext(fn, ctx.requestId), retryCount: ctx.retryCount });
    },
  });
  const repliesApp = createRepliesApp(replies);

  const app = new Hono();
  app.all('/:fn/*', async (c, next) => {
    const fn = c.req.param('fn');
    if (!isFunctionName(fn)) return next();
    const handler = handlers.get(fn);
    if (!handler) return c.json({ error: 'not ready' }, 503);
    const sourceIp = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket
      ?.remoteAddress;
    const event = await toFcHttpEvent(c.req.raw, { sourceIp });
    return fromFcHttpResult(await handler(event, localContext(fn)));
  });
  const toFcInvoke = (c: Context) => fcInvoke.app.fetch(c.req.raw, c.env as Parameters<typeof fcInvoke.app.fetch>[1]);
  app.all('/2023-03-30/*', toFcInvoke);
  app.all('/2016-08-15/*', toFcInvoke);
  app.get('/emulator/replies', (c) => repliesApp.fetch(c.req.raw));
  app.post('/emulator/reset', async (_c, next) => {
    replies.clear();
    await next();
  });
  app.post('/emulator/timer/:fn', async (c) => {
    const fn = c.req.param('fn');
    if (!isFunctionName(fn)) return notFound(`no function "${echo(fn)}" to fire a timer at`);
    const handler = handlers.get(fn);
    if (!handler) return c.json({ error: 'not ready' }, 503);
    const answer = await fireTimer(handler, fn, await c.req.text());
    return c.json(answer.body, answer.status as 200);
  });
  app.all('/emulator/*', async (c) => {
    const response = await emulator.app.fetch(c.req.raw, c.env as Parameters<typeof emulator.app.fetch>[1]);
    // The emulator's own unmatched routes answer Hono's plain-text 404: list what exists instead.
    const json = response.headers.get('content-type')?.startsWith('application/json') ?? false;
    return response.status === 404 && !json ? notFound(`no route ${echo(`${c.req.method} ${c.req.path}`)}`) : response;
  });
  app.all('/openapi/*', (c) => emulator.app.fetch(c.req.raw, c.env as Parameters<typeof emulator.app.fetch>[1]));
  app.all('*', (c) => {
    const first = c.req.path.split('/')[1] ?? '';
    return notFound(first ? `no function "${echo(first)}"` : `no route ${c.req.method} /`);
  });

  const { server, port } = await new Promise<{ server: ReturnType<typeof serve>; port: number }>((resolve) => {
    const s = serve({ fetch: app.fetch, port: options.port ?? 9000, hostname: '127.0.0.1' }, (info: AddressInfo) =>
      resolve({ server: s, port: info.port }),
    );
  });
  const url = `http://127.0.0.1:${port}`;
  const env = localEnv(base, url);
  // Every API call goes to this server's emulator, under the regional host the function signed.
  const transport = emulatorTransport(url);
  // One store for the five functions, as one Tair instance is for a deployment: the embedded one,
  // which starts empty, or the Redis server STATE_STORE_URL names (state then survives a restart).
  const stateStore = openStateStore(config.guardrails, { embedded: createEmbeddedStore() }) as StateStore;
  for (const name of FUNCTION_NAMES) {
    handlers.set(name, createFunctionHandler(name, { env, replySender: replies, transport, stateStore }));
  }

  return {
    url,
    port,
    env,
    emulator,
    fcInvoke,
    replies,
    stateStore,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
      await stateStore.close();
    },
  };
}
