import type { HttpBindings } from '@hono/node-server';
import { type Context, Hono } from 'hono';
import { Acs3Verifier } from './acs3-verifier.ts';
import { type ApiReply, apiError, ControlPlane, type SeedInstance } from './control-plane.ts';
import type { EmulatorCredential } from './credentials.ts';
import { ACTION_ROUTES, DESCRIBE_ROUTES, ES_API_VERSION } from './es-api-table.ts';
import { FaultInjector, type Faults, THROTTLE_RETRY_AFTER_MS, validateFaults } from './faults.ts';
import { DEMO_INSTANCES, parseSeedInstances } from './seed.ts';
import { wireTarget } from './wire-target.ts';

/**
 * The emulated control plane on the wire: the real ROA paths, ACS3 verification, faults, and the
 * unauthenticated admin routes local mode documents. A Hono app, so local mode mounts it as is.
 */

/** Under `@hono/node-server` the bindings expose the raw request (for the wire path and cutting connections). */
export type EmulatorEnv = { Bindings: Partial<HttpBindings> };

export interface EmulatorOptions {
  /** Seed; the demo set when omitted. */
  instances?: readonly SeedInstance[] | undefined;
  credentials: readonly EmulatorCredential[];
  faults?: Faults | undefined;
  now?: (() => number) | undefined;
  /**
   * The region of calls whose host is not a regional endpoint (`127.0.0.1:9000`): an endpoint
   * override stands for one region, as on the real API. Default `cn-hangzhou`.
   */
  defaultRegion?: string | undefined;
}

export interface Emulator {
  app: Hono<EmulatorEnv>;
  controlPlane: ControlPlane;
  verifier: Acs3Verifier;
  getFaults(): Faults;
  /** Replaces the faults (`{}` clears them); throws on an invalid value. */
  setFaults(faults: Faults): void;
  /** Back to the given seed, else the one the emulator started with; restarts the fault sequence. */
  reset(seed?: readonly SeedInstance[]): void;
}

export const JSON_CONTENT_TYPE = 'application/json;charset=utf-8';

const json = (body: unknown, status = 200, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': JSON_CONTENT_TYPE, ...headers } });

const send = (reply: ApiReply, headers: Record<string, string> = {}): Response =>
  json(reply.body, reply.status, { 'x-acs-request-id': reply.body.RequestId, ...headers });

/** What dropResponse does: the change is made, then the client sees the connection die. */
function cutConnection(c: Context<EmulatorEnv>): Response {
  const socket = c.env?.incoming?.socket;
  if (socket) {
    socket.destroy();
    return new Response(null, { status: 204 });
  }
  // Without a socket (app.request in tests) the closest thing is a body that fails mid-read.
  return new Response(
    new ReadableStream({
      start(controller) {
        controller.error(new Error('emulator dropped the response'));
      },
    }),
    { headers: { 'content-type': JSON_CONTENT_TYPE } },
  );
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** `elasticsearch.<region>.aliyuncs.com` and its VPC form `elasticsearch-vpc.<region>.aliyuncs.com`. */
const REGIONAL_HOST = /^elasticsearch(?:-vpc)?\.([a-z]{2,}(?:-[a-z0-9]+){1,3})\.aliyuncs\.com(?::\d{1,5})?$/i;

/**
 * The region a call was made in. Neither the API nor the official SDK sends the region in a
 * header or parameter of these ROA calls: it is the regional endpoint the signed `host` names.
 * Any other host (an override such as 127.0.0.1) stands for the emulator's default region.
 */
export function regionOfHost(host: string | undefined): string | undefined {
  return REGIONAL_HOST.exec(host ?? '')?.[1]?.toLowerCase();
}

export function createEmulator(options: EmulatorOptions): Emulator {
  const now = options.now ?? Date.now;
  const controlPlane = new ControlPlane({
    instances: options.instances ?? DEMO_INSTANCES,
    now,
    defaultRegion: options.defaultRegion,
  });
  const verifier = new Acs3Verifier({ credentials: options.credentials, now });
  const faults = new FaultInjector(options.faults ?? {});
  const app = new Hono<EmulatorEnv>();

  /** Every API call: verify, check the action, roll the faults, then let the control plane answer. */
  async function apiCall(
    c: Context<EmulatorEnv>,
    operation: string,
    run: (query: Record<string, string>, regionId: string) => ApiReply,
  ): Promise<Response> {
    const { path, rawQuery } = wireTarget(c);
    const body = new Uint8Array(await c.req.arrayBuffer());
    const verified = verifier.verify({ method: c.req.method, path, rawQuery, headers: c.req.header(), body });
    if (!verified.ok) return send(verified.reply);

    // The gateway routes by x-acs-action; a path that names another API is a client bug, not a call.
    const action = c.req.header('x-acs-action');
    if (action !== operation) {
      return send(
        apiError(
          'InvalidAction',
          400,
          `The x-acs-action ${action ?? '(none)'} is not the API ${operation} of this path.`,
        ),
      );
    }
    const version = c.req.header('x-acs-version');
    if (version !== ES_API_VERSION) {
      return send(apiError('InvalidVersion', 400, `Specified parameter Version is not valid: ${version ?? '(none)'}.`));
    }

    const decision = faults.decide();
    if (decision.latencyMs > 0) await sleep(decision.latencyMs);
    if (decision.outcome === 'throttle') {
      return send(apiError('Throttling.User', 400, 'Request was denied due to user flow control.'), {
        'x-acs-retry-after': String(THROTTLE_RETRY_AFTER_MS),
      });
    }
    if (decision.outcome === 'serverError') {
      return send(apiError('InternalError', 500, 'The request processing has failed due to some unknown error.'));
    }
    // The host is signed (the verifier requires it), so the region it names is the caller's.
    const reply = run(verified.query, regionOfHost(c.req.header('host')) ?? controlPlane.defaultRegion);
    return decision.outcome === 'dropResponse' ? cutConnection(c) : send(reply);
  }

  for (const { path, operation } of ACTION_ROUTES) {
    app.post(path, (c) =>
      apiCall(c, operation, (query, regionId) => {
        const { clientToken, ...params } = query;
        return controlPlane.apply({
          operation,
          instanceId: c.req.param('instanceId') ?? '',
          clientToken,
          params,
          regionId,
        });
      }),
    );
  }
  for (const { path, operation, kind } of DESCRIBE_ROUTES) {
    app.get(path, (c) =>
      apiCall(c, operation, (_query, regionId) =>
        controlPlane.describe(kind, c.req.param('instanceId') ?? '', regionId),
      ),
    );
  }

  app.all('/openapi/*', (c) =>
    send(
      apiError(
        'InvalidApi.NotFound',
        404,
        `Specified api is not found, please check your url and method: ${c.req.method} ${wireTarget(c).path}`,
      ),
    ),
  );

  const reset = (seed?: readonly SeedInstance[]): void => {
    controlPlane.reset(seed);
    faults.reseed();
  };
  const setFaults = (value: Faults): void => faults.set(value);

  // Admin routes: local only, hence unauthenticated.
  app.get('/emulator/instances', () => json(controlPlane.snapshot()));

  app.post('/emulator/reset', async (c) => {
    const text = (await c.req.text()).trim();
    try {
      reset(text === '' ? undefined : parseSeedInstances(JSON.parse(text), 'reset body'));
    } catch (error) {
      return json({ error: (error as Error).message }, 400);
    }
    return json(controlPlane.snapshot());
  });

  app.get('/emulator/faults', () => json({ faults: faults.get() }));

  app.put('/emulator/faults', async (c) => {
    const text = (await c.req.text()).trim();
    try {
      setFaults(validateFaults(text === '' ? {} : JSON.parse(text), 'faults body'));
    } catch (error) {
      return json({ error: (error as Error).message }, 400);
    }
    return json({ faults: faults.get() });
  });

  return { app, controlPlane, verifier, getFaults: () => faults.get(), setFaults, reset };
}
