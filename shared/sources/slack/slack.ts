import { checkSlackSignature } from '../../auth/slack-signature.ts';
import type { ResponseBody } from '../../core/result.ts';
import type { SourceEvent } from '../../core/target.ts';
import { PayloadError } from '../../errors.ts';
import { chatIds, chatName, MAX_COMMAND_IDS, parseCommandText, usageText } from '../chat-command.ts';
import { replyText } from '../chat-reply.ts';
import { bodyText, contentOf, EVENT_KEY_PATTERN, type Readable, readable } from '../payload.ts';
import { handshake, refused, type SourceHandlers, verified } from '../source.ts';
import { isSlackResponseUrl, type SlackSettings } from './index.ts';

function form(body: Uint8Array): URLSearchParams {
  return new URLSearchParams(bodyText(body));
}

/**
 * Slack's `ssl_check` post (`ssl_check=1&token=…`), sent when a slash command URL is saved. Slack
 * does not sign it (no X-Slack-Signature or timestamp header: slackapi/bolt-js#1397), so it is
 * recognised by its exact shape only: `ssl_check` exactly `1` (bolt-js#2899) and nothing of a
 * command in it.
 */
function isSslCheck(fields: Readable<URLSearchParams>): boolean {
  return (
    fields.ok &&
    fields.value.get('ssl_check') === '1' &&
    !fields.value.has('command') &&
    !fields.value.has('trigger_id')
  );
}

/** What Slack expects back for an ssl_check: any 200. */
const SSL_CHECK_ANSWER = handshake({ status: 200, body: {} });

/** Slack escapes `&`, `<` and `>` in the text it sends. */
const unescapeSlack = (text: string) => text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/**
 * Slack slash commands: form-encoded, signed with the v0 scheme (several signing secrets for
 * rotation, five-minute window). `text` names the instances; the rest of it is the reason.
 * Event key: `slack:<trigger_id>` (one per invocation, so a new command is a new event).
 * The reply is a Slack message, with HTTP 200 even for refusals and failures: Slack shows any
 * other status as a bare error and drops the body.
 */
export function createSlackSource(settings: SlackSettings): SourceHandlers<Readable<URLSearchParams>> {
  const { signingSecrets } = settings;
  const message = (body: ResponseBody) => ({ response_type: 'in_channel', text: replyText(body, 'slack') });
  return {
    verify(request) {
      const signature = checkSlackSignature(
        {
          timestamp: request.headers.get('x-slack-request-timestamp'),
          signature: request.headers.get('x-slack-signature'),
        },
        request.body,
        signingSecrets,
        Math.floor(request.receivedAt.getTime() / 1000),
      );
      // A body that cannot be read is left to parse, which refuses it (after authentication, in Slack's shape).
      const fields = readable(() => form(request.body));
      // Slack does not sign its ssl_check: that exact shape is answered, and nothing else unsigned.
      if (!signature.ok) return isSslCheck(fields) ? SSL_CHECK_ANSWER : refused(signature.reason);
      // The signed body is bound to Slack: its response_url, where the outcome is posted later,
      // must be Slack's own.
      const responseUrl = fields.ok ? fields.value.get('response_url') : null;
      if (responseUrl !== null && !isSlackResponseUrl(responseUrl)) {
        return refused('response_url is not a Slack response URL (https://hooks.slack.com/commands/…)');
      }
      return isSslCheck(fields) ? SSL_CHECK_ANSWER : verified(fields);
    },
    parse(signedFields): SourceEvent {
      const fields = contentOf(signedFields);
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
      // Later results (the async hand-off) go to response_url, which verify bound to Slack's.
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
    // Only a request that failed authentication keeps its status; render never sees one through
    // the app, which refuses those with the plain JSON error first.
    render: (body, status) => ({ status: status === 401 ? 401 : 200, body: message(body) }),
    replyBody: message,
  };
}
