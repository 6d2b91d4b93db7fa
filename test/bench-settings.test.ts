import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, compilePreload, makeTestCertificates } from '../scripts/bench.ts';

const run = promisify(execFile);

/** The README's performance table must say under which settings `npm run bench` took each figure. */
const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

describe('Function: npm run bench fan-out settings', () => {
  it('runs the 100-alert fan-out with MAX_TARGETS_PER_EVENT=100, and the README table says so', () => {
    const bench = read('scripts/bench.ts');
    const limit = /const fanOutEnv = \{[^}]*MAX_TARGETS_PER_EVENT: '(\d+)'/.exec(bench)?.[1];
    expect(limit).toBe('100');
    // The fan-out handler is built with those settings, and the printed label comes from them.
    expect(bench).toMatch(/env: \{ \.\.\.fnEnv, \.\.\.fanOutEnv \}/);
    expect(bench).toMatch(/MAX_TARGETS_PER_EVENT=\$\{fanOutEnv\.MAX_TARGETS_PER_EVENT\}/);
    const row = read('README.md')
      .split('\n')
      .find((line) => line.startsWith('| (d) fan-out'));
    expect(row).toContain(`\`MAX_TARGETS_PER_EVENT=${limit}\``);
  });
});

describe('Function: cleanEnv', () => {
  it('gives a measured process PATH and what the bench sets, nothing inherited from the parent', () => {
    const saved = { ...process.env };
    Object.assign(process.env, { NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/ca-certificates.crt', NODE_OPTIONS: '--no-opt' });
    try {
      expect(Object.keys(cleanEnv({ GENERIC_WEBHOOK_SECRETS: 'whsec_x' })).sort()).toEqual([
        'GENERIC_WEBHOOK_SECRETS',
        'PATH',
      ]);
    } finally {
      for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
      Object.assign(process.env, saved);
    }
  });

  it.each(['NODE_OPTIONS', 'NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'UV_THREADPOOL_SIZE', 'OPENSSL_CONF'])(
    'refuses %s unless an experiment names it',
    (name) => {
      expect(() => cleanEnv({ [name]: 'x' })).toThrow(/not a clean environment/);
      expect(cleanEnv({ [name]: 'x' }, [name])[name]).toBe('x');
    },
  );
});

const openssl = spawnSync('openssl', ['version']).status === 0;
if (!openssl) console.warn('openssl CLI missing: the bench test certificate is not checked');

describe.skipIf(!openssl)('Function: the bench preload and its test CA', () => {
  let dir: string;
  let certificates: { ca: string; key: string; cert: string };
  let server: Server;
  let url: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bench-tls-'));
    certificates = makeTestCertificates(dir) as typeof certificates;
    await compilePreload(join(dir, 'preload.cjs'));
    server = createServer(
      { key: await readFile(certificates.key), cert: await readFile(certificates.cert) },
      (_, res) => res.end('ok'),
    );
    await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** An HTTPS GET as the bundle's client makes it (node:https, an agent of its own), in a fresh clean process. */
  async function get(env: Record<string, string>): Promise<string> {
    const script = `
      const https = require('node:https');
      https.get(process.argv[1], { agent: new https.Agent({ keepAlive: false }) }, (res) => {
        res.resume();
        res.on('end', () => process.stdout.write('status ' + res.statusCode));
      }).on('error', (error) => process.stdout.write('refused ' + error.code));
    `;
    const { stdout } = await run(process.execPath, ['--require', join(dir, 'preload.cjs'), '-e', script, url], {
      env: cleanEnv(env),
    });
    return stdout;
  }

  it('makes the HTTPS client trust the test CA, without NODE_EXTRA_CA_CERTS', async () => {
    expect(await get({ BENCH_TRUST_CA: certificates.ca })).toBe('status 200');
  });

  it('never turns verification off: without the CA, or with another CA, the certificate is refused', async () => {
    expect(await get({})).toBe('refused UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    const other = makeTestCertificates(await mkdtemp(join(dir, 'other-'))) as typeof certificates;
    expect(await get({ BENCH_TRUST_CA: other.ca })).toBe('refused UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });
});
