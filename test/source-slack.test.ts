import { describe, expect, it } from 'vitest';
import type { FunctionName } from '../shared/actions.ts';
import type { Env } from '../shared/config.ts';
import { fixture, slackSignature } from './fixtures/slack/kit.ts';
import { expectedToken, useEmulator, wireFunction } from './support/function-harness.ts';

const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const ROTATED_SECRET = 'c41d7e0b93a25f68d1e2b7a0c9f4e3d2';

type Fields = Record<string, string>;
const form = (fields: Fields) => new URLSearchParams(fields).toString();

/** Signed at run time, independently of the code under test: `v0=` hex HMAC-SHA256 of `v0:ts:body`. */
function signed(body: string, options: { secret?: string; timestamp?: number } = {}): Record<string, string> {
  return {
    'content-type': 'application/x-www-form-urlencoded',
    'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
    ...slackSignature(body, options.secret ?? SECRET, options.timestamp ?? Math.floor(Date.now() / 1000)),
  };
}

const upstream = useEmulator();
const { state } = upstream;

interface SlackReply {
  response_type?: string;
  text?: string;
  error?: { code: string; message: string };
}

/** The fixtures' user (steve) and channel (ops-es). */
const USER = 'U2147483697';
const CHANNEL = 'C2147483705';

const setup = (name: FunctionName = 'interrupt-elasticsearch-task', env: Env = {}) =>
  wireFunction<SlackReply>(upstream.url, name, 'slack', {
    SLACK_SIGNING_SECRETS: `${ROTATED_SECRET},${SECRET}`,
    SLACK_ALLOWED_USERS: `U0OTHERONE,${USER}`,
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

  it('names who asked, and where, at the end of the reply (the audit trail in the channel)', async () => {
    const { post } = setup();
    const body = form(fixture('command'));
    const response = await post(body, signed(body));
    expect(response.body.text?.split('\n').at(-1)).toBe(`asked by steve (\`${USER}\`) in ops-es (\`${CHANNEL}\`)`);
  });

  it('refuses a JSON body with 415', async () => {
    const { post } = setup();
    const json = JSON.stringify(fixture('command'));
    const response = await post(json, { ...signed(json), 'content-type': 'application/json' });
    expect(response.status).toBe(415);
  });
});

describe('Function: slack source, a command bound to its function', () => {
  // Attack (issue 10, part 2): the signature covers the bytes, not the function they were sent to. A
  // person's `/es-resume` was replayed to the interrupt function and undid the resume.
  it('refuses the exact signed bytes of /es-resume replayed to interrupt-elasticsearch-task: nothing changes upstream', async () => {
    const resume = setup('resume-elasticsearch-task');
    const interrupt = setup('interrupt-elasticsearch-task');
    const command = fixture('command');
    command.command = '/es-resume';
    command.text = 'es-cn-demo-suspended rollout fixed, go on';
    const body = form(command);
    const headers = signed(body);

    // The legitimate request still succeeds: the resume is applied by its own function.
    const legitimate = await resume.post(body, headers);
    expect(legitimate.body.text).toMatch(/^resume-elasticsearch-task \(ResumeElasticsearchTask\): 1 applied\n/);
    expect(state('es-cn-demo-suspended')?.status).toBe('activating');

    const replayed = await interrupt.post(body, headers);
    expect(replayed.status).toBe(200);
    expect(replayed.body.text).toContain(
      'interrupt-elasticsearch-task (InterruptElasticsearchTask): /es-resume is not a command of interrupt-elasticsearch-task, which answers /es-interrupt',
    );
    expect(replayed.body.text).toContain('🚫 `es-cn-demo-suspended`: refused — WrongCommand');
    expect(interrupt.calls).toHaveLength(0);
    expect(state('es-cn-demo-suspended')?.status).toBe('activating');
    expect(state('es-cn-demo-suspended')?.history.map((h) => h.action)).toEqual(['ResumeElasticsearchTask']);
  });

  it.each<[FunctionName, string]>([
    ['interrupt-elasticsearch-task', '/es-interrupt'],
    ['resume-elasticsearch-task', '/es-resume'],
    ['interrupt-logstash-task', '/ls-interrupt'],
    ['resume-logstash-task', '/ls-resume'],
    ['cancel-migration-task', '/es-cancel-migration'],
  ])('binds %s to %s by default, and to no other default command', async (name, own) => {
    const { post, calls } = setup(name, { DRY_RUN: 'true' });
    const id = name.includes('logstash') ? 'ls-cn-demo-activating' : 'es-cn-demo-activating';
    for (const other of ['/es-interrupt', '/es-resume', '/ls-interrupt', '/ls-resume', '/es-cancel-migration']) {
      const command = fixture('command');
      command.command = other;
      command.text = id;
      const body = form(command);
      const response = await post(body, signed(body));
      expect(response.status, other).toBe(200);
      if (other === own) {
        expect(response.body.text, other).toContain('1 dry-run');
      } else {
        expect(response.body.text, other).toContain(`${other} is not a command of ${name}, which answers ${own}`);
      }
    }
    expect(calls).toHaveLength(0);
  });

  it('takes the function’s commands from SLACK_COMMANDS when set, and says so', async () => {
    const { post } = setup('interrupt-elasticsearch-task', { SLACK_COMMANDS: '/prod-es-stop, /es-stop' });
    const own = fixture('command');
    own.command = '/prod-es-stop';
    const ownBody = form(own);
    expect((await post(ownBody, signed(ownBody))).body.text).toContain('1 applied');
    const defaultOne = form(fixture('multi'));
    const refused = await post(defaultOne, signed(defaultOne));
    expect(refused.body.text).toContain(
      '/es-interrupt is not a command of interrupt-elasticsearch-task, which answers /prod-es-stop, /es-stop (SLACK_COMMANDS)',
    );
    expect(state('es-cn-demo-migrating')?.history).toHaveLength(0);
  });

  it('refuses a SLACK_COMMANDS shared by every function (it names another’s command), with no call', async () => {
    const { post, calls } = setup('interrupt-elasticsearch-task', {
      SLACK_COMMANDS: '/es-interrupt,/es-resume,/ls-interrupt,/ls-resume,/es-cancel-migration',
    });
    const body = form(fixture('command'));
    const response = await post(body, signed(body));
    expect(response.status).toBe(200);
    expect(response.body.text).toContain(
      'nothing was done — invalid configuration: SLACK_COMMANDS: /es-resume is the command of resume-elasticsearch-task',
    );
    expect(calls).toHaveLength(0);
  });

  it('refuses an invalid SLACK_COMMANDS with a 500 naming it', async () => {
    const { post } = setup('interrupt-elasticsearch-task', { SLACK_COMMANDS: 'es-interrupt' });
    const body = form(fixture('command'));
    const response = await post(body, signed(body));
    expect(response.status).toBe(500);
    expect(response.body.error?.message).toContain('SLACK_COMMANDS');
  });
});

describe('Function: slack source, who may act (SLACK_ALLOWED_USERS, SLACK_ALLOWED_CHANNELS)', () => {
  it.each<[string, Env]>([
    ['unset', { SLACK_ALLOWED_USERS: undefined }],
    ['empty', { SLACK_ALLOWED_USERS: '' }],
  ])('refuses every command while SLACK_ALLOWED_USERS is %s, naming the variable, with no call', async (_case, env) => {
    const { post, calls } = setup('interrupt-elasticsearch-task', env);
    const body = form(fixture('command'));
    const response = await post(body, signed(body));
    expect(response.status).toBe(200);
    expect(response.body.text).toContain(
      'interrupt-elasticsearch-task (InterruptElasticsearchTask): SLACK_ALLOWED_USERS is not set, so every Slack command is refused',
    );
    expect(response.body.text).toContain('🚫 `es-cn-demo-activating`: refused — UserNotAllowed');
    expect(calls).toHaveLength(0);
    expect(state('es-cn-demo-activating')?.history).toHaveLength(0);
  });

  it('refuses a user who is not in the list, naming them and the variable, with no call', async () => {
    const { post, calls } = setup();
    const command = fixture('command');
    command.user_id = 'U0MALLORY1';
    command.user_name = 'mallory';
    const body = form(command);
    const response = await post(body, signed(body));
    expect(response.status).toBe(200);
    expect(response.body.text).toContain(
      'interrupt-elasticsearch-task (InterruptElasticsearchTask): mallory (U0MALLORY1) is not in SLACK_ALLOWED_USERS',
    );
    expect(response.body.text?.split('\n').at(-1)).toBe('asked by mallory (`U0MALLORY1`) in ops-es (`C2147483705`)');
    expect(calls).toHaveLength(0);
    expect(state('es-cn-demo-activating')?.history).toHaveLength(0);
  });

  it('matches the signed user_id, never the display name a person chooses', async () => {
    const { post, calls } = setup('interrupt-elasticsearch-task', { SLACK_ALLOWED_USERS: 'steve' });
    const body = form(fixture('command'));
    const response = await post(body, signed(body));
    expect(response.body.text).toContain('steve (U2147483697) is not in SLACK_ALLOWED_USERS');
    expect(calls).toHaveLength(0);
  });

  it('lets everyone act with SLACK_ALLOWED_USERS=*', async () => {
    const { post } = setup('interrupt-elasticsearch-task', { SLACK_ALLOWED_USERS: '*' });
    const command = fixture('command');
    command.user_id = 'U0ANYONE99';
    const body = form(command);
    expect((await post(body, signed(body))).body.text).toContain('1 applied');
    expect(state('es-cn-demo-activating')?.status).toBe('suspended');
  });

  it('refuses a command from a channel outside SLACK_ALLOWED_CHANNELS, and acts in one inside it', async () => {
    const { post, calls } = setup('interrupt-elasticsearch-task', { SLACK_ALLOWED_CHANNELS: 'C0ONCALL01' });
    const body = form(fixture('command'));
    const refused = await post(body, signed(body));
    expect(refused.body.text).toContain('channel ops-es (C2147483705) is not in SLACK_ALLOWED_CHANNELS');
    expect(calls).toHaveLength(0);

    const allowed = setup('interrupt-elasticsearch-task', { SLACK_ALLOWED_CHANNELS: `C0ONCALL01,${CHANNEL}` });
    expect((await allowed.post(body, signed(body))).body.text).toContain('1 applied');
  });
});
