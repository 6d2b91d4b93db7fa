import { describe, expect, it } from 'vitest';
import { ACTIONS } from '../shared/actions.ts';
import type { Credentials } from '../shared/core/invocation.ts';
import type { PlannedTarget } from '../shared/core/plan.ts';
import { ApiError } from '../shared/elasticsearch/api-error.ts';
import { createCallExecutor } from '../shared/elasticsearch/call-executor.ts';
import type { ApiCall, ApiSuccess, ElasticsearchApi } from '../shared/elasticsearch/client.ts';
import { createDryRunExecutor } from '../shared/elasticsearch/dry-run-executor.ts';
import { FAKE_CREDENTIALS, fakeInvocation } from './support/fakes.ts';

/**
 * The executors that act on the Elasticsearch API, each driven directly with a fake API: the call
 * (with its retries and its reading of "nothing to do") and the dry run.
 */

const ACTION = ACTIONS['interrupt-elasticsearch-task'];
const target = (n: number): PlannedTarget => ({
  instanceId: `es-cn-t${n}`,
  regionId: 'cn-hangzhou',
  eventKey: `generic:k${n}`,
  clientToken: `ies1-${String(n).padStart(40, '0')}`,
  actor: 'person',
});
const request = { source: 'generic', event: { items: [] } };

type Answer = ApiSuccess | ApiError | Error;

/** An API that answers each call from `answer` and records it. */
function fakeApi(answer: (call: ApiCall, n: number) => Answer | Promise<Answer>) {
  const calls: Array<{ call: ApiCall; credentials: Credentials }> = [];
  const api: ElasticsearchApi = {
    async call(call, credentials) {
      calls.push({ call, credentials });
      const result = await answer(call, calls.length);
      if (result instanceof Error) throw result;
      return result;
    },
  };
  return { api, calls };
}

const ok = (requestId = 'req-1'): ApiSuccess => ({ requestId, body: { RequestId: requestId, Result: true } });
const apiError = (code: string, retryable = false, message = `${code} happened`) =>
  new ApiError({ code, message, retryable, httpStatus: retryable ? 503 : 403, requestId: `req-${code}` });
const described = (status: string): ApiSuccess => ({ requestId: 'req-d', body: { Result: { status } } });

const executor = (api: ElasticsearchApi, internals: string[] = []) =>
  createCallExecutor({
    action: ACTION,
    api,
    concurrency: 2,
    internals,
    retry: { baseDelayMs: 1, maxDelayMs: 1, minAttemptMs: 1 },
  });

describe('Function: createCallExecutor', () => {
  it('calls the action on each target under its clientToken, with the invocation’s credentials', async () => {
    const { api, calls } = fakeApi(() => ok());
    const invocation = fakeInvocation();
    const results = await executor(api).run([target(1), target(2)], request, invocation);
    expect(results).toEqual([
      {
        instanceId: 'es-cn-t1',
        regionId: 'cn-hangzhou',
        clientToken: target(1).clientToken,
        outcome: 'applied',
        requestId: 'req-1',
      },
      expect.objectContaining({ instanceId: 'es-cn-t2', outcome: 'applied' }),
    ]);
    expect(calls.map((c) => c.call)).toContainEqual({
      operation: 'InterruptElasticsearchTask',
      method: 'POST',
      path: '/openapi/instances/es-cn-t1/actions/interrupt',
      query: { clientToken: target(1).clientToken },
      regionId: 'cn-hangzhou',
    });
    expect(calls.every((c) => c.credentials === FAKE_CREDENTIALS)).toBe(true);
    // The decision to call is logged before its outcome.
    expect(invocation.lines.map((l) => l.message)).toEqual(['called', 'called', 'applied', 'applied']);
  });

  it('retries a retryable failure with the same clientToken, then reports the call applied', async () => {
    const { api, calls } = fakeApi((_, n) => (n === 1 ? apiError('Throttling.User', true) : ok('req-2')));
    const invocation = fakeInvocation();
    const [result] = await executor(api).run([target(1)], request, invocation);
    expect(result).toMatchObject({ outcome: 'applied', requestId: 'req-2' });
    expect(calls.map((c) => c.call.query.clientToken)).toEqual([target(1).clientToken, target(1).clientToken]);
    expect(invocation.lines.find((l) => l.message === 'applied')?.attributes).toMatchObject({ attempts: 2 });
  });

  it.each([
    ['suspended', 'the change is already interrupted (the instance is suspended)'],
    ['active', 'no change is running (the instance is active): nothing to interrupt'],
  ])('reads the status once the API refuses the action for its state: %s is nothing to do', async (status, message) => {
    const { api, calls } = fakeApi((call) =>
      call.method === 'GET' ? described(status) : apiError('InstanceStatusNotSupportCurrentAction'),
    );
    const [result] = await executor(api).run([target(1)], request, fakeInvocation());
    expect(result).toMatchObject({ outcome: 'already', code: 'InstanceStatusNotSupportCurrentAction', message });
    expect(calls.map((c) => `${c.call.operation} ${c.call.path}`)).toEqual([
      'InterruptElasticsearchTask /openapi/instances/es-cn-t1/actions/interrupt',
      'DescribeInstance /openapi/instances/es-cn-t1',
    ]);
  });

  it('says what the status read found when the refusal stands, and fails without it when the read fails', async () => {
    const refusal = () => apiError('InstanceStatusNotSupportCurrentAction');
    const inactive = fakeApi((call) => (call.method === 'GET' ? described('inactive') : refusal()));
    const [stands] = await executor(inactive.api).run([target(1)], request, fakeInvocation());
    expect(stands).toMatchObject({ outcome: 'failed', retryable: false });
    expect(stands?.message).toMatch(/\(the instance is inactive\)$/);

    const unreadable = fakeApi((call) => (call.method === 'GET' ? apiError('Forbidden.RAM') : refusal()));
    const [failed] = await executor(unreadable.api).run([target(1)], request, fakeInvocation());
    expect(failed).toMatchObject({ outcome: 'failed', code: 'InstanceStatusNotSupportCurrentAction' });
    expect(failed?.message).not.toMatch(/the instance is/);
  });

  it('answers a failure without the endpoint or the account, and logs the API’s words whole', async () => {
    const words = 'denied for account 1234567890123456 at es.internal.example.com';
    const { api } = fakeApi(() => apiError('Forbidden.RAM', false, words));
    const invocation = fakeInvocation();
    const [result] = await executor(api, ['es.internal.example.com', '1234567890123456']).run(
      [target(1)],
      request,
      invocation,
    );
    expect(result).toMatchObject({ outcome: 'failed', code: 'Forbidden.RAM', retryable: false });
    expect(result?.message).not.toContain('1234567890123456');
    expect(result?.message).not.toContain('es.internal.example.com');
    expect(invocation.lines.find((l) => l.message === 'failed')?.attributes.detail).toBe(words);
  });

  it('reports a failure a retry can fix as retryable once the deadline leaves no room', async () => {
    const { api } = fakeApi(() => apiError('ServiceUnavailable', true));
    const [result] = await executor(api).run([target(1)], request, fakeInvocation({ deadline: Date.now() + 5 }));
    expect(result).toMatchObject({ outcome: 'failed', code: 'ServiceUnavailable', retryable: true });
  });

  it('needs no credentials when there is nothing to run, and refuses to call without them (500)', async () => {
    const { api, calls } = fakeApi(() => ok());
    expect(await executor(api).run([], request, fakeInvocation({ credentials: undefined }))).toEqual([]);
    await expect(
      executor(api).run([target(1)], request, fakeInvocation({ credentials: undefined })),
    ).rejects.toMatchObject({ status: 500, code: 'InvalidConfiguration' });
    expect(calls).toEqual([]);
  });

  it('lets a bug (anything but an API failure) through to the caller', async () => {
    const { api } = fakeApi(() => new TypeError('bug'));
    await expect(executor(api).run([target(1)], request, fakeInvocation())).rejects.toThrow(TypeError);
  });

  it('keeps at most `concurrency` calls in flight, and the results in the targets’ order', async () => {
    let inFlight = 0;
    let most = 0;
    const { api } = fakeApi(async (call) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
      return ok(call.path);
    });
    const targets = [1, 2, 3, 4, 5].map(target);
    const results = await executor(api).run(targets, request, fakeInvocation());
    expect(most).toBe(2);
    expect(results.map((r) => r.instanceId)).toEqual(targets.map((t) => t.instanceId));
  });
});

describe('Function: createDryRunExecutor', () => {
  it('reports the exact call each target would get, and makes none, without credentials', async () => {
    const invocation = fakeInvocation({ credentials: undefined });
    const cancel = ACTIONS['cancel-migration-task'];
    const results = await createDryRunExecutor(cancel).run([target(1)], request, invocation);
    expect(results).toEqual([
      {
        instanceId: 'es-cn-t1',
        regionId: 'cn-hangzhou',
        clientToken: target(1).clientToken,
        outcome: 'dry-run',
        message: 'DRY_RUN is set: CancelTask was not called',
        call: {
          operation: 'CancelTask',
          method: 'POST',
          path: '/openapi/instances/es-cn-t1/actions/cancel-task',
          query: { taskType: 'MigrateData', clientToken: target(1).clientToken },
        },
      },
    ]);
    expect(invocation.lines).toEqual([
      {
        level: 'info',
        message: 'dry-run',
        attributes: {
          instanceId: 'es-cn-t1',
          clientToken: target(1).clientToken,
          operation: 'CancelTask',
          path: '/openapi/instances/es-cn-t1/actions/cancel-task',
        },
      },
    ]);
  });
});
