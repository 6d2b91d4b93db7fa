import type { InvocationStart } from '../core/invocation.ts';
import type { ActOutcome } from '../core/responder.ts';
import { PayloadError } from '../errors.ts';
import { genericPayloadSchema } from '../sources/generic-payload.ts';
import { parseJson, validate } from '../sources/payload.ts';
import { answered, checkSize, invocationOf, type TriggerOptions } from './trigger.ts';

/** One tick of a timer trigger, as the platform adapter reads it. */
export interface TimerTick {
  name: string;
  /** When the tick was due (FC's `triggerTime`): a redelivered tick keeps it. */
  time: string;
  /** The generic payload, as the JSON string the trigger's configuration holds. */
  payload: string;
}

/**
 * A timer tick runs its payload's targets directly, as the person who scheduled it asked: a tick
 * is a command, not an alert. Its event key is the trigger and its due time, so a redelivered
 * tick gives the same tokens and a new tick new ones.
 */
export function createTimerHandler(options: TriggerOptions) {
  return (tick: TimerTick, start: InvocationStart): Promise<ActOutcome> =>
    answered(start, options, async () => {
      checkSize(tick.payload, options);
      const payload = validate(genericPayloadSchema(), parseJson(tick.payload), 'timer payload');
      // A state would only make one of the functions ignore every tick.
      if (payload.state !== undefined) {
        throw new PayloadError('invalid timer payload: state: a schedule is not an alert; leave state out');
      }
      const eventKey = `timer:${tick.name}@${tick.time}`;
      const invocation = invocationOf(start, 'timer', options);
      invocation.logger.info('received', {
        trigger: tick.name,
        triggerTime: tick.time,
        targets: payload.instanceIds.length,
      });
      const items = payload.instanceIds.map((instanceId) => ({ instanceId, regionId: payload.regionId, eventKey }));
      return options.responder.respond({ items, reason: payload.reason }, 'timer', options.executor, invocation);
    });
}
