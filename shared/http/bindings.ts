import type { Credentials } from '../core/invocation.ts';

/**
 * What an adapter tells the app about the invocation, in platform-neutral terms: the app
 * never sees Function Compute types. `trigger` is set only by the adapter for events that
 * did not come through HTTP, so no HTTP request can pose as a timer or internal command.
 */
export interface InvocationBindings {
  requestId: string;
  sourceIp?: string | undefined;
  credentials?: Credentials | undefined;
  trigger?: { kind: 'timer'; name: string; time: string } | { kind: 'command' } | undefined;
  /**
   * The raw body, when the adapter already holds it in memory (FC hands the whole event over):
   * the app reads it instead of streaming it out of the Request again. Still size-checked.
   */
  body?: Uint8Array | undefined;
}
