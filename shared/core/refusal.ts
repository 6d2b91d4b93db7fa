/**
 * Why a target is refused before any call, and what each refusal means for the answer: the one
 * home of the refusal codes and of the HTTP status each stands for.
 */
export type RefusalCode = keyof typeof REFUSAL_STATUS;

export interface Refusal {
  readonly code: RefusalCode;
  /** For people: what was refused and what to change. */
  readonly reason: string;
}

/**
 * The HTTP status a refusal leads to when every target of an event is refused: 200 when nothing
 * is wrong with the request and a retry would not help now (an alert state this function does not
 * act on; the guardrails across events), 400 when the request itself cannot succeed, 403 when the
 * policy forbids it, 503 when the same delivery retried can succeed (the guardrails' store did not
 * answer): that one decides the answer even beside applied results, so Alertmanager retries it.
 */
export const REFUSAL_STATUS = {
  AlertStateIgnored: 200,
  WrongInstanceKind: 400,
  NoRegion: 400,
  WrongCommand: 400,
  NotAllowed: 403,
  TooManyTargets: 403,
  UserNotAllowed: 403,
  ChannelNotAllowed: 403,
  // The guardrails across events (shared/guardrails/).
  NotInterruptedByResponder: 200,
  ChangeBudgetExhausted: 200,
  Flapping: 200,
  StateStoreUnavailable: 503,
} as const satisfies Record<string, 200 | 400 | 403 | 503>;

/** Refusals a retry of the same delivery can turn into a change: they decide the status whatever else happened. */
export const isRetryableRefusal = (code: string | undefined): boolean => code === 'StateStoreUnavailable';

/** The status of a refused result's code; a code that is not a refusal's (none today) counts as 200. */
export const refusalStatus = (code: string | undefined): number =>
  code !== undefined && Object.hasOwn(REFUSAL_STATUS, code) ? REFUSAL_STATUS[code as RefusalCode] : 200;
