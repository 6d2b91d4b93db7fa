import type { InvocationStart } from '../core/invocation.ts';

/**
 * What an adapter tells the app about an HTTP invocation, in platform-neutral terms: the app
 * never sees Function Compute types. Timer and command invocations never reach the app.
 */
export interface InvocationBindings extends InvocationStart {
  sourceIp?: string | undefined;
  /**
   * The raw body, when the adapter already holds it in memory (FC hands the whole event over):
   * the app reads it instead of streaming it out of the Request again. Still size-checked.
   */
  body?: Uint8Array | undefined;
}
