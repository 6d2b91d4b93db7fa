import { REFUSAL_STATUS } from '../core/refusal.ts';
import {
  type ClaimResult,
  type FlipDirection,
  type FlipEntry,
  type FlipResult,
  type RecordCondition,
  StateStoreUnavailable,
} from '../state/store.ts';
import type {
  GuardDecision,
  GuardedAction,
  GuardPass,
  GuardPreview,
  GuardRefusal,
  GuardRequest,
  GuardrailCode,
  Guardrails,
  GuardrailsOptions,
  GuardTicket,
  InterruptionRecord,
  Settlement,
} from './guardrail-types.ts';
import * as say from './messages.ts';

export * from './guardrail-types.ts';

/**
 * The guardrails across events, on the state-store port. Per target, around its one call:
 *
 *   decide(request) ──refused──▶ a result with the refusal's code and status; no call
 *        │ allowed (a ticket)
 *        ▼
 *   the call (or dry run) ──▶ settle(ticket, what the call did)
 *
 * - Ownership: an alert's interrupt that applied is recorded as ours; a resolved alert resumes only
 *   an interruption recorded as ours (RESUME_ONLY_OWN). A person's interrupt replaces the record
 *   with theirs, a resume that took effect clears it. Records expire after OWNERSHIP_TTL_MS.
 * - Budget: every change started by an alert claims one unit of FLEET_CHANGE_BUDGET, keyed by its
 *   clientToken (a retry never counts twice). A person's change is counted, never refused; a
 *   resumption of our own interruption is neither counted nor refused.
 * - Flap guard: automatic actions are logged per instance; past FLAP_GUARD flips in the window
 *   they are refused until the window passes or a person acts (which clears the log).
 * - Each store operation is atomic; where a decision takes two (flip, then budget), a refusal by
 *   the second undoes the first, so the only effect of a race is a brief, conservative refusal.
 * - DRY_RUN: `preview` takes the same decision steps with the store's read-only peeks, so it answers
 *   what `decide` would now; an event's targets are previewed in order, each counting the budget
 *   units the earlier ones would claim. Nothing is claimed, admitted or recorded.
 *
 * A person's command is never refused by the guardrails, not even when the store is down: a person
 * decided, and the note says what could not be recorded. An alert's action that needs the store
 * when it is down is refused with StateStoreUnavailable (503: the sender retries).
 *
 * Longer than 200 lines on purpose: the three rules share one decide/settle pair, and their
 * interplay (which rule counts, which undoes the other) is only checkable when read together.
 */

/**
 * How long an interruption stays recorded as ours. An instance may stay suspended through a long
 * incident (a weekend); past a week a resolved alert no longer resumes it: a person does. Bounded,
 * so no key outlives the instances it names.
 */
export const OWNERSHIP_TTL_MS = 7 * 86_400_000;

const BUDGET_KEY = 'budget';
const flapKey = (instanceId: string) => `flap:${instanceId}`;
const ownKey = (instanceId: string) => `own:${instanceId}`;
const directionOf = (action: GuardedAction): FlipDirection => (action === 'resume' ? 'resume' : 'stop');

/** How a decision reaches the store: for real (it claims and admits), or read-only (a preview). */
interface Steps {
  readonly preview: boolean;
  flip(key: string, entry: FlipEntry, deadline: number, onlyIf?: RecordCondition): Promise<FlipResult>;
  claim(member: string, enforce: boolean, deadline: number): Promise<ClaimResult>;
}

/** A TargetResult's outcome as a settlement. */
export function settlementOf(result: { outcome: string; retryable?: boolean | undefined }): Settlement {
  if (result.outcome === 'applied') return 'applied';
  if (result.outcome === 'already') return 'already';
  if (result.outcome === 'failed' && result.retryable) return 'unknown';
  return 'not-made';
}

function asRecord(fields: Record<string, string> | undefined): InterruptionRecord | undefined {
  if (!fields?.clientToken || (fields.by !== 'alert' && fields.by !== 'person')) return undefined;
  return {
    instanceId: fields.instanceId ?? '',
    functionName: fields.functionName ?? '',
    clientToken: fields.clientToken,
    eventKey: fields.eventKey ?? '',
    source: fields.source ?? '',
    by: fields.by,
    at: fields.at ?? '',
  };
}

export function createGuardrails(options: GuardrailsOptions): Guardrails {
  const { store, config } = options;
  const clock = options.clock ?? Date.now;
  if (!Number.isInteger(options.pendingClaimMs) || options.pendingClaimMs < 1000) {
    throw new TypeError('pendingClaimMs must be a whole number of ms, at least 1000');
  }
  const claimOptions = (enforce: boolean) => ({ ...config.budget, pendingMs: options.pendingClaimMs, enforce });
  const refuse = (code: GuardrailCode, message: string, detail?: string): GuardRefusal => ({
    allowed: false,
    code,
    status: REFUSAL_STATUS[code],
    retryable: code === 'StateStoreUnavailable',
    message,
    ...(detail === undefined ? {} : { detail }),
  });

  const interruption = async (instanceId: string, deadline: number) =>
    asRecord(await store.getRecord(ownKey(instanceId), deadline));

  const storeRefusal = (error: StateStoreUnavailable) =>
    refuse('StateStoreUnavailable', say.STORE_UNAVAILABLE, `${error.reason}: ${error.detail}`);

  /** Undoes a step of a decision that will not go ahead; a store failure leaves it to expire. */
  const undo = (step: Promise<unknown>) => step.catch(() => undefined);

  /** A decision's steps: for real (they claim and admit), or read-only (a preview of each). */
  const realSteps: Steps = {
    preview: false,
    flip: (key, entry, deadline, onlyIf) => store.admitFlip(key, entry, config.flap, deadline, onlyIf),
    claim: (member, enforce, deadline) => store.claim(BUDGET_KEY, member, claimOptions(enforce), deadline),
  };
  /** `failed`: told of a store failure, which a person's decision turns into a note. */
  const previewSteps = (ahead: number, failed: (error: StateStoreUnavailable) => void): Steps => ({
    preview: true,
    flip: (key, entry, deadline, onlyIf) => store.peekFlip(key, entry, config.flap, deadline, onlyIf),
    claim: (member, enforce, deadline) =>
      store.peekClaim(BUDGET_KEY, member, { ...claimOptions(enforce), ahead }, deadline).catch((error: unknown) => {
        if (error instanceof StateStoreUnavailable) failed(error);
        throw error;
      }),
  });

  async function decideAlert(request: GuardRequest, deadline: number, steps: Steps): Promise<GuardDecision> {
    const entry = { member: request.clientToken, direction: directionOf(request.action) };
    let flip: GuardTicket['flip'] = 'none';
    try {
      let record: InterruptionRecord | undefined;
      if (request.action === 'resume') {
        record = await interruption(request.instanceId, deadline);
        if (record?.by !== 'alert' && config.resumeOnlyOwn)
          return refuse('NotInterruptedByResponder', say.notOurs(record));
      }
      const own = record?.by === 'alert';
      // Under RESUME_ONLY_OWN, the resume is admitted only if the interruption read above is still
      // the one recorded, in the same atomic step: a person's interrupt recorded since (their
      // decision) wins. One recorded between this step and the call only the settle can see (it says so).
      const onlyIf =
        record?.by === 'alert' && config.resumeOnlyOwn
          ? { key: ownKey(request.instanceId), fields: { by: 'alert', clientToken: record.clientToken } }
          : undefined;
      const flipped = await steps.flip(flapKey(request.instanceId), entry, deadline, onlyIf);
      if (flipped.unmet) {
        // Read again only to say who holds it now; a store failing here changes nothing decided.
        const current = await interruption(request.instanceId, deadline).catch(() => undefined);
        return refuse('NotInterruptedByResponder', say.notOurs(current, true));
      }
      if (!flipped.granted) return refuse('Flapping', say.flapping(config, flipped, clock()));
      // A preview admitted nothing: there is nothing to undo.
      flip = steps.preview ? 'none' : flipped.duplicate ? 'duplicate' : 'new';
      if (own) {
        const ticket = { request, claim: 'none', flip, endsInterruption: record?.clientToken } as const;
        return { allowed: true, ticket, ownResumption: true, notes: [say.OWN_RESUMPTION] };
      }
      const claim = await steps.claim(request.clientToken, true, deadline);
      if (!claim.granted) {
        if (flip === 'new')
          await undo(store.dropFlip(flapKey(request.instanceId), entry, config.flap.windowMs, deadline));
        return refuse('ChangeBudgetExhausted', say.budgetExhausted(config, claim, clock()));
      }
      const ticket = { request, claim: claim.duplicate ? 'duplicate' : 'new', flip } as const;
      return {
        allowed: true,
        ticket,
        ownResumption: false,
        notes: steps.preview ? [say.alertCounted(config, claim)] : [],
      };
    } catch (error) {
      if (!(error instanceof StateStoreUnavailable)) throw error;
      if (flip === 'new')
        await undo(store.dropFlip(flapKey(request.instanceId), entry, config.flap.windowMs, deadline));
      return storeRefusal(error);
    }
  }

  const uncounted = (request: GuardRequest, steps: Steps): GuardPass => ({
    allowed: true,
    ticket: { request, claim: 'none', flip: 'none' },
    ownResumption: false,
    notes: [steps.preview ? say.PERSON_UNCOUNTED_PREVIEW : say.PERSON_UNCOUNTED],
  });

  async function decidePerson(request: GuardRequest, deadline: number, steps: Steps): Promise<GuardDecision> {
    try {
      const claim = await steps.claim(request.clientToken, false, deadline);
      const ticket = { request, claim: claim.duplicate ? 'duplicate' : 'new', flip: 'none' } as const;
      return { allowed: true, ticket, ownResumption: false, notes: [say.personCounted(config, claim, steps.preview)] };
    } catch (error) {
      if (!(error instanceof StateStoreUnavailable)) throw error;
      return uncounted(request, steps);
    }
  }

  const decideWith = (request: GuardRequest, deadline: number, steps: Steps) =>
    request.actor === 'alert' ? decideAlert(request, deadline, steps) : decidePerson(request, deadline, steps);

  /**
   * One request after another, in order: each counts the units the earlier ones would claim (a
   * real run starts its decisions in the same order). Once the store has failed, the rest are
   * answered as a real run's would be without asking again: each would wait for the same store.
   */
  async function preview(requests: readonly GuardRequest[], deadline: number): Promise<GuardPreview[]> {
    const previews: GuardPreview[] = [];
    let ahead = 0;
    let down: GuardRefusal | undefined;
    for (const request of requests) {
      const steps = previewSteps(ahead, (error) => {
        down = storeRefusal(error);
      });
      const decided = !down
        ? await decideWith(request, deadline, steps)
        : request.actor === 'alert'
          ? down
          : uncounted(request, steps);
      if (!decided.allowed) {
        if (decided.code === 'StateStoreUnavailable') down = decided;
        previews.push(decided);
        continue;
      }
      if (decided.ticket.claim === 'new') ahead++;
      const { ticket, ownResumption, notes } = decided;
      previews.push({ allowed: true, claim: ticket.claim, ownResumption, notes });
    }
    return previews;
  }

  async function record(request: GuardRequest, deadline: number): Promise<void> {
    const fields: Record<keyof InterruptionRecord, string> = {
      instanceId: request.instanceId,
      functionName: request.functionName,
      clientToken: request.clientToken,
      eventKey: request.eventKey,
      source: request.source,
      by: request.actor,
      at: new Date(clock()).toISOString(),
    };
    // An alert never overwrites a person's interruption (a retried delivery settling after a person
    // acted): the person's decision stands, and a resolved alert will not undo it.
    const unless = request.actor === 'alert' ? { field: 'by', value: 'person' } : undefined;
    await store.putRecord(ownKey(request.instanceId), fields, OWNERSHIP_TTL_MS, deadline, unless);
  }

  /** Resolves with a warning for the reply when there is one (the store's failures reject). */
  async function settleSteps(
    ticket: GuardTicket,
    settlement: Settlement,
    deadline: number,
  ): Promise<string | undefined> {
    const { request } = ticket;
    const made = settlement === 'applied' || settlement === 'unknown';
    const tookEffect = settlement === 'applied' || settlement === 'already';
    if (ticket.claim !== 'none' && made)
      await store.commit(BUDGET_KEY, request.clientToken, config.budget.windowMs, deadline);
    if (ticket.claim === 'new' && !made) await store.release(BUDGET_KEY, request.clientToken, deadline);
    if (ticket.flip === 'new' && !made) {
      const entry = { member: request.clientToken, direction: directionOf(request.action) };
      await store.dropFlip(flapKey(request.instanceId), entry, config.flap.windowMs, deadline);
    }
    const personActed =
      request.actor === 'person' &&
      (settlement === 'applied' || (settlement === 'already' && options.chatSources.has(request.source)));
    if (personActed) {
      // A person acted (from chat, or changed the instance): the flap guard starts over. A scheduled
      // command that changed nothing (a timer tick on an instance already suspended) must not keep a
      // flapping alert's count at zero.
      await store.deleteKey(flapKey(request.instanceId), deadline);
    }
    if (request.action === 'interrupt') {
      const ours = request.actor === 'alert' && settlement === 'applied';
      // A person's interrupt, even of an instance already suspended, makes the interruption theirs.
      const theirs = request.actor === 'person' && settlement !== 'not-made';
      if (ours || theirs) await record(request, deadline);
    } else if (request.action === 'resume' && tookEffect) {
      const match = ticket.endsInterruption ? { field: 'clientToken', value: ticket.endsInterruption } : undefined;
      const cleared = await store.deleteRecord(ownKey(request.instanceId), deadline, match);
      // The decision admitted this resume only while the interruption was ours; a person's recorded
      // since then raced the call, which nothing before it can see: say so, and keep their record.
      if (!cleared && match && settlement === 'applied') {
        const current = await interruption(request.instanceId, deadline);
        if (current?.by === 'person') return say.personRacedResume(current);
      }
    }
    return undefined;
  }

  return {
    config,
    chatSources: options.chatSources,
    decide: (request, deadline) => decideWith(request, deadline, realSteps),
    preview,

    async settle(ticket, settlement, deadline) {
      try {
        const warning = await settleSteps(ticket, settlement, deadline);
        return warning === undefined ? { stored: true } : { stored: true, warning };
      } catch (error) {
        if (!(error instanceof StateStoreUnavailable)) throw error;
        return {
          stored: false,
          warning: settleWarning(ticket, settlement),
          detail: `${error.reason}: ${error.detail}`,
        };
      }
    },

    interruption,
    ownsInterruption: async (instanceId, deadline) => (await interruption(instanceId, deadline))?.by === 'alert',
    async ownedAmong(instanceIds, deadline) {
      const records = await Promise.all(instanceIds.map((id) => interruption(id, deadline)));
      return new Set(instanceIds.filter((_, i) => records[i]?.by === 'alert'));
    },
  };
}

function settleWarning(ticket: GuardTicket, settlement: Settlement): string {
  const { action, actor } = ticket.request;
  const base = 'the state store did not answer while recording the outcome';
  if (action === 'interrupt' && actor === 'alert' && settlement === 'applied') {
    return `${base}: this interruption is not recorded as ours, so a resolved alert will not resume it (a person can)`;
  }
  if (action === 'interrupt' && actor === 'person') {
    return `${base}: an earlier interruption by an alert may still be recorded, so a resolved alert could resume this instance`;
  }
  if (action === 'resume') return `${base}: the interruption record was not cleared (it expires by itself)`;
  return `${base}: the budget claim will be settled by its expiry`;
}
