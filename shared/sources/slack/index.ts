import type { ReplyTarget } from '../../core/target.ts';
import { list } from '../../env-schemas.ts';
import { CHAT_DEADLINE_MS, defineSource } from '../source.ts';

/**
 * Slack's slash-command `response_url`: `https://hooks.slack.com/commands/<team>/<id>/<token>`
 * (Slack's docs show `https://hooks.slack.com/commands/1234/5678`), and nothing else on Slack's
 * host: not an incoming webhook (`/services/…`) nor another workspace's API.
 */
const SLACK_RESPONSE_URL = /^https:\/\/hooks\.slack\.com\/commands(?:\/[A-Za-z0-9_-]{1,64}){2,4}$/;

export const isSlackResponseUrl = (value: unknown): value is string =>
  typeof value === 'string' && SLACK_RESPONSE_URL.test(value);

export interface SlackSettings {
  readonly signingSecrets: readonly string[];
}

/** Slack slash commands (v0 signing), answered and reported in Slack's message shape: see slack.ts. */
export const slack = defineSource({
  name: 'slack',
  mediaTypes: ['application/x-www-form-urlencoded'],
  deadlineMs: CHAT_DEADLINE_MS,
  variables: { SLACK_SIGNING_SECRETS: list },
  settings: (v): SlackSettings => ({ signingSecrets: v.SLACK_SIGNING_SECRETS }),
  secretVariables: ['SLACK_SIGNING_SECRETS'],
  enabled: (s) => s.signingSecrets.length > 0,
  // A command reports only to Slack's own response_url.
  replyHosts: ['hooks.slack.com'],
  replyTarget: (target: ReplyTarget) =>
    'url' in target && isSlackResponseUrl(target.url) ? { url: target.url } : undefined,
  load: async () => (await import('./slack.ts')).createSlackSource,
});
