/**
 * Where each chat platform's later report of a command may go, pinned per source: Slack only to
 * its own `response_url`, DingTalk only to its own session webhook, Feishu only to the reply API of
 * the message, built here from the message ID on the configured open API base. A URL a sender
 * chose is never posted to unless it has its platform's exact shape, and credentials go only to
 * the URLs built here. Only canonical spellings match (no user info, port, percent-encoding, dot
 * segment or extra parameter), so no URL parser can read a match as another place.
 */

/**
 * Slack's slash-command `response_url`: `https://hooks.slack.com/commands/<team>/<id>/<token>`
 * (Slack's docs show `https://hooks.slack.com/commands/1234/5678`), and nothing else on Slack's
 * host: not an incoming webhook (`/services/…`) nor another workspace's API.
 */
const SLACK_RESPONSE_URL = /^https:\/\/hooks\.slack\.com\/commands(?:\/[A-Za-z0-9_-]{1,64}){2,4}$/;

/** DingTalk's session webhook: `https://oapi.dingtalk.com/robot/sendBySession?session=<id>`. */
const DINGTALK_SESSION_WEBHOOK = /^https:\/\/oapi\.dingtalk\.com\/robot\/sendBySession\?session=[A-Za-z0-9_-]{1,256}$/;

/** A Feishu/Lark message ID (`om_…`), the only part of a Feishu reply the event chooses. */
export const FEISHU_MESSAGE_ID = /^om_[A-Za-z0-9_-]{1,120}$/;

export const isSlackResponseUrl = (value: unknown): value is string =>
  typeof value === 'string' && SLACK_RESPONSE_URL.test(value);

export const isDingTalkSessionWebhook = (value: unknown): value is string =>
  typeof value === 'string' && DINGTALK_SESSION_WEBHOOK.test(value);

export const isFeishuMessageId = (value: unknown): value is string =>
  typeof value === 'string' && FEISHU_MESSAGE_ID.test(value);

/** What a command carries about its report: the platform's reply URL, or the Feishu message it answers. */
export type ReplyTarget = { readonly url: string } | { readonly messageId: string };

/**
 * The reply target when it is one that `source` may report to (a Slack command only to a Slack
 * `response_url`, and so on); undefined for anything else, and for sources that never reply.
 */
export function replyTargetFor(source: string, target: ReplyTarget | undefined): ReplyTarget | undefined {
  if (target === undefined) return undefined;
  const url = 'url' in target ? target.url : undefined;
  const messageId = 'messageId' in target ? target.messageId : undefined;
  switch (source) {
    case 'slack':
      return isSlackResponseUrl(url) ? { url } : undefined;
    case 'dingtalk':
      return isDingTalkSessionWebhook(url) ? { url } : undefined;
    case 'feishu':
      return isFeishuMessageId(messageId) ? { messageId } : undefined;
    default:
      return undefined;
  }
}

/** The reply API of a Feishu/Lark message, on the configured open API base. */
export const feishuReplyUrl = (openApiBase: string, messageId: string): string =>
  `${openApiBase}/open-apis/im/v1/messages/${messageId}/reply`;
