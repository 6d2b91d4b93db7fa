import * as z from 'zod';
import { instanceIdSchema, regionIdSchema } from '../core/target.ts';
import { EVENT_KEY_PATTERN } from './payload.ts';

/**
 * The generic payload, also the `payload` of a timer trigger:
 * `{"instanceIds": ["es-cn-…"], "regionId"?: "cn-hangzhou", "reason"?: "…", "eventId"?: "…"}`.
 * Strict: an unknown key (a typo such as `instanceID`) is an error, not silently ignored.
 */
export const genericPayloadSchema = z.strictObject({
  instanceIds: z.array(instanceIdSchema).min(1, 'must name at least one instance').max(1000),
  regionId: regionIdSchema.optional(),
  reason: z.string().max(1000).optional(),
  eventId: z.string().regex(EVENT_KEY_PATTERN, 'must be 1 to 256 printable ASCII characters').optional(),
});

export type GenericPayload = z.infer<typeof genericPayloadSchema>;
