import { Hono } from 'hono';
import type { EmulatorEnv } from './app.ts';
import { createFcQueue, type FcInvocation, type FcInvokeCredential, type FcRunner } from './fc-async-queue.ts';
import { createFc2InvokeWire } from './fc2-invoke-wire.ts';
import { createFc3InvokeWire } from './fc3-invoke-wire.ts';

/**
 * The emulated Function Compute invoke API, for local mode and tests: one queue of invocations
 * (fc-async-queue.ts) behind both wire forms FC has had:
 *
 * - FC 3.0, `POST /2023-03-30/functions/{function}/invocations` and `GET …/async-tasks/{taskId}`
 *   (fc3-invoke-wire.ts): the default hand-off path, ACS3-signed;
 * - FC 2.0, `POST /2016-08-15/services/{service[.qualifier]}/functions/{function}/invocations`
 *   (fc2-invoke-wire.ts): the path of `@alicloud/fc2`, for ASYNC_SERVICE_NAME deployments.
 */

export type {
  FcInvocation,
  FcInvocationStatus,
  FcInvokeCredential,
  FcRunner,
  FcRunnerContext,
} from './fc-async-queue.ts';
export { FC_DATE_WINDOW_MS } from './fc2-invoke-wire.ts';

export interface FcInvokeApiOptions {
  credentials: readonly FcInvokeCredential[];
  runner: FcRunner;
  now?: (() => number) | undefined;
  /** The account of the endpoint: with FC 2.0, `x-fc-account-id` must equal it; FC 3.0 names it in task ARNs. */
  accountId?: string | undefined;
  /** Region named in FC 3.0 task ARNs (default cn-hangzhou). */
  region?: string | undefined;
  /** FC 2.0: when set, any other service answers 404 ServiceNotFound. */
  serviceName?: string | undefined;
  /** When set, any other function answers 404 FunctionNotFound. */
  functions?: readonly string[] | undefined;
  /** Retries of an async invocation whose runner throws (FC default 3, range 0–8). */
  maxAsyncRetryAttempts?: number | undefined;
  /** FC: 128 KiB for async payloads. */
  maxAsyncEventBytes?: number | undefined;
  /** FC: 32 MiB for sync payloads. */
  maxSyncEventBytes?: number | undefined;
  /** Handed to the runner as the function's role credentials. */
  functionCredentials?: FcInvokeCredential | undefined;
  /** Invocation records kept (oldest forgotten first); task IDs are kept separately. */
  maxRecords?: number | undefined;
}

export interface FcInvokeApi {
  app: Hono<EmulatorEnv>;
  /** Every invocation accepted, through either API, oldest first (copies). */
  invocations(): FcInvocation[];
  /** Resolves once no invocation is queued or running (including ones queued meanwhile). */
  idle(): Promise<void>;
  /** Forgets records and used task IDs (in-flight runs still finish). */
  reset(): void;
}

export const DEFAULT_MAX_ASYNC_EVENT_BYTES = 128 * 1024;
export const DEFAULT_MAX_SYNC_EVENT_BYTES = 32 * 1024 * 1024;

export function createFcInvokeApi(options: FcInvokeApiOptions): FcInvokeApi {
  const now = options.now ?? Date.now;
  const queue = createFcQueue({
    runner: options.runner,
    now,
    maxAsyncRetryAttempts: options.maxAsyncRetryAttempts,
    functionCredentials: options.functionCredentials,
    maxRecords: options.maxRecords,
  });
  const limits = {
    maxAsyncEventBytes: options.maxAsyncEventBytes ?? DEFAULT_MAX_ASYNC_EVENT_BYTES,
    maxSyncEventBytes: options.maxSyncEventBytes ?? DEFAULT_MAX_SYNC_EVENT_BYTES,
  };
  const functions = options.functions ? new Set(options.functions) : undefined;
  const fc2 = createFc2InvokeWire({
    queue,
    credentials: options.credentials,
    now,
    accountId: options.accountId,
    serviceName: options.serviceName,
    functions,
    ...limits,
  });
  const fc3 = createFc3InvokeWire({
    queue,
    credentials: options.credentials,
    now,
    accountId: options.accountId ?? '0',
    region: options.region ?? 'cn-hangzhou',
    functions,
    ...limits,
  });
  const app = new Hono<EmulatorEnv>();
  app.route('/', fc3);
  app.route('/', fc2);
  return { app, invocations: queue.invocations, idle: queue.idle, reset: queue.reset };
}
