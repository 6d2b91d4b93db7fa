import * as z from 'zod/mini';
import type { ReplyTarget } from '../../core/target.ts';
import { bool, list, optionalString, optionalVar } from '../../env-schemas.ts';
import { CHAT_DEADLINE_MS, defineSource } from '../source.ts';

/** The open API bases FEISHU_OPEN_API_BASE may name: Feishu's, and Lark's (its international edition). */
export const FEISHU_OPEN_API_BASES = ['https://open.feishu.cn', 'https://open.larksuite.com'] as const;

/** A Feishu/Lark message ID (`om_…`), the only part of a Feishu reply the event chooses. */
export const FEISHU_MESSAGE_ID = /^om_[A-Za-z0-9_-]{1,120}$/;

const isFeishuMessageId = (value: unknown): value is string =>
  typeof value === 'string' && FEISHU_MESSAGE_ID.test(value);

/** The reply API of a Feishu/Lark message, on the configured open API base: the only URL that gets the tenant token. */
export const feishuReplyUrl = (openApiBase: string, messageId: string): string =>
  `${openApiBase}/open-apis/im/v1/messages/${messageId}/reply`;

export interface FeishuSettings {
  readonly encryptKeys: readonly string[];
  readonly verificationTokens: readonly string[];
  /** FEISHU_ALLOW_TOKEN_ONLY: act on events authenticated by the verification token alone. */
  readonly allowTokenOnly: boolean;
  /** The bot's app credentials, for replies to a message (tenant access token); optional. */
  readonly app?: { readonly appId: string; readonly appSecret: string; readonly openApiBase: string } | undefined;
}

/** Feishu/Lark event subscription (Lark signature, or the verification token by opt-in): see feishu.ts. */
export const feishu = defineSource({
  name: 'feishu',
  mediaTypes: ['application/json'],
  deadlineMs: CHAT_DEADLINE_MS,
  variables: {
    FEISHU_ENCRYPT_KEYS: list,
    FEISHU_VERIFICATION_TOKENS: list,
    FEISHU_APP_ID: optionalString,
    FEISHU_APP_SECRET: optionalString,
    FEISHU_OPEN_API_BASE: optionalVar(() => z.optional(z.enum(FEISHU_OPEN_API_BASES))),
    FEISHU_ALLOW_TOKEN_ONLY: bool(false),
  },
  settings: (v): FeishuSettings => ({
    encryptKeys: v.FEISHU_ENCRYPT_KEYS,
    verificationTokens: v.FEISHU_VERIFICATION_TOKENS,
    allowTokenOnly: v.FEISHU_ALLOW_TOKEN_ONLY,
    app:
      v.FEISHU_APP_ID && v.FEISHU_APP_SECRET
        ? {
            appId: v.FEISHU_APP_ID,
            appSecret: v.FEISHU_APP_SECRET,
            openApiBase: v.FEISHU_OPEN_API_BASE ?? FEISHU_OPEN_API_BASES[0],
          }
        : undefined,
  }),
  secretVariables: ['FEISHU_ENCRYPT_KEYS', 'FEISHU_VERIFICATION_TOKENS'],
  enabled: (s) => s.encryptKeys.length > 0 || s.verificationTokens.length > 0,
  // A command reports only as a reply to its own message, by ID: the URL is built on the configured base.
  replyHosts: FEISHU_OPEN_API_BASES.map((base) => new URL(base).hostname),
  replyTarget: (target: ReplyTarget) =>
    'messageId' in target && isFeishuMessageId(target.messageId) ? { messageId: target.messageId } : undefined,
  load: async () => (await import('./feishu.ts')).createFeishuSource,
});
