import { signStandardWebhook, standardWebhookKey } from '../shared/auth/standard-webhooks.ts';
import { LOCAL_BEARER_TOKEN, LOCAL_CHAT_USERS, LOCAL_WEBHOOK_SECRET } from './defaults.ts';
import { type LocalServer, startLocal } from './server.ts';

/** `npm start`: local mode, everything embedded, and what a newcomer needs printed. */
const port = Number(process.env.PORT ?? 9000);
let local: LocalServer;
try {
  local = await startLocal({ port });
} catch (error) {
  // A bad variable, seed or fault setting stops here, named, rather than as a 500 on every request.
  process.stderr.write(`npm start: ${(error as Error).message}\n`);
  process.exit(1);
}
const { url, env, emulator } = local;
const instances = emulator.controlPlane.snapshot().instances;
const listed = (value: string | undefined, item: string) =>
  (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .includes(item);
const demoChatUsers = Object.entries(LOCAL_CHAT_USERS).every(([name, users]) => env[name] === users);

const body = JSON.stringify({ instanceIds: ['es-cn-demo-activating'], reason: 'demo from the README' });
const lines = [
  `es-change-responder local mode on ${url}`,
  '',
  'Functions: POST /<function>/<source>',
  '  interrupt-elasticsearch-task, resume-elasticsearch-task, interrupt-logstash-task, resume-logstash-task, cancel-migration-task',
  `Emulated Elasticsearch API: ${url}/openapi/...   admin: GET ${url}/emulator/instances, POST /emulator/reset, PUT /emulator/faults`,
  `Allowed instances: ${env.ALLOWED_INSTANCES}    dry run: ${env.DRY_RUN || 'false'}`,
  `Guardrails store: ${local.stateStore.kind === 'redis' ? 'Redis (STATE_STORE_URL)' : 'embedded (starts empty; set STATE_STORE_URL for Redis)'}`,
  `Chat commands are allowed for: Slack ${env.SLACK_ALLOWED_USERS}, DingTalk ${env.DINGTALK_ALLOWED_USERS}, Feishu ${env.FEISHU_ALLOWED_USERS}`,
  demoChatUsers
    ? '  (the local demo users; set SLACK_ALLOWED_USERS, DINGTALK_ALLOWED_USERS, FEISHU_ALLOWED_USERS for others)'
    : '  (from SLACK_ALLOWED_USERS, DINGTALK_ALLOWED_USERS, FEISHU_ALLOWED_USERS)',
  '',
  'Demo instances:',
  ...instances.map((i) => `  ${i.instanceId.padEnd(26)} ${i.status}${i.migrating ? ' (migration running)' : ''}`),
  '',
];
if (listed(env.GENERIC_BEARER_TOKENS, LOCAL_BEARER_TOKEN)) {
  lines.push(
    `Interrupt a demo instance with the demo bearer token ${LOCAL_BEARER_TOKEN} (run it twice: same clientToken, one change):`,
    `  curl -sS -X POST ${url}/interrupt-elasticsearch-task/generic \\`,
    `    -H 'Authorization: Bearer ${LOCAL_BEARER_TOKEN}' -H 'Idempotency-Key: demo-1' \\`,
    `    -H 'Content-Type: application/json' -d '${body}'`,
    '',
  );
} else {
  lines.push(
    `GENERIC_BEARER_TOKENS is set: the README's demo token ${LOCAL_BEARER_TOKEN} is not accepted; send one of your tokens.`,
    '',
  );
}
if (listed(env.GENERIC_WEBHOOK_SECRETS, LOCAL_WEBHOOK_SECRET)) {
  const id = 'msg_demo_signed_1';
  const ts = Math.floor(Date.now() / 1000);
  const signature = signStandardWebhook(standardWebhookKey(LOCAL_WEBHOOK_SECRET), id, ts, body);
  lines.push(
    `Standard Webhooks secret of the generic source (local only): ${LOCAL_WEBHOOK_SECRET}`,
    'The same with a Standard Webhooks signature (valid for 5 minutes from now):',
    `  curl -sS -X POST ${url}/interrupt-elasticsearch-task/generic \\`,
    `    -H 'webhook-id: ${id}' -H 'webhook-timestamp: ${ts}' -H 'webhook-signature: ${signature}' \\`,
    `    -H 'Content-Type: application/json' -d '${body}'`,
    '',
  );
} else {
  lines.push('GENERIC_WEBHOOK_SECRETS is set: sign Standard Webhooks requests with your own secret.', '');
}
const timer = JSON.stringify({ triggerName: 'nightly', payload: { instanceIds: ['es-cn-demo-activating'] } });
lines.push(
  'Fire a timer trigger at a function (the FC event {triggerTime, triggerName, payload}):',
  `  curl -sS -X POST ${url}/emulator/timer/interrupt-elasticsearch-task -H 'Content-Type: application/json' -d '${timer}'`,
  '',
  `See what changed:  curl -sS ${url}/emulator/instances`,
  '',
);
process.stdout.write(`${lines.join('\n')}\n`);

const stop = () => {
  void local.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
