import { DINGTALK_DEFAULT_MAX_AGE_MS, DINGTALK_PLATFORM_MAX_AGE_MS } from '../../auth/dingtalk-sign.ts';
import type { ReplyTarget } from '../../core/target.ts';
import { int, list } from '../../env-schemas.ts';
import { CHAT_DEADLINE_MS, defineSource } from '../source.ts';

/** DingTalk's session webhook: `https://oapi.dingtalk.com/robot/sendBySession?session=<id>`. */
const DINGTALK_SESSION_WEBHOOK = /^https:\/\/oapi\.dingtalk\.com\/robot\/sendBySession\?session=[A-Za-z0-9_-]{1,256}$/;

export const isDingTalkSessionWebhook = (value: unknown): value is string =>
  typeof value === 'string' && DINGTALK_SESSION_WEBHOOK.test(value);

export interface DingTalkSettings {
  readonly appSecrets: readonly string[];
  /** How far the `timestamp` header may be off (either way); at most DingTalk's own hour. */
  readonly maxAgeMs: number;
  /** `robotCode`s a callback may name; empty: not checked. */
  readonly robotCodes: readonly string[];
}

/** DingTalk robot callbacks (timestamp sign, bound to the robot and once per pair): see dingtalk.ts. */
export const dingtalk = defineSource({
  name: 'dingtalk',
  mediaTypes: ['application/json'],
  deadlineMs: CHAT_DEADLINE_MS,
  variables: {
    DINGTALK_APP_SECRETS: list,
    DINGTALK_ROBOT_CODES: list,
    DINGTALK_MAX_AGE_SECONDS: int(DINGTALK_DEFAULT_MAX_AGE_MS / 1000, 1, DINGTALK_PLATFORM_MAX_AGE_MS / 1000),
  },
  settings: (v): DingTalkSettings => ({
    appSecrets: v.DINGTALK_APP_SECRETS,
    maxAgeMs: v.DINGTALK_MAX_AGE_SECONDS * 1000,
    robotCodes: v.DINGTALK_ROBOT_CODES,
  }),
  secretVariables: ['DINGTALK_APP_SECRETS'],
  enabled: (s) => s.appSecrets.length > 0,
  // A command reports only to DingTalk's own session webhook.
  replyHosts: ['oapi.dingtalk.com'],
  replyTarget: (target: ReplyTarget) =>
    'url' in target && isDingTalkSessionWebhook(target.url) ? { url: target.url } : undefined,
  load: async () => (await import('./dingtalk.ts')).createDingTalkSource,
});
