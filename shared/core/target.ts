import * as z from 'zod/mini';
import { once } from '../lazy-schema.ts';

/** Instance IDs as the console shows them: `es-cn-n6w1o1x0w001c…`, `ls-cn-4591f1y6…`. */
export const INSTANCE_ID_PATTERN = /^[a-z]{2}-[a-z0-9][a-z0-9-]{2,62}$/;

/** Region IDs: `cn-hangzhou`, `ap-southeast-1`, `cn-heyuan-acdr-1`. */
export const REGION_PATTERN = /^[a-z]{2,}(?:-[a-z0-9]+){1,3}$/;

// Built on first use, as every schema: a cold start builds only what its request parses.
export const instanceIdSchema = once(() =>
  z
    .string()
    .check(z.regex(INSTANCE_ID_PATTERN, 'must be an instance ID such as es-cn-n6w1o1x0w001c or ls-cn-4591f1y6')),
);

export const regionIdSchema = once(() =>
  z.string().check(z.regex(REGION_PATTERN, 'must be a region ID such as cn-hangzhou')),
);

/**
 * The state of the alert an item came from; chat commands and schedules have none.
 * `other` is a state that is neither (CloudMonitor INSUFFICIENT_DATA): never acted on.
 */
export type AlertState = 'firing' | 'resolved' | 'other';

/** One target named by an event, with the key of the episode it came from. */
export interface EventItem {
  instanceId: string;
  regionId?: string | undefined;
  /** Source-qualified key of the delivery or alert episode; input of the clientToken. */
  eventKey: string;
  alertState?: AlertState | undefined;
}

export type ChatPlatform = 'slack' | 'dingtalk' | 'feishu';

/**
 * Who asked, as the chat platform signed it: the platform authenticates itself, not the person, so
 * the policy decides whether this person, in this place, may act (SLACK_ALLOWED_USERS, …).
 */
export interface Requester {
  platform: ChatPlatform;
  /** Every ID the platform gives the sender (Feishu: open_id, user_id, union_id); the first is shown. */
  userIds: string[];
  /** Display name, for the audit trail only (people choose it): never matched. */
  userName?: string | undefined;
  /** Slack channel, DingTalk conversation or Feishu chat ID, and its name. */
  placeId?: string | undefined;
  placeName?: string | undefined;
  /** Slack: the slash command the signed request carries. */
  command?: string | undefined;
}

/** What a command carries about its report: the platform's reply URL, or the Feishu message it answers. */
export type ReplyTarget = { readonly url: string } | { readonly messageId: string };

/** What a source makes of an authenticated request. */
export interface SourceEvent {
  items: EventItem[];
  /** Free text from the sender, for the logs. */
  reason?: string | undefined;
  /** What the source passed over and why (an alert with no instance label), for the response. */
  notes?: string[] | undefined;
  /** Where a chat platform takes a later report (Slack response_url, DingTalk sessionWebhook, Feishu message). */
  reply?: ReplyTarget | undefined;
  /** Chat commands: who asked, checked against the chat allow-lists before anything else. */
  requester?: Requester | undefined;
}
