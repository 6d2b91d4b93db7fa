import { INSTANCE_ID_PATTERN } from '../core/target.ts';
import { PayloadError } from '../errors.ts';

/**
 * What the chat senders (Slack, DingTalk, Feishu) share: a command is free text naming
 * instances (the reply is chat-reply.ts). Chat commands carry no alert state: the function itself
 * is the action.
 *
 * The text is sender-controlled and reaches us signed, so parsing it is linear: a length cap
 * before any work, one split, edges trimmed by index, a Set for duplicates.
 */

/** A command is a few IDs and a reason; more is a paste accident, refused before any work. */
export const MAX_COMMAND_TEXT = 10_000;
/** Longer than any instance ID (INSTANCE_ID_PATTERN: 66): such a word is reason text, never examined. */
const MAX_WORD = 128;
const MAX_REASON = 500;
/** Words are separated by white space and ASCII or CJK commas and semicolons. */
const SEPARATORS = /[\s,;，；、]+/u;
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

/** `a`–`z` and `0`–`9`: what an instance ID starts and ends with. */
const isIdEdge = (code: number) => (code >= 0x61 && code <= 0x7a) || (code >= 0x30 && code <= 0x39);

/** Punctuation around an ID (`(es-cn-abc)`, `es-cn-abc.`, `` `es-cn-abc` ``) is not part of it. */
function trimEdges(word: string): string {
  let start = 0;
  let end = word.length;
  while (start < end && !isIdEdge(word.charCodeAt(start))) start++;
  while (end > start && !isIdEdge(word.charCodeAt(end - 1))) end--;
  return word.slice(start, end);
}

/**
 * Instance IDs from free text (those INSTANCE_ID_PATTERN accepts, of either kind); the rest is
 * the reason. Throws PayloadError for a text over MAX_COMMAND_TEXT characters.
 */
export function parseCommandText(text: string): ChatCommand {
  if (text.length > MAX_COMMAND_TEXT) {
    throw new PayloadError(
      `the command text is ${text.length} characters long; at most ${MAX_COMMAND_TEXT}: name the instances and a short reason`,
    );
  }
  const instanceIds = new Set<string>();
  const rest: string[] = [];
  let restLength = 0;
  for (const word of text.split(SEPARATORS)) {
    if (!word) continue;
    if (word.length <= MAX_WORD) {
      if (MENTION.test(word)) continue;
      const candidate = trimEdges(word);
      if ((candidate.startsWith('es-') || candidate.startsWith('ls-')) && INSTANCE_ID_PATTERN.test(candidate)) {
        instanceIds.add(candidate);
        continue;
      }
    }
    if (restLength < MAX_REASON) {
      rest.push(word.slice(0, MAX_REASON));
      restLength += word.length + 1;
    }
  }
  return { instanceIds: [...instanceIds], reason: rest.join(' ').slice(0, MAX_REASON) };
}

/**
 * A platform's user or place IDs as they may be matched against an allow-list: present, of sane
 * length and printable; anything else is no ID at all (never truncated into another one).
 */
export function chatIds(...values: Array<string | null | undefined>): string[] {
  return values.filter((v): v is string => typeof v === 'string' && /^[\x21-\x7e]{1,128}$/.test(v));
}

/** A display name for replies and logs: people choose it, so it is shortened and never matched. */
export function chatName(value: string | null | undefined): string | undefined {
  const name = value?.trim().slice(0, 80);
  return name ? name : undefined;
}

/** The help text a chat user gets when a command names no instance. */
export function usageText(invocation: string): string {
  return `name at least one instance: ${invocation} es-cn-… [ls-cn-… …] [reason]. IDs are es-… (Elasticsearch) or ls-… (Logstash); the other words are recorded as the reason.`;
}
