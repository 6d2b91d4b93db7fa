import * as z from 'zod';

/**
 * Function Compute 3.0 event shapes, recognised by structure. The HTTP envelope is checked
 * first: an HTTP body is nested inside it, so it can never pass for a timer or command event.
 */
const headerValue = z.union([z.string(), z.array(z.string())]);

export const httpTriggerEventSchema = z.object({
  version: z.literal('v1'),
  rawPath: z.string(),
  body: z.string().optional().default(''),
  isBase64Encoded: z.boolean().optional().default(false),
  headers: z.record(z.string(), headerValue).optional().default({}),
  queryParameters: z.record(z.string(), headerValue).optional().default({}),
  requestContext: z.object({
    accountId: z.string().optional(),
    domainName: z.string().optional(),
    domainPrefix: z.string().optional(),
    http: z.object({
      method: z.string(),
      path: z.string().optional(),
      protocol: z.string().optional(),
      sourceIp: z.string().optional(),
      userAgent: z.string().optional(),
    }),
    requestId: z.string().optional(),
    time: z.string().optional(),
    timeEpoch: z.string().optional(),
  }),
});
export type HttpTriggerEvent = z.infer<typeof httpTriggerEventSchema>;

/** `{"triggerTime":"2018-02-09T05:49:00Z","triggerName":"timer-trigger","payload":"…"}`. */
export const timerEventSchema = z.object({
  triggerTime: z.string(),
  triggerName: z.string(),
  payload: z.string().optional().default(''),
});
export type TimerEvent = z.infer<typeof timerEventSchema>;

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
