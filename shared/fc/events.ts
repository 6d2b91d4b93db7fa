import * as z from 'zod/mini';
import { lazySchema } from '../lazy-schema.ts';
import '../zod-locale.ts';

/**
 * Function Compute 3.0 event shapes, recognised by structure. The HTTP envelope is checked
 * first: an HTTP body is nested inside it, so it can never pass for a timer or command event.
 * Each is built on first use (shared/lazy-schema.ts): an HTTP invocation never builds the timer's.
 */
export const httpTriggerEventSchema = lazySchema('fc:http', () => {
  // Only the fields the adapter reads are checked; FC's others (requestContext.accountId,
  // domainPrefix, requestId, time, timeEpoch, http.path, protocol, userAgent) pass through unread.
  // Schemas are immutable: one instance serves every field of its shape (fewer to build cold).
  const text = z.optional(z.string());
  const values = z.optional(z.record(z.string(), z.union([z.string(), z.array(z.string())])));
  return z.object({
    version: z.literal('v1'),
    rawPath: z.string(),
    body: z._default(text, ''),
    isBase64Encoded: z._default(z.optional(z.boolean()), false),
    headers: z._default(values, {}),
    queryParameters: z._default(values, {}),
    requestContext: z.object({
      domainName: text,
      http: z.object({ method: z.string(), sourceIp: text }),
    }),
  });
});
export type HttpTriggerEvent = z.infer<ReturnType<typeof httpTriggerEventSchema>>;

/** `{"triggerTime":"2018-02-09T05:49:00Z","triggerName":"timer-trigger","payload":"…"}`. */
export const timerEventSchema = lazySchema('fc:timer', () =>
  z.object({
    triggerTime: z.string(),
    triggerName: z.string(),
    payload: z._default(z.optional(z.string()), ''),
  }),
);

/** The FC return shape for HTTP triggers. */
export interface FcHttpResult {
  statusCode: number;
  headers: Record<string, string>;
  isBase64Encoded: boolean;
  body: string;
}

/** The parts of the FC `context` the adapter reads. */
export interface FcContext {
  requestId?: string;
  credentials?: { accessKeyId?: string; accessKeySecret?: string; securityToken?: string };
  function?: { name?: string };
  region?: string;
  accountId?: string;
  retryCount?: number;
}
