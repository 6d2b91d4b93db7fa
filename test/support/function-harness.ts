import { afterAll, beforeAll, beforeEach } from 'vitest';
import type { Emulator, EmulatorOptions } from '../../emulator/app.ts';
import type { InstanceSnapshot, SeedInstance } from '../../emulator/control-plane.ts';
import { LOCAL_EMULATOR_CREDENTIALS } from '../../emulator/credentials.ts';
import { actionFor, type FunctionName } from '../../shared/actions.ts';
import type { Env } from '../../shared/config.ts';
import { deriveClientToken } from '../../shared/core/client-token.ts';
import type { ResponseBody } from '../../shared/core/result.ts';
import { createFunctionHandler, type FunctionOptions } from '../../shared/create-function.ts';
import type { FcHandler } from '../../shared/fc/adapter.ts';
import type { FcContext } from '../../shared/fc/events.ts';
import { type StartedEmulator, startEmulator } from './emulator-server.ts';
import { type EnvelopeOptions, genericRequest, invokeHttp } from './invoke.ts';
import { jsonFixtures } from './sender-kit.ts';

/**
 * The one harness of the function tests: the emulator on a socket for a test file, a function
 * wired like in the cloud against it with a fetch that counts upstream calls (so an empty count
 * proves no upstream call), and a `post` that sends one request through a real FC envelope.
 */

// ---------------------------------------------------------------------------------------------
// The emulator, per test file
// ---------------------------------------------------------------------------------------------

export interface FileEmulator {
  /** `http://127.0.0.1:PORT` of the started emulator. */
  readonly url: string;
  readonly emulator: Emulator;
  /** One instance as the emulator's control plane holds it now. */
  state(instanceId: string): InstanceSnapshot | undefined;
  /** The changes the emulator applied to one instance (none for an unknown one). */
  history(instanceId: string): InstanceSnapshot['history'];
}

/**
 * Starts the emulator before the file's tests and closes it after them; before each test it goes
 * back to its seed (`seed()` when given, else the one it started with) with no faults.
 */
export function useEmulator(
  options: Partial<EmulatorOptions> & { seed?: () => readonly SeedInstance[] } = {},
): FileEmulator {
  const { seed, ...emulatorOptions } = options;
  let started: StartedEmulator | undefined;
  const current = (): StartedEmulator => {
    if (!started) throw new Error('the emulator is not started: use it inside a test or hook');
    return started;
  };
  beforeAll(async () => {
    started = await startEmulator(emulatorOptions);
  });
  afterAll(() => started?.close());
  beforeEach(() => {
    current().emulator.reset(seed?.());
    current().emulator.setFaults({});
  });
  const state = (instanceId: string) =>
    current()
      .emulator.controlPlane.snapshot()
      .instances.find((i) => i.instanceId === instanceId);
  return {
    get url() {
      return current().url;
    },
    get emulator() {
      return current().emulator;
    },
    state,
    history: (instanceId) => state(instanceId)?.history ?? [],
  };
}

// ---------------------------------------------------------------------------------------------
// A function wired like in the cloud
// ---------------------------------------------------------------------------------------------

/** The allow-list of the demo instances the emulator seeds by default. */
export const DEMO_ALLOWED = 'es-cn-demo-*,ls-cn-demo-*';

/** What a function needs to reach the emulator at `upstreamUrl` as it would the cloud: region, endpoint, key pair, allow-list. */
export function cloudEnv(upstreamUrl: string): Env {
  return {
    ALLOWED_INSTANCES: DEMO_ALLOWED,
    ALIBABA_CLOUD_REGION: 'cn-hangzhou',
    ELASTICSEARCH_ENDPOINT: upstreamUrl,
    ALIBABA_CLOUD_ACCESS_KEY_ID: LOCAL_EMULATOR_CREDENTIALS.accessKeyId,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: LOCAL_EMULATOR_CREDENTIALS.accessKeySecret,
  };
}

/** The real fetch, recording every upstream URL in `calls` first. */
export function countingFetch(calls: string[]): typeof fetch {
  return (input, init) => {
    calls.push(String(input));
    return fetch(input, init);
  };
}

export interface Answer<Reply> {
  status: number;
  body: Reply;
}

export interface WiredFunction<Reply> {
  handler: FcHandler;
  /** Every upstream URL the function fetched, in order. */
  calls: string[];
  /** Sends `request` through a real FC HTTP-trigger envelope; the answer's body parsed as JSON. */
  send(request: Request, context?: FcContext, envelope?: EnvelopeOptions): Promise<Answer<Reply>>;
  /** POSTs `body` with `headers` to `/<function>/<source>`. */
  post(body: string, headers: Record<string, string>, source?: string): Promise<Answer<Reply>>;
}

/**
 * Function `name` against the emulator at `upstreamUrl` (see `cloudEnv`; `env` adds the sender's
 * secrets and overrides), fetching upstream through `countingFetch`; `post` defaults to `source`.
 */
export function wireFunction<Reply = ResponseBody>(
  upstreamUrl: string,
  name: FunctionName,
  source: string,
  env: Env = {},
  options: Omit<FunctionOptions, 'env' | 'fetch'> = {},
): WiredFunction<Reply> {
  const calls: string[] = [];
  const handler = createFunctionHandler(name, {
    ...options,
    env: { ...cloudEnv(upstreamUrl), ...env },
    fetch: countingFetch(calls),
  });
  const send = async (request: Request, context?: FcContext, envelope?: EnvelopeOptions) => {
    const response = await invokeHttp(handler, request, context, envelope);
    return { status: response.status, body: (await response.json()) as Reply };
  };
  return {
    handler,
    calls,
    send,
    post: (body, headers, to = source) => send(genericRequest(name, body, headers, to)),
  };
}

/** The clientToken the README's formula gives for one instance of an event. */
export function expectedToken(name: FunctionName, instanceId: string, eventKey: string, regionId = 'cn-hangzhou') {
  return deriveClientToken({ action: actionFor(name), regionId, instanceId, eventKey });
}

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

/**
 * Real payloads of a sender from `test/fixtures/<dir>/<name>.json`, read once; every call returns
 * a fresh clone, so a test may mutate its copy freely. (A sender's kit there exports its own.)
 */
export const fixtureLoader = <T, Name extends string = string>(dir: string): ((name: Name) => T) =>
  jsonFixtures<T, Name>(new URL(`../fixtures/${dir}/`, import.meta.url));
