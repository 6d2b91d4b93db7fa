import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { FunctionName } from '../shared/actions.ts';
import type { Env } from '../shared/config.ts';
import { expectedToken, fixtureLoader, useEmulator, wireFunction } from './support/function-harness.ts';

const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const ROTATED_SECRET = 'c41d7e0b93a25f68d1e2b7a0c9f4e3d2';

type Fields = Record<string, string>;
type FixtureName = 'command' | 'multi' | 'no-instance' | 'malformed' | 'ssl-check';
/** A real slash command's fields, cloned: a test may mutate its copy freely. */
const fixture = fixtureLoader<Fields, FixtureName>('slack');
const form = (fields: Fields) => new URLSearchParams(fields).toString();

/** Signed at run time, independently of the code under test: `v0=` hex HMAC-SHA256 of `v0:ts:body`. */
function signed(body: string, options: { secret?: string; timestamp?: number } = {}): Record<string, string> {
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const mac = createHmac('sha256', options.secret ?? SECRET)
    .update(`v0:${timestamp}:${body}`)
    .digest('hex');
  return {
    'content-type': 'application/x-www-form-urlencoded',
    'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
    'x-slack-request-timestamp': timestamp,
    'x-slack-signature': `v0=${mac}`,
  };
}

const upstream = useEmulator();
const { state } = upstream;

interface SlackReply {
  response_type?: string;
  text?: string;
  error?: { code: string; message: string };
}

const setup = (name: FunctionName = 'interrupt-elasticsearch-task', env: Env = {}) =>
  wireFunction<SlackReply>(upstream.url, name, 'slack', {
    SLACK_SIGNING_SECRETS: `${ROTATED_SECRET},${SECRET}`,
    ...env,
  });

const tokenFor = (name: FunctionName, instanceId: string, triggerId: string) =>
  expectedToken(name, instanceId, `slack:${triggerId}`);

describe('Function: interrupt-elasticsearch-task, slack source', () => {
  it('interrupts the named instance and replies in the channel with the outcome and token', async () => {
    const { post, calls } = setup();
    const command = fixture('command');
    const body = form(command);
    const response = await post(body, signed(body));
    expect(response.status).toBe(200);
    const token = tokenFor('interrupt-elasticsearch-task', 'es-cn-demo-activating', command.trigger_id as string);
    expect(response.body.response_type).toBe('in_channel');
    expect(response.body.text).toMatch(/^interrupt-elasticsearch-task \(InterruptElasticsearchTask\): 1 applied\n/);
    expect(response.body.text).toContain(
      `✅ \`es-cn-demo-activating\`: applied — clientToken \`${token}\`; request \``,
    );
    expect(state('es-cn-demo-activating')?.status).toBe('suspended');
    expect(calls).toHaveLength(1);
  });

  it('gives a re-sent delivery of the same command the same token: one change', async () => {
    const { post } = setup();
    const body = form(fixture('command'));
    const first = await post(body, signed(body));
    const again = await post(body, signed(body));
    const token = /clientToken `([^`]+)`/.exec(first.body.text ?? '')?.[1];
    expect(token).toMatch(/^ies1-[0-9a-f]{40}$/);
    expect(again.body.text).toContain(`clientToken \`${token}\``);
    expect(state('es-cn-demo-activating')?.history).toHaveLength(1);
  });

  it('accepts a rotated signing secret', async () => {
    const { post } = setup();
    const body = form(fixture('command'));
    expect((await post(body, signed(body, { secret: ROTATED_SECRET }))).status).toBe(200);
  });

  it('answers every instance named, one line each, refusals included, with 200', async () => {
    const { post } = setup();
    const multi = fixture('multi');
    const body = form(multi);
    const response = await post(body, signed(body));
    expect(response.status).toBe(200);
    const lines = response.body.text?.split('\n') ?? [];
    expect(lines[0]).toBe('interrupt-elasticsearch-task (InterruptElasticsearchTask): 2 applied, 1 refused');
    expect(lines[1]).toContain(
      `✅ \`es-cn-demo-activating\`: applied — clientToken \`${tokenFor('interrupt-elasticsearch-task', 'es-cn-demo-activating', multi.trigger_id as string)}\``,
    );
    expect(lines[2]).toContain(
      `✅ \`es-cn-demo-migrating\`: applied — clientToken \`${tokenFor('interrupt-elasticsearch-task', 'es-cn-demo-migrating', multi.trigger_id as string)}\``,
    );
    expect(lines[3]).toBe(
      '🚫 `ls-cn-demo-activating`: refused — WrongInstanceKind: interrupt-elasticsearch-task acts on elasticsearch instances (es-…) only',
    );
  });

  it('replies 200 with the refusal when policy refuses everything (Slack drops non-200 bodies)', async () => {
    const { post, calls } = setup('interrupt-elasticsearch-task', { ALLOWED_INSTANCES: undefined });
    const body = form(fixture('command'));
    const response = await post(body, signed(body));
    expect(response.status).toBe(200);
    expect(response.body.text).toContain(
      '🚫 `es-cn-demo-activating`: refused — NotAllowed: ALLOWED_INSTANCES is not set, so every target is refused',
    );
    expect(calls).toHaveLength(0);
  });

  it('replies 200 with the API’s code and message when the call fails', async () => {
    const { post } = setup();
    const command = fixture('command');
    command.text = 'es-cn-demo-gone';
    const body = form(command);
    const response = await post(body, signed(body));
    expect(response.status).toBe(200);
    const token = tokenFor('interrupt-elasticsearch-task', 'es-cn-demo-gone', command.trigger_id as string);
    expect(response.body.text).toMatch(
      new RegExp(
        `❌ \`es-cn-demo-gone\`: failed — InstanceNotFound: .+; clientToken \`${token}\`; request \`[^\`]+\`; a retry will not help`,
      ),
    );
  });

  it('says DRY_RUN and makes no call', async () => {
    const { post, calls } = setup('interrupt-elasticsearch-task', { DRY_RUN: 'true' });
    const body = form(fixture('command'));
    const response = await post(body, signed(body));
    expect(response.body.text).toMatch(
      /^interrupt-elasticsearch-task \(InterruptElasticsearchTask\) \[DRY_RUN\]: 1 dry-run/,
    );
    expect(response.body.text).toContain('🧪 `es-cn-demo-activating`: dry-run — DRY_RUN is set');
    expect(calls).toHaveLength(0);
  });

  it('answers a command naming no instance with a usage reply', async () => {
    const { post, calls } = setup();
    const body = form(fixture('no-instance'));
    const response = await post(body, signed(body));
    expect(response.status).toBe(200);
    expect(response.body.response_type).toBe('in_channel');
    expect(response.body.text).toContain('nothing was done — name at least one instance: /es-interrupt es-cn-…');
    expect(calls).toHaveLength(0);
  });

  it('answers a command without trigger_id (fixture) with 200 and says why, with no call', async () => {
    const { post, calls } = setup();
    const body = form(fixture('malformed'));
    const response = await post(body, signed(body));
    expect(response.status).toBe(200);
    expect(response.body.text).toContain('trigger_id');
    expect(calls).toHaveLength(0);
  });

  it('answers Slack’s unsigned ssl_check with 200 and nothing else', async () => {
    const { post, calls } = setup();
    // As Slack sends it (slackapi/bolt-js#1397): no signature, no timestamp.
    const response = await post(form(fixture('ssl-check')), {
      'content-type': 'application/x-www-form-urlencoded',
      'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
    });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({});
    expect(calls).toHaveLength(0);
  });

  const body = form(fixture('command'));
  const now = () => Math.floor(Date.now() / 1000);
  it.each<[string, string, () => Record<string, string>, Env?]>([
    ['unsigned', body, () => ({ 'content-type': 'application/x-www-form-urlencoded' })],
    [
      'without the timestamp header',
      body,
      () => {
        const { 'x-slack-request-timestamp': _, ...rest } = signed(body);
        return rest;
      },
    ],
    [
      'without the signature header',
      body,
      () => {
        const { 'x-slack-signature': _, ...rest } = signed(body);
        return rest;
      },
    ],
    ['signed with a wrong secret', body, () => signed(body, { secret: 'not-the-signing-secret-0000000000' })],
    ['stale (301 s old)', body, () => signed(body, { timestamp: now() - 301 })],
    ['from the future (305 s ahead)', body, () => signed(body, { timestamp: now() + 305 })],
    ['with an altered body', body.replace('activating', 'active'), () => signed(body)],
    [
      'with the signature of another timestamp',
      body,
      () => {
        const at = now();
        return { ...signed(body, { timestamp: at }), 'x-slack-request-timestamp': String(at - 1) };
      },
    ],
    [
      'with a v1 signature',
      body,
      () => ({
        ...signed(body),
        'x-slack-signature': signed(body)['x-slack-signature']?.replace('v0=', 'v1=') as string,
      }),
    ],
    [
      'smuggling a command into an unsigned ssl_check',
      `ssl_check=1&${body}`,
      () => ({ 'content-type': 'application/x-www-form-urlencoded' }),
    ],
    [
      'with ssl_check=true and no signature',
      form({ ...fixture('command'), ssl_check: 'true' }),
      () => ({ 'content-type': 'application/x-www-form-urlencoded' }),
    ],
    ['while no signing secret is configured (fail closed)', body, () => signed(body), { SLACK_SIGNING_SECRETS: '' }],
  ])('refuses a request %s with a plain 401 and no upstream call', async (_case, sent, headers, env = {}) => {
    const { post, calls } = setup('interrupt-elasticsearch-task', env);
    const response = await post(sent, headers());
    expect(response.status).toBe(401);
    // Before authentication the plain JSON error stays: nothing Slack-shaped for a stranger.
    expect(response.body.error?.code).toBe('Unauthorized');
    expect(response.body.text).toBeUndefined();
    expect(calls).toHaveLength(0);
    expect(state('es-cn-demo-activating')?.history).toHaveLength(0);
  });

  it('refuses a JSON body with 415', async () => {
    const { post } = setup();
    const json = JSON.stringify(fixture('command'));
    const response = await post(json, { ...signed(json), 'content-type': 'application/json' });
    expect(response.status).toBe(415);
  });
});
