import type { RequestedBy, ResponseBody, TargetResult } from '../core/result.ts';

/**
 * The reply a chat user reads (Slack, DingTalk, Feishu): what the function did, per instance,
 * in the platform's text conventions.
 */

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
  if (body.requestedBy) lines.push(requestedByLine(body.requestedBy, style));
  return lines.join('\n');
}

/** `asked by steve (U…) in ops-es (C…)`: the audit trail, in the channel itself. */
function requestedByLine(by: RequestedBy, { text, code }: Style): string {
  const named = (name: string | undefined, id: string | undefined) =>
    name && id ? `${text(name)} (${code(id)})` : id ? code(id) : text(name ?? 'unknown');
  const place = by.placeId || by.placeName ? ` in ${named(by.placeName, by.placeId)}` : '';
  return `asked by ${named(by.userName, by.userId)}${place}`;
}
