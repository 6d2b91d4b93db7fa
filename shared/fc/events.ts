import * as z from 'zod/mini';
import { lazySchema } from '../lazy-schema.ts';
import '../zod-locale.ts';

/**
 * Function Compute 3.0 event shapes, recognised by structure. The HTTP envelope is checked
 * first: an HTTP body is nested inside it, so it can never pass for a timer or command event.
 * Each is built on first use (shared/lazy-schema.ts): an HTTP invocation never builds the timer's.
 */
export const httpTriggerEventSchema = lazySchema('fc:http', () => {
  const headerValue = z.union([z.string(), z.array(z.string())]);
  return z.object({
    version: z.literal('v1'),
    rawPath: z.string(),
    body: z._default(z.optional(z.string()), ''),
    isBase64Encoded: z._default(z.optional(z.boolean()), false),
    headers: z._default(z.optional(z.record(z.string(), headerValue)), {}),
    queryParameters: z._default(z.optional(z.record(z.string(), headerValue)), {}),
    requestContext: z.object({
      accountId: z.optional(z.string()),
      domainName: z.optional(z.string()),
      domainPrefix: z.optional(z.string()),
      http: z.object({
        method: z.string(),
        path: z.optional(z.string()),
        protocol: z.optional(z.string()),
        sourceIp: z.optional(z.string()),
        userAgent: z.optional(z.string()),
      }),
      requestId: z.optional(z.string()),
      time: z.optional(z.string()),
      timeEpoch: z.optional(z.string()),
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
