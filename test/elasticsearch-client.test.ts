import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ConnectionOptions, createServer as createTlsServer, connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestCertificates } from '../scripts/bench.ts';
import { parseAuthorization } from '../shared/elasticsearch/acs3-signer.ts';
import { ApiError } from '../shared/elasticsearch/api-error.ts';
import { type ApiCall, createElasticsearchClient } from '../shared/elasticsearch/client.ts';
import { createNodeTransport } from '../shared/elasticsearch/transport.ts';
import { isCertificateFailure, isTlsFailure } from '../shared/errors.ts';
import { HAS_OPENSSL, startUntrustedTlsServer } from './support/untrusted-tls.ts';

const call: ApiCall = {
  operation: 'CancelTask',
  method: 'POST',
  path: '/openapi/instances/es-cn-abc0001/actions/cancel-task',
  query: { taskType: 'MigrateData', clientToken: 'cmt1-0123 (x)' },
  regionId: 'cn-shanghai',
};
const credentials = { accessKeyId: 'LTAI-test', accessKeySecret: 'secret-test' };

function recording(response: () => Response | Promise<Response>) {
  const seen: Array<{ url: string; headers: Record<string, string> }> = [];
  const fetchFn = (async (input: string | URL | Request, init?: RequestInit) => {
    seen.push({ url: String(input), headers: init?.headers as Record<string, string> });
    return response();
  }) as typeof fetch;
  return { seen, fetchFn };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

describe('Function: createElasticsearchClient', () => {
  it('calls the regional endpoint over HTTPS by default, with a signed request', async () => {
    const { seen, fetchFn } = recording(() => json(200, { RequestId: 'R-1', Result: true }));
    const client = createElasticsearchClient({ timeoutMs: 1000, fetch: fetchFn });
    const result = await client.call(call, credentials);
    expect(result.requestId).toBe('R-1');
    expect(seen[0]?.url).toBe(
      'https://elasticsearch.cn-shanghai.aliyuncs.com/openapi/instances/es-cn-abc0001/actions/cancel-task?clientToken=cmt1-0123%20%28x%29&taskType=MigrateData',
    );
    const headers = seen[0]?.headers ?? {};
    expect(headers.host).toBe('elasticsearch.cn-shanghai.aliyuncs.com');
    expect(headers['x-acs-action']).toBe('CancelTask');
    expect(headers['x-acs-version']).toBe('2017-06-13');
    expect(parseAuthorization(headers.authorization ?? '')).toMatchObject({
      accessKeyId: 'LTAI-test',
      signedHeaders: expect.arrayContaining(['host', 'x-acs-date', 'x-acs-signature-nonce', 'x-acs-content-sha256']),
    });
  });

  it.each([
    ['elasticsearch-vpc.cn-hangzhou.aliyuncs.com', 'https://elasticsearch-vpc.cn-hangzhou.aliyuncs.com/'],
    ['http://127.0.0.1:9000', 'http://127.0.0.1:9000/'],
    ['127.0.0.1:9000', 'https://127.0.0.1:9000/'],
  ])('honours the endpoint override %s', async (endpoint, prefix) => {
    const { seen, fetchFn } = recording(() => json(200, { RequestId: 'R', Result: true }));
    await createElasticsearchClient({ endpoint, timeoutMs: 1000, fetch: fetchFn }).call(call, credentials);
    expect(seen[0]?.url.startsWith(prefix)).toBe(true);
  });

  it('sends the STS security token', async () => {
    const { seen, fetchFn } = recording(() => json(200, { RequestId: 'R', Result: true }));
    await createElasticsearchClient({ timeoutMs: 1000, fetch: fetchFn }).call(call, {
      ...credentials,
      securityToken: 'CAIS-x',
    });
    expect(seen[0]?.headers['x-acs-security-token']).toBe('CAIS-x');
    expect(seen[0]?.headers.authorization).toContain('x-acs-security-token');
  });

  it.each<[string, () => Response | Promise<Response>, Partial<ApiError>]>([
    [
      'a documented refusal',
      () => json(400, { RequestId: 'R-2', Code: 'InstanceNotFound', Message: 'gone' }),
      { code: 'InstanceNotFound', retryable: false, requestId: 'R-2', httpStatus: 400 },
    ],
    [
      'throttling',
      () =>
        json(400, { RequestId: 'R-3', Code: 'Throttling.User', Message: 'slow down' }, { 'x-acs-retry-after': '250' }),
      { code: 'Throttling.User', retryable: true, retryAfterMs: 250 },
    ],
    [
      'an update conflict',
      () => json(409, { Code: 'ConcurrencyUpdateInstanceConflict', Message: 'busy' }),
      { code: 'ConcurrencyUpdateInstanceConflict', retryable: true },
    ],
    [
      'a server error',
      () => json(500, { Code: 'InternalError', Message: 'oops' }),
      { code: 'InternalError', retryable: true },
    ],
    [
      'a gateway page that is not JSON',
      () => new Response('<html>bad gateway</html>', { status: 502 }),
      { code: 'HTTP502', retryable: true },
    ],
    [
      'a refused signature',
      () => json(400, { Code: 'SignatureDoesNotMatch', Message: 'no' }),
      { code: 'SignatureDoesNotMatch', retryable: false },
    ],
    [
      'a reset connection',
      () => Promise.reject(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNRESET' } })),
      { code: 'ConnectionLost', retryable: true },
    ],
    [
      'a time-out',
      () => Promise.reject(new DOMException('The operation was aborted due to timeout', 'TimeoutError')),
      { code: 'RequestTimeout', retryable: true },
    ],
  ])('classifies %s', async (_case, response, expected) => {
    const { fetchFn } = recording(response);
    const error = await createElasticsearchClient({ timeoutMs: 1000, fetch: fetchFn })
      .call(call, credentials)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject(expected);
  });

  it('times out a hung attempt', async () => {
    const hung = (async (_input: string | URL | Request, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
      })) as typeof fetch;
    const error = await createElasticsearchClient({ timeoutMs: 50, fetch: hung })
      .call(call, credentials)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'RequestTimeout', retryable: true });
  });

  it('checks its options once', () => {
    expect(() => createElasticsearchClient({ timeoutMs: 0 })).toThrow(TypeError);
  });
});

describe('Function: createNodeTransport', () => {
  /** A real server on a random port whose behaviour each test chooses. */
  async function server(handle: (req: IncomingMessage, res: ServerResponse) => void) {
    const s = createServer(handle);
    await new Promise<void>((done) => s.listen(0, '127.0.0.1', done));
    const { port } = s.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}`,
      close: () =>
        new Promise<void>((done) => {
          s.closeAllConnections();
          s.close(() => done());
        }),
    };
  }
  const client = (endpoint: string, timeoutMs = 1000) =>
    createElasticsearchClient({ endpoint, timeoutMs, transport: createNodeTransport(2) });

  it('sends the signed request and reads the reply', async () => {
    let seen: IncomingMessage | undefined;
    const s = await server((req, res) => {
      seen = req;
      res.setHeader('content-type', 'application/json');
      res.end('{"RequestId":"R-9","Result":true}');
    });
    try {
      expect(await client(s.url).call(call, credentials)).toMatchObject({ requestId: 'R-9' });
      expect(seen?.url).toBe(`${call.path}?clientToken=cmt1-0123%20%28x%29&taskType=MigrateData`);
      expect(seen?.headers.authorization).toMatch(/^ACS3-HMAC-SHA256 Credential=LTAI-test,/);
      expect(seen?.headers.host).toBe(new URL(s.url).host);
    } finally {
      await s.close();
    }
  });

  it.each<[string, (req: IncomingMessage, res: ServerResponse) => void, string]>([
    ['a server that never answers', () => {}, 'RequestTimeout'],
    ['a connection reset before the reply', (req) => req.socket.destroy(), 'ConnectionLost'],
    [
      'a reply cut off mid-body',
      (_req, res) => {
        res.writeHead(200, { 'content-length': '100' });
        res.write('{"Request');
        setImmediate(() => res.socket?.destroy());
      },
      'ConnectionLost',
    ],
  ])('classifies %s as retryable', async (_case, handle, code) => {
    const s = await server(handle);
    try {
      const error = await client(s.url, 200)
        .call(call, credentials)
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code, retryable: true });
    } finally {
      await s.close();
    }
  });

  it('classifies a refused connection as retryable', async () => {
    const s = await server(() => {});
    await s.close();
    const error = await client(s.url)
      .call(call, credentials)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'ConnectionLost',
      retryable: true,
      message: expect.stringMatching(/ECONNREFUSED/),
    });
  });

  // node:https is loaded on the first https call (not with the bundle): that call still goes over
  // TLS and still verifies the API's certificate against Node's roots.
  it.skipIf(!HAS_OPENSSL)(
    'refuses a certificate no root vouches for, as a TLS failure a retry cannot fix, sending nothing',
    async () => {
      const s = await startUntrustedTlsServer();
      try {
        const error = await client(s.url)
          .call(call, credentials)
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ApiError);
        expect(error).toMatchObject({
          code: 'TlsFailure',
          retryable: false,
          message: expect.stringMatching(
            /^the TLS connection to the API failed \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN)\)$/,
          ),
        });
        expect(s.requests()).toBe(0);
        expect(s.connections()).toBe(1);
      } finally {
        await s.close();
      }
    },
  );
});

describe('Function: createElasticsearchClient, TLS errors that are not a refused certificate', () => {
  it.each([
    'ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC',
    'ERR_SSL_SSLV3_ALERT_BAD_RECORD_MAC',
    'ERR_TLS_INVALID_STATE',
  ])(
    'treats %s as a lost connection a retry with the same clientToken may fix (the request may have gone out)',
    async (code) => {
      const api = createElasticsearchClient({
        endpoint: 'https://elasticsearch.cn-shanghai.aliyuncs.com',
        timeoutMs: 1000,
        transport: async () => {
          throw Object.assign(new Error(`read ${code}`), { code });
        },
      });
      const error = await api.call(call, credentials).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'ConnectionLost', retryable: true });
    },
  );
});

describe('Function: isCertificateFailure', () => {
  it.each([
    ['ERR_TLS_CERT_ALTNAME_INVALID', true],
    ['CERT_HAS_EXPIRED', true],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', true],
    ['UNABLE_TO_GET_CRL', true],
    ['HOSTNAME_MISMATCH', true],
    ['ERR_SSL_WRONG_VERSION_NUMBER', false],
    ['ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC', false],
    ['ECONNRESET', false],
    [undefined, false],
  ])('%s → %s', (code, certificate) => {
    expect(isCertificateFailure(code)).toBe(certificate);
  });
});

describe('Function: isTlsFailure', () => {
  it.each([
    // Node's own TLS errors, and OpenSSL's verification codes as Node reports them.
    ['ERR_TLS_CERT_ALTNAME_INVALID', true],
    ['ERR_SSL_WRONG_VERSION_NUMBER', true],
    ['CERT_HAS_EXPIRED', true],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', true],
    ['SELF_SIGNED_CERT_IN_CHAIN', true],
    ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', true],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', true],
    ['UNABLE_TO_GET_CRL', true],
    ['HOSTNAME_MISMATCH', true],
    ['INVALID_CA', true],
    // The network: a retry can meet another connection.
    ['ECONNRESET', false],
    ['ECONNREFUSED', false],
    ['ENOTFOUND', false],
    ['EAI_AGAIN', false],
    ['ETIMEDOUT', false],
    [undefined, false],
  ])('%s → %s', (code, tls) => {
    expect(isTlsFailure(code)).toBe(tls);
  });
});

/**
 * The codes above are Node's own; here Node's TLS client raises them against real servers with
 * certificates made now (the bench's test CA), so the classification is checked against what Node
 * actually reports, not against a list copied from its docs.
 */
describe.skipIf(!HAS_OPENSSL)('Function: isCertificateFailure, on the errors Node raises', () => {
  let dir: string;
  let certificates: { ca: string; key: string; cert: string };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tls-codes-'));
    certificates = makeTestCertificates(dir) as typeof certificates;
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  /** The error code of one TLS client connection to a server presenting `key`/`cert` (or plain TCP). */
  async function codeOf(server: { key: string; cert: string } | 'plain', client: ConnectionOptions): Promise<string> {
    const listener =
      server === 'plain'
        ? createNetServer((socket) => socket.once('data', () => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n')))
        : createTlsServer({ key: await readFile(server.key), cert: await readFile(server.cert) }, (s) => s.end());
    listener.on('tlsClientError', () => undefined);
    await new Promise<void>((ready) => listener.listen(0, '127.0.0.1', ready));
    try {
      const port = (listener.address() as AddressInfo).port;
      return await new Promise<string>((done) => {
        const socket = tlsConnect({ host: '127.0.0.1', port, ...client }, () => {
          socket.destroy();
          done('connected');
        });
        socket.on('error', (error: Error & { code?: string }) => done(error.code ?? 'no code'));
      });
    } finally {
      await new Promise((closed) => listener.close(closed));
    }
  }

  it('a leaf no trusted root vouches for: a refused certificate', async () => {
    const code = await codeOf(certificates, {});
    expect(code).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect(isCertificateFailure(code)).toBe(true);
  });

  it('a certificate for another host, from a trusted CA: a refused certificate', async () => {
    const code = await codeOf(certificates, {
      ca: await readFile(certificates.ca),
      servername: 'elasticsearch.example',
    });
    expect(code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    expect(isCertificateFailure(code)).toBe(true);
  });

  it('a self-signed certificate: a refused certificate', async () => {
    const code = await codeOf({ key: join(dir, 'test-ca.key'), cert: certificates.ca }, {});
    expect(['SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT']).toContain(code);
    expect(isCertificateFailure(code)).toBe(true);
  });

  it('the same trusted CA and host: no error (the checks above are the certificate, not the setup)', async () => {
    expect(await codeOf(certificates, { ca: await readFile(certificates.ca) })).toBe('connected');
  });

  it('a server that does not speak TLS: a TLS error, but not a refused certificate (retried by the API client)', async () => {
    const code = await codeOf('plain', {});
    expect(code).toBe('ERR_SSL_WRONG_VERSION_NUMBER');
    expect(isTlsFailure(code)).toBe(true);
    expect(isCertificateFailure(code)).toBe(false);
  });
});
