import * as z from 'zod/mini';
import { REGION_PATTERN } from '../config.ts';

/** Instance IDs as the console shows them: `es-cn-n6w1o1x0w001c…`, `ls-cn-4591f1y6…`. */
export const INSTANCE_ID_PATTERN = /^[a-z]{2}-[a-z0-9][a-z0-9-]{2,62}$/;

export const instanceIdSchema = z
  .string()
  .check(z.regex(INSTANCE_ID_PATTERN, 'must be an instance ID such as es-cn-n6w1o1x0w001c or ls-cn-4591f1y6'));

export const regionIdSchema = z.string().check(z.regex(REGION_PATTERN, 'must be a region ID such as cn-hangzhou'));

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

/** What a source makes of an authenticated request. */
export interface SourceEvent {
  items: EventItem[];
  /** Free text from the sender, for the logs. */
  reason?: string | undefined;
  /** What the source passed over and why (an alert with no instance label), for the response. */
  notes?: string[] | undefined;
  /** Where a chat platform takes a later reply (Slack response_url, DingTalk sessionWebhook). */
  replyUrl?: string | undefined;
}
