import * as z from 'zod/mini';
import { instanceIdSchema, regionIdSchema } from '../core/target.ts';
import { EVENT_KEY_PATTERN } from './payload.ts';

/**
 * The generic payload, also the `payload` of a timer trigger:
 * `{"instanceIds": ["es-cn-…"], "regionId"?: "cn-hangzhou", "reason"?: "…", "eventId"?: "…"}`.
 * Strict: an unknown key (a typo such as `instanceID`) is an error, not silently ignored.
 */
export const genericPayloadSchema = z.strictObject({
  instanceIds: z.array(instanceIdSchema).check(z.minLength(1, 'must name at least one instance'), z.maxLength(1000)),
  regionId: z.optional(regionIdSchema),
  reason: z.optional(z.string().check(z.maxLength(1000))),
  eventId: z.optional(z.string().check(z.regex(EVENT_KEY_PATTERN, 'must be 1 to 256 printable ASCII characters'))),
});
