import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type fc from 'fast-check';
import type { Env } from '../../shared/config.ts';
import type { SourceName } from '../../shared/sources/registry.ts';
import type { Body } from './hostile-values.ts';

/**
 * What a sender's test kit (test/fixtures/<source>/kit.ts, beside its fixtures) gives the suites
 * that exercise every sender alike: its secrets and environment, a signer written apart from the
 * code under test (node:crypto, as the sender's docs describe the scheme), bodies in its own
 * format, and its hostile-input arbitraries. test/support/senders.ts finds a kit by the sender's
 * name, so a new sender brings its kit in its fixture folder and nothing else changes here.
 */
export interface SenderKit {
  readonly source: SourceName;
  /** The media type the sender posts. */
  readonly mediaType: string;
  /** Its replies are in the platform's own shape (a 200 even for refusals). */
  readonly chat: boolean;
  /**
   * This sender's variables, configured with its secrets: two per list, and the second one is the
   * one it signs with, so rotation is exercised too.
   */
  readonly env: Env;
  /** Every secret it is configured with: none may be logged or echoed, nor work for another sender. */
  readonly secrets: readonly string[];
  /** Other forms its secrets take (the key a `whsec_` secret encodes): as secret as the secrets. */
  readonly secretForms?: readonly string[];
  /** Valid credentials for `body`, unless `options` say otherwise. */
  sign(body: Bytes, options?: SignOptions): Credentials;
  /** A body in the sender's own format naming `instanceId`, with a fresh event key each time. */
  deliveryBody(instanceId: string, options?: { alert?: 'firing' | 'resolved' }): string;
  /** A signed body its parser refuses (400, or the platform's 200 reply saying nothing was done). */
  readonly malformed: string;
  readonly hostile: HostileKit;
}

/** The sender's part of hostile input (see test/support/hostile-arbitraries.ts). */
export interface HostileKit {
  /** Its own format with every field hostile. */
  readonly structured: fc.Arbitrary<Body>;
  /**
   * A valid delivery naming the allowed instance in which only what binds it varies (the Slack
   * command and person, the chat person, the CloudMonitor account), each with a fresh event key.
   */
  readonly bound?: fc.Arbitrary<Body>;
  /** A body in its format carrying `filler` in a free-text field: huge values and invalid bytes ride in it. */
  template(filler: string): string;
  /** Form senders: a body whose field the parser reads holds `nested` (JSON senders nest the whole body). */
  deepForm?(nested: string): string;
  /** Garbage in its own credential slots; `others`: every other sender's secrets, which must not work here. */
  garbage(others: readonly string[]): fc.Arbitrary<GarbageCredentials>;
  /** Credentials a body carries, which authenticate whatever the headers say (Feishu's verification token). */
  readonly bodyCredentials?: readonly string[];
  /** A valid timestamp/sign pair can come again with another body (DingTalk's sign covers no body). */
  readonly replayable?: boolean;
}

export interface GarbageCredentials {
  headers: Record<string, string>;
  query: Record<string, string | string[]>;
}

export type Bytes = Uint8Array | string;

/** What authenticates a request besides its body: headers, and for CloudMonitor the query and source address. */
export interface Credentials {
  headers: Record<string, string>;
  query: Record<string, string>;
  sourceIp?: string;
}

export interface SignOptions {
  /** Sign as of this many seconds ago (301 and more is outside every window). */
  ageSeconds?: number;
  /** Sign with a secret that is not configured. */
  wrongSecret?: boolean;
  /** The alternative scheme where there is one: bearer for generic/grafana, basic for alertmanager. */
  alternative?: boolean;
  /** Grafana: a contact point without a timestamp header, which signs the body alone. */
  untimed?: boolean;
}

/** The account of the functions under test (FC_ACCOUNT_ID), and of the CloudMonitor fixtures' callbacks. */
export const ACCOUNT_ID = '1273560756088235';

/** A secret no sender is configured with. */
export const WRONG_SECRET = 'not-a-configured-secret-0000';

/** The signing secret of a list (the last one). */
export const current = (list: readonly string[]): string => list[list.length - 1] as string;

export const buf = (body: Bytes) => (typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body));
export const nowSeconds = () => Math.floor(Date.now() / 1000);
/** `n` random hex digits: fresh event keys and fingerprints. */
export const randomHex = (n: number) => createHash('sha256').update(randomUUID()).digest('hex').slice(0, n);

/**
 * The real payloads in a kit's folder (`new URL('.', import.meta.url)`), read once; every call
 * returns a fresh clone, so a test may mutate its copy freely.
 */
export function jsonFixtures<T, Name extends string = string>(folder: URL): (name: Name) => T {
  const cache = new Map<Name, T>();
  return (name) => {
    let value = cache.get(name);
    if (value === undefined) {
      value = JSON.parse(readFileSync(new URL(`${name}.json`, folder), 'utf8')) as T;
      cache.set(name, value);
    }
    return structuredClone(value);
  };
}
