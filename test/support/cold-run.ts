import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { FunctionName } from '../../shared/actions.ts';
import type { SourceName } from '../../shared/sources/registry.ts';
import { fcHttpEvent, goodDelivery, sendersEnv } from './senders.ts';

const run = promisify(execFile);

/**
 * One cold request to a built function: a fresh `node` with only the function's environment (every
 * sender configured, DRY_RUN, no NODE_OPTIONS) loads `<dir>/index.js` and runs `host` on a signed
 * delivery of `source` in FC's HTTP envelope. `host` gets the index path and the base64 event as
 * `process.argv[1]` and `[2]`, and writes `\nanswer <json>` last; the answer and what came before
 * it (the function's log lines) come back.
 */
export async function coldRun<Answer>(options: {
  dir: string;
  name: FunctionName;
  source: SourceName;
  host: string;
  env?: Record<string, string>;
  nodeFlags?: readonly string[];
  /** Distinguishes the instances of one test file's deliveries. */
  instance?: string;
}): Promise<{ answer: Answer; stdout: string; stderr: string }> {
  const { dir, name, source, host } = options;
  const instanceId = `${name.includes('logstash') ? 'ls' : 'es'}-cn-${options.instance ?? 'cold0001'}`;
  const delivery = goodDelivery(source, instanceId, { alert: name.startsWith('resume') ? 'resolved' : 'firing' });
  const event = fcHttpEvent({
    rawPath: `/${name}/${source}`,
    headers: { 'content-type': delivery.contentType, ...delivery.credentials.headers },
    queryParameters: delivery.credentials.query,
    body: delivery.body,
  });
  const env = {
    ...sendersEnv(),
    ALIBABA_CLOUD_REGION: 'cn-hangzhou',
    ALLOWED_INSTANCES: 'es-cn-*,ls-cn-*',
    DRY_RUN: 'true',
    PATH: process.env.PATH ?? '',
    ...options.env,
  };
  const { stdout, stderr } = await run(
    process.execPath,
    [...(options.nodeFlags ?? []), '-e', host, join(dir, 'index.js'), event.toString('base64')],
    {
      env: Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined)),
    },
  );
  const at = stdout.lastIndexOf('\nanswer ');
  return { answer: JSON.parse(stdout.slice(at + '\nanswer '.length)) as Answer, stdout: stdout.slice(0, at), stderr };
}
