import * as z from 'zod/mini';
import { checkDingTalkSign } from '../auth/dingtalk-sign.ts';
import type { ResponderConfig } from '../config.ts';
import type { SourceEvent } from '../core/target.ts';
import { PayloadError } from '../errors.ts';
import { MAX_COMMAND_IDS, parseCommandText, replyText, usageText } from './chat-command.ts';
import { bodyText, EVENT_KEY_PATTERN, parseJson, validate } from './payload.ts';
import { CHAT_DEADLINE_MS, type Source } from './source.ts';

/**
 * The robot callback body (enterprise internal robot, HTTP mode). Unknown keys are kept out of
 * the way, not refused: DingTalk adds fields (robotCode, atUsers, isInAtList, …).
 */
const dingTalkMessageSchema = z.looseObject({
  msgtype: z.string(),
  msgId: z.string().check(z.regex(EVENT_KEY_PATTERN, 'must be 1 to 256 printable ASCII characters')),
  text: z.optional(z.looseObject({ content: z.string().check(z.maxLength(20_000)) })),
  content: z.optional(
    z.looseObject({
      richText: z
        .array(z.looseObject({ text: z.optional(z.string().check(z.maxLength(20_000))) }))
        .check(z.maxLength(200)),
    }),
  ),
  conversationId: z.optional(z.string()),
  sessionWebhook: z.optional(z.string().check(z.maxLength(2048))),
  sessionWebhookExpiredTime: z.optional(z.number()),
  conversationTitle: z.optional(z.string()),
  senderNick: z.optional(z.string()),
  senderStaffId: z.optional(z.string()),
  senderId: z.optional(z.string()),
});

/**
 * DingTalk robot callbacks: headers `timestamp` (ms) and `sign` =
 * base64(HMAC-SHA256(appSecret, timestamp + "\n" + appSecret)), one-hour window, several app
 * secrets. The sign does not cover the body, so the event key is the message's own ID:
 * `dingtalk:<msgId>` (a replay within the window names the same msgId, so the same tokens).
 * `text.content` (or the text parts of a richText message) names the instances. The reply is a
 * DingTalk message body, answered in the HTTP response with 200.
 */
export function createDingTalkSource(secrets: ResponderConfig['secrets']): Source {
  const appSecrets = secrets.dingtalkAppSecrets;
  return {
    name: 'dingtalk',
    deadlineMs: CHAT_DEADLINE_MS,
    enabled: appSecrets.length > 0,
    mediaTypes: ['application/json'],
    authenticate(request) {
      return checkDingTalkSign(
        { timestamp: request.headers.get('timestamp'), sign: request.headers.get('sign') },
        appSecrets,
        request.receivedAt.getTime(),
      );
    },
    parse(request): SourceEvent {
      const message = validate(dingTalkMessageSchema, parseJson(bodyText(request.body)), 'DingTalk message');
      let text: string;
      if (message.msgtype === 'text' && message.text) {
        text = message.text.content;
      } else if (message.msgtype === 'richText' && message.content) {
        text = message.content.richText.map((part) => part.text ?? '').join(' ');
      } else {
        throw new PayloadError(`a ${message.msgtype} message names no instance; ${usageText('@robot')}`);
      }
      const { instanceIds, reason } = parseCommandText(text);
      if (instanceIds.length === 0) throw new PayloadError(usageText('@robot'));
      if (instanceIds.length > MAX_COMMAND_IDS) {
        throw new PayloadError(`the message names ${instanceIds.length} instances; at most ${MAX_COMMAND_IDS}`);
      }
      const who = message.senderNick || message.senderStaffId || message.senderId || 'unknown user';
      const where = message.conversationTitle || message.conversationId || 'a direct chat';
      const eventKey = `dingtalk:${message.msgId}`;
      // Later results (the async hand-off) go to the session webhook while it is valid.
      const webhookValid =
        message.sessionWebhook !== undefined &&
        (message.sessionWebhookExpiredTime === undefined ||
          message.sessionWebhookExpiredTime > request.receivedAt.getTime());
      return {
        reason: `${reason ? `${reason} ` : ''}(DingTalk, ${who} in ${where})`.slice(0, 1000),
        items: instanceIds.map((instanceId) => ({ instanceId, eventKey })),
        replyUrl: webhookValid ? message.sessionWebhook : undefined,
      };
    },
    render(body, status) {
      return {
        status: status === 401 ? 401 : 200,
        body: { msgtype: 'text', text: { content: replyText(body, 'plain') } },
      };
    },
  };
}
