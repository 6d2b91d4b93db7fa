import { REPLY_HOSTS } from '../sources/registry.ts';
import { checkReplyUrl, type ReplySender, serialiseReply } from './reply-sender.ts';

export interface CapturedReply {
  url: string;
  body: unknown;
  /** ISO 8601 */
  at: string;
}

export interface CapturingReplySender extends ReplySender {
  /** Captured replies, oldest first (copies of the list). */
  replies(): CapturedReply[];
  clear(): void;
}

/**
 * Local mode: records `{url, body, at}` instead of sending, after the same URL check as the
 * real sender (so a refused URL is refused locally too). Keeps the last `limit` replies.
 */
export function createCapturingReplySender(
  options: { now?: () => Date; limit?: number; hosts?: readonly string[]; enforceAllowList?: boolean } = {},
): CapturingReplySender {
  const now = options.now ?? (() => new Date());
  const limit = options.limit ?? 1000;
  const enforce = options.enforceAllowList ?? true;
  let captured: CapturedReply[] = [];
  return {
    async send(url, body) {
      if (enforce) checkReplyUrl(url, options.hosts ?? REPLY_HOSTS);
      // Stored as it would be sent: a JSON round trip, so later mutation of `body` changes nothing.
      const stored: unknown = JSON.parse(serialiseReply(body));
      captured.push({ url, body: stored, at: now().toISOString() });
      if (captured.length > limit) captured = captured.slice(captured.length - limit);
    },
    replies: () => captured.map((reply) => ({ ...reply })),
    clear() {
      captured = [];
    },
  };
}
