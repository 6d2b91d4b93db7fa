import { execFileSync, spawn } from 'node:child_process';
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { serve } from '@hono/node-server';
import { build } from 'esbuild';
import { createEmulator, type Emulator } from '../emulator/app.ts';
import { LOCAL_EMULATOR_CREDENTIALS } from '../emulator/credentials.ts';
import { DEMO_INSTANCES } from '../emulator/seed.ts';
import { fromFcHttpResult, localContext, toFcHttpEvent } from '../local/fc-invoke.ts';
import { signStandardWebhook, standardWebhookKey } from '../shared/auth/standard-webhooks.ts';
import { createFunctionHandler } from '../shared/create-function.ts';
import { logSink } from '../shared/logger.ts';
import { findRedisServer, type RunningRedis, startRedis } from '../test/support/redis-server.ts';
import type { Marks } from './bench-preload.ts';
import { attributeProfile, type ProfileTimes } from './bench-profile.ts';
import { type BundleSize, buildAll } from './build.ts';

/**
 * `npm run bench`: start-up cost is the product's main performance figure, so every figure is
 * measured against baselines taken in the same run on the same machine, never as absolute times
 * in a unit test. Goals (issue 13): cold start ≤ 1.0× the hono floor for a generic and for an
 * Alertmanager delivery, peak RSS ≤ 1.2× bare node, each bundle ≤ 120 KB, warm in-process overhead
 * ≤ 0.15 ms median with INFO logging; and (issue 5) a 100-alert fan-out ≤ 0.6 s.
 *
 * Every measured process is a fresh `node` with a clean environment: no NODE_OPTIONS,
 * NODE_EXTRA_CA_CERTS (≈40 ms on every start), SSL_CERT_* or other variable that changes how node
 * starts or what it trusts, and no flag but the bench's own; each process reports what it saw and
 * the bench refuses a run that was not clean. The functions log at INFO, as shipped (to /dev/null).
 *
 * The bundles are built as `npm run build` builds them (code cache included) into .bench/dist,
 * with source maps beside them for the breakdown; dist/ is left alone.
 *
 * Over 200 lines on purpose: every figure is measured against baselines in the same run, so the
 * baselines, the measured processes and the report live together (the preload and the profile
 * reader are their own files).
 */
const RUNS = Number(process.env.BENCH_RUNS ?? 21);
const PROFILE_RUNS = Number(process.env.BENCH_PROFILE_RUNS ?? 5);
const WARM_REQUESTS = Number(process.env.BENCH_WARM ?? 3000);
const FN = 'interrupt-elasticsearch-task';
const SECRET = `whsec_${Buffer.from('bench-webhook-secret-0123456789ab').toString('base64')}`;
const AM_TOKEN = 'bench-alertmanager-token';
const INSTANCE = 'es-cn-demo-activating';
/**
 * The Alertmanager delivery's own instance, with a change running, as the generic delivery's: each
 * delivery's token is the same in every run, so its first run applies and the others are the API's
 * idempotent answer to that token, one call each. An instance the other delivery had interrupted
 * would add the read that says `already` (measured on its own, on a suspended instance).
 */
const ALERT_INSTANCE = 'es-cn-bench-alert';
const SUSPENDED_INSTANCE = 'es-cn-demo-suspended';
const WORK = resolve('.bench');
const DIST = join(WORK, 'dist');

/** Variables that change how node starts, what it loads or what it trusts: none reaches a measured process. */
export const NODE_VARIABLE = /^(NODE_|UV_|OPENSSL_|SSL_CERT_|V8_)/;

/** The whole environment of a measured process: PATH and what the bench gives it, nothing inherited. */
export function cleanEnv(extra: Record<string, string> = {}, allowed: readonly string[] = []): Record<string, string> {
  const unexpected = Object.keys(extra).filter((name) => NODE_VARIABLE.test(name) && !allowed.includes(name));
  if (unexpected.length > 0) throw new Error(`not a clean environment: ${unexpected.join(', ')}`);
  return { PATH: process.env.PATH ?? '', ...extra };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const quantile = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * q))] ?? Number.NaN;

/** What every measured process reports on fd 3 when it is done (and what it saw of its environment). */
const REPORT = `function benchReport(extra) {
  require('node:fs').writeSync(3, JSON.stringify(Object.assign({
    rssKiB: process.resourceUsage().maxRSS,
    cpuMs: (process.resourceUsage().userCPUTime + process.resourceUsage().systemCPUTime) / 1000,
    nodeVariables: Object.keys(process.env).filter((name) => ${NODE_VARIABLE}.test(name)),
    execArgv: process.execArgv,
  }, extra)));
}`;

interface Report {
  rssKiB: number;
  /** CPU time (user + system) of the whole process: less sensitive than wall time to a busy machine. */
  cpuMs: number;
  nodeVariables: string[];
  execArgv: string[];
  codeCache?: string;
  [key: string]: unknown;
}

interface Run {
  /** Node options before the script (the bench's own flags only). */
  flags?: string[];
  /** A script file and its arguments, or `-e` code. */
  script: string[];
  env?: Record<string, string>;
  /** NODE_VARIABLE names this run sets on purpose (an experiment), else none may be seen. */
  allow?: string[];
}

/** Runs a fresh node process; its wall time (spawn to exit) and its report, checked for cleanliness. */
function runNode(run: Run): Promise<{ ms: number; report: Report }> {
  const flags = run.flags ?? [];
  return new Promise((done, fail) => {
    const started = performance.now();
    const child = spawn(process.execPath, [...flags, ...run.script], {
      env: cleanEnv(run.env, run.allow),
      // The function's log lines (stdout) go to /dev/null, as cheap as FC's capture; fd 3 is the report.
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    });
    let report = '';
    let stderr = '';
    child.stdio[3]?.on('data', (chunk: Buffer) => {
      report += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('close', (code) => {
      const ms = performance.now() - started;
      if (code !== 0 || report === '') return fail(new Error(`node ${run.script[0]} exited ${code}: ${stderr}`));
      const parsed = JSON.parse(report) as Report;
      const expectedArgv = run.script[0] === '-e' ? [...flags, '-e', run.script[1]] : flags;
      const seen = parsed.nodeVariables.filter((name) => !(run.allow ?? []).includes(name));
      if (seen.length > 0 || JSON.stringify(parsed.execArgv) !== JSON.stringify(expectedArgv)) {
        return fail(new Error(`not a clean process: saw ${seen.join(', ')}; flags ${parsed.execArgv.join(' ')}`));
      }
      done({ ms, report: parsed });
    });
  });
}

function genericEvent(url: string, id: string): Promise<Buffer> {
  const body = JSON.stringify({ instanceIds: [INSTANCE], reason: 'bench' });
  const ts = Math.floor(Date.now() / 1000);
  const request = new Request(`${url}/${FN}/generic`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(ts),
      'webhook-signature': signStandardWebhook(standardWebhookKey(SECRET), id, ts, body),
    },
    body,
  });
  return toFcHttpEvent(request);
}

/** An Alertmanager webhook notification (version 4) of one firing group, an alert per instance, fingerprints fixed. */
function alertGroup(instanceIds: readonly string[]) {
  return {
    version: '4',
    groupKey: '{}:{alertname="ChangeStuck"}',
    truncatedAlerts: 0,
    status: 'firing',
    receiver: 'es-interrupt',
    groupLabels: { alertname: 'ChangeStuck' },
    commonLabels:
      instanceIds.length === 1
        ? { alertname: 'ChangeStuck', instanceId: instanceIds[0] }
        : { alertname: 'ChangeStuck' },
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    alerts: instanceIds.map((instanceId, i) => ({
      status: 'firing',
      labels: { alertname: 'ChangeStuck', instanceId },
      annotations: {},
      startsAt: '2026-11-25T03:00:00Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus:9090/graph',
      fingerprint: (i + 0xb1).toString(16).padStart(16, '0'),
    })),
  };
}

function alertmanagerEvent(url: string, instanceId = ALERT_INSTANCE): Promise<Buffer> {
  const body = JSON.stringify(alertGroup([instanceId]));
  const request = new Request(`${url}/${FN}/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${AM_TOKEN}` },
    body,
  });
  return toFcHttpEvent(request);
}

/** A test-only CA and a certificate for 127.0.0.1 it issued, made now with the openssl CLI (none is committed). */
export function makeTestCertificates(dir: string): { ca: string; key: string; cert: string } | undefined {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    openssl('version');
  } catch {
    return undefined;
  }
  const ca = join(dir, 'test-ca.pem');
  const caKey = join(dir, 'test-ca.key');
  const key = join(dir, 'server.key');
  const csr = join(dir, 'server.csr');
  const cert = join(dir, 'server.pem');
  const ext = join(dir, 'server.ext');
  // RSA 2048, as the API's own certificates: the client's handshake work is the same kind.
  const subject = '/O=TEST ONLY, made by npm run bench/CN=es-change-responder bench test CA';
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    subject,
    '-keyout',
    caKey,
    '-out',
    ca,
  );
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', key, '-out', csr);
  writeFileSync(ext, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  openssl(
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca,
    '-CAkey',
    caKey,
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    ext,
    '-out',
    cert,
  );
  return { ca, key, cert };
}

/** scripts/bench-preload.ts as the CommonJS file `node --require` loads. */
export async function compilePreload(outfile: string): Promise<void> {
  await build({
    entryPoints: [resolve('scripts/bench-preload.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    logLevel: 'error',
  });
}

/** An emulator served over HTTP or HTTPS, timing its own work per request (the part of an upstream call that is not ours). */
async function serveEmulator(tls?: { key: string; cert: string }) {
  const emulator: Emulator = createEmulator({ credentials: [LOCAL_EMULATOR_CREDENTIALS] });
  emulator.reset([...DEMO_INSTANCES, { instanceId: ALERT_INSTANCE, status: 'activating', migrating: false }]);
  const handlerMs: number[] = [];
  const fetch = async (request: Request, env: unknown) => {
    const started = performance.now();
    const response = await emulator.app.fetch(request, env as never);
    handlerMs.push(performance.now() - started);
    return response;
  };
  const options = tls
    ? {
        fetch,
        port: 0,
        hostname: '127.0.0.1',
        createServer: createHttpsServer,
        serverOptions: { key: await readFile(tls.key), cert: await readFile(tls.cert) },
      }
    : { fetch, port: 0, hostname: '127.0.0.1' };
  const server = await new Promise<ReturnType<typeof serve>>((ok) => {
    const s = serve(options, () => ok(s));
  });
  const url = `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    emulator,
    url,
    handlerMs,
    close() {
      server.close();
      (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
    },
  };
}

/**
 * Runs `work` with this process's stdout and stderr written to /dev/null (the functions log at
 * INFO): the logger's lines, which it writes to the descriptors (`logSink`), each with its own
 * write(2) as in production, and anything else written through the streams.
 */
async function toDevNull<T>(work: () => Promise<T>): Promise<T> {
  const fd = openSync('/dev/null', 'w');
  const sinkWrite = logSink.write;
  logSink.write = (_fd, line) => {
    writeSync(fd, Buffer.from(`${line}\n`, 'utf8'));
  };
  const streams = [process.stdout, process.stderr];
  const writes = streams.map((stream) => stream.write);
  for (const stream of streams) {
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      writeSync(fd, typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
      const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
      callback?.();
      return true;
    }) as typeof stream.write;
  }
  try {
    return await work();
  } finally {
    logSink.write = sinkWrite;
    streams.forEach((stream, i) => {
      stream.write = writes[i] as typeof stream.write;
    });
    closeSync(fd);
  }
}

const sum = (record: Record<string, number>) => Object.values(record).reduce((a, b) => a + b, 0);

async function main() {
  await rm(WORK, { recursive: true, force: true });
  await mkdir(join(WORK, 'tls'), { recursive: true });
  await mkdir(join(WORK, 'marks'), { recursive: true });
  const sizes: BundleSize[] = await buildAll(DIST, { sourcemap: true });
  const fnDir = join(DIST, FN);
  // The same function without its code cache: what the cache is worth, in the same run.
  const noCacheDir = join(WORK, 'no-cache', FN);
  await cp(fnDir, noCacheDir, { recursive: true });
  await rm(join(noCacheDir, 'bundle.cache'));

  // The framework floor: a minimal hono app answering one request, bundled like ours.
  await writeFile(
    join(WORK, 'floor-entry.js'),
    `import { Hono } from 'hono';
${REPORT}
const app = new Hono();
app.post('/', (c) => c.json({ ok: true }));
Promise.resolve(app.fetch(new Request('http://x/', { method: 'POST', body: '{}' }))).then(async (r) => {
  await r.text();
  benchReport({});
});
`,
  );
  await build({
    entryPoints: [join(WORK, 'floor-entry.js')],
    outfile: join(WORK, 'floor.cjs'),
    bundle: true,
    minify: true,
    platform: 'node',
    format: 'cjs',
    logLevel: 'error',
  });
  const cold = join(WORK, 'cold.cjs');
  await writeFile(
    cold,
    `${REPORT}
const { readFileSync } = require('node:fs');
const mod = require(process.argv[2]);
mod.handler(readFileSync(process.argv[3]), { requestId: 'bench', credentials: {} }).then((r) => {
  if (r.statusCode !== 200) { process.stderr.write(r.body); process.exit(1); }
  benchReport({ codeCache: mod[Symbol.for('es-change-responder.code-cache')]?.status });
});
`,
  );
  // The first TLS context of a fresh process, alone: what Node pays before the first HTTPS byte.
  const tlsContext = join(WORK, 'tls-context.cjs');
  await writeFile(
    tlsContext,
    `${REPORT}
const t0 = performance.now();
const tls = require('node:tls');
const t1 = performance.now();
tls.createSecureContext(process.argv[2] ? { ca: require('node:fs').readFileSync(process.argv[2], 'utf8') } : undefined);
benchReport({ loadMs: t1 - t0, contextMs: performance.now() - t1 });
`,
  );
  const preload = join(WORK, 'preload.cjs');
  await compilePreload(preload);

  const certificates = makeTestCertificates(join(WORK, 'tls'));
  const http = await serveEmulator();
  // The guardrails as production runs them: a state store (a local redis-server when the machine has one).
  const redisBin = findRedisServer();
  const redis: RunningRedis | undefined = redisBin ? await startRedis(redisBin) : undefined;
  const https = certificates ? await serveEmulator(certificates) : undefined;
  const envFor = (url: string) => ({
    GENERIC_WEBHOOK_SECRETS: SECRET,
    ALERTMANAGER_BEARER_TOKENS: AM_TOKEN,
    ALLOWED_INSTANCES: 'es-cn-*',
    ALIBABA_CLOUD_REGION: 'cn-hangzhou',
    ELASTICSEARCH_ENDPOINT: url,
    ALIBABA_CLOUD_ACCESS_KEY_ID: LOCAL_EMULATOR_CREDENTIALS.accessKeyId,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: LOCAL_EMULATOR_CREDENTIALS.accessKeySecret,
    POWERTOOLS_LOG_LEVEL: 'INFO',
  });

  try {
    const genericFile = join(WORK, 'generic.json');
    const alertmanagerFile = join(WORK, 'alertmanager.json');
    await writeFile(genericFile, await genericEvent(http.url, 'msg_bench_cold'));
    await writeFile(alertmanagerFile, await alertmanagerEvent(http.url));
    const alreadyFile = join(WORK, 'alertmanager-already.json');
    await writeFile(alreadyFile, await alertmanagerEvent(http.url, SUSPENDED_INSTANCE));
    const index = join(fnDir, 'index.js');
    let markId = 0;
    const marksRun = (url: string, extra: Partial<Run> = {}): Run & { marksFile: string } => {
      const marksFile = join(WORK, 'marks', `${markId++}.json`);
      return {
        flags: ['--require', preload, ...(extra.flags ?? [])],
        script: [cold, index, genericFile],
        env: { ...envFor(url), BENCH_MARKS_OUT: marksFile, ...extra.env },
        allow: extra.allow,
        marksFile,
      };
    };

    // Every kind of process once per round, rotated so drift and order hit them all alike.
    type Kind = { name: string; make: () => Run & { marksFile?: string } };
    const kinds: Kind[] = [
      { name: 'bare', make: () => ({ script: ['-e', `${REPORT}; benchReport({})`] }) },
      { name: 'floor', make: () => ({ script: [join(WORK, 'floor.cjs')] }) },
      { name: 'generic', make: () => ({ script: [cold, index, genericFile], env: envFor(http.url) }) },
      { name: 'alertmanager', make: () => ({ script: [cold, index, alertmanagerFile], env: envFor(http.url) }) },
      {
        name: 'alertmanager, already interrupted',
        make: () => ({ script: [cold, index, alreadyFile], env: envFor(http.url) }),
      },
      ...(redis
        ? [
            {
              name: 'alertmanager, with a state store',
              make: () => ({
                script: [cold, index, alertmanagerFile],
                env: { ...envFor(http.url), STATE_STORE_URL: redis.url },
              }),
            },
          ]
        : []),
      {
        name: 'generic, no code cache',
        make: () => ({ script: [cold, join(noCacheDir, 'index.js'), genericFile], env: envFor(http.url) }),
      },
      { name: 'marks http', make: () => marksRun(http.url) },
    ];
    if (https && certificates) {
      kinds.push(
        { name: 'marks https', make: () => marksRun(https.url, { env: { BENCH_TRUST_CA: certificates.ca } }) },
        {
          // What avoids the root store: OpenSSL's own store, here holding only the test CA.
          name: 'marks https, --use-openssl-ca',
          make: () =>
            marksRun(https.url, {
              flags: ['--use-openssl-ca'],
              env: { SSL_CERT_FILE: certificates.ca },
              allow: ['SSL_CERT_FILE'],
            }),
        },
        { name: 'tls context', make: () => ({ script: [tlsContext] }) },
        { name: 'tls context, ca option', make: () => ({ script: [tlsContext, certificates.ca] }) },
        {
          name: 'tls context, --use-openssl-ca',
          make: () => ({
            flags: ['--use-openssl-ca'],
            script: [tlsContext],
            env: { SSL_CERT_FILE: certificates.ca },
            allow: ['SSL_CERT_FILE'],
          }),
        },
      );
    }
    const results = new Map<string, Array<{ ms: number; report: Report; marks?: Marks }>>(
      kinds.map((k) => [k.name, []]),
    );
    for (let round = 0; round < RUNS; round++) {
      for (let k = 0; k < kinds.length; k++) {
        const kind = kinds[(round + k) % kinds.length] as Kind;
        const run = kind.make();
        const { ms, report } = await runNode(run);
        const marks = run.marksFile ? (JSON.parse(await readFile(run.marksFile, 'utf8')) as Marks) : undefined;
        results.get(kind.name)?.push({ ms, report, marks });
      }
    }
    // The emulator's own work per request, in the cold runs (before the fan-out adds its latency).
    const emulatorMs = median(http.handlerMs);
    const wall = (name: string) => median((results.get(name) ?? []).map((r) => r.ms));
    const cpu = (name: string) => median((results.get(name) ?? []).map((r) => r.report.cpuMs));
    const rss = (name: string) => median((results.get(name) ?? []).map((r) => r.report.rssKiB));
    const statuses = (name: string) => [...new Set((results.get(name) ?? []).map((r) => r.report.codeCache))].join('/');
    const marksOf = (name: string) => (results.get(name) ?? []).map((r) => r.marks as Marks);

    // CPU profiles of the cold generic run: which package inside the bundle the time went to.
    const profiles: ProfileTimes[] = [];
    const profileDir = join(WORK, 'profiles');
    for (let i = 0; i < PROFILE_RUNS; i++) {
      await rm(profileDir, { recursive: true, force: true });
      const { report } = await runNode({
        flags: ['--cpu-prof', '--cpu-prof-dir', profileDir, '--cpu-prof-interval', '100'],
        script: [cold, index, genericFile],
        env: envFor(http.url),
      });
      if (report.codeCache !== 'accepted') throw new Error(`the profiled run's code cache: ${report.codeCache}`);
      const [file] = await readdir(profileDir);
      profiles.push(attributeProfile(join(profileDir, file as string), join(fnDir, 'bundle.js'), index));
    }
    const profiled = (phase: 'load' | 'run' | 'both', category: string) =>
      median(
        profiles.map((p) =>
          phase === 'both' ? (p.load[category] ?? 0) + (p.run[category] ?? 0) : (p[phase][category] ?? 0),
        ),
      );

    // (c) warm in-process overhead: adapter, auth, parse, policy, token, sign; upstream replaced by an instant reply.
    const warmHandler = createFunctionHandler(FN, {
      env: envFor(http.url),
      transport: async () => ({ status: 200, retryAfter: undefined, body: '{"RequestId":"R","Result":true}' }),
    });
    const events = await Promise.all(
      Array.from({ length: WARM_REQUESTS + 300 }, (_, i) => genericEvent(http.url, `msg_warm_${i}`)),
    );
    const warm: number[] = [];
    await toDevNull(async () => {
      for (const [i, event] of events.entries()) {
        const t = performance.now();
        await warmHandler(event, localContext(FN));
        if (i >= 300) warm.push(performance.now() - t);
      }
    });

    // (d) fan-out: one 100-alert Alertmanager group, upstream latency 50 ms. The default blast-radius
    // limit (MAX_TARGETS_PER_EVENT=5) would refuse such a group whole, so the figure is taken with 100.
    const fnEnv = envFor(http.url);
    const fanOutEnv = { ALERTMANAGER_BEARER_TOKENS: 'bench-token', MAX_TARGETS_PER_EVENT: '100' };
    const ids = Array.from({ length: 100 }, (_, i) => `es-cn-bench${String(i).padStart(4, '0')}`);
    http.emulator.reset(ids.map((instanceId) => ({ instanceId, status: 'activating', migrating: false })));
    http.emulator.setFaults({ latencyMs: 50 });
    const fanHandler = createFunctionHandler(FN, {
      env: { ...fnEnv, ...fanOutEnv },
    });
    const group = alertGroup(ids);
    const fanRequest = new Request(`${http.url}/${FN}/alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer bench-token' },
      body: JSON.stringify(group),
    });
    const fanEvent = await toFcHttpEvent(fanRequest);
    const t = performance.now();
    const fanResult = await toDevNull(() => fanHandler(fanEvent, localContext(FN)));
    const fanMs = performance.now() - t;
    const fanResponse = fromFcHttpResult(fanResult);
    const fanBody = (await fanResponse.json()) as { summary: string };

    const m = {
      bare: wall('bare'),
      floor: wall('floor'),
      generic: wall('generic'),
      alertmanager: wall('alertmanager'),
      noCache: wall('generic, no code cache'),
    };
    const r = { bare: rss('bare'), floor: rss('floor'), generic: rss('generic'), alertmanager: rss('alertmanager') };
    const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
    const mib = (n: number) => `${(n / 1024).toFixed(1)} MiB`;
    const ms = (n: number) => `${n.toFixed(1)} ms`;
    const verdict = (ok: boolean) => (ok ? 'ok' : 'MISSED');
    const coldRow = (label: string, name: string) => {
      const value = wall(name);
      return `    ${label.padEnd(34)} median ${ms(value)} = ${(value / m.bare).toFixed(2)}x bare, ${(value / m.floor).toFixed(2)}x floor (goal <= 1.0x floor: ${verdict(value <= m.floor)}); CPU ${ms(cpu(name))} = ${(cpu(name) / cpu('floor')).toFixed(2)}x floor's`;
    };
    const warmMedian = median(warm);
    const rssWorst = Math.max(r.generic, r.alertmanager);

    const http1 = marksOf('marks http');
    const first = (marks: Marks[], pick: (x: Marks) => number | undefined) =>
      median(marks.map(pick).filter((x): x is number => x !== undefined && !Number.isNaN(x)));
    // A package's own samples and those of node's internals it called (Powertools' console writes).
    const withCalls = (phase: 'load' | 'run' | 'both', name: string) =>
      profiled(phase, name) + profiled(phase, `node internals <- ${name}`);
    const zod = withCalls('both', 'zod');
    const hono = withCalls('both', 'hono');
    const powertools = withCalls('both', 'Powertools');
    const inLoad = withCalls('load', 'zod') + withCalls('load', 'hono') + withCalls('load', 'Powertools');
    const upstreamHttp = first(http1, (x) => x.upstream[0]?.ms);
    const breakdown: Array<[string, number, string]> = [
      ['undici loading on the first Headers/Request/Response', first(http1, (x) => x.undici), 'marks'],
      ['zod: core, config and event schemas, parseConfig, parsing', zod, 'profile'],
      [`first upstream HTTP call (${emulatorMs.toFixed(1)} ms of it is the emulator)`, upstreamHttp, 'marks'],
      [
        "reading, compiling and running the bundle's top level",
        Math.max(0, first(http1, (x) => x.bundle) - inLoad),
        'marks - profile',
      ],
      [
        `node built-ins loaded at require time (${Object.keys(http1[0]?.builtinsAtLoad ?? {}).join(', ')})`,
        first(http1, (x) => sum(x.builtinsAtLoad)),
        'marks',
      ],
      ['hono (routes, first dispatch, c.json)', hono, 'profile'],
      ['Powertools logger', powertools, 'profile'],
      [
        `first HMAC/SHA-256/ACS3 (all ${first(http1, (x) => x.hashCalls)} hash calls, the loader's digest included)`,
        first(http1, (x) => x.hashing),
        'marks',
      ],
      [
        `node built-ins first loaded while handling (${Object.keys(http1[0]?.builtinsLater ?? {}).join(', ') || 'none'})`,
        first(http1, (x) => sum(x.builtinsLater)),
        'marks',
      ],
    ];
    const profileCategories = [...new Set(profiles.flatMap((p) => [...Object.keys(p.load), ...Object.keys(p.run)]))];

    const rows = [
      `es-change-responder benchmarks (node ${process.version}, ${RUNS} interleaved cold runs of each process, ${WARM_REQUESTS} warm requests, ${new Date().toISOString().slice(0, 10)})`,
      '',
      '(a) cold start, fresh process with a clean environment: load the bundle, handle one delivery against the local emulator (INFO logging)',
      `    bare node -e                       median ${ms(m.bare)}; CPU ${ms(cpu('bare'))}`,
      `    framework floor (hono)             median ${ms(m.floor)}; CPU ${ms(cpu('floor'))}`,
      coldRow(`generic (code cache ${statuses('generic')})`, 'generic'),
      coldRow(`alertmanager (code cache ${statuses('alertmanager')})`, 'alertmanager'),
      `    alertmanager, instance already interrupted (refused, then read: \`already\`, two calls) median ${ms(wall('alertmanager, already interrupted'))} = ${(wall('alertmanager, already interrupted') / m.floor).toFixed(2)}x floor; CPU ${(cpu('alertmanager, already interrupted') / cpu('floor')).toFixed(2)}x floor's (not a goal)`,
      redis
        ? `    alertmanager with STATE_STORE_URL (a local redis-server: redis.js loaded, with its code cache, and connected) median ${ms(wall('alertmanager, with a state store'))} = ${(wall('alertmanager, with a state store') / m.floor).toFixed(2)}x floor; CPU ${(cpu('alertmanager, with a state store') / cpu('floor')).toFixed(2)}x floor's (not a goal)`
        : '    alertmanager with STATE_STORE_URL: not measured (no redis-server on this machine)',
      `    generic without the code cache     median ${ms(m.noCache)}; CPU ${ms(cpu('generic, no code cache'))}: the cache saves ${ms(m.noCache - m.generic)}, CPU ${ms(cpu('generic, no code cache') - cpu('generic'))} (${statuses('generic, no code cache')})`,
      '(b) bundle size (goal <= 120 KB each; + the loader index.js, + bundle.cache read at start)',
      ...sizes.map(
        (s) =>
          `    dist/${s.name}/bundle.js  ${kib(s.bytes)}  ${verdict(s.bytes <= 120 * 1024)}   (index.js ${kib(s.loaderBytes)}, bundle.cache ${kib(s.cacheBytes)})`,
      ),
      '(c) warm in-process overhead per request (adapter, auth, parse, policy, token, sign; upstream excluded), INFO logging to /dev/null',
      `    median ${warmMedian.toFixed(3)} ms, p99 ${quantile(warm, 0.99).toFixed(3)} ms (goal median <= 0.15 ms: ${verdict(warmMedian <= 0.15)})`,
      `(d) fan-out: one 100-alert Alertmanager group, upstream latency 50 ms, MAX_TARGETS_PER_EVENT=${fanOutEnv.MAX_TARGETS_PER_EVENT}`,
      `    total ${(fanMs / 1000).toFixed(3)} s, status ${fanResponse.status}, ${fanBody.summary} (target <= 0.6 s: ${verdict(fanMs <= 600)})`,
      '(e) peak RSS of the cold runs',
      `    bare ${mib(r.bare)}, floor ${mib(r.floor)} (${(r.floor / r.bare).toFixed(2)}x), generic ${mib(r.generic)} = ${(r.generic / r.bare).toFixed(2)}x bare, alertmanager ${mib(r.alertmanager)} = ${(r.alertmanager / r.bare).toFixed(2)}x bare (goal <= 1.2x: ${verdict(rssWorst / r.bare <= 1.2)})`,
      `    without the code cache: generic ${mib(rss('generic, no code cache'))}`,
      '',
      `Where the cold generic run's time goes (medians; marks: wall time in ${RUNS} runs with the bench's preload, exclusive of nested marks; profile: CPU samples of ${PROFILE_RUNS} runs under --cpu-prof, which slows them)`,
      '    | item | ms | measured by |',
      '    |---|---|---|',
      ...breakdown.map(([item, value, how]) => `    | ${item} | ${value.toFixed(1)} | ${how} |`),
      `    sum ${ms(breakdown.reduce((a, [, v]) => a + v, 0))}; cold generic - bare ${ms(m.generic - m.bare)}; with the preload ${ms(wall('marks http'))}`,
      '    CPU samples by category (profile, ms: loading the bundle / handling):',
      ...profileCategories
        .map((c) => [c, profiled('load', c), profiled('run', c)] as const)
        .sort((a, b) => b[1] + b[2] - (a[1] + a[2]))
        .map(
          ([c, load, run]) => `      ${c.padEnd(28)} ${load.toFixed(1).padStart(6)} / ${run.toFixed(1).padStart(6)}`,
        ),
    ];

    if (https) {
      const https1 = marksOf('marks https');
      const openssl = marksOf('marks https, --use-openssl-ca');
      const context = (name: string) => median((results.get(name) ?? []).map((x) => x.report.contextMs as number));
      const tlsLoad = median((results.get('tls context') ?? []).map((x) => x.report.loadMs as number));
      const injection = first(https1, (x) => x.caInjection);
      const extra = wall('marks https') - injection - wall('marks http');
      rows.push(
        '',
        'First HTTPS call (the same cold generic run against the emulator over TLS with a test certificate; the bench adds its test CA to each TLS context, without NODE_EXTRA_CA_CERTS)',
        `    cold generic over HTTPS - over HTTP: ${ms(extra)} (the bench's CA injection, ${ms(injection)}, taken out)`,
        `    first upstream call: HTTPS ${ms(first(https1, (x) => x.upstream[0]?.ms))} (TLS handshake done at ${ms(first(https1, (x) => x.upstream[0]?.tlsHandshakeMs))}), HTTP ${ms(upstreamHttp)}`,
        `    first TLS context (Node builds its bundled root certificate store): ${ms(first(https1, (x) => x.tlsContexts[0]))} in the cold run; alone in a fresh process ${ms(context('tls context'))} (+ loading tls ${ms(tlsLoad)})`,
        `    what avoids it, without V8 flags: a context given only the API's CA (ca option): ${ms(context('tls context, ca option'))} (no gain: Node 20 builds the bundled store before adding a CA)`,
        `      --use-openssl-ca with SSL_CERT_FILE holding only the CA: ${ms(context('tls context, --use-openssl-ca'))} alone; cold generic over HTTPS ${ms(wall('marks https, --use-openssl-ca'))} vs ${ms(wall('marks https') - injection)} with the bundled roots (first context ${ms(first(openssl, (x) => x.tlsContexts[0]))})`,
      );
    } else {
      rows.push('', 'First HTTPS call: not measured (no openssl CLI to make the test certificate)');
    }
    process.stdout.write(`${rows.join('\n')}\n`);
  } finally {
    http.close();
    https?.close();
    await redis?.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
