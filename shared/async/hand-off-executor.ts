import type { ActionSpec } from '../actions.ts';
import { type Credentials, requireCredentials } from '../core/invocation.ts';
import { mapBounded } from '../core/map-bounded.ts';
import type { PlannedTarget } from '../core/plan.ts';
import type { Executor } from '../core/responder.ts';
import type { TargetResult } from '../core/result.ts';
import type { Requester } from '../core/target.ts';
import type { RequestLog } from '../logger.ts';
import type { CommandEvent } from './command-event.ts';
import { type AsyncInvoker, handOffIdFor, InvokeError, type InvokeErrorCode } from './invoker.ts';
import { replyTargetFor } from './reply-target.ts';

/**
 * Targets per command. One serialises to at most ~660 bytes (an instance ID of 65, a region, an
 * event key of 256 printable characters, each at most 2 bytes in JSON, the keys), so 150 of them
 * with the largest reason (1000 characters, ≤ 6 KB in JSON), requester (7 fields of 256, ≤ 11 KB)
 * and reply URL (2 KB) stay under FC's 128 KiB event limit; the invoker still refuses anything larger.
 */
export const MAX_TARGETS_PER_COMMAND = 150;

const cut = (text: string | undefined) => (text === undefined ? undefined : text.slice(0, 256));

/** The requester as the command schema bounds it (a display name is the person's to choose). */
function boundedRequester(requester: Requester): NonNullable<CommandEvent['requester']> {
  return {
    platform: requester.platform,
    userIds: requester.userIds.slice(0, 3).map((id) => id.slice(0, 256)),
    ...(requester.userName !== undefined ? { userName: cut(requester.userName) } : {}),
    ...(requester.placeId !== undefined ? { placeId: cut(requester.placeId) } : {}),
    ...(requester.placeName !== undefined ? { placeName: cut(requester.placeName) } : {}),
    ...(requester.command !== undefined ? { command: cut(requester.command) } : {}),
  };
}

/**
 * The event's targets as commands: one for any chat command or alert group, several only past
 * {@link MAX_TARGETS_PER_COMMAND}. Which target goes where depends only on the set of tokens
 * (chunked in token order), so a retried delivery gives the same commands; within a command the
 * targets keep the event's order, which the report follows.
 */
export function packCommands<T extends { clientToken: string }>(
  targets: readonly T[],
  perCommand = MAX_TARGETS_PER_COMMAND,
): T[][] {
  const byToken = [...targets].sort((a, b) => (a.clientToken < b.clientToken ? -1 : 1));
  const batches: T[][] = [];
  for (let i = 0; i < byToken.length; i += perCommand) {
    const members = new Set(byToken.slice(i, i + perCommand));
    batches.push(targets.filter((t) => members.has(t)));
  }
  return batches;
}

/** What a sender is told about a failed hand-off: our words, never the platform's (log only). */
const HAND_OFF_FAILURE: Partial<Record<InvokeErrorCode, string>> = {
  Timeout: 'Function Compute did not answer the hand-off in time; it may or may not be queued',
  InvalidEvent: 'the command could not be handed off (too large or not serialisable)',
  RunsExhausted: 'the change was handed off and failed for good too many times; it is not handed off again',
};

function handOffFailure(error: InvokeError): string {
  const facts = [error.platformCode, error.httpStatus && `HTTP ${error.httpStatus}`].filter(Boolean).join(', ');
  return `${HAND_OFF_FAILURE[error.code] ?? 'Function Compute did not take the hand-off'}${facts && ` (${facts})`}`;
}

export interface HandOffExecutorOptions {
  action: ActionSpec;
  /** Built once per function; the invocation's credentials go with each hand-off. */
  invoker: AsyncInvoker;
  /** Hand-offs in flight at once (FAN_OUT_CONCURRENCY). */
  concurrency: number;
}

/**
 * The executor that hands an event's targets to an asynchronous invocation of the same function
 * (an internal command event, run by the command handler) and answers at once: outcome
 * `accepted`. One command for the whole event, under an ID derived from its targets' tokens, so a
 * retried or duplicated delivery hands off under the same ID and the platform refuses the second.
 */
export function createHandOffExecutor(options: HandOffExecutorOptions): Executor {
  const { action, invoker } = options;

  /** One hand-off: the command for `batch`, and what each of its targets is told. */
  async function handOffBatch(
    base: Omit<CommandEvent, 'targets'>,
    batch: PlannedTarget[],
    credentials: Credentials,
    logger: RequestLog,
  ): Promise<TargetResult[]> {
    // The alert state goes along: the guardrails decide in the command invocation, as an alert's or a person's.
    const targets = batch.map(({ instanceId, regionId, eventKey, alertState }) =>
      alertState === 'firing' || alertState === 'resolved'
        ? { instanceId, regionId, eventKey, alertState }
        : { instanceId, regionId, eventKey },
    );
    const handOffId = handOffIdFor(batch.map((t) => t.clientToken));
    const bases = batch.map(({ instanceId, regionId, clientToken }) => ({ instanceId, regionId, clientToken }));
    try {
      const result = await invoker.invoke({ ...base, targets }, handOffId, credentials);
      const message =
        result.status === 'duplicate'
          ? `${action.operation} was already handed off for this event; it runs once`
          : `${action.operation} is under way${base.reply ? '; the outcome will be posted here' : ''}`;
      // One line per target, with its instance and token: the audit trail of the hand-off.
      for (const b of bases) {
        logger.info('accepted', {
          ...b,
          handOff: result.status,
          handOffId: result.taskId ?? handOffId,
          targets: batch.length,
          invokeRequestId: result.requestId,
          taskStatus: result.taskStatus,
          taskReadError: result.taskReadError,
        });
      }
      return bases.map((b): TargetResult => ({ ...b, outcome: 'accepted', message }));
    } catch (error) {
      if (!(error instanceof InvokeError)) throw error;
      const { code, retryable } = error;
      // The platform's own text (which can name the endpoint, the account or an ARN) stays in the log.
      for (const b of bases) {
        logger.warn('failed', {
          ...b,
          handOff: true,
          handOffId,
          code,
          platformCode: error.platformCode,
          httpStatus: error.httpStatus,
          invokeRequestId: error.requestId,
          retryable,
          detail: error.message,
        });
      }
      const message = handOffFailure(error);
      return bases.map((b): TargetResult => ({ ...b, outcome: 'failed', code, message, retryable }));
    }
  }

  return {
    guardrails: 'later',
    async run(targets, { source, event }, invocation) {
      if (targets.length === 0) return [];
      const credentials = requireCredentials(invocation);
      // Only a target this source may report to goes into the command (and never a malformed
      // one, which would make the queued command invalid: an accepted change is never dropped for a report).
      const reply = replyTargetFor(source, event.reply);
      const base: Omit<CommandEvent, 'targets'> = {
        responderCommand: 1,
        function: action.functionName,
        source: source as CommandEvent['source'],
        ...(event.reason ? { reason: event.reason.slice(0, 1000) } : {}),
        ...(event.requester ? { requester: boundedRequester(event.requester) } : {}),
        ...(reply ? { reply } : {}),
      };
      const batches = packCommands(targets);
      const done = await mapBounded(batches, options.concurrency, (batch) =>
        handOffBatch(base, batch, credentials, invocation.logger),
      );
      const byInstance = new Map(done.flat().map((result) => [result.instanceId, result]));
      return targets.map((target) => byInstance.get(target.instanceId) as TargetResult);
    },
  };
}
