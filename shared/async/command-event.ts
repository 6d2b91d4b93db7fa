import * as z from 'zod/mini';
import { instanceIdSchema, regionIdSchema } from '../core/target.ts';
import { lazySchema } from '../lazy-schema.ts';
import { FEISHU_MESSAGE_ID } from '../sources/feishu/index.ts';
import { EVENT_KEY_PATTERN } from '../sources/payload.ts';
import { SOURCE_NAMES } from '../sources/registry.ts';

/**
 * The internal command event of the async hand-off: targets an HTTP invocation already
 * authenticated and checked, run by an asynchronous invocation of the same function. Tokens are
 * not carried: they are derived again from the same inputs, and policy is applied again.
 * Recognised by its top-level `responderCommand` key; an HTTP body can never pose as one.
 * Built on first use (shared/lazy-schema.ts): an HTTP invocation never needs it.
 */
export const commandEventSchema = lazySchema('command', () =>
  z.strictObject({
    responderCommand: z.literal(1),
    function: z.string(),
    source: z.enum(SOURCE_NAMES),
    reason: z.optional(z.string().check(z.maxLength(1000))),
    targets: z
      .array(
        z.strictObject({
          instanceId: instanceIdSchema(),
          regionId: z.optional(regionIdSchema()),
          eventKey: z.string().check(z.regex(EVENT_KEY_PATTERN)),
          // Set when an alert drove the target: the command invocation decides the guardrails as an alert's.
          alertState: z.optional(z.enum(['firing', 'resolved'])),
        }),
      )
      .check(z.minLength(1)),
    /**
     * Who asked, for a chat command: the command invocation checks the chat allow-lists (and Slack's
     * command binding) again, as it applies every other rule again, and its report names them.
     */
    requester: z.optional(
      z.strictObject({
        platform: z.enum(['slack', 'dingtalk', 'feishu']),
        userIds: z.array(z.string().check(z.maxLength(256))).check(z.minLength(1), z.maxLength(3)),
        userName: z.optional(z.string().check(z.maxLength(256))),
        placeId: z.optional(z.string().check(z.maxLength(256))),
        placeName: z.optional(z.string().check(z.maxLength(256))),
        command: z.optional(z.string().check(z.maxLength(256))),
      }),
    ),
    /**
     * Where to report the outcome: the chat platform's reply URL (Slack response_url, DingTalk
     * sessionWebhook), or the Feishu message to reply to (the URL is built from its ID, never carried).
     * Whether `source` may report there is checked again when the report is posted (reply-target.ts).
     */
    reply: z.optional(
      z.union([
        z.strictObject({ url: z.string().check(z.url(), z.maxLength(2048)) }),
        z.strictObject({ messageId: z.string().check(z.regex(FEISHU_MESSAGE_ID)) }),
      ]),
    ),
  }),
);

export type CommandEvent = z.infer<ReturnType<typeof commandEventSchema>>;
