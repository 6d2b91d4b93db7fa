import * as z from 'zod/mini';
import type { AuthResult } from '../auth/auth-result.ts';
import type { ReplayVerdict } from '../auth/replay-guard.ts';
import type { ResponseBody } from '../core/result.ts';
import type { ReplyTarget, SourceEvent } from '../core/target.ts';
import type { EnvValues, EnvVar } from '../env-schemas.ts';
import { lazySchema } from '../lazy-schema.ts';

/** An inbound HTTP request as a source sees it: the raw bytes, before anything is parsed. */
export interface InboundRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: Headers;
  readonly body: Uint8Array;
  readonly receivedAt: Date;
  /** Epoch ms by which the sender expects the answer: a check that needs the state store gives up then. */
  readonly deadline: number;
  readonly sourceIp?: string | undefined;
}

export interface Reply {
  status: number;
  body: unknown;
}

/**
 * What `verify` makes of a raw request, before anything in it is trusted: verified (with what
 * `parse` needs, read once), a platform handshake answered as it is (Slack `ssl_check`, Feishu
 * `url_verification`: nothing is acted on), or refused. The refusal's reason goes to the log only
 * (the sender always gets the same 401) and never holds a secret, signature or token.
 */
export type Verdict<Verified> =
  | { readonly kind: 'verified'; readonly value: Verified }
  | { readonly kind: 'handshake'; readonly reply: Reply }
  | { readonly kind: 'refused'; readonly reason: string };

export const verified = <Verified>(value: Verified): Verdict<Verified> => ({ kind: 'verified', value });
export const handshake = (reply: Reply): Verdict<never> => ({ kind: 'handshake', reply });
export const refused = (reason: string): Verdict<never> => ({ kind: 'refused', reason });
/** A scheme's check as a verdict: `value` verified, or refused for the check's reason. */
export const verdictOf = <Verified>(check: AuthResult, value: Verified): Verdict<Verified> =>
  check.ok ? verified(value) : refused(check.reason);

/** Alert label names that carry the instance ID, and the region, in order of preference. */
export interface AlertLabelNames {
  readonly instance: readonly string[];
  readonly region: readonly string[];
}

/**
 * Where a sender remembers a credential it accepts once (DingTalk's timestamp/sign pair), with a
 * fingerprint of the body it first came with. The function gives one on the state store when there
 * is one (every instance of every function then shares it); without, the sender keeps its own, per
 * instance (auth/replay-guard.ts, which has this shape).
 */
export interface ReplayMemory {
  /**
   * `key` (a hash of the credential, never the credential) with `fingerprint`, remembered until
   * `expiresAtMs` if it is new. Rejects with a ResponderError (503 StateStoreUnavailable) when the
   * store cannot answer by `deadline`: the request is then refused, never let through.
   */
  check(
    key: string,
    fingerprint: string,
    expiresAtMs: number,
    nowMs: number,
    deadline: number,
  ): ReplayVerdict | Promise<ReplayVerdict>;
  /**
   * True when the memory is shared beyond this function (the state store): a credential must then
   * be kept as long as any function sharing it may accept it, not only as long as this one does.
   */
  readonly sharedAcrossFunctions?: boolean;
}

/** What a sender may use besides its own section of the configuration. */
export interface SharedSettings {
  /** ALERT_INSTANCE_LABELS and ALERT_REGION_LABELS. */
  readonly alertLabels: AlertLabelNames;
  /** The account that owns the functions (ALIBABA_CLOUD_ACCOUNT_ID, else FC_ACCOUNT_ID), when known. */
  readonly accountId: string | undefined;
  /** The state store's replay memory, when the function has a store. */
  readonly replayMemory?: ReplayMemory | undefined;
}

/** What a sender does with a request: built on first use, from its settings. */
export interface SourceHandlers<Verified> {
  /**
   * Checks the raw request (signature, token, binding) before its body is trusted. Rejects (a
   * ResponderError) only when a check could not be made (the state store did not answer).
   */
  verify(request: InboundRequest): Verdict<Verified> | Promise<Verdict<Verified>>;
  /** Reads a verified request into targets and event keys; throws PayloadError naming the field. */
  parse(verified: Verified): SourceEvent;
  /**
   * Chat platforms need their own reply shape, and a 200 (Slack treats any other status as a
   * failure): renders what was done, after authentication, for successes and refusals alike.
   */
  render?(body: ResponseBody, status: number): Reply;
  /** The body of a later report to the platform (the async hand-off's outcome). */
  replyBody?(body: ResponseBody): unknown;
}

/** A sender's variables, each with its unset value and its schema (env-schemas.ts). */
type Vars = Record<string, EnvVar>;

/** One sender, as its module declares it: everything that differs from one sender to another. */
export interface SourceSpec<Name extends string, V extends Vars, Settings, Verified> {
  /** As in `POST /<function>/<source>`. */
  readonly name: Name;
  /** Media types the sender posts (`application/json`, `application/x-www-form-urlencoded`). */
  readonly mediaTypes: readonly string[];
  /**
   * How long the sender waits for an answer, when shorter than RETRY_DEADLINE_MS: calls and
   * retries of a synchronous run stop in time for the answer to arrive.
   */
  readonly deadlineMs?: number;
  /** Its own environment variables, named as the contract and s.yaml name them, each with its schema. */
  readonly variables: V;
  /** Its settings, from its variables' values. */
  readonly settings: (values: EnvValues<V>) => Settings;
  /** The variables that hold its secrets: the 401 of a sender with none names them. */
  readonly secretVariables: readonly (keyof V & string)[];
  /** False when no secret is configured: every request is refused (fail closed). */
  readonly enabled: (settings: Settings) => boolean;
  /**
   * Where a later report of this sender's command may go: the target, when it has this platform's
   * exact shape (see async/reply-target.ts); absent for senders that never report.
   */
  readonly replyTarget?: (target: ReplyTarget) => ReplyTarget | undefined;
  /**
   * The hosts those reports go to: the reply sender's allow-list, a second line behind
   * `replyTarget`, is made of every sender's (sources/registry.ts).
   */
  readonly replyHosts?: readonly string[];
  /**
   * The module that verifies, parses and renders, imported on the sender's first request: an
   * invocation serves one sender, and evaluating the others' payload schemas would cost a cold
   * start for nothing.
   */
  readonly load: () => Promise<(settings: Settings, shared: SharedSettings) => SourceHandlers<Verified>>;
}

/** A sender as the app runs it: its definition's facts, and its handlers built for this configuration. */
export interface Source<Verified = unknown> extends SourceHandlers<Verified> {
  readonly name: string;
  readonly enabled: boolean;
  readonly secretVariables: readonly string[];
  readonly mediaTypes: readonly string[];
  readonly deadlineMs?: number | undefined;
}

export interface SourceDefinition<Name extends string, V extends Vars, Settings, Verified>
  extends SourceSpec<Name, V, Settings, Verified> {
  /**
   * Its section of the configuration: its variables (the whole environment given, the others
   * ignored) to its settings. Built on first read: only the sender a request needs is built.
   */
  readonly config: () => z.ZodMiniType<Settings>;
  /** The sender for these settings: its module is imported here, on first use. */
  create(settings: Settings, shared: SharedSettings): Promise<Source<Verified>>;
}

/** A sender's one exported definition; the central configuration composes its section. */
export function defineSource<Name extends string, V extends Vars, Settings, Verified>(
  spec: SourceSpec<Name, V, Settings, Verified>,
): SourceDefinition<Name, V, Settings, Verified> {
  return {
    ...spec,
    config: lazySchema(
      `source:${spec.name}`,
      () =>
        z.pipe(
          z.object(
            Object.fromEntries(Object.entries(spec.variables).map(([name, variable]) => [name, variable.schema()])),
          ),
          z.transform((values) => spec.settings(values as EnvValues<V>)),
        ) as z.ZodMiniType<Settings>,
    ),
    async create(settings, shared) {
      const handlers = (await spec.load())(settings, shared);
      return {
        name: spec.name,
        enabled: spec.enabled(settings),
        secretVariables: spec.secretVariables,
        mediaTypes: spec.mediaTypes,
        deadlineMs: spec.deadlineMs,
        ...handlers,
      };
    },
  };
}

/** Slack and Feishu give 3 s, DingTalk about as much; leave room for the answer itself. */
export const CHAT_DEADLINE_MS = 2500;
