import type FC from '@alicloud/fc2';
import type { Credentials } from '../core/invocation.ts';
import { classifyFc2Error } from './fc2-errors.ts';
import { checkInvokerOptions, endpointOrigin, handOffCredentials, handOffPayload } from './hand-off-input.ts';
import { type AsyncInvokeResult, type AsyncInvoker, InvokeError, MAX_HAND_OFF_EVENT_BYTES } from './invoker.ts';

/**
 * The async hand-off over Function Compute's invoke API, through `@alicloud/fc2`:
 * `POST /2016-08-15/services/{service[.qualifier]}/functions/{function}/invocations` with
 * `x-fc-invocation-type: Async` and `x-fc-stateful-async-invocation-id`, so a second hand-off
 * under the same ID is refused by the platform (409 `StatefulAsyncInvocationAlreadyExists`),
 * which maps to `duplicate`.
 *
 * `@alicloud/fc2` drags in axios, ali-oss and ws: it is imported only when the first hand-off
 * happens (and then cached), never at module load, to keep cold starts cheap.
 */

export type Fc2Client = Pick<FC, 'invokeFunction'>;
export type Fc2ClientConstructor = new (accountId: string, config: ConstructorParameters<typeof FC>[1]) => Fc2Client;

export interface Fc2InvokerOptions {
  /** The Alibaba Cloud account (main account UID) that owns the function. */
  accountId: string;
  region: string;
  serviceName: string;
  functionName: string;
  /** Version or alias: the path becomes `services/{service}.{qualifier}`. */
  qualifier?: string | undefined;
  /**
   * Override of `https://<account>.<region>.fc.aliyuncs.com`, e.g. `http://127.0.0.1:9000` in
   * local mode. Without a protocol, https is assumed. Plain http only when written out.
   */
  endpoint?: string | undefined;
  /** Use `<account>.<region>-internal.fc.aliyuncs.com` (VPC) when no endpoint is given. */
  internal?: boolean | undefined;
  /** Deadline of one invoke call (connect, answer), in ms. */
  timeoutMs: number;
  /** Largest serialised event; FC refuses async payloads over 128 KiB. */
  maxEventBytes?: number | undefined;
  /** Test seam: how the client class is loaded (default: a cached `import('@alicloud/fc2')`). */
  loadClient?: (() => Promise<Fc2ClientConstructor>) | undefined;
}

let sharedClient: Promise<Fc2ClientConstructor> | undefined;

/** The one place `@alicloud/fc2` is imported. A failed import is not cached, so a later call retries it. */
export function loadFc2Client(): Promise<Fc2ClientConstructor> {
  sharedClient ??= import('@alicloud/fc2').then(
    (module) => ((module as { default?: unknown }).default ?? module) as Fc2ClientConstructor,
    (error: unknown) => {
      sharedClient = undefined;
      throw error;
    },
  );
  return sharedClient;
}

function normalizeEndpoint(endpoint: string | undefined): { endpoint?: string; secure: boolean } {
  const origin = endpointOrigin(endpoint);
  return origin ? { endpoint: origin.origin, secure: origin.protocol === 'https:' } : { secure: true };
}

const headerValue = (headers: Record<string, string | string[] | undefined> | undefined, name: string) => {
  const value = headers?.[name];
  return (Array.isArray(value) ? value[0] : value) || undefined;
};

/** Rejects with a Timeout InvokeError after `ms`; the losing promise's rejection is swallowed. */
function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new InvokeError('Timeout', `no answer from FC within ${ms} ms`, { retryable: true })),
      ms,
    );
    timer.unref?.();
  });
  promise.catch(() => undefined);
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

export function createFc2Invoker(options: Fc2InvokerOptions): AsyncInvoker {
  checkInvokerOptions(options, true);
  const { endpoint, secure } = normalizeEndpoint(options.endpoint);
  const maxEventBytes = options.maxEventBytes ?? MAX_HAND_OFF_EVENT_BYTES;
  const load = options.loadClient ?? loadFc2Client;
  let customClient: Promise<Fc2ClientConstructor> | undefined;
  const loadClient = (): Promise<Fc2ClientConstructor> => {
    if (!options.loadClient) return load();
    customClient ??= load().catch((error: unknown) => {
      customClient = undefined;
      throw error;
    });
    return customClient;
  };

  return {
    async invoke(event: object, invocationId: string, given: Credentials): Promise<AsyncInvokeResult> {
      const payload = handOffPayload(event, invocationId, maxEventBytes);
      const credentials = handOffCredentials(given);

      let client: Fc2Client;
      try {
        const Client = await loadClient();
        client = new Client(options.accountId, {
          accessKeyID: credentials.accessKeyId,
          accessKeySecret: credentials.accessKeySecret,
          ...(credentials.securityToken ? { securityToken: credentials.securityToken } : {}),
          region: options.region,
          secure,
          ...(endpoint ? { endpoint } : {}),
          ...(options.internal ? { internal: true } : {}),
          timeout: options.timeoutMs,
        });
      } catch (error) {
        throw new InvokeError('ClientError', `the FC client cannot be created: ${(error as Error).message}`, {
          retryable: false,
          cause: error,
        });
      }

      // Lowercase names: fc2 merges these into its own headers and signs every x-fc-* one.
      const headers: Record<string, string> = {
        'x-fc-invocation-type': 'Async',
        'x-fc-stateful-async-invocation-id': invocationId,
        // Request-level switch for "async task" (stateful) mode, so the ID is honoured even if the
        // function's async config does not enable it. The deployment should enable it too.
        'x-fc-stateful-async-invocation-enable': 'true',
      };
      // fc2 sends the token only for keys starting with "STS"; send it whenever there is one.
      if (credentials.securityToken) headers['x-fc-security-token'] = credentials.securityToken;

      try {
        const response = await withDeadline(
          client.invokeFunction(options.serviceName, options.functionName, payload, headers, options.qualifier),
          options.timeoutMs,
        );
        const requestId = headerValue(response.headers, 'x-fc-request-id');
        return requestId ? { status: 'accepted', requestId } : { status: 'accepted' };
      } catch (error) {
        if (error instanceof InvokeError) throw error;
        const outcome = classifyFc2Error(error);
        if (outcome instanceof InvokeError) throw outcome;
        return outcome.requestId ? { status: 'duplicate', requestId: outcome.requestId } : { status: 'duplicate' };
      }
    },
  };
}
