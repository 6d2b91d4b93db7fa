import { ResponderError } from '../errors.ts';

/**
 * The state-store port: the few atomic operations the guardrails need, each implemented by both
 * adapters with the same semantics (the contract suite runs against both). `peekClaim`, `peekFlip`
 * and `getRecord` only read: DRY_RUN's preview of the guardrails uses nothing else.
 *
 * - `redis-store.ts`: Redis protocol (Alibaba Cloud Tair / ApsaraDB for Redis), one Lua script per
 *   operation, so each is atomic across every function instance;
 * - `embedded-store.ts`: in one process (local mode), atomic because each operation runs without
 *   yielding.
 *
 * Time is the caller's clock (`clock`, epoch ms; FC instances are NTP-synchronised): every expiry
 * the semantics depend on is decided against it, so the two adapters, and tests with a fake clock,
 * agree. Every key also carries a TTL on the server, so nothing grows without bound.
 *
 * `deadline` (epoch ms, real time, like the responder's deadlines) bounds how long an operation may
 * take; a store that is down, slow or past the deadline rejects with {@link StateStoreUnavailable}.
 */
export interface StateStore {
  readonly kind: 'redis' | 'embedded';
  /**
   * Claims one unit of a sliding-window budget for `member`. A member already counted is granted
   * again (`duplicate`) without counting twice. A claim stays pending until committed or released;
   * a pending claim never settled (a crash) is forgotten after `pendingMs`.
   */
  claim(key: string, member: string, options: ClaimOptions, deadline: number): Promise<ClaimResult>;
  /** Keeps `member` counted until it leaves the window (counted at `now` if it was forgotten). */
  commit(key: string, member: string, windowMs: number, deadline: number): Promise<void>;
  /** Forgets a pending claim (a committed one stays); true when one was released. */
  release(key: string, member: string, deadline: number): Promise<boolean>;
  /**
   * What `claim` would answer now, had `options.ahead` other members (an event's earlier targets)
   * been claimed first, at now. Read-only, as every `peek…`: it writes nothing, not even to forget
   * what left the window (DRY_RUN's preview of the guardrails on the store real runs use).
   */
  peekClaim(key: string, member: string, options: PeekClaimOptions, deadline: number): Promise<ClaimResult>;
  /**
   * Admits one automatic action into a per-instance log of directions, unless the flips (changes
   * of direction between consecutive actions within the window) already reach the limit. Actions
   * of the same millisecond are ordered by member, as a Redis sorted set orders them.
   * With `onlyIf`, in the same atomic step: nothing is admitted (`unmet`) unless the live record at
   * `onlyIf.key` holds every field of `onlyIf.fields` (what the caller read is still what is there).
   */
  admitFlip(
    key: string,
    entry: FlipEntry,
    options: FlipOptions,
    deadline: number,
    onlyIf?: RecordCondition,
  ): Promise<FlipResult>;
  /** Removes an admitted action whose call made no change; true when it was there (in the window). */
  dropFlip(key: string, entry: FlipEntry, windowMs: number, deadline: number): Promise<boolean>;
  /** What `admitFlip` would answer now, with the same arguments; read-only. */
  peekFlip(
    key: string,
    entry: FlipEntry,
    options: FlipOptions,
    deadline: number,
    onlyIf?: RecordCondition,
  ): Promise<FlipResult>;
  /** A record (string fields), or undefined when absent or expired; read-only (an expired one is left to its TTL). */
  getRecord(key: string, deadline: number): Promise<StoredRecord | undefined>;
  /**
   * Replaces the whole record (it expires after `ttlMs`), unless a live record's `unless.field`
   * holds `unless.value`; true when written.
   */
  putRecord(key: string, fields: StoredRecord, ttlMs: number, deadline: number, unless?: RecordMatch): Promise<boolean>;
  /** Deletes the record, only if `match.field` holds `match.value` when given; true when deleted. */
  deleteRecord(key: string, deadline: number, match?: RecordMatch): Promise<boolean>;
  /**
   * Remembers `key` with `fingerprint` for `ttlMs`, unless a live one is remembered: `first` when
   * remembered now, `repeat` when the live one has this fingerprint, `reused` when another (what
   * was first remembered stays). A credential accepted once, across every function instance.
   */
  rememberOnce(key: string, fingerprint: string, ttlMs: number, deadline: number): Promise<OnceVerdict>;
  /** Deletes whatever the key holds (a flip log, a record, a remembered key). */
  deleteKey(key: string, deadline: number): Promise<void>;
  close(): Promise<void>;
}

export interface ClaimOptions {
  /** Units in any window; at the limit, an enforced claim is refused. */
  limit: number;
  windowMs: number;
  /** How long a claim may stay pending before it is forgotten (a crash between claim and call). */
  pendingMs: number;
  /** False: counted even past the limit, never refused (a person decided). */
  enforce: boolean;
}

export interface PeekClaimOptions extends ClaimOptions {
  /** Members claimed before this one, at now, none of them counted yet (default 0). */
  ahead?: number | undefined;
}

export interface ClaimResult {
  granted: boolean;
  /** The member was already counted: nothing was added. */
  duplicate: boolean;
  /** Units counted in the window, this claim included when granted. */
  count: number;
  /** When refused: the time (epoch ms) by which the window holds fewer than `limit` units. */
  freesAt?: number | undefined;
}

export type FlipDirection = 'stop' | 'resume';

export interface FlipEntry {
  /** Unique per action (the clientToken): a retry is admitted again without a second entry. */
  member: string;
  direction: FlipDirection;
}

/** How an entry is stored in a flip log: its direction's letter, then its member. */
export const flipMember = (entry: FlipEntry): string => `${entry.direction === 'stop' ? 's' : 'r'}:${entry.member}`;

export interface FlipOptions {
  limit: number;
  windowMs: number;
}

export interface FlipResult {
  granted: boolean;
  duplicate: boolean;
  /** Flips in the window: with this action when granted, before it when refused. */
  flips: number;
  /** When refused for the limit: the time (epoch ms) at which the flips in the window fall below it. */
  clearsAt?: number | undefined;
  /** Refused because the record `onlyIf` names does not hold its fields (the limit was not looked at). */
  unmet?: true | undefined;
}

export type StoredRecord = Record<string, string>;

export type OnceVerdict = 'first' | 'repeat' | 'reused';

export interface RecordMatch {
  field: string;
  value: string;
}

/** An operation's precondition: the live record at `key` holds every one of `fields`. */
export interface RecordCondition {
  key: string;
  fields: StoredRecord;
}

/** Options both adapters take. */
export interface StoreOptions {
  /** Epoch ms; default Date.now. */
  clock?: (() => number) | undefined;
  /** Key namespace, a Redis hash tag: `{<namespace>}:<key>` keeps every key in one cluster slot. */
  namespace?: string | undefined;
}

export const DEFAULT_NAMESPACE = 'es-responder';

const NAMESPACE_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;
const KEY_PATTERN = /^[A-Za-z0-9_.:-]{1,200}$/;
const MEMBER_PATTERN = /^[\x21-\x7e]{1,200}$/;
/** The field that holds a record's expiry; callers may not use it. */
export const EXPIRY_FIELD = '_expiresAt';

/** Checks the namespace once, and returns how a logical key becomes a stored one. */
export function namespacedKeys(namespace = DEFAULT_NAMESPACE): (key: string) => string {
  if (!NAMESPACE_PATTERN.test(namespace)) throw new TypeError('namespace must be 1-64 of A-Z a-z 0-9 _ . : -');
  return (key) => {
    if (!KEY_PATTERN.test(key)) throw new TypeError(`invalid state key: ${JSON.stringify(key.slice(0, 40))}`);
    return `{${namespace}}:${key}`;
  };
}

/** Programmer errors, thrown before anything reaches a store. */
export function checkMember(member: string): void {
  if (!MEMBER_PATTERN.test(member)) throw new TypeError('a member must be 1-200 printable ASCII characters');
}

export function checkWindow(options: { limit: number; windowMs: number }): void {
  if (!Number.isInteger(options.limit) || options.limit < 1) throw new TypeError('limit must be a positive integer');
  if (!Number.isInteger(options.windowMs) || options.windowMs < 1) throw new TypeError('windowMs must be positive');
}

export function checkAhead(ahead: number | undefined): void {
  if (ahead !== undefined && (!Number.isInteger(ahead) || ahead < 0))
    throw new TypeError('ahead must be a whole number, 0 or more');
}

export function checkTtl(ttlMs: number): void {
  if (!Number.isInteger(ttlMs) || ttlMs < 1) throw new TypeError('ttlMs must be a positive integer');
}

export function checkRecord(fields: StoredRecord, ttlMs: number): void {
  checkTtl(ttlMs);
  for (const field of Object.keys(fields)) {
    if (field === EXPIRY_FIELD || !KEY_PATTERN.test(field)) throw new TypeError(`invalid record field: ${field}`);
  }
}

export function checkCondition(condition: RecordCondition): void {
  const fields = Object.keys(condition.fields);
  if (fields.length === 0) throw new TypeError('a record condition names at least one field');
  for (const field of fields) {
    if (field === EXPIRY_FIELD || !KEY_PATTERN.test(field)) throw new TypeError(`invalid record field: ${field}`);
  }
}

export type UnavailableReason = 'timeout' | 'unreachable' | 'error';

/**
 * The store could not answer within the deadline: the action that needed it is refused with 503,
 * so the sender retries. `detail` (for logs only) is the cause without credentials.
 */
export class StateStoreUnavailable extends ResponderError {
  constructor(
    readonly reason: UnavailableReason,
    readonly detail: string,
  ) {
    super(
      503,
      'StateStoreUnavailable',
      reason === 'timeout'
        ? 'the state store did not answer in time'
        : reason === 'unreachable'
          ? 'the state store cannot be reached'
          : 'the state store failed',
    );
  }
}
