import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import type { InvocationStart } from '../shared/core/invocation.ts';
import {
  createFcHandler,
  type FcHandlers,
  type InvocationAnswer,
  RetryableInvocationError,
} from '../shared/fc/adapter.ts';
import type { FcHttpResult } from '../shared/fc/events.ts';
import type { InvocationBindings } from '../shared/http/bindings.ts';
import context from './fixtures/fc/context.json' with { type: 'json' };
import httpEvent from './fixtures/fc/http-trigger.json' with { type: 'json' };
import timerEvent from './fixtures/fc/timer-trigger.json' with { type: 'json' };

/** An app that echoes what the adapter gave it, so the conversion itself is under test. */
function echoApp() {
  const app = new Hono<{ Bindings: InvocationBindings }>();
  app.all('*', async (c) => {
    const headers: Record<string, string> = {};
    c.req.raw.headers.forEach((v, k) => {
      headers[k] = v;
    });
    // HTTP bodies travel in the bindings (already in memory), not in the Request.
    const { body, ...env } = c.env ?? {};
    return c.json({
      method: c.req.method,
      url: c.req.url,
      headers,
      body: body ? Buffer.from(body).toString('utf8') : await c.req.text(),
      env,
    });
  });
  return app;
}

/** Handlers that record what the adapter gave each, and answer `answer`. */
function recordingHandlers(answer: InvocationAnswer = { status: 200, body: { summary: 'done' } }) {
  const seen: Array<{ kind: 'timer' | 'command'; event: unknown; start: InvocationStart }> = [];
  const handlers: FcHandlers = {
    http: echoApp(),
    timer: async (event, start) => {
      seen.push({ kind: 'timer', event, start });
      return answer;
    },
    command: async (event, start) => {
      seen.push({ kind: 'command', event, start });
      return answer;
    },
  };
  return { handlers, seen };
}

const recorded = recordingHandlers();
const handler = createFcHandler(recorded.handlers, {
  functionName: 'interrupt-elasticsearch-task',
  maxBodyBytes: 1024,
});
const clone = <T>(value: T): T => structuredClone(value);
const asBuffer = (value: unknown) => Buffer.from(JSON.stringify(value));
const echo = (result: unknown) => JSON.parse((result as FcHttpResult).body);

describe('Function: createFcHandler', () => {
  it('turns the FC 3.0 HTTP envelope (a Buffer of JSON) into a standard Request', async () => {
    const result = (await handler(asBuffer(httpEvent), context)) as FcHttpResult;
    expect(result.statusCode).toBe(200);
    expect(result.isBase64Encoded).toBe(false);
    expect(result.headers['content-type']).toMatch(/application\/json/);
    const seen = echo(result);
    expect(seen.method).toBe('POST');
    expect(seen.url).toBe(
      'https://interrupt-elasticsearch-task-abcdefghij.cn-hangzhou.fcapp.run/interrupt-elasticsearch-task/generic',
    );
    expect(seen.body).toBe(httpEvent.body);
    expect(seen.headers['x-forwarded-for']).toBe('203.0.113.7,10.0.0.1');
    expect(seen.env).toEqual({
      requestId: context.requestId,
      sourceIp: '203.0.113.7',
      credentials: context.credentials,
    });
  });

  it('decodes base64 bodies and keeps query parameters', async () => {
    const event = clone(httpEvent);
    event.body = Buffer.from('ssl_check=1&token=a%20b').toString('base64');
    event.isBase64Encoded = true;
    event.rawPath = '/interrupt-elasticsearch-task/cloudmonitor';
    (event.queryParameters as Record<string, string>) = { token: 'abc', tag: 'x,y' };
    const seen = echo(await handler(asBuffer(event), context));
    expect(seen.body).toBe('ssl_check=1&token=a%20b');
    expect(new URL(seen.url).searchParams.get('token')).toBe('abc');
    expect(new URL(seen.url).searchParams.get('tag')).toBe('x,y');
  });

  it('accepts the event as a string or an object too, and a context without credentials', async () => {
    const fromString = (await handler(JSON.stringify(httpEvent), {
      requestId: 'r-1',
      credentials: {},
    })) as FcHttpResult;
    expect(echo(fromString).env).toEqual({ requestId: 'r-1', sourceIp: '203.0.113.7' });
    expect(((await handler(clone(httpEvent))) as FcHttpResult).statusCode).toBe(200);
  });

  it('passes a timer event to the timer handler, never to the app, and returns its result object', async () => {
    recorded.seen.length = 0;
    const result = await handler(asBuffer(timerEvent), context);
    expect(result).toEqual({ summary: 'done' });
    expect(recorded.seen).toEqual([
      {
        kind: 'timer',
        event: { name: 'nightly-interrupt', time: '2026-11-25T02:00:00Z', payload: timerEvent.payload },
        start: { requestId: context.requestId, credentials: context.credentials },
      },
    ]);
  });

  it('passes an internal command event to the command handler, never to the app', async () => {
    recorded.seen.length = 0;
    const command = { responderCommand: 1, function: 'interrupt-elasticsearch-task', source: 'slack', targets: [] };
    await handler(asBuffer(command), context);
    expect(recorded.seen).toEqual([
      { kind: 'command', event: command, start: { requestId: context.requestId, credentials: context.credentials } },
    ]);
  });

  it('gives every handler the environment’s credentials when the context carries none', async () => {
    const env = { accessKeyId: 'LTAI-env', accessKeySecret: 'env-secret' };
    const { handlers, seen } = recordingHandlers();
    const h = createFcHandler(handlers, { functionName: 'f', maxBodyBytes: 1024, credentials: env });
    await h(asBuffer(timerEvent), { requestId: 'r-2', credentials: {} });
    expect(seen[0]?.start).toEqual({ requestId: 'r-2', credentials: env });
    expect(echo(await h(asBuffer(httpEvent), { requestId: 'r-3' })).env).toEqual({
      requestId: 'r-3',
      sourceIp: '203.0.113.7',
      credentials: env,
    });
  });

  const broken = clone(httpEvent) as Record<string, unknown>;
  delete broken.requestContext;
  const injected = clone(httpEvent);
  (injected.headers as Record<string, string>)['X-Evil'] = 'a\r\nSet-Cookie: x=1';
  it.each<[string, unknown]>([
    ['not JSON', Buffer.from('{not json')],
    ['a JSON array', asBuffer([1, 2])],
    ['a JSON string', asBuffer('hello')],
    ['null', asBuffer(null)],
    ['an unknown object', asBuffer({ hello: 'world' })],
    ['an HTTP envelope without requestContext', asBuffer(broken)],
    ['an HTTP envelope with a header injection', asBuffer(injected)],
    ['a timer event with a non-string payload', asBuffer({ triggerTime: 't', triggerName: 'n', payload: 5 })],
  ])('answers 400 to %s, never a crash', async (_case, event) => {
    const result = (await handler(event, context)) as FcHttpResult;
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body)).toMatchObject({ results: [], error: { code: 'InvalidEvent' } });
  });

  it('refuses an event far larger than the body limit before parsing it', async () => {
    const event = clone(httpEvent);
    event.body = 'x'.repeat(200 * 1024);
    const result = (await handler(asBuffer(event), context)) as FcHttpResult;
    expect(result.statusCode).toBe(413);
  });

  it.each([
    ['timer', timerEvent],
    ['command', { responderCommand: 1 }],
  ])('throws a RetryableInvocationError for a %s invocation that answered 5xx, saying why', async (_, event) => {
    const { handlers } = recordingHandlers({ status: 503, body: { summary: '1 failed' } });
    const h = createFcHandler(handlers, { functionName: 'f', maxBodyBytes: 1024 });
    const error = await h(asBuffer(event), context).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryableInvocationError);
    expect(error).toMatchObject({ status: 503, message: '503: 1 failed' });
  });

  it('base64-encodes a binary response', async () => {
    const binary = new Hono();
    binary.all(
      '*',
      () => new Response(new Uint8Array([0, 1, 2]), { headers: { 'content-type': 'application/octet-stream' } }),
    );
    const h = createFcHandler({ ...recorded.handlers, http: binary }, { functionName: 'f', maxBodyBytes: 1024 });
    const result = (await h(asBuffer(httpEvent), context)) as FcHttpResult;
    expect(result).toMatchObject({ isBase64Encoded: true, body: 'AAEC' });
  });

  it('checks its options once', () => {
    expect(() => createFcHandler(recorded.handlers, { functionName: '', maxBodyBytes: 1 })).toThrow(TypeError);
  });
});
