import type { ReplyTarget } from '../core/target.ts';
import { sourceDefinition } from '../sources/registry.ts';

/**
 * Where each chat platform's later report of a command may go is its sender's rule (see its
 * definition's `replyTarget`: Slack only its own `response_url`, DingTalk only its own session
 * webhook, Feishu only the reply API of the message, built from the message ID on the configured
 * open API base). A URL a sender chose is never posted to unless it has its platform's exact shape,
 * and credentials go only to the URLs built from IDs. Only canonical spellings match (no user info,
 * port, percent-encoding, dot segment or extra parameter), so no URL parser can read a match as
 * another place.
 */

/**
 * The reply target when it is one that `source` may report to (a Slack command only to a Slack
 * `response_url`, and so on); undefined for anything else, and for sources that never reply.
 */
export function replyTargetFor(source: string, target: ReplyTarget | undefined): ReplyTarget | undefined {
  if (target === undefined) return undefined;
  return sourceDefinition(source)?.replyTarget?.(target);
}
