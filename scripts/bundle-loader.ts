import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { CODE_CACHE_KEY, type CodeCacheStatus, decodeCodeCache, wrapBundle } from './code-cache-format.ts';

/**
 * dist/<function>/index.js (FC handler `index.handler`): runs the function's bundle.js, compiled
 * with the V8 code cache `npm run build` left in bundle.cache, so a cold start skips most parsing
 * and compiling. Whenever the cache cannot be used (absent, another Node build, corrupted, or V8
 * refusing it for other flags) the bundle is compiled from source as `require` would; a rejected
 * cache costs no second compile, since V8 then compiles the source in the same call.
 *
 * The bundle runs as a CommonJS module with this file's `module` and `require`: its exports are
 * this module's, and `require('./fc2.js')` resolves beside it, from dist/<function>/.
 */
const file = join(__dirname, 'bundle.js');
const source = readFileSync(file);

let status: CodeCacheStatus = 'absent';
let cachedData: Buffer | undefined;
let cacheFile: Buffer | undefined;
try {
  cacheFile = readFileSync(join(__dirname, 'bundle.cache'));
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
script.runInThisContext().call(module.exports, module.exports, require, module, file, __dirname);
Object.defineProperty(module.exports, CODE_CACHE_KEY, { value: { status, script } });
