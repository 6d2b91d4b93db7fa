import * as z from 'zod/mini';
import { instanceIdSchema, regionIdSchema } from '../core/target.ts';
import { lazySchema } from '../lazy-schema.ts';
import { EVENT_KEY_PATTERN } from './payload.ts';

/**
 * The generic payload, also the `payload` of a timer trigger:
 * `{"instanceIds": ["es-cn-…"], "regionId"?: "cn-hangzhou", "reason"?: "…", "eventId"?: "…", "state"?: "firing"}`.
 * Strict: an unknown key (a typo such as `instanceID`) is an error, not silently ignored.
 * `state` is for alert senders that render this payload (SLS alerts): with it, the request is an
 * alert notification and acts only in the state the function acts on (firing for interrupt and
 * cancel, RESUME_ON for resume), like an Alertmanager alert; without it, it is a command.
 */
export const genericPayloadSchema = lazySchema('payload:generic', () =>
  z.strictObject({
    instanceIds: z
      .array(instanceIdSchema())
      .check(z.minLength(1, 'must name at least one instance'), z.maxLength(1000)),
    regionId: z.optional(regionIdSchema()),
    reason: z.optional(z.string().check(z.maxLength(1000))),
    eventId: z.optional(z.string().check(z.regex(EVENT_KEY_PATTERN, 'must be 1 to 256 printable ASCII characters'))),
    state: z.optional(z.enum(['firing', 'resolved'], 'must be "firing" or "resolved"')),
  }),
);
