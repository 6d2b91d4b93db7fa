import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type LocalServer, startLocal } from '../local/server.ts';
import { timerEvent, timerRequestSchema } from '../local/timer.ts';
import type { ResponseBody } from '../shared/core/result.ts';
import { timerEventSchema } from '../shared/fc/events.ts';
import { expectedToken } from './support/function-harness.ts';

/**
 * Local mode fires timer triggers: `POST /emulator/timer/<function>` builds the event FC sends on
 * a tick and invokes the function's handler with it, so a schedule can be tried before deploying.
 */

interface TimerAnswer {
  event?: { triggerTime: string; triggerName: string; payload: string };
  result?: ResponseBody;
  error?: { code: string; message: string };
}

let local: LocalServer;
beforeAll(async () => {
  local = await startLocal({ port: 0, env: { PATH: process.env.PATH, COMMAND_DEADLINE_MS: '300' } });
});
afterAll(() => local.close());
beforeEach(() => {
  local.emulator.reset();
  local.emulator.setFaults({});
});

async function fire(fn: string, body: unknown): Promise<{ status: number; body: TimerAnswer }> {
  const response = await fetch(`${local.url}/emulator/timer/${fn}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as TimerAnswer };
}

const history = (id: string) =>
  local.emulator.controlPlane.snapshot().instances.find((i) => i.instanceId === id)?.history ?? [];

describe('Function: POST /emulator/timer/<function>', () => {
  it('invokes the function with the FC timer event, which acts once per tick', async () => {
    const tick = {
      triggerName: 'nightly-interrupt',
      triggerTime: '2026-11-25T02:00:00Z',
      payload: { instanceIds: ['es-cn-demo-activating'], reason: 'maintenance window closes' },
    };
    const first = await fire('interrupt-elasticsearch-task', tick);
    expect(first.status).toBe(200);
    // Exactly the event Function Compute sends: payload is the string s.yaml configures.
    expect(first.body.event).toEqual({
      triggerTime: '2026-11-25T02:00:00Z',
      triggerName: 'nightly-interrupt',
      payload: JSON.stringify(tick.payload),
    });
    const token = expectedToken(
      'interrupt-elasticsearch-task',
      'es-cn-demo-activating',
      'timer:nightly-interrupt@2026-11-25T02:00:00Z',
    );
    expect(first.body.result).toMatchObject({
      function: 'interrupt-elasticsearch-task',
      source: 'timer',
      results: [{ instanceId: 'es-cn-demo-activating', outcome: 'applied', clientToken: token }],
    });

    // The same tick again (a redelivery): the same token, no second change.
    const again = await fire('interrupt-elasticsearch-task', tick);
    expect(again.body.result?.results[0]?.clientToken).toBe(token);
    expect(history('es-cn-demo-activating')).toEqual([
      { action: 'InterruptElasticsearchTask', clientToken: token, at: expect.any(String) },
    ]);
  });

  it('takes the payload as the JSON string s.yaml holds, and defaults the trigger time to now', async () => {
    const before = Date.now();
    const answer = await fire('resume-elasticsearch-task', {
      payload: '{"instanceIds":["es-cn-demo-suspended"],"regionId":"cn-hangzhou"}',
    });
    expect(answer.status).toBe(200);
    expect(answer.body.event?.triggerName).toBe('local-timer');
    const time = Date.parse(answer.body.event?.triggerTime ?? '');
    expect(time).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(time).toBeLessThanOrEqual(Date.now());
    expect(answer.body.result?.results[0]).toMatchObject({ instanceId: 'es-cn-demo-suspended', outcome: 'applied' });
  });

  it('answers what the function returned for a refusal (FC does not retry it)', async () => {
    const answer = await fire('interrupt-elasticsearch-task', { payload: { instanceIds: ['es-cn-not-allowed'] } });
    expect(answer.status).toBe(200);
    expect(answer.body.result?.results[0]).toMatchObject({ outcome: 'refused', code: 'NotAllowed' });
  });

  it('answers 502 when the function throws for FC to retry (an upstream failure a retry can fix)', async () => {
    local.emulator.setFaults({ throttle: 1 });
    const answer = await fire('interrupt-elasticsearch-task', { payload: { instanceIds: ['es-cn-demo-activating'] } });
    expect(answer.status).toBe(502);
    expect(answer.body.error).toMatchObject({
      code: 'RetryableInvocationError',
      message: expect.stringMatching(/^503: .*Function Compute would retry this invocation$/),
    });
    expect(answer.body.event?.triggerName).toBe('local-timer');
  });

  it.each([
    ['no payload', {}, /^payload: /],
    [
      'a trigger name FC refuses',
      { payload: '{}', triggerName: '1-bad name' },
      /^triggerName: must be an FC trigger name/,
    ],
    [
      'a trigger time that is not FC’s',
      { payload: '{}', triggerTime: '2026-11-25 02:00' },
      /^triggerTime: must be UTC/,
    ],
    ['an unknown key', { payload: '{}', cron: '@every 5m' }, /cron/],
    ['not JSON', '{"payload":', /^the body is not valid JSON$/],
  ])('refuses %s with a 400 naming the field', async (_case, body, message) => {
    const answer = await fire('interrupt-elasticsearch-task', body);
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ code: 'InvalidPayload', message: expect.stringMatching(message) });
    expect(history('es-cn-demo-activating')).toEqual([]);
  });

  it('passes a payload the function refuses to the function, which answers 400 in its result', async () => {
    const answer = await fire('interrupt-elasticsearch-task', { payload: '{"instanceID":["es-cn-demo-activating"]}' });
    expect(answer.status).toBe(200);
    expect(answer.body.result?.error?.code).toBe('InvalidPayload');
    expect(history('es-cn-demo-activating')).toEqual([]);
  });

  it('answers an unknown function with a JSON 404 listing the functions', async () => {
    const answer = await fire('interrupt-everything', { payload: '{}' });
    expect(answer.status).toBe(404);
    expect(answer.body.error).toMatchObject({
      code: 'NotFound',
      message: expect.stringMatching(/^no function "interrupt-everything" to fire a timer at: /),
    });
  });

  it('cannot be reached as a source: POST /<function>/timer is the HTTP route, and timer is no source', async () => {
    const response = await fetch(`${local.url}/interrupt-elasticsearch-task/timer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(timerEvent({ triggerName: 'x', payload: { instanceIds: ['es-cn-demo-activating'] } })),
    });
    expect(response.status).toBe(404);
    expect(history('es-cn-demo-activating')).toEqual([]);
  });
});

describe('Function: timerEvent', () => {
  it('builds what the FC adapter recognises as a timer event', () => {
    const event = timerEvent(
      timerRequestSchema.parse({ payload: { instanceIds: ['es-cn-x'] } }),
      new Date('2026-11-25T02:00:00.789Z'),
    );
    expect(event).toEqual({
      triggerTime: '2026-11-25T02:00:00Z',
      triggerName: 'local-timer',
      payload: '{"instanceIds":["es-cn-x"]}',
    });
    expect(timerEventSchema().safeParse(event).success).toBe(true);
  });
});
