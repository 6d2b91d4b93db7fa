import * as z from 'zod/mini';
import type { FcHandler } from '../shared/fc/adapter.ts';
import '../shared/zod-locale.ts';
import { localContext } from './fc-invoke.ts';

/**
 * Local mode's timer trigger: `POST /emulator/timer/<function>` builds the event Function Compute
 * hands a function on a timer tick, `{triggerTime, triggerName, payload}` with `payload` a string,
 * and invokes the function's handler with it, so a schedule from `s.yaml` can be tried. It is an
 * admin route, not `POST /<function>/timer`: that path is the function's HTTP route, where `timer`
 * would be read as a source, and an HTTP body can never be taken for a timer event.
 */

/** FC trigger names: letters, digits, `_` and `-`, not starting with a digit or `-`, at most 128. */
const TRIGGER_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;
/** FC's `triggerTime`: UTC, whole seconds (`2018-02-09T05:49:00Z`). */
const TRIGGER_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

export const timerRequestSchema = z.strictObject({
  /** The generic payload, as the JSON string `s.yaml` configures or as an object (sent as its JSON). */
  payload: z.union([z.string(), z.record(z.string(), z.unknown())]),
  triggerName: z._default(
    z.optional(z.string().check(z.regex(TRIGGER_NAME, 'must be an FC trigger name such as nightly-interrupt'))),
    'local-timer',
  ),
  /** Default: now. Sending the same time again is a redelivered tick (same clientTokens). */
  triggerTime: z.optional(
    z.string().check(z.regex(TRIGGER_TIME, 'must be UTC in whole seconds, e.g. 2026-01-01T02:00:00Z')),
  ),
});

export interface TimerEvent {
  triggerTime: string;
  triggerName: string;
  payload: string;
}

/** The event FC would send for this tick. */
export function timerEvent(request: z.infer<typeof timerRequestSchema>, now: Date = new Date()): TimerEvent {
  return {
    triggerTime: request.triggerTime ?? `${now.toISOString().slice(0, 19)}Z`,
    triggerName: request.triggerName,
    payload: typeof request.payload === 'string' ? request.payload : JSON.stringify(request.payload),
  };
}

export interface TimerAnswer {
  status: number;
  body: { event?: TimerEvent; result?: unknown; error?: { code: string; message: string } };
}

/**
 * Fires one tick at `handler`. The handler returns the result object (200 here), or throws when a
 * retry can help, which Function Compute's async retry would run again (502 here, saying so).
 */
export async function fireTimer(handler: FcHandler, functionName: string, body: string): Promise<TimerAnswer> {
  let value: unknown;
  try {
    value = body.trim() === '' ? {} : JSON.parse(body);
  } catch {
    return { status: 400, body: { error: { code: 'InvalidPayload', message: 'the body is not valid JSON' } } };
  }
  const parsed = timerRequestSchema.safeParse(value);
  if (!parsed.success) {
    const message = parsed.error.issues
      .map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`)
      .join('; ');
    return { status: 400, body: { error: { code: 'InvalidPayload', message } } };
  }
  const event = timerEvent(parsed.data);
  try {
    const result = await handler(Buffer.from(JSON.stringify(event)), localContext(functionName));
    return { status: 200, body: { event, result } };
  } catch (error) {
    const message = `${(error as Error).message}; Function Compute would retry this invocation`;
    return { status: 502, body: { event, error: { code: 'RetryableInvocationError', message } } };
  }
}
