import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Script } from 'node:vm';
import {
  CODE_CACHE_KEY,
  type CodeCacheStatus,
  decodeCodeCache,
  type SiblingCacheState,
  wrapBundle,
} from './code-cache-format.ts';

/**
 * dist/<function>/index.js (FC handler `index.handler`): runs the function's bundle.js, compiled
 * with the V8 code cache `npm run build` left in bundle.cache, so a cold start skips most parsing
 * and compiling. Whenever the cache cannot be used (absent, another Node build, corrupted, or V8
 * refusing it for other flags) the bundle is compiled from source as `require` would; a rejected
 * cache costs no second compile, since V8 then compiles the source in the same call.
 *
 * The bundle runs as a CommonJS module with this file's `module`: its exports are this module's.
 * Its `require` of a sibling file (`./redis.js`, `./fc2.js`, loaded on first use) compiles that
 * file the same way, with its own `<file>.cache` when the build made one (the state store's client
 * is about 400 KiB: compiling it cold is most of a first store operation).
 */
function compile(file: string): { script: Script; status: CodeCacheStatus } {
  const source = readFileSync(file);
  let status: CodeCacheStatus = 'absent';
  let cachedData: Buffer | undefined;
  let cacheFile: Buffer | undefined;
  try {
    cacheFile = readFileSync(`${file.replace(/\.js$/, '')}.cache`);
  } catch {
    // No cache: compiled from source.
  }
  if (cacheFile) {
    const decoded = decodeCodeCache(source, cacheFile);
    if (decoded.status === 'ok') cachedData = decoded.data;
    else status = decoded.status;
  }
  const script = new Script(wrapBundle(source.toString('utf8')), { filename: file, lineOffset: -1, cachedData });
  if (cachedData) status = script.cachedDataRejected ? 'rejected' : 'accepted';
  return { script, status };
}

const SIBLING = /^\.\/[a-z0-9-]+\.js$/;
const siblings = new Map<string, SiblingCacheState>();

/** The bundle's `require`: a sibling file compiled with its cache, anything else as node requires it. */
function requireFromBundle(id: string): unknown {
  if (!SIBLING.test(id)) return require(id);
  let sibling = siblings.get(id);
  if (!sibling) {
    const file = join(__dirname, id.slice(2));
    const { script, status } = compile(file);
    const siblingModule = { exports: {} as unknown };
    script
      .runInThisContext()
      .call(siblingModule.exports, siblingModule.exports, require, siblingModule, file, __dirname);
    sibling = { status, script, exports: siblingModule.exports };
    siblings.set(id, sibling);
  }
  return sibling.exports;
}

const file = join(__dirname, 'bundle.js');
const { script, status } = compile(file);
script.runInThisContext().call(module.exports, module.exports, requireFromBundle, module, file, __dirname);
Object.defineProperty(module.exports, CODE_CACHE_KEY, { value: { status, script, siblings } });
