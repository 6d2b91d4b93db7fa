import { signStandardWebhook, standardWebhookKey } from '../shared/auth/standard-webhooks.ts';
import { LOCAL_BEARER_TOKEN, LOCAL_WEBHOOK_SECRET } from './defaults.ts';
import { startLocal } from './server.ts';

/** `npm start`: local mode, everything embedded, and what a newcomer needs printed. */
const port = Number(process.env.PORT ?? 9000);
const local = await startLocal({ port });
const { url, env, emulator } = local;
const instances = emulator.controlPlane.snapshot().instances;

const body = JSON.stringify({ instanceIds: ['es-cn-demo-activating'], reason: 'demo from the README' });
const lines = [
  `es-change-responder local mode on ${url}`,
  '',
  'Functions: POST /<function>/<source>',
  '  interrupt-elasticsearch-task, resume-elasticsearch-task, interrupt-logstash-task, resume-logstash-task, cancel-migration-task',
  `Emulated Elasticsearch API: ${url}/openapi/...   admin: GET ${url}/emulator/instances, POST /emulator/reset, PUT /emulator/faults`,
  `Allowed instances: ${env.ALLOWED_INSTANCES}    dry run: ${env.DRY_RUN ?? 'false'}`,
  '',
  'Demo instances:',
  ...instances.map((i) => `  ${i.instanceId.padEnd(26)} ${i.status}${i.migrating ? ' (migration running)' : ''}`),
  '',
];
if (env.GENERIC_BEARER_TOKENS?.split(',').includes(LOCAL_BEARER_TOKEN)) {
  lines.push(
    'Interrupt a demo instance (run it twice: same clientToken, one change):',
    `  curl -sS -X POST ${url}/interrupt-elasticsearch-task/generic \\`,
    `    -H 'Authorization: Bearer ${LOCAL_BEARER_TOKEN}' -H 'Idempotency-Key: demo-1' \\`,
    `    -H 'Content-Type: application/json' -d '${body}'`,
    '',
  );
}
if (env.GENERIC_WEBHOOK_SECRETS?.split(',').includes(LOCAL_WEBHOOK_SECRET)) {
  const id = 'msg_demo_signed_1';
  const ts = Math.floor(Date.now() / 1000);
  const signature = signStandardWebhook(standardWebhookKey(LOCAL_WEBHOOK_SECRET), id, ts, body);
  lines.push(
    'The same with a Standard Webhooks signature (valid for 5 minutes from now):',
    `  curl -sS -X POST ${url}/interrupt-elasticsearch-task/generic \\`,
    `    -H 'webhook-id: ${id}' -H 'webhook-timestamp: ${ts}' -H 'webhook-signature: ${signature}' \\`,
    `    -H 'Content-Type: application/json' -d '${body}'`,
    '',
  );
}
lines.push(`See what changed:  curl -sS ${url}/emulator/instances`, '');
process.stdout.write(`${lines.join('\n')}\n`);

const stop = () => {
  void local.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
