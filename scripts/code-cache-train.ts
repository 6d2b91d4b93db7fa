import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { CODE_CACHE_KEY, type CodeCacheState, encodeCodeCache } from './code-cache-format.ts';
import { findRedisServer, type RunningRedis, startRedis } from './local-redis.ts';

/**
 * The training run behind bundle.cache, in a fresh `node` with no flags and no NODE_* variables
 * (spawned by scripts/build.ts, so the cache is made by the Node that builds): it loads
 * dist/<function>/index.js and handles what a cold start handles, a Standard-Webhooks-signed
 * generic delivery and an Alertmanager delivery, each calling a stub of the API over HTTP (applied,
 * then already, with the read of the instance that says so); then asks V8 for the code cache, which
 * now holds every function those requests compiled.
 *
 * No STATE_STORE_URL here: the functions run without a store (the per-event rules only, and the
 * cold-start warning that says so), so the resume functions' resolved alert is resumed as it would
 * be without guardrails, and the training never loads redis.js nor needs a server.
 *
 * Arguments: <function dir> <function name> <target prefix es-|ls-> <alert status firing|resolved>.
 * Only the events' contract-level shapes are used (FC 3.0 HTTP trigger envelope, the senders' schemes).
 */
const [dir, name, prefix, alertStatus] = process.argv.slice(1) as [string, string, string, string];

function httpEvent(path: string, headers: Record<string, string>, body: string): Buffer {
  const now = new Date();
  return Buffer.from(
    JSON.stringify({
      version: 'v1',
      rawPath: path,
      body,
      isBase64Encoded: false,
      headers,
      queryParameters: {},
      requestContext: {
        accountId: '1234567890123456',
        domainName: `${name}-training.cn-hangzhou.fcapp.run`,
        domainPrefix: `${name}-training`,
        http: { method: 'POST', path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'training' },
        requestId: `1-${randomUUID()}`,
        time: `${now.toISOString().slice(0, 19)}Z`,
        timeEpoch: String(now.getTime()),
      },
    }),
  );
}

function genericEvent(key: Buffer, instanceId: string): Buffer {
  const body = JSON.stringify({ instanceIds: [instanceId], reason: 'code cache training' });
  const id = `msg_${randomUUID()}`;
  const timestamp = Math.floor(Date.now() / 1000);
  const mac = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  const headers = {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': `v1,${mac}`,
  };
  return httpEvent(`/${name}/generic`, headers, body);
}

function alertmanagerEvent(token: string, instanceId: string): Buffer {
  const labels = { alertname: 'ChangeStuck', instanceId };
  const body = JSON.stringify({
    version: '4',
    groupKey: '{}:{alertname="ChangeStuck"}',
    truncatedAlerts: 0,
    status: alertStatus,
    receiver: 'es-responder',
    groupLabels: { alertname: 'ChangeStuck' },
    commonLabels: labels,
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    alerts: [
      {
        status: alertStatus,
        labels,
        annotations: {},
        startsAt: new Date(Date.now() - 60_000).toISOString(),
        endsAt: alertStatus === 'resolved' ? new Date().toISOString() : '0001-01-01T00:00:00Z',
        generatorURL: 'http://prometheus:9090/graph',
        fingerprint: randomBytes(8).toString('hex'),
      },
    ],
  });
  return httpEvent(
    `/${name}/alertmanager`,
    { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body,
  );
}

/** A throwaway redis-server; none when the machine has none or it does not start (the cache is optional). */
async function startStore(): Promise<RunningRedis | undefined> {
  const bin = findRedisServer();
  return bin ? startRedis(bin).catch(() => undefined) : undefined;
}

async function main(): Promise<void> {
  // Every API call succeeds: the training compiles the path of a change applied.
  // The first action is applied; later ones meet the API's documented refusal of an instance with
  // no change to act on (400 InstanceStatusNotSupportCurrentAction), which the function answers by
  // reading the instance (DescribeInstance/DescribeLogstash, a GET) to say `already`, as retried
  // deliveries and alert storms do: both paths, and the read, are in the cache.
  let actions = 0;
  const api = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const describe = req.method === 'GET';
      if (!describe) actions += 1;
      const applied = !describe && actions === 1;
      res.writeHead(describe || applied ? 200 : 400, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          describe
            ? { RequestId: randomUUID(), Result: { status: 'active' } }
            : applied
              ? { RequestId: randomUUID(), Result: true }
              : {
                  RequestId: randomUUID(),
                  Code: 'InstanceStatusNotSupportCurrentAction',
                  Message: 'The cluster is running tasks or in an error status. Try again later.',
                },
        ),
      );
    });
  });
  await new Promise<void>((ready) => api.listen(0, '127.0.0.1', ready));
  // With a state store, as production runs the guardrails, when the building machine has a
  // redis-server: the requests then load and use redis.js, which gets a cache of its own.
  const store = await startStore();
  const key = randomBytes(32);
  const token = randomBytes(24).toString('hex');
  Object.assign(process.env, {
    GENERIC_WEBHOOK_SECRETS: `whsec_${key.toString('base64')}`,
    ALERTMANAGER_BEARER_TOKENS: token,
    ALLOWED_INSTANCES: `${prefix}*`,
    ALIBABA_CLOUD_REGION: 'cn-hangzhou',
    ELASTICSEARCH_ENDPOINT: `http://127.0.0.1:${(api.address() as AddressInfo).port}`,
    ...(store ? { STATE_STORE_URL: store.url } : {}),
  });

  const mod = require(join(dir, 'index.js')) as { handler: (event: Buffer, context: object) => Promise<unknown> };
  const state = (mod as unknown as Record<symbol, CodeCacheState | undefined>)[CODE_CACHE_KEY];
  if (state?.status !== 'absent') throw new Error(`the loader found a cache before training: ${state?.status}`);
  const context = {
    requestId: randomUUID(),
    credentials: { accessKeyId: 'training', accessKeySecret: 'training', securityToken: 'training' },
    function: { name },
    region: 'cn-hangzhou',
  };
  for (const [source, event] of [
    ['generic', genericEvent(key, `${prefix}cn-training0001`)],
    ['alertmanager', alertmanagerEvent(token, `${prefix}cn-training0002`)],
  ] as const) {
    const result = (await mod.handler(event, context)) as { statusCode: number; body: string };
    // A refusal for a bad configuration (or any 5xx) would train the cache on the wrong path.
    if (!(result.statusCode >= 200 && result.statusCode < 500)) {
      throw new Error(`${name} answered the ${source} training request ${result.statusCode}: ${result.body}`);
    }
  }
  const data = state.script.createCachedData();
  writeFileSync(join(dir, 'bundle.cache'), encodeCodeCache(readFileSync(join(dir, 'bundle.js')), data));
  for (const [id, sibling] of state.siblings) {
    const file = join(dir, id.slice(2));
    writeFileSync(
      file.replace(/\.js$/, '.cache'),
      encodeCodeCache(readFileSync(file), sibling.script.createCachedData()),
    );
  }
  await store?.stop();
  api.close();
  // Keep-alive sockets to the stub must not hold the process.
  process.exit(0);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
