import { createHash } from 'node:crypto';

/**
 * The file `bundle.cache` beside each function's bundle.js: V8's code cache for the bundle, made by
 * `npm run build`, behind two lines of our own:
 *
 *     <runtime>\n<sha256 hex>\n<V8 code cache bytes>
 *
 * V8 checks only its version, its flags and the source's *length* before trusting a cache, and does
 * not checksum the bytes in a release build: a flipped byte is used as it is, a zeroed range aborts
 * the process. So the loader uses the V8 bytes only when they were made by this very Node build
 * (`<runtime>`) for this very bundle (the digest covers the runtime, the source and the bytes).
 */

/** Where the loader leaves what it did, on the function's exports (tests and the build read it). */
export const CODE_CACHE_KEY = Symbol.for('es-change-responder.code-cache');

export type CodeCacheStatus =
  /** V8 used the cache. */
  | 'accepted'
  /** The cache passed our checks but V8 refused it (other V8 flags): compiled from source. */
  | 'rejected'
  /** Made by another Node build or architecture: not offered to V8. */
  | 'other-runtime'
  /** Truncated, corrupted, or made for another bundle: not offered to V8. */
  | 'invalid'
  /** No bundle.cache (as when the build makes it): compiled from source. */
  | 'absent';

export interface CodeCacheState {
  status: CodeCacheStatus;
  /** The compiled bundle: the build asks it for the cache after a training run. */
  script: { createCachedData(): Buffer };
  /** The sibling files the bundle required so far (`./redis.js`), each compiled with its own cache. */
  siblings: Map<string, SiblingCacheState>;
}

export interface SiblingCacheState {
  status: CodeCacheStatus;
  script: { createCachedData(): Buffer };
  exports: unknown;
}

/** The Node build a cache belongs to. */
export function runtimeId(): string {
  return `node ${process.version} ${process.arch} v8 ${process.versions.v8}`;
}

/** The bundle as a CommonJS function, on its own first line so positions in bundle.js stay right (lineOffset -1). */
export function wrapBundle(source: string): string {
  return `(function (exports, require, module, __filename, __dirname) {\n${source}\n})`;
}

function digest(runtime: string, source: Uint8Array, data: Uint8Array): string {
  return createHash('sha256').update(runtime).update('\n').update(source).update(data).digest('hex');
}

export function encodeCodeCache(source: Uint8Array, data: Uint8Array): Buffer {
  const runtime = runtimeId();
  return Buffer.concat([Buffer.from(`${runtime}\n${digest(runtime, source, data)}\n`, 'latin1'), data]);
}

/** The V8 bytes of `file` when they belong to this runtime and this source; else why not. */
export function decodeCodeCache(
  source: Uint8Array,
  file: Buffer,
): { status: 'ok'; data: Buffer } | { status: 'other-runtime' | 'invalid' } {
  const end = file.indexOf(10);
  const runtime = end > 0 ? file.toString('latin1', 0, end) : '';
  if (runtime !== runtimeId()) return { status: end > 0 && runtime.startsWith('node ') ? 'other-runtime' : 'invalid' };
  const hex = file.toString('latin1', end + 1, end + 65);
  const data = file.subarray(end + 66);
  if (file[end + 65] !== 10 || data.length === 0 || hex !== digest(runtime, source, data)) return { status: 'invalid' };
  return { status: 'ok', data };
}
