import type { Actor } from '../core/plan.ts';
import type { REFUSAL_STATUS } from '../core/refusal.ts';
import type { StateStore } from '../state/store.ts';
import type { GuardrailConfig } from './config.ts';

/** The guardrails' API: what the pipeline gives them per target, and what it gets back. */

export type GuardedAction = 'interrupt' | 'resume' | 'cancel';

export interface GuardRequest {
  readonly instanceId: string;
  readonly functionName: string;
  readonly action: GuardedAction;
  readonly actor: Actor;
  readonly clientToken: string;
  readonly eventKey: string;
  readonly source: string;
}

/** The guardrails' refusal codes; core/refusal.ts holds them with the HTTP status each stands for. */
export type GuardrailCode =
  | 'NotInterruptedByResponder'
  | 'ChangeBudgetExhausted'
  | 'Flapping'
  | 'StateStoreUnavailable';

export interface GuardRefusal {
  readonly allowed: false;
  readonly code: GuardrailCode;
  /** core/refusal.ts's: 200 when a retry would not help now, 503 when it would. */
  readonly status: (typeof REFUSAL_STATUS)[GuardrailCode];
  /** True only for StateStoreUnavailable: the same delivery, retried, can succeed. */
  readonly retryable: boolean;
  readonly message: string;
  /** For logs only (a store failure's cause). */
  readonly detail?: string | undefined;
}

export interface GuardTicket {
  readonly request: GuardRequest;
  /** The budget unit this call holds: `new` (this decision claimed it), `duplicate` (a retry), or none. */
  readonly claim: 'new' | 'duplicate' | 'none';
  readonly flip: 'new' | 'duplicate' | 'none';
  /** On a resumption of ours: the clientToken of the interruption record it ends. */
  readonly endsInterruption?: string | undefined;
}

export interface GuardPass {
  readonly allowed: true;
  readonly ticket: GuardTicket;
  /** Resumes an interruption of ours: not a change started, for MAX_TARGETS_PER_EVENT too. */
  readonly ownResumption: boolean;
  /** Sentences for the reply (a person's command counted, a store that did not answer). */
  readonly notes: readonly string[];
}

export type GuardDecision = GuardPass | GuardRefusal;

/** What a decision would be (DRY_RUN): a pass holds no ticket, as nothing was claimed or admitted. */
export interface GuardPreviewPass {
  readonly allowed: true;
  /** The budget unit a real decision would hold: claimed anew, a retry's, or none. */
  readonly claim: GuardTicket['claim'];
  readonly ownResumption: boolean;
  /** Sentences for the reply, said of a real run (what it would count, and how far). */
  readonly notes: readonly string[];
}

export type GuardPreview = GuardPreviewPass | GuardRefusal;

/**
 * What the call did: `applied` (it changed the instance), `already` (nothing to do: the instance
 * was in the requested state), `not-made` (no change: a dry run, a refusal for good), `unknown`
 * (it may have changed the instance: a retryable failure, a lost response).
 */
export type Settlement = 'applied' | 'already' | 'not-made' | 'unknown';

export type SettleResult =
  /** `warning`: recorded, and something a person should know (a person's interrupt raced this resume). */
  | { readonly stored: true; readonly warning?: string | undefined }
  | { readonly stored: false; readonly warning: string; readonly detail: string };

export interface InterruptionRecord {
  readonly instanceId: string;
  readonly functionName: string;
  readonly clientToken: string;
  readonly eventKey: string;
  readonly source: string;
  readonly by: Actor;
  /** ISO 8601. */
  readonly at: string;
}

export interface Guardrails {
  readonly config: GuardrailConfig;
  /** The options' chatSources: a person's command from one of them is decided (counted), never refused. */
  readonly chatSources: ReadonlySet<string>;
  /** Never rejects for a store failure: that is a refusal (alert) or a note (person). */
  decide(request: GuardRequest, deadline: number): Promise<GuardDecision>;
  /**
   * What `decide` would answer now for each of an event's requests, in the order given (the plan's,
   * in which a real run starts its decisions), each counting the budget units the earlier ones would
   * claim. Only reads the store (DRY_RUN); never rejects for a store failure.
   */
  preview(requests: readonly GuardRequest[], deadline: number): Promise<GuardPreview[]>;
  /** Records what the call did; a store failure here is a warning to log and report, never an error. */
  settle(ticket: GuardTicket, settlement: Settlement, deadline: number): Promise<SettleResult>;
  /** The instance's current interruption record; rejects with StateStoreUnavailable. */
  interruption(instanceId: string, deadline: number): Promise<InterruptionRecord | undefined>;
  /** Whether its current interruption was made by an alert of ours; rejects with StateStoreUnavailable. */
  ownsInterruption(instanceId: string, deadline: number): Promise<boolean>;
  /** Which of the instances we interrupted (an event's resumptions of ours, for MAX_TARGETS_PER_EVENT). */
  ownedAmong(instanceIds: readonly string[], deadline: number): Promise<Set<string>>;
}

export interface GuardrailsOptions {
  store: StateStore;
  config: GuardrailConfig;
  /**
   * The senders whose commands are a person's decision from chat (sources/registry.ts
   * CHAT_SOURCE_NAMES, given by the composition root: the guardrails know no sender): counted
   * toward the budget, never refused by it.
   */
  chatSources: ReadonlySet<string>;
  /**
   * How long a budget claim may stay pending before it is forgotten: longer than any call can take,
   * so only a crash between claim and settle lets it lapse. Use 2 × COMMAND_DEADLINE_MS.
   */
  pendingClaimMs: number;
  /** Epoch ms; the store's clock. Default Date.now. */
  clock?: (() => number) | undefined;
}
