import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FunctionName } from '../../shared/actions.ts';
import { signGrafanaHmac } from '../../shared/auth/grafana-hmac.ts';
import type { Env } from '../../shared/config.ts';
import {
  type AlertFixture,
  type AlertFixtureName,
  fixture as alertmanagerFixture,
} from '../fixtures/alertmanager/kit.ts';
import { fixture as grafanaFixture } from '../fixtures/grafana/kit.ts';
import { findExecutable } from './find-executable.ts';
import { wireFunction } from './function-harness.ts';

export { expectedToken } from './function-harness.ts';

export const AM_TOKEN = 'am-test-token-5b9d';
export const AM_ROTATED_TOKEN = 'am-rotated-token-e41c';
export const GRAFANA_SECRET = 'grafana-hmac-secret-3f8a0c';
export const GRAFANA_ROTATED_SECRET = 'grafana-rotated-secret-77d2e1';
export const GRAFANA_BEARER = 'grafana-bearer-token-19ab';

/**
 * A function wired like in the cloud against the emulator at `upstreamUrl`, with a fetch that
 * counts upstream calls; `post` sends one HTTP-trigger event through the real FC envelope.
 */
export function alertHarness(upstreamUrl: string, name: FunctionName, source: Sender, env: Env = {}) {
  return wireFunction(upstreamUrl, name, source, {
    ALERTMANAGER_BEARER_TOKENS: `${AM_ROTATED_TOKEN},${AM_TOKEN}`,
    GRAFANA_HMAC_SECRETS: `${GRAFANA_ROTATED_SECRET},${GRAFANA_SECRET}`,
    GRAFANA_BEARER_TOKENS: GRAFANA_BEARER,
    ...env,
  });
}

export type Sender = 'alertmanager' | 'grafana';
const loaders = { alertmanager: alertmanagerFixture, grafana: grafanaFixture };
/** Fixtures of real payloads (from each sender's kit); every call returns a fresh clone, so a test can mutate it freely. */
export function fixture(sender: Sender, name: AlertFixtureName): AlertFixture {
  return loaders[sender](name);
}

/** One alert of a fixture, by index; a missing one is a broken test. */
export function alertAt(payload: AlertFixture, index: number): AlertFixture['alerts'][number] {
  const alert = payload.alerts[index];
  if (!alert) throw new Error(`the fixture has no alert ${index}`);
  return alert;
}

export const bearer = (token: string) => ({ 'content-type': 'application/json', authorization: `Bearer ${token}` });
export const basic = (user: string, password: string) => ({
  'content-type': 'application/json',
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});

/** Headers of a Grafana delivery, signed at run time like grafana/alerting's HMAC round tripper. */
export function grafanaHeaders(
  body: string,
  options: {
    secret?: string;
    /** Unix seconds to sign and send; `null` for a contact point without a timestamp header. */
    timestamp?: number | null;
    signatureHeader?: string;
    timestampHeader?: string;
  } = {},
): Record<string, string> {
  const timestamp = options.timestamp === undefined ? Math.floor(Date.now() / 1000) : options.timestamp;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    [options.signatureHeader ?? 'X-Grafana-Alerting-Signature']: signGrafanaHmac(
      options.secret ?? GRAFANA_SECRET,
      body,
      timestamp ?? undefined,
    ),
  };
  if (timestamp !== null) headers[options.timestampHeader ?? 'X-Grafana-Alerting-Timestamp'] = String(timestamp);
  return headers;
}

/** The Alertmanager binary: ALERTMANAGER_BIN, else Debian's, else `alertmanager` on PATH; undefined when absent. */
export function findAlertmanager(): string | undefined {
  return findExecutable(
    ['prometheus-alertmanager', 'alertmanager'],
    [process.env.ALERTMANAGER_BIN, '/usr/bin/prometheus-alertmanager'],
  );
}

export { freePort } from '../../scripts/local-redis.ts';

/** Polls `probe` until it returns a value, or fails after `timeoutMs` with what it last saw. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  diagnostics: () => string = () => '',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}\n${diagnostics()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** One delivery as the sender made it, and what the function answered. */
export interface Delivery {
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  status: number;
  response: unknown;
}

/**
 * A transparent recording proxy: forwards every request to `target` unchanged (path, auth and
 * body) and keeps a copy of each delivery and its answer, so a test can count the sender's
 * notifications and replay one byte for byte.
 */
export async function startRecordingProxy(
  target: string,
): Promise<{ url: string; deliveries: Delivery[]; close(): Promise<void> }> {
  const deliveries: Delivery[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      try {
        const headers: Record<string, string> = {};
        for (const name of ['authorization', 'content-type', 'user-agent']) {
          const value = req.headers[name];
          if (typeof value === 'string') headers[name] = value;
        }
        const answer = await fetch(`${target}${req.url ?? '/'}`, { method: req.method ?? 'POST', headers, body });
        const text = await answer.text();
        let response: unknown = text;
        try {
          response = JSON.parse(text);
        } catch {
          // not JSON: keep the text
        }
        deliveries.push({ path: req.url ?? '/', headers: req.headers, body, status: answer.status, response });
        res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'text/plain' });
        res.end(text);
      } catch (error) {
        res.writeHead(502);
        res.end(String(error));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    deliveries,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A started Alertmanager process, its address and what it logged. */
export interface RunningAlertmanager {
  url: string;
  process: ChildProcess;
  log(): string;
  stop(): Promise<void>;
}

export async function startAlertmanager(options: {
  bin: string;
  configFile: string;
  storagePath: string;
  port: number;
}): Promise<RunningAlertmanager> {
  const url = `http://127.0.0.1:${options.port}`;
  const child = spawn(
    options.bin,
    [
      `--config.file=${options.configFile}`,
      `--storage.path=${options.storagePath}`,
      `--web.listen-address=127.0.0.1:${options.port}`,
      // No HA mesh: a single instance, nothing listening on 9094.
      '--cluster.listen-address=',
      '--log.level=info',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const running: RunningAlertmanager = {
    url,
    process: child,
    log: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
  try {
    await until(
      'Alertmanager to be ready',
      async () => {
        if (child.exitCode !== null) throw new Error(`Alertmanager exited with ${child.exitCode}`);
        const response = await fetch(`${url}/-/ready`);
        return response.ok ? true : undefined;
      },
      15_000,
      () => output,
    );
  } catch (error) {
    await running.stop();
    throw error;
  }
  return running;
}

/** Sums a counter of Alertmanager's own /metrics over the series whose labels include `match`. */
export async function alertmanagerCounter(url: string, name: string, match = ''): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (match && !line.includes(match)) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}
