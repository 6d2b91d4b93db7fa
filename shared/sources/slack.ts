import { isSlackResponseUrl } from '../async/reply-target.ts';
import { AUTHENTICATED, rejected } from '../auth/auth-result.ts';
import { checkSlackSignature } from '../auth/slack-signature.ts';
import type { ResponderConfig } from '../config.ts';
import type { SourceEvent } from '../core/target.ts';
import { PayloadError, UnauthorizedError } from '../errors.ts';
import { chatIds, chatName, MAX_COMMAND_IDS, parseCommandText, replyText, usageText } from './chat-command.ts';
import { bodyText, EVENT_KEY_PATTERN } from './payload.ts';
import type { InboundRequest, Source } from './source.ts';
import { CHAT_DEADLINE_MS } from './source.ts';

function form(body: Uint8Array): URLSearchParams {
  return new URLSearchParams(bodyText(body));
}

/**
 * Slack's `ssl_check` post (`ssl_check=1&token=…`), sent when a slash command URL is saved. Slack
 * does not sign it (no X-Slack-Signature or timestamp header: slackapi/bolt-js#1397), so it is
 * recognised by its exact shape only: `ssl_check` exactly `1` (bolt-js#2899) and nothing of a
 * command in it.
 */
function isSslCheck(body: Uint8Array): boolean {
  try {
    const fields = form(body);
    return fields.get('ssl_check') === '1' && !fields.has('command') && !fields.has('trigger_id');
  } catch {
    return false;
  }
}

/** Slack escapes `&`, `<` and `>` in the text it sends. */
const unescapeSlack = (text: string) => text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/**
 * Slack slash commands: form-encoded, signed with the v0 scheme (several signing secrets for
 * rotation, five-minute window). `text` names the instances; the rest of it is the reason.
 * Event key: `slack:<trigger_id>` (one per invocation, so a new command is a new event).
 * The reply is a Slack message, with HTTP 200 even for refusals and failures: Slack shows any
 * other status as a bare error and drops the body.
 */
export function createSlackSource(secrets: ResponderConfig['secrets']): Source {
  const signingSecrets = secrets.slackSigningSecrets;
  // Requests whose signature verified. An unsigned ssl_check passes authenticate only to reach the
  // handshake, which answers it; parse refuses anything that is not in this set.
  const signed = new WeakSet<InboundRequest>();

  return {
    name: 'slack',
    deadlineMs: CHAT_DEADLINE_MS,
    enabled: signingSecrets.length > 0,
    mediaTypes: ['application/x-www-form-urlencoded'],
    authenticate(request) {
      const result = checkSlackSignature(
        {
          timestamp: request.headers.get('x-slack-request-timestamp'),
          signature: request.headers.get('x-slack-signature'),
        },
        request.body,
        signingSecrets,
        Math.floor(request.receivedAt.getTime() / 1000),
      );
      if (result.ok) {
        // The signed body is bound to Slack: its response_url, where the outcome is posted later,
        // must be Slack's own (a body that cannot be read is left to parse, which refuses it).
        let responseUrl: string | null = null;
        try {
          responseUrl = form(request.body).get('response_url');
        } catch {}
        if (responseUrl !== null && !isSlackResponseUrl(responseUrl)) {
          return rejected('response_url is not a Slack response URL (https://hooks.slack.com/commands/…)');
        }
        signed.add(request);
        return result;
      }
      return isSslCheck(request.body) ? AUTHENTICATED : result;
    },
    handshake(request) {
      // Same predicate as in authenticate: every unsigned request that got past it ends here.
      return isSslCheck(request.body) ? { status: 200, body: {} } : undefined;
    },
    parse(request): SourceEvent {
      if (!signed.has(request)) throw new UnauthorizedError();
      const fields = form(request.body);
      const triggerId = fields.get('trigger_id') ?? '';
      if (!EVENT_KEY_PATTERN.test(triggerId)) {
        throw new PayloadError('trigger_id: a slash command carries one; this request has none or a malformed one');
      }
      const command = fields.get('command') || '/command';
      const { instanceIds, reason } = parseCommandText(unescapeSlack(fields.get('text') ?? ''));
      if (instanceIds.length === 0) throw new PayloadError(usageText(command));
      if (instanceIds.length > MAX_COMMAND_IDS) {
        throw new PayloadError(`the command names ${instanceIds.length} instances; at most ${MAX_COMMAND_IDS}`);
      }
      const who = fields.get('user_name') || fields.get('user_id') || 'unknown user';
      const where = fields.get('channel_name') || fields.get('channel_id') || 'unknown channel';
      const eventKey = `slack:${triggerId}`;
      // Later results (the async hand-off) go to response_url, which authenticate bound to Slack's.
      const responseUrl = fields.get('response_url');
      return {
        reason: `${reason ? `${reason} ` : ''}(${command} by ${who} in ${where})`.slice(0, 1000),
        items: instanceIds.map((instanceId) => ({ instanceId, eventKey })),
        reply: isSlackResponseUrl(responseUrl) ? { url: responseUrl } : undefined,
        // Signed by Slack: the policy checks the command against this function's and the person against SLACK_ALLOWED_USERS.
        requester: {
          platform: 'slack',
          userIds: chatIds(fields.get('user_id')),
          userName: chatName(fields.get('user_name')),
          placeId: chatIds(fields.get('channel_id'))[0],
          placeName: chatName(fields.get('channel_name')),
          command: fields.get('command')?.slice(0, 64),
        },
      };
    },
    render(body, status) {
      return {
        // Only a request that failed authentication keeps its status; render never sees one
        // through the app, which refuses those with the plain JSON error first.
        status: status === 401 ? 401 : 200,
        body: { response_type: 'in_channel', text: replyText(body, 'slack') },
      };
    },
  };
}
