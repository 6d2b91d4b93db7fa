import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRepliesApp } from '../emulator/replies.ts';
import { createCapturingReplySender } from '../shared/async/capturing-reply-sender.ts';
import { bodyLevelError, createHttpsReplySender, type ReplyRequestFn } from '../shared/async/https-reply-sender.ts';
import { checkReplyUrl, ReplyError } from '../shared/async/reply-sender.ts';
import { REPLY_HOSTS } from '../shared/sources/registry.ts';
import { HAS_OPENSSL, startUntrustedTlsServer } from './support/untrusted-tls.ts';

async function rejection(promise: Promise<unknown>): Promise<ReplyError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ReplyError);
    return error as ReplyError;
  }
  throw new Error('expected the send to fail');
}

const SLACK = 'https://hooks.slack.com/actions/T0001/1234/abcdef';

describe('Function: checkReplyUrl', () => {
  it.each([
    ['Slack response_url', SLACK],
    ['DingTalk sessionWebhook', 'https://oapi.dingtalk.com/robot/sendBySession?session=c1b2a3'],
    ['Feishu', 'https://open.feishu.cn/open-apis/bot/v2/hook/abc'],
    ['Lark', 'https://open.larksuite.com/open-apis/bot/v2/hook/abc'],
    ['an upper-case host', 'https://HOOKS.SLACK.COM/actions/x'],
    ['an explicit default port', 'https://hooks.slack.com:443/actions/x'],
  ])('allows %s', (_, url) => {
    expect(REPLY_HOSTS).toContain(checkReplyUrl(url).hostname);
  });

  it.each([
    ['plain http', 'http://hooks.slack.com/actions/x'],
    ['another host', 'https://example.com/hook'],
    ['a look-alike suffix', 'https://hooks.slack.com.evil.example/actions/x'],
    ['a look-alike prefix', 'https://evilhooks.slack.com/actions/x'],
    ['a subdomain', 'https://a.hooks.slack.com/actions/x'],
    ['a trailing dot', 'https://hooks.slack.com./actions/x'],
    ['user info hiding the host', 'https://oapi.dingtalk.com@evil.example/robot'],
    ['user info before an allowed host', 'https://user:pw@hooks.slack.com/actions/x'],
    ['another port', 'https://hooks.slack.com:8443/actions/x'],
    ['an IP address', 'https://127.0.0.1/actions/x'],
    ['a metadata endpoint', 'http://100.100.100.200/latest/meta-data/'],
    ['file:', 'file:///etc/passwd'],
    ['javascript:', 'javascript:alert(1)'],
    ['not a URL', 'hooks.slack.com/actions/x'],
    ['empty', ''],
    ['a huge URL', `https://hooks.slack.com/${'a'.repeat(2100)}`],
  ])('refuses %s', (_, url) => {
    let error: unknown;
    try {
      checkReplyUrl(url);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ReplyError);
    expect(error).toMatchObject({ code: 'ReplyUrlRefused', retryable: false });
  });
});

describe('Function: bodyLevelError', () => {
  it.each([
    ['ok', undefined],
    ['{"errcode":0,"errmsg":"ok"}', undefined],
    ['{"code":0,"msg":"success"}', undefined],
    ['{"StatusCode":0}', undefined],
    ['{"errcode":310000,"errmsg":"sign not match"}', 'errcode 310000: sign not match'],
    ['{"code":19021,"msg":"sign match fail"}', 'code 19021: sign match fail'],
    ['{"StatusCode":9499,"StatusMessage":"bad"}', 'StatusCode 9499: bad'],
    ['{"ok":false,"error":"expired_url"}', 'ok=false: expired_url'],
  ])('reads %s', (text, expected) => {
    expect(bodyLevelError(text)).toBe(expected);
  });
});

describe('Function: createHttpsReplySender', () => {
  type Received = { method?: string; url?: string; headers: IncomingHttpHeaders; body: string };
  let server: Server;
  let port: number;
  let received: Received[];
  let answer: { status: number; body: string } | 'hang';

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        received.push({
          method: req.method,
          url: req.url,
          headers: req.headers,
          body: Buffer.concat(chunks).toString(),
        });
        if (answer === 'hang') return;
        res.writeHead(answer.status, { 'content-type': 'text/plain' }).end(answer.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    received = [];
    answer = { status: 200, body: 'ok' };
  });

  /** The https URL is checked as is; only the socket goes to the local plain-http server. */
  const toLocal: ReplyRequestFn = (url, options) =>
    httpRequest({ ...options, host: '127.0.0.1', port, path: `${url.pathname}${url.search}`, agent: false });

  const sender = (timeoutMs = 2000) => createHttpsReplySender({ timeoutMs, request: toLocal });

  it('POSTs the body as JSON to the path and query of the URL', async () => {
    const body = { response_type: 'ephemeral', text: 'es-cn-1: applied', blocks: [{ n: 1 }] };
    await sender().send('https://oapi.dingtalk.com/robot/sendBySession?session=s1', body);
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ method: 'POST', url: '/robot/sendBySession?session=s1' });
    expect(received[0]?.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(Number(received[0]?.headers['content-length'])).toBe(Buffer.byteLength(received[0]?.body ?? ''));
    expect(JSON.parse(received[0]?.body ?? '')).toEqual(body);
  });

  it('sends extra headers and resolves with the answer parsed as JSON', async () => {
    answer = { status: 200, body: '{"code":0,"tenant_access_token":"t-123","expire":7200}' };
    const parsed = await sender().send(
      'https://open.feishu.cn/open-apis/auth/v3/tenant_access_token/internal',
      { app_id: 'cli_x' },
      { authorization: 'Bearer abc' },
    );
    expect(parsed).toEqual({ code: 0, tenant_access_token: 't-123', expire: 7200 });
    expect(received[0]?.headers.authorization).toBe('Bearer abc');
    answer = { status: 200, body: 'ok' };
    expect(await sender().send(SLACK, { text: 'x' })).toBeUndefined();
  });

  it('never makes a request for a refused URL', async () => {
    const request = vi.fn(toLocal);
    const error = await rejection(
      createHttpsReplySender({ timeoutMs: 1000, request }).send('https://evil.example/x', { text: 'hi' }),
    );
    expect(error.code).toBe('ReplyUrlRefused');
    expect(request).not.toHaveBeenCalled();
    expect(received).toHaveLength(0);
  });

  it('uses node:https by default (a refused URL still never connects)', async () => {
    const error = await rejection(createHttpsReplySender({ timeoutMs: 1000 }).send('http://hooks.slack.com/x', {}));
    expect(error.code).toBe('ReplyUrlRefused');
  });

  it.each([
    [{ status: 500, body: 'oops' }, 'ReplyFailed', true, 500],
    [{ status: 429, body: 'slow down' }, 'ReplyFailed', true, 429],
    [{ status: 404, body: 'expired_url' }, 'ReplyFailed', false, 404],
    [{ status: 200, body: '{"errcode":310000,"errmsg":"sign not match"}' }, 'ReplyFailed', false, 200],
  ])('maps an answer %j to %s', async (reply, code, retryable, httpStatus) => {
    answer = reply;
    const error = await rejection(sender().send(SLACK, { text: 'x' }));
    expect(error).toMatchObject({ code, retryable, httpStatus });
  });

  it('gives up after timeoutMs', async () => {
    answer = 'hang';
    const error = await rejection(sender(150).send(SLACK, { text: 'x' }));
    expect(error).toMatchObject({ code: 'ReplyTimeout', retryable: true });
  });

  it('maps a connection failure to a retryable ReplyNetworkError', async () => {
    const refusing: ReplyRequestFn = (url, options) =>
      httpRequest({ ...options, host: '127.0.0.1', port: 1, path: url.pathname, agent: false });
    const error = await rejection(createHttpsReplySender({ timeoutMs: 2000, request: refusing }).send(SLACK, {}));
    expect(error).toMatchObject({ code: 'ReplyNetworkError', retryable: true });
  });

  // The chat host's certificate is verified by node:https as the real call does: one no root vouches
  // for (UNABLE_TO_VERIFY_LEAF_SIGNATURE, which names no CERT) is not worth a retry either.
  it.skipIf(!HAS_OPENSSL)('maps an untrusted certificate to a ReplyNetworkError that is not retryable', async () => {
    const untrusted = await startUntrustedTlsServer('{"ok":true}');
    try {
      const toUntrusted: ReplyRequestFn = (url, options) =>
        httpsRequest({ ...options, host: '127.0.0.1', port: untrusted.port, path: url.pathname, agent: false });
      const error = await rejection(createHttpsReplySender({ timeoutMs: 2000, request: toUntrusted }).send(SLACK, {}));
      expect(error).toMatchObject({ code: 'ReplyNetworkError', retryable: false });
      expect(untrusted.requests()).toBe(0);
    } finally {
      await untrusted.close();
    }
  });

  it('refuses a body that is not JSON', async () => {
    const error = await rejection(sender().send(SLACK, { n: 1n }));
    expect(error.code).toBe('ReplyInvalidBody');
    expect(received).toHaveLength(0);
  });
});

describe('Function: createCapturingReplySender', () => {
  const at = new Date('2026-01-02T03:04:05.000Z');

  it('records url, body and time instead of sending, as a snapshot of the body', async () => {
    const capture = createCapturingReplySender({ now: () => at });
    const body = { text: 'done', results: [{ instanceId: 'es-cn-1', outcome: 'applied' }] };
    await capture.send(SLACK, body);
    body.text = 'mutated later';
    expect(capture.replies()).toEqual([
      {
        url: SLACK,
        body: { text: 'done', results: [{ instanceId: 'es-cn-1', outcome: 'applied' }] },
        at: '2026-01-02T03:04:05.000Z',
      },
    ]);
  });

  it('refuses what the real sender refuses, and records nothing', async () => {
    const capture = createCapturingReplySender();
    expect((await rejection(capture.send('https://evil.example/x', {}))).code).toBe('ReplyUrlRefused');
    expect(capture.replies()).toEqual([]);
  });

  it('keeps the last `limit` replies and clears', async () => {
    const capture = createCapturingReplySender({ limit: 2 });
    for (const n of [1, 2, 3]) await capture.send(SLACK, { n });
    expect(capture.replies().map((r) => r.body)).toEqual([{ n: 2 }, { n: 3 }]);
    capture.clear();
    expect(capture.replies()).toEqual([]);
  });

  it('serves the captured replies at GET /emulator/replies', async () => {
    const capture = createCapturingReplySender({ now: () => at });
    const app = createRepliesApp(capture);
    expect(await (await app.request('/emulator/replies')).json()).toEqual({ replies: [] });
    await capture.send('https://open.feishu.cn/open-apis/bot/v2/hook/abc', { msg_type: 'text' });
    const response = await app.request('/emulator/replies');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(await response.json()).toEqual({
      replies: [
        { url: 'https://open.feishu.cn/open-apis/bot/v2/hook/abc', body: { msg_type: 'text' }, at: at.toISOString() },
      ],
    });
  });
});
