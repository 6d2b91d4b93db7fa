import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestCertificates } from '../../scripts/bench.ts';

/** Whether the `openssl` CLI is here to make the test certificate (tests skip without it). */
export const HAS_OPENSSL = spawnSync('openssl', ['version']).status === 0;

export interface UntrustedTlsServer {
  /** `https://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** TCP connections made to it (each attempt that met the certificate). */
  readonly connections: () => number;
  /** Requests that got through (none, when the client verifies the certificate). */
  readonly requests: () => number;
  close(): Promise<void>;
}

/**
 * An https server on a random port whose certificate is issued by a test CA no root vouches for
 * (made by the bench's `makeTestCertificates`, never committed): a client that verifies it refuses
 * the handshake, as it would an endpoint behind an intercepting proxy or with a wrong CA.
 */
export async function startUntrustedTlsServer(body = '{"RequestId":"R-1","Result":true}'): Promise<UntrustedTlsServer> {
  const dir = await mkdtemp(join(tmpdir(), 'untrusted-tls-'));
  const certificates = makeTestCertificates(dir);
  if (!certificates) throw new Error('openssl could not make the test certificate');
  let requests = 0;
  let connections = 0;
  const server = createServer(
    { key: await readFile(certificates.key), cert: await readFile(certificates.cert) },
    (_req, res) => {
      requests += 1;
      res.setHeader('content-type', 'application/json');
      res.end(body);
    },
  );
  server.on('connection', () => {
    connections += 1;
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    connections: () => connections,
    requests: () => requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
