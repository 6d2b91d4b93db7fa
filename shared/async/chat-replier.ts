import type { ReplyTarget } from '../core/target.ts';
import { feishuReplyUrl } from '../sources/feishu/index.ts';
import { ReplyError, type ReplySender } from './reply-sender.ts';
import { replyTargetFor } from './reply-target.ts';

/** Reports a handed-off command's outcome to the chat it came from. */
export interface ChatReplier {
  /**
   * Posts `body` for a command of `source` to `target`, when that is where such a command may
   * report (see reply-target.ts); rejects with {@link ReplyError} only, `ReplyUrlRefused` before
   * anything is sent.
   */
  report(source: string, target: ReplyTarget, body: unknown): Promise<void>;
}

export interface ChatReplierOptions {
  sender: ReplySender;
  /**
   * Replies to Feishu messages: the configured open API base, and the bot's tenant token when
   * replies are authenticated (absent in local mode, which captures replies instead of sending).
   * Without it, a Feishu command reports nowhere.
   */
  feishu?: { openApiBase: string; tenantToken?: (() => Promise<string>) | undefined } | undefined;
}

/** The host a refused URL named, for the log (never the whole URL: a reply URL is a capability). */
function hostOf(target: ReplyTarget): string {
  if (!('url' in target)) return 'a message ID';
  try {
    return new URL(target.url).host || 'no host';
  } catch {
    return 'not a URL';
  }
}

/**
 * Posts each platform's report only where that platform's command may report: Slack and DingTalk
 * to their own reply URL (no credentials), Feishu to the reply API URL built from the message ID,
 * the only request that carries the tenant token.
 */
export function createChatReplier(options: ChatReplierOptions): ChatReplier {
  const { sender, feishu } = options;
  return {
    async report(source, target, body) {
      const pinned = replyTargetFor(source, target);
      if (pinned === undefined) {
        throw new ReplyError(
          'ReplyUrlRefused',
          `a ${source.slice(0, 20)} command does not report to ${hostOf(target)}`,
          {
            retryable: false,
          },
        );
      }
      if ('url' in pinned) {
        await sender.send(pinned.url, body);
        return;
      }
      if (!feishu) {
        throw new ReplyError('ReplyUrlRefused', 'a Feishu reply needs FEISHU_APP_ID and FEISHU_APP_SECRET', {
          retryable: false,
        });
      }
      const url = feishuReplyUrl(feishu.openApiBase, pinned.messageId);
      const headers = feishu.tenantToken ? { authorization: `Bearer ${await feishu.tenantToken()}` } : undefined;
      await sender.send(url, body, headers);
    },
  };
}
