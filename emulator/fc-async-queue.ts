import { randomUUID } from 'node:crypto';

/**
 * The emulated Function Compute's invocation queue as pure state, shared by the wire layers of
 * both invoke APIs (fc2-invoke-wire.ts for 2016-08-15, fc3-invoke-wire.ts for 2023-03-30): no
 * HTTP, no signatures.
 *
 * - an async invocation is recorded, then run on a later turn of the event loop (never before
 *   the caller has answered), and retried like FC's async retry (3 retries by default) while the
 *   runner throws; after the last retry it has failed for good;
 * - task IDs (FC 2.0's stateful invocation IDs, FC 3.0's async task IDs) are claimed once per
 *   scope (the function): a second claim is refused, and the task stays readable by its ID;
 * - a sync invocation runs once, at once.
 *
 * Over 200 lines on purpose: the queue, FC's async retries and the task states are one life cycle,
 * shared by both wire layers; splitting it would scatter the state transitions.
 */

/** Who invoked, and how: what a handler of FC would see in its `context`. */
export interface FcInvokeCredential {
  accessKeyId: string;
  accessKeySecret: string;
  /** When set, requests signed with this key must carry it (`x-fc-security-token`, `x-acs-security-token`). */
  securityToken?: string | undefined;
}

export interface FcRunnerContext {
  /** The request ID the invoke call answered with, the same for every attempt. */
  requestId: string;
  /** The task ID (FC 2.0: stateful invocation ID), when there is one. */
  invocationId?: string | undefined;
  /** FC 2.0 only. */
  serviceName?: string | undefined;
  qualifier?: string | undefined;
  /** 1 for the first run, 2 for the first retry… */
  attempt: number;
  /** FC's `context.retryCount`: `attempt - 1`. */
  retryCount: number;
  /** What FC would hand the function as its role credentials (`functionCredentials`). */
  credentials?: FcInvokeCredential | undefined;
}

/** Runs one invocation of `functionName` with the event bytes, as FC would call the handler. */
export type FcRunner = (functionName: string, event: Buffer, context: FcRunnerContext) => Promise<unknown>;

export type FcInvocationStatus = 'queued' | 'running' | 'succeeded' | 'failed';

export interface FcInvocation {
  /** Which invoke API accepted it. */
  api: '2016-08-15' | '2023-03-30';
  requestId: string;
  invocationId?: string;
  /** FC 2.0 only. */
  serviceName?: string;
  qualifier?: string;
  functionName: string;
  type: 'Async' | 'Sync';
  status: FcInvocationStatus;
  /** Runs so far (a retried async invocation counts each run). */
  attempts: number;
  result?: unknown;
  /** The last run's error. */
  error?: { name: string; message: string };
  /** When the invocation was accepted, when its first run started, when it was done (ISO 8601). */
  at: string;
  startedAt?: string;
  finishedAt?: string;
  /** The event as received, for the task's `taskPayload`. */
  payload: string;
}

export type NewInvocation = Pick<
  FcInvocation,
  'api' | 'functionName' | 'invocationId' | 'serviceName' | 'qualifier' | 'type' | 'requestId'
>;

export interface FcQueueOptions {
  runner: FcRunner;
  now?: (() => number) | undefined;
  /** Retries of an async invocation whose runner throws (FC default 3, range 0–8). */
  maxAsyncRetryAttempts?: number | undefined;
  /** Handed to the runner as the function's role credentials. */
  functionCredentials?: FcInvokeCredential | undefined;
  /** Invocation records kept (oldest forgotten first); task IDs are kept separately. */
  maxRecords?: number | undefined;
}

export interface FcQueue {
  /** The invocation that first claimed `id` in `scope`, if any (its task state for GetAsyncTask). */
  task(scope: string, id: string): FcInvocation | undefined;
  /**
   * Records an async invocation and queues its runs. With an `invocationId`, claims it in `scope`
   * first: when it is taken, nothing is queued and the first claimant is returned as `taken`.
   */
  enqueue(entry: NewInvocation, event: Uint8Array, scope: string): { accepted: FcInvocation } | { taken: FcInvocation };
  /** Records a sync invocation and runs it once; resolves when the run is done. */
  runSync(entry: NewInvocation, event: Uint8Array): Promise<FcInvocation>;
  /** Every invocation accepted, oldest first (copies). */
  invocations(): FcInvocation[];
  /** Resolves once no invocation is queued or running (including ones queued meanwhile). */
  idle(): Promise<void>;
  /** Forgets records and task IDs (in-flight runs still finish). */
  reset(): void;
}

const MAX_TASK_IDS = 100_000;

export const newFcRequestId = (): string => randomUUID();

function describeError(error: unknown): { name: string; message: string } {
  try {
    if (error instanceof Error) return { name: error.name, message: error.message };
    return { name: 'Error', message: typeof error === 'string' ? error : JSON.stringify(error) };
  } catch {
    return { name: 'Error', message: 'unprintable error' };
  }
}

export function createFcQueue(options: FcQueueOptions): FcQueue {
  const now = options.now ?? Date.now;
  const maxRetries = options.maxAsyncRetryAttempts ?? 3;
  if (!Number.isInteger(maxRetries) || maxRetries < 0 || maxRetries > 8) {
    throw new TypeError('maxAsyncRetryAttempts must be a whole number from 0 to 8');
  }
  const maxRecords = options.maxRecords ?? 1000;

  let records: FcInvocation[] = [];
  /** `scope/id` → the invocation that claimed it. */
  let tasks = new Map<string, FcInvocation>();
  const pending = new Set<Promise<void>>();

  const iso = () => new Date(now()).toISOString();

  const record = (entry: NewInvocation, event: Uint8Array): FcInvocation => {
    const created: FcInvocation = {
      ...entry,
      status: 'queued',
      attempts: 0,
      at: iso(),
      payload: Buffer.from(event).toString('utf8'),
    };
    for (const key of ['invocationId', 'serviceName', 'qualifier'] as const) {
      if (created[key] === undefined) delete created[key];
    }
    records.push(created);
    if (records.length > maxRecords) records = records.slice(records.length - maxRecords);
    return created;
  };

  /** Tracks work for idle(); the promise given never rejects. */
  const track = (work: Promise<void>): void => {
    pending.add(work);
    void work.then(() => pending.delete(work));
  };

  const contextFor = (entry: FcInvocation, attempt: number): FcRunnerContext => ({
    requestId: entry.requestId,
    invocationId: entry.invocationId,
    serviceName: entry.serviceName,
    qualifier: entry.qualifier,
    attempt,
    retryCount: attempt - 1,
    credentials: options.functionCredentials ? { ...options.functionCredentials } : undefined,
  });

  /** One run; never throws. */
  async function runOnce(entry: FcInvocation, event: Uint8Array, attempt: number): Promise<boolean> {
    entry.status = 'running';
    entry.attempts = attempt;
    entry.startedAt ??= iso();
    try {
      const result = await options.runner(entry.functionName, Buffer.from(event), contextFor(entry, attempt));
      entry.status = 'succeeded';
      entry.result = result;
      delete entry.error;
      entry.finishedAt = iso();
      return true;
    } catch (error) {
      entry.error = describeError(error);
      return false;
    }
  }

  async function runAsync(entry: FcInvocation, event: Uint8Array): Promise<void> {
    for (let attempt = 1; attempt <= maxRetries + 1; attempt++) {
      if (await runOnce(entry, event, attempt)) return;
    }
    entry.status = 'failed';
    entry.finishedAt = iso();
  }

  return {
    task: (scope, id) => tasks.get(`${scope}/${id}`),

    enqueue(entry, event, scope) {
      if (entry.invocationId !== undefined) {
        const key = `${scope}/${entry.invocationId}`;
        const first = tasks.get(key);
        if (first) return { taken: first };
        const created = record(entry, event);
        tasks.set(key, created);
        if (tasks.size > MAX_TASK_IDS) {
          const oldest = tasks.keys().next().value;
          if (oldest !== undefined) tasks.delete(oldest);
        }
        queueRuns(created, event);
        return { accepted: created };
      }
      const created = record(entry, event);
      queueRuns(created, event);
      return { accepted: created };
    },

    async runSync(entry, event) {
      const created = record(entry, event);
      const run = runOnce(created, event, 1);
      track(run.then(() => undefined));
      if (!(await run)) {
        created.status = 'failed';
        created.finishedAt = iso();
      }
      return created;
    },

    invocations: () => records.map((entry) => ({ ...entry })),

    async idle() {
      while (pending.size > 0) await Promise.all([...pending]);
    },

    reset() {
      records = [];
      tasks = new Map();
    },
  };

  function queueRuns(entry: FcInvocation, event: Uint8Array): void {
    // Never before the reply: the run starts on a later turn of the event loop.
    track(
      new Promise<void>((resolve) => {
        setImmediate(() => {
          void runAsync(entry, event).then(resolve, resolve);
        });
      }),
    );
  }
}
