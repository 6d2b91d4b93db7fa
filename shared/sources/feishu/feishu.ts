import { AUTHENTICATED, type AuthResult, rejected } from '../../auth/auth-result.ts';
import { matchesAny } from '../../auth/constant-time.ts';
import { checkLarkSignature } from '../../auth/feishu-signature.ts';
import { replyText } from '../chat-reply.ts';
import { isObject, type Json } from '../payload.ts';
import { handshake, type Reply, refused, type SourceHandlers, type Verdict, verified } from '../source.ts';
import { eventOf } from './events.ts';
import type { FeishuSettings } from './index.ts';
import { decode } from './push.ts';

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

/** The answer to an authenticated URL verification: its challenge, echoed. */
function challengeAnswer(value: Json): Reply {
  const { challenge } = value;
  if (typeof challenge !== 'string' || challenge.length > 1024) {
    return { status: 400, body: { error: { code: 'InvalidPayload', message: 'challenge: must be a string' } } };
  }
  return { status: 200, body: { challenge } };
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
 * Event key and commands: see events.ts; any event that is not a command is answered 200 with
 * nothing done.
 *
 * The reply: Feishu shows nothing of an event's HTTP response, it only reads the status: a non-200
 * answer (or none within 3 s) makes it re-send the event. So every outcome a retry cannot change
 * (done, refused, malformed) is answered 200, and only a retryable failure (502/503, or a 500
 * configuration error) keeps its status so Feishu tries again — safe, because the re-sent event
 * has the same event_id, so the same clientTokens. The body is the usual JSON result.
 */
export function createFeishuSource(settings: FeishuSettings): SourceHandlers<Json> {
  const { encryptKeys, verificationTokens: tokens, allowTokenOnly } = settings;
  const replies = settings.app !== undefined;

  return {
    verify(request): Verdict<Json> {
      const push = decode(request.body, encryptKeys);
      if ('reason' in push) return refused(push.reason);
      const token = tokenOf(push.value);
      if (isChallenge(push.value)) {
        const trusted =
          tokens.length > 0
            ? checkToken(token, tokens)
            : push.encrypted
              ? AUTHENTICATED
              : rejected('an unencrypted url_verification, and FEISHU_VERIFICATION_TOKENS is not set');
        return trusted.ok ? handshake(challengeAnswer(push.value)) : refused(trusted.reason);
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
      return result.ok ? verified(push.value) : refused(result.reason);
    },
    parse: (push) => eventOf(push, replies),
    // A reply message (im/v1 messages/:id/reply): a text message whose content is a JSON string.
    replyBody: (body) => ({ msg_type: 'text', content: JSON.stringify({ text: replyText(body, 'plain') }) }),
    render: (body, status) => ({ status: status === 401 || status >= 500 ? status : 200, body }),
  };
}
