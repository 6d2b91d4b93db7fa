import * as z from 'zod/mini';
import type { Requester, SourceEvent } from '../../core/target.ts';
import { PayloadError } from '../../errors.ts';
import { chatIds, MAX_COMMAND_IDS, parseCommandText, usageText } from '../chat-command.ts';
import { EVENT_KEY_PATTERN, isObject, type Json, parseObject, validate } from '../payload.ts';
import { FEISHU_MESSAGE_ID } from './index.ts';

/**
 * What a verified Feishu event asks for. Event key: `feishu:<header.event_id>` (schema 2.0) or
 * `feishu:<uuid>` (1.0); Feishu re-sends an event with the same ID, so the same tokens. Only
 * `im.message.receive_v1` (and 1.0 `message`) are commands; any other event names nothing.
 */

const eventKeySchema = z.string().check(z.regex(EVENT_KEY_PATTERN, 'must be 1 to 256 printable ASCII characters'));

/** Schema 2.0 `im.message.receive_v1` (https://open.feishu.cn/document/server-docs/im-v1/message/events/receive). */
const v2Schema = z.looseObject({
  schema: z.literal('2.0'),
  header: z.looseObject({ event_id: eventKeySchema, event_type: z.string() }),
  event: z.optional(z.unknown()),
});
const v2MessageSchema = z.looseObject({
  message: z.looseObject({
    message_id: z.optional(z.string().check(z.regex(FEISHU_MESSAGE_ID, 'must be a message ID (om_…)'))),
    message_type: z.string(),
    content: z.string().check(z.maxLength(100_000)),
    chat_id: z.optional(z.string()),
    chat_type: z.optional(z.string()),
  }),
  sender: z.optional(
    z.looseObject({
      sender_id: z.optional(
        z.looseObject({
          open_id: z.nullish(z.string()),
          user_id: z.nullish(z.string()),
          union_id: z.nullish(z.string()),
        }),
      ),
    }),
  ),
});
/** Schema 1.0 `message` event: `uuid` identifies the delivery, `event.text_without_at_bot` the text. */
const v1Schema = z.looseObject({
  uuid: eventKeySchema,
  type: z.literal('event_callback'),
  event: z.looseObject({
    type: z.string(),
    msg_type: z.optional(z.string()),
    text: z.optional(z.string().check(z.maxLength(100_000))),
    text_without_at_bot: z.optional(z.string().check(z.maxLength(100_000))),
    open_id: z.optional(z.string()),
    union_id: z.optional(z.string()),
    employee_id: z.optional(z.string()),
    open_chat_id: z.optional(z.string()),
  }),
});

/** The text of a `text` or `post` message's `content` JSON string. */
function messageText(type: string, content: string): string {
  const value = parseObject(content);
  if (!value) throw new PayloadError('event.message.content: not a JSON object');
  if (type === 'text' && typeof value.text === 'string') return value.text;
  if (type === 'post') {
    const parts: string[] = typeof value.title === 'string' ? [value.title] : [];
    const rows = Array.isArray(value.content) ? value.content : [];
    for (const row of rows.slice(0, 500)) {
      for (const element of Array.isArray(row) ? row.slice(0, 500) : []) {
        if (isObject(element) && element.tag === 'text' && typeof element.text === 'string') parts.push(element.text);
      }
    }
    return parts.join(' ');
  }
  throw new PayloadError(`a ${type} message names no instance; ${usageText('@bot')}`);
}

function command(text: string, eventKey: string, requester: Requester): SourceEvent {
  const { instanceIds, reason } = parseCommandText(text);
  if (instanceIds.length === 0) throw new PayloadError(usageText('@bot'));
  if (instanceIds.length > MAX_COMMAND_IDS) {
    throw new PayloadError(`the message names ${instanceIds.length} instances; at most ${MAX_COMMAND_IDS}`);
  }
  const who = requester.userIds[0] ?? 'unknown user';
  return {
    reason: `${reason ? `${reason} ` : ''}(Feishu, ${who} in ${requester.placeId ?? 'a chat'})`.slice(0, 1000),
    items: instanceIds.map((instanceId) => ({ instanceId, eventKey })),
    // The policy checks the sender's IDs against FEISHU_ALLOWED_USERS and the chat against FEISHU_ALLOWED_CHATS.
    requester,
  };
}

/**
 * The event a verified push names; `replies`: the bot's app credentials are configured, so the
 * async outcome is posted as a reply to the message (the command carries its ID, and the URL is
 * built from it when the report is posted).
 */
export function eventOf(push: Json, replies: boolean): SourceEvent {
  if (push.schema === '2.0') {
    const event = validate(v2Schema, push, 'Feishu event');
    const eventKey = `feishu:${event.header.event_id}`;
    if (event.header.event_type !== 'im.message.receive_v1') {
      return { items: [], notes: [`a ${event.header.event_type} event is not a command; nothing was done`] };
    }
    const { message, sender } = validate(v2MessageSchema, event.event, 'Feishu event.event');
    const ids = sender?.sender_id;
    const asked = command(messageText(message.message_type, message.content), eventKey, {
      platform: 'feishu',
      userIds: chatIds(ids?.open_id, ids?.user_id, ids?.union_id),
      placeId: chatIds(message.chat_id)[0],
    });
    if (replies && message.message_id) asked.reply = { messageId: message.message_id };
    return asked;
  }
  if (push.type === 'event_callback') {
    const { uuid, event } = validate(v1Schema, push, 'Feishu event (schema 1.0)');
    if (event.type !== 'message') {
      return { items: [], notes: [`a ${event.type} event is not a command; nothing was done`] };
    }
    if (event.msg_type !== undefined && event.msg_type !== 'text') {
      throw new PayloadError(`a ${event.msg_type} message names no instance; ${usageText('@bot')}`);
    }
    return command(event.text_without_at_bot ?? event.text ?? '', `feishu:${uuid}`, {
      platform: 'feishu',
      userIds: chatIds(event.open_id, event.employee_id, event.union_id),
      placeId: chatIds(event.open_chat_id)[0],
    });
  }
  throw new PayloadError('not a Feishu event: expected schema 2.0 or an event_callback');
}
