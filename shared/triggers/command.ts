import type { ChatReplier } from '../async/chat-replier.ts';
import { commandEventSchema } from '../async/command-event.ts';
import type { InvocationStart } from '../core/invocation.ts';
import type { ActOutcome } from '../core/responder.ts';
import { PayloadError } from '../errors.ts';
import { parseJson, validate } from '../sources/payload.ts';
import { CHAT_SOURCE_NAMES, type SourceLoader, type SourceName } from '../sources/registry.ts';
import { answered, checkSize, invocationOf, type TriggerOptions } from './trigger.ts';

export interface CommandHandlerOptions extends TriggerOptions {
  /** Loaders of the sources, for the report's message shape. */
  sources: Record<SourceName, SourceLoader>;
  /** Reports a command's outcome to chat, only where its source may report; never when absent. */
  replier?: ChatReplier | undefined;
}

/**
 * The internal command of the async hand-off: targets an HTTP invocation of this function already
 * authenticated and checked, run here, later, by FC's asynchronous invocation. Policy is applied
 * again and tokens derived again from the same inputs; the outcome is reported to the chat the
 * command came from, in the platform's own message shape.
 */
export function createCommandHandler(options: CommandHandlerOptions) {
  const functionName = options.responder.action.functionName;
  return (command: unknown, start: InvocationStart): Promise<ActOutcome> =>
    answered(start, options, async () => {
      // Read as an HTTP body would be: the same size limit, the same JSON reading.
      const text = JSON.stringify(command);
      checkSize(text, options);
      const parsed = validate(commandEventSchema(), parseJson(text), 'internal command');
      const invocation = invocationOf(start, parsed.source, options);
      const log = invocation.logger;
      if (parsed.function !== functionName) {
        throw new PayloadError(`the command is for ${parsed.function}, not ${functionName}`);
      }
      log.info('received', { command: true, targets: parsed.targets.length });
      // A chat command acts only for a person the allow-lists admit: checked again here, so a command
      // event that names no one (forged by whoever may invoke the function) cannot skip them.
      if (CHAT_SOURCE_NAMES.has(parsed.source) && parsed.requester === undefined) {
        throw new PayloadError(`a ${parsed.source} command must name who asked`);
      }
      const event = { items: parsed.targets, reason: parsed.reason, requester: parsed.requester };
      const outcome = await options.responder.respond(event, parsed.source, options.executor, invocation);
      if (parsed.reply && options.replier) {
        const source = await options.sources[parsed.source]();
        const body = source.replyBody?.(outcome.body) ?? outcome.body;
        try {
          await options.replier.report(parsed.source, parsed.reply, body);
          log.info('reported', { status: outcome.status });
        } catch (error) {
          // The action's result stands; a failed report must not make FC run the command again.
          // The detail (which host refused or failed) is for the log only.
          const { code, message } = error as { code?: string; message?: string };
          log.warn('report failed', { code: code ?? 'ReplyFailed', detail: message });
        }
      }
      return outcome;
    });
}
