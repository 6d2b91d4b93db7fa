import type { Logger } from '@aws-lambda-powertools/logger';
import type { Invocation, InvocationStart } from '../core/invocation.ts';
import type { ActOutcome, Executor, Responder } from '../core/responder.ts';
import { PayloadTooLargeError } from '../errors.ts';
import { requestLog } from '../logger.ts';

/** What the timer and command handlers share: they run without a sender waiting, never through HTTP. */
export interface TriggerOptions {
  responder: Responder;
  /** The executor of events that are already this function's own work: the API called directly (or DRY_RUN). */
  executor: Executor;
  logger: Logger;
  /** The largest event accepted (MAX_BODY_BYTES, as for an HTTP body). */
  maxBodyBytes: number;
  /** Time for calls and retries (COMMAND_DEADLINE_MS): no sender waits for these invocations. */
  deadlineMs: number;
}

/** A non-HTTP invocation's event: the same size limit as an HTTP body, before any parsing. */
export function checkSize(text: string, options: TriggerOptions): void {
  if (Buffer.byteLength(text, 'utf8') > options.maxBodyBytes) throw new PayloadTooLargeError(options.maxBodyBytes);
}

/** The invocation once its source is known. */
export const invocationOf = (start: InvocationStart, source: string, options: TriggerOptions): Invocation => ({
  ...start,
  logger: requestLog(options.logger, { requestId: start.requestId, source }),
  deadline: Date.now() + options.deadlineMs,
});

/** Runs a trigger; an error ends it with the answer an HTTP request would get, under no source. */
export async function answered(
  start: InvocationStart,
  options: TriggerOptions,
  run: () => Promise<ActOutcome>,
): Promise<ActOutcome> {
  try {
    return await run();
  } catch (error) {
    return options.responder.fail(error, '', requestLog(options.logger, { requestId: start.requestId, source: '' }));
  }
}
