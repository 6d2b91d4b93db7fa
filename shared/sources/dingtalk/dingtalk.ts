import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import { checkDingTalkSign, DINGTALK_PLATFORM_MAX_AGE_MS } from '../../auth/dingtalk-sign.ts';
import { createReplayGuard } from '../../auth/replay-guard.ts';
import type { ResponseBody } from '../../core/result.ts';
import type { SourceEvent } from '../../core/target.ts';
import { PayloadError } from '../../errors.ts';
import { chatIds, chatName, MAX_COMMAND_IDS, parseCommandText, usageText } from '../chat-command.ts';
import { replyText } from '../chat-reply.ts';
import {
  bodyText,
  contentOf,
  EVENT_KEY_PATTERN,
  isObject,
  parseJson,
  type Readable,
  readable,
  validate,
} from '../payload.ts';
import {
  type InboundRequest,
  type ReplayMemory,
  refused,
  type SharedSettings,
  type SourceHandlers,
  type Verdict,
  verified,
} from '../source.ts';
import { type DingTalkSettings, isDingTalkSessionWebhook } from './index.ts';

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

/** Pairs remembered per function instance (without a store): far more than one robot's chat sends in a window. */
export const MAX_REMEMBERED_PAIRS = 10_000;

const sha256 = (data: string | Uint8Array, encoding: 'base64' | 'base64url') =>
  createHash('sha256').update(data).digest(encoding);

/** A callback whose sign, pair and robot binding verified: what parse reads. */
interface SignedCallback {
  /** The body as JSON (or why it is not: parse refuses it then, with a reply saying why). */
  readonly body: Readable<unknown>;
  readonly receivedAt: Date;
}

/** Why a callback body does not belong to this robot; undefined when it does (or is not a JSON object, which parse refuses). */
function bindingProblem(value: unknown, robotCodes: readonly string[]): string | undefined {
  if (!isObject(value)) return undefined;
  const { robotCode, sessionWebhook } = value;
  if (robotCodes.length > 0 && !(typeof robotCode === 'string' && robotCodes.includes(robotCode))) {
    return 'robotCode is not one of DINGTALK_ROBOT_CODES';
  }
  if (sessionWebhook !== undefined && !isDingTalkSessionWebhook(sessionWebhook)) {
    return 'sessionWebhook is not a DingTalk session webhook';
  }
  return undefined;
}

/**
 * DingTalk robot callbacks: headers `timestamp` (ms) and `sign` =
 * base64(HMAC-SHA256(appSecret, timestamp + "\n" + appSecret)), several app secrets. The sign
 * covers only the timestamp, so whoever reads one callback's headers holds a pair that signs any
 * body. What binds a callback besides the sign:
 * - the window: DINGTALK_MAX_AGE_SECONDS (5 minutes) rather than DingTalk's hour;
 * - once per pair: a pair is remembered with the SHA-256 of the body it first came with; the same
 *   bytes again are the same delivery (same msgId, so the same tokens and no second change), another
 *   body with it is refused. The memory is the state store's when the function has one (shared by
 *   every instance of every function, so a pair is spent everywhere; a store that does not answer
 *   refuses the callback with 503), else the function instance's own. Only a hash of the pair is
 *   kept: the memory holds nothing that signs a body;
 * - the robot: `robotCode` one of DINGTALK_ROBOT_CODES when set, and `sessionWebhook` DingTalk's own
 *   session-webhook URL, the only place a later reply goes.
 * Each refusal is a plain 401, before anything is parsed for a command or posted anywhere.
 * Event key: `dingtalk:<msgId>`. `text.content` (or the text parts of a richText message) names the
 * instances. The reply is a DingTalk message body, answered in the HTTP response with 200.
 */
export function createDingTalkSource(
  settings: DingTalkSettings,
  shared: Pick<SharedSettings, 'replayMemory'> = {},
): SourceHandlers<SignedCallback> {
  const { appSecrets, maxAgeMs, robotCodes } = settings;
  const pairs: ReplayMemory = shared.replayMemory ?? createReplayGuard({ maxEntries: MAX_REMEMBERED_PAIRS });
  const reply = (body: ResponseBody) => ({ msgtype: 'text', text: { content: replyText(body, 'plain') } });

  return {
    /**
     * The sign, then the pair's first body, then the robot binding; the reason goes to the log.
     * Rejects when the store behind the pair memory does not answer by the request's deadline.
     */
    async verify(request: InboundRequest): Promise<Verdict<SignedCallback>> {
      const timestamp = request.headers.get('timestamp');
      const sign = request.headers.get('sign');
      const now = request.receivedAt.getTime();
      const signed = checkDingTalkSign({ timestamp, sign }, appSecrets, now, maxAgeMs);
      if (!signed.ok) return refused(signed.reason);
      // Keyed by the pair alone (not the function): the pair is the credential, wherever it is sent.
      const key = `dingtalk-pair:${sha256(`${timestamp}\n${sign}`, 'base64url')}`;
      const fingerprint = sha256(request.body, 'base64');
      // Remembered until the window closes on the pair anyway (the millisecond after its last valid
      // one). In the store, other functions share the memory and may allow a longer window
      // (DINGTALK_MAX_AGE_SECONDS is per function): there the pair is kept for the longest any may
      // allow, DingTalk's own hour, or a function with a longer window could take it once ours closed.
      const expiresAt = Number(timestamp) + (pairs.sharedAcrossFunctions ? DINGTALK_PLATFORM_MAX_AGE_MS : maxAgeMs) + 1;
      switch (await pairs.check(key, fingerprint, expiresAt, now, request.deadline)) {
        case 'reused':
          return refused('this timestamp/sign pair already came with another body (a replayed pair)');
        case 'full':
          return refused(
            'every timestamp/sign pair remembered is still inside its window; refused rather than forget one',
          );
      }
      // Not JSON: parse refuses it (a reply saying why); nothing in it can act.
      const body = readable(() => parseJson(bodyText(request.body)));
      const problem = body.ok ? bindingProblem(body.value, robotCodes) : undefined;
      return problem ? refused(problem) : verified({ body, receivedAt: request.receivedAt });
    },
    parse(callback): SourceEvent {
      const message = validate(dingTalkMessageSchema, contentOf(callback.body), 'DingTalk message');
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
      // Later results (the async hand-off) go to the session webhook while it is valid; verify
      // refused any other URL, and this check keeps parse safe on its own.
      const webhookValid =
        isDingTalkSessionWebhook(message.sessionWebhook) &&
        (message.sessionWebhookExpiredTime === undefined ||
          message.sessionWebhookExpiredTime > callback.receivedAt.getTime());
      return {
        reason: `${reason ? `${reason} ` : ''}(DingTalk, ${who} in ${where})`.slice(0, 1000),
        items: instanceIds.map((instanceId) => ({ instanceId, eventKey })),
        reply: webhookValid && message.sessionWebhook ? { url: message.sessionWebhook } : undefined,
        // The policy checks the person (senderStaffId) against DINGTALK_ALLOWED_USERS, the conversation against its list.
        requester: {
          platform: 'dingtalk',
          userIds: chatIds(message.senderStaffId),
          userName: chatName(message.senderNick),
          placeId: chatIds(message.conversationId)[0],
          placeName: chatName(message.conversationTitle),
        },
      };
    },
    render: (body, status) => ({ status: status === 401 ? 401 : 200, body: reply(body) }),
    replyBody: reply,
  };
}
