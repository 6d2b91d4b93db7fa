import * as z from 'zod/mini';
import { FEISHU_MESSAGE_ID } from '../async/reply-target.ts';
import { AUTHENTICATED, type AuthResult, rejected } from '../auth/auth-result.ts';
import { matchesAny } from '../auth/constant-time.ts';
import { checkLarkSignature, larkDecrypt } from '../auth/feishu-signature.ts';
import type { ResponderConfig } from '../config.ts';
import type { Requester, SourceEvent } from '../core/target.ts';
import { PayloadError, UnauthorizedError } from '../errors.ts';
import { chatIds, MAX_COMMAND_IDS, parseCommandText, replyText, usageText } from './chat-command.ts';
import { bodyText, EVENT_KEY_PATTERN, validate } from './payload.ts';
import type { InboundRequest, Source } from './source.ts';
import { CHAT_DEADLINE_MS } from './source.ts';

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The push as the app sees it: decrypted when it came as `{"encrypt": …}`. */
interface Decoded {
  value: Json;
  /** Decrypted with a configured Encrypt Key (which proves the sender holds it). */
  encrypted: boolean;
}

function parseObject(text: string): Json | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The push, decrypted when it is encrypted; else why it cannot be read (for the log). */
function decode(body: Uint8Array, encryptKeys: readonly string[]): Decoded | { reason: string } {
  let outer: Json | undefined;
  try {
    outer = parseObject(bodyText(body));
  } catch {
    return { reason: 'the body is not UTF-8' };
  }
  if (!outer) return { reason: 'the body is not a JSON object' };
  if (typeof outer.encrypt !== 'string') return { value: outer, encrypted: false };
  if (encryptKeys.length === 0) return { reason: 'an encrypted body, but FEISHU_ENCRYPT_KEYS is not set' };
  for (const key of encryptKeys) {
    const plain = larkDecrypt(outer.encrypt, key);
    const value = plain === undefined ? undefined : parseObject(plain);
    if (value) return { value, encrypted: true };
  }
  return { reason: 'no configured Encrypt Key decrypts the body' };
}

/** The verification token against the configured ones. */
function checkToken(token: string | undefined, tokens: readonly string[]): AuthResult {
  if (tokens.length === 0) return rejected('no verification token configured');
  if (token === undefined) return rejected('no verification token in the body');
  return matchesAny(token, tokens) ? AUTHENTICATED : rejected('verification token mismatch');
}

/** Verification token: `header.token` in schema 2.0, `token` in schema 1.0 and in url_verification. */
function tokenOf(value: Json): string | undefined {
  const header = value.header;
  const token = value.schema === '2.0' && isObject(header) ? header.token : value.token;
  return typeof token === 'string' ? token : undefined;
}

const isChallenge = (value: Json) => value.type === 'url_verification';

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
 * Feishu/Lark event subscription (request URL mode).
 *
 * Authentication, with Encrypt Keys configured (FEISHU_ENCRYPT_KEYS): every event must carry
 * `X-Lark-Signature` = hex SHA-256(timestamp + nonce + encryptKey + rawBody) with a
 * `X-Lark-Request-Timestamp` within five minutes; `{"encrypt": …}` bodies are decrypted
 * (AES-256-CBC, key SHA-256(encryptKey), IV the first 16 bytes). Without one, events are refused
 * (401) unless FEISHU_ALLOW_TOKEN_ONLY=true: then the verification token (FEISHU_VERIFICATION_TOKENS;
 * `header.token` in schema 2.0, `token` in 1.0) is compared, and a captured event can be forged
 * at will, for as long as the token is valid.
 *
 * URL verification (`{"challenge", "token", "type": "url_verification"}`, encrypted when an
 * Encrypt Key is set) is not signed: the official SDKs answer it before checking signatures
 * (oapi-sdk-go's dispatcher verifies the signature only when the request is not a challenge). It
 * is authenticated by its token when verification tokens are configured, else by having been
 * decrypted with a configured Encrypt Key; the handshake answers `{"challenge": …}` and such a
 * request can never reach the command parser. So the console can verify the URL with the token
 * alone (FEISHU_ALLOW_TOKEN_ONLY unset): answering a challenge acts on nothing.
 *
 * Event key: `feishu:<header.event_id>` (schema 2.0) or `feishu:<uuid>` (1.0); Feishu re-sends an
 * event with the same ID, so the same tokens. Only `im.message.receive_v1` (and 1.0 `message`)
 * are commands; any other event is answered 200 with nothing done.
 *
 * The reply: Feishu shows nothing of an event's HTTP response, it only reads the status: a non-200
 * answer (or none within 3 s) makes it re-send the event. So every outcome a retry cannot change
 * (done, refused, malformed) is answered 200, and only a retryable failure (502/503, or a 500
 * configuration error) keeps its status so Feishu tries again — safe, because the re-sent event
 * has the same event_id, so the same clientTokens. The body is the usual JSON result.
 */
export function createFeishuSource(secrets: ResponderConfig['secrets']): Source {
  const replies = secrets.feishuApp !== undefined;
  const encryptKeys = secrets.feishuEncryptKeys;
  const tokens = secrets.feishuVerificationTokens;
  const allowTokenOnly = secrets.feishuAllowTokenOnly;
  const decoded = new WeakMap<InboundRequest, Decoded>();
  // Events (not challenges) that passed a signature or token check; parse refuses the rest.
  const verified = new WeakSet<InboundRequest>();

  return {
    name: 'feishu',
    deadlineMs: CHAT_DEADLINE_MS,
    enabled: encryptKeys.length > 0 || tokens.length > 0,
    mediaTypes: ['application/json'],
    authenticate(request) {
      const push = decode(request.body, encryptKeys);
      if ('reason' in push) return rejected(push.reason);
      decoded.set(request, push);
      const token = tokenOf(push.value);
      if (isChallenge(push.value)) {
        if (tokens.length > 0) return checkToken(token, tokens);
        return push.encrypted
          ? AUTHENTICATED
          : rejected('an unencrypted url_verification, and FEISHU_VERIFICATION_TOKENS is not set');
      }
      // The token is a static value in every event body: anyone who has seen one event can forge any
      // other. It authenticates events only when the operator accepts that (FEISHU_ALLOW_TOKEN_ONLY).
      const result =
        encryptKeys.length > 0
          ? checkLarkSignature(
              {
                timestamp: request.headers.get('x-lark-request-timestamp'),
                nonce: request.headers.get('x-lark-request-nonce'),
                signature: request.headers.get('x-lark-signature'),
              },
              request.body,
              encryptKeys,
              Math.floor(request.receivedAt.getTime() / 1000),
            )
          : allowTokenOnly
            ? checkToken(token, tokens)
            : rejected(
                'an event with no X-Lark-Signature to check: FEISHU_ENCRYPT_KEYS is not set, and FEISHU_ALLOW_TOKEN_ONLY is not true',
              );
      if (result.ok) verified.add(request);
      return result;
    },
    handshake(request) {
      const push = decoded.get(request);
      if (!push || !isChallenge(push.value)) return undefined;
      const { challenge } = push.value;
      if (typeof challenge !== 'string' || challenge.length > 1024) {
        return { status: 400, body: { error: { code: 'InvalidPayload', message: 'challenge: must be a string' } } };
      }
      return { status: 200, body: { challenge } };
    },
    parse(request): SourceEvent {
      const push = decoded.get(request);
      if (!push || !verified.has(request)) throw new UnauthorizedError();
      const value = push.value;
      if (value.schema === '2.0') {
        const event = validate(v2Schema, value, 'Feishu event');
        const eventKey = `feishu:${event.header.event_id}`;
        if (event.header.event_type !== 'im.message.receive_v1') {
          return { items: [], notes: [`a ${event.header.event_type} event is not a command; nothing was done`] };
        }
        const { message, sender } = validate(v2MessageSchema, event.event, 'Feishu event.event');
        const ids = sender?.sender_id;
        const event2 = command(messageText(message.message_type, message.content), eventKey, {
          platform: 'feishu',
          userIds: chatIds(ids?.open_id, ids?.user_id, ids?.union_id),
          placeId: chatIds(message.chat_id)[0],
        });
        // With the bot's app credentials configured, the async outcome is posted as a reply to the
        // message: the command carries its ID, and the URL is built from it when the report is posted.
        if (replies && message.message_id) event2.reply = { messageId: message.message_id };
        return event2;
      }
      if (value.type === 'event_callback') {
        const { uuid, event } = validate(v1Schema, value, 'Feishu event (schema 1.0)');
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
    },
    replyBody(body) {
      // A reply message (im/v1 messages/:id/reply): a text message whose content is a JSON string.
      return { msg_type: 'text', content: JSON.stringify({ text: replyText(body, 'plain') }) };
    },
    render(body, status) {
      return { status: status === 401 || status >= 500 ? status : 200, body };
    },
  };
}
