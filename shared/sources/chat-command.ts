import type { ResponseBody, TargetResult } from '../core/result.ts';
import { INSTANCE_ID_PATTERN } from '../core/target.ts';

/**
 * What the chat senders (Slack, DingTalk, Feishu) share: a command is free text naming
 * instances, and the reply says, per instance, what was done. Chat commands carry no alert
 * state: the function itself is the action.
 */

/** Words are separated by white space and ASCII or CJK commas and semicolons. */
const SEPARATORS = /[\s,;，；、]+/u;
/** Punctuation around an ID (`(es-cn-abc)`, `es-cn-abc.`, `` `es-cn-abc` ``) is not part of it. */
const EDGES = /^[^a-z0-9]+|[^a-z0-9]+$/g;
/** Feishu mention placeholders (`@_user_1`, `@_all`), which say nothing about the command. */
const MENTION = /^@_(?:user_\d+|all)$/;
/** More than this is a paste accident, not a command. */
export const MAX_COMMAND_IDS = 100;

export interface ChatCommand {
  /** Distinct `es-…`/`ls-…` IDs in the order they were named. */
  instanceIds: string[];
  /** The rest of the text, for the logs. */
  reason: string;
}

/** Instance IDs from free text (those INSTANCE_ID_PATTERN accepts, of either kind); the rest is the reason. */
export function parseCommandText(text: string): ChatCommand {
  const instanceIds: string[] = [];
  const rest: string[] = [];
  for (const word of text.split(SEPARATORS)) {
    if (!word || MENTION.test(word)) continue;
    const candidate = word.replace(EDGES, '');
    if (/^(?:es|ls)-/.test(candidate) && INSTANCE_ID_PATTERN.test(candidate)) {
      if (!instanceIds.includes(candidate)) instanceIds.push(candidate);
    } else {
      rest.push(word);
    }
  }
  return { instanceIds, reason: rest.join(' ').slice(0, 500) };
}

/** The help text a chat user gets when a command names no instance. */
export function usageText(invocation: string): string {
  return `name at least one instance: ${invocation} es-cn-… [ls-cn-… …] [reason]. IDs are es-… (Elasticsearch) or ls-… (Logstash); the other words are recorded as the reason.`;
}

export type ReplyFormat = 'slack' | 'plain';

/** Slack's three control characters (https://api.slack.com/reference/surfaces/formatting#escaping). */
const slackEscape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const OUTCOME_MARK: Record<TargetResult['outcome'], string> = {
  applied: '✅',
  already: '☑️',
  'dry-run': '🧪',
  accepted: '⏳',
  failed: '❌',
  refused: '🚫',
};

/** Lines beyond this are summarised, so a refused 100-ID paste does not flood the channel. */
const MAX_LINES = 20;

interface Style {
  /** Free text: escaped for the platform. */
  text(s: string): string;
  /** IDs and tokens: shown verbatim (a code span in Slack). */
  code(s: string): string;
}

const STYLES: Record<ReplyFormat, Style> = {
  slack: { text: slackEscape, code: (s) => `\`${slackEscape(s)}\`` },
  plain: { text: (s) => s, code: (s) => s },
};

function resultLine(r: TargetResult, { text, code }: Style): string {
  const parts: string[] = [];
  if (r.outcome === 'failed' || r.outcome === 'refused') {
    parts.push(text(`${r.code ?? 'Error'}: ${r.message ?? ''}`.trim()));
  } else if (r.message) {
    parts.push(text(r.message));
  }
  if (r.clientToken) parts.push(`clientToken ${code(r.clientToken)}`);
  if (r.requestId) parts.push(`request ${code(r.requestId)}`);
  if (r.outcome === 'failed') {
    parts.push(r.retryable ? 'a retry can help: send the command again' : 'a retry will not help');
  }
  return `${OUTCOME_MARK[r.outcome]} ${code(r.instanceId)}: ${r.outcome}${parts.length ? ` — ${parts.join('; ')}` : ''}`;
}

/**
 * The reply a chat user reads: what the function did (or why nothing was done), then one line per
 * instance with its outcome, clientToken and the API's code and message.
 */
export function replyText(body: ResponseBody, format: ReplyFormat): string {
  const style = STYLES[format];
  const head = `${body.function} (${body.operation})${body.dryRun ? ' [DRY_RUN]' : ''}`;
  const lines = [
    body.error
      ? `⚠️ ${head}: nothing was done — ${style.text(body.error.message)}`
      : `${head}: ${style.text(body.summary)}`,
    ...body.results.slice(0, MAX_LINES).map((r) => resultLine(r, style)),
  ];
  if (body.results.length > MAX_LINES) lines.push(`… and ${body.results.length - MAX_LINES} more`);
  for (const note of body.notes ?? []) lines.push(`note: ${style.text(note)}`);
  return lines.join('\n');
}
