import { readFileSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { performance } from 'node:perf_hooks';

/**
 * `npm run bench` only, loaded with `node --require` in a cold run: marks of where the cold start's
 * time goes, taken around the bundle from outside (nothing in shared/ knows of it), written as JSON
 * to $BENCH_MARKS_OUT at exit.
 *
 * Every mark is wall time, exclusive of the marks nested in it: node built-ins the bundle loads
 * (`Module._load`), reading/compiling/running the bundle, undici (the first `Headers`/`Request`/
 * `Response` global), the first TLS context, HMAC/SHA-256, and the first upstream call (from
 * `http(s).request` to the end of its response).
 *
 * With $BENCH_TRUST_CA (a PEM file) it also makes the bundle's HTTPS client trust the bench's test
 * CA, the one a local TLS emulator's certificate is issued by: added to each TLS context after Node
 * built it as it always does (its bundled roots), so what is measured is what FC pays. This never
 * turns verification off, and NODE_EXTRA_CA_CERTS (which costs every start ≈40 ms) is not needed.
 */

export interface Marks {
  /** First load of each built-in while the bundle loads (`Module._load`), exclusive. */
  builtinsAtLoad: Record<string, number>;
  /** Built-ins first loaded later, while handling. */
  builtinsLater: Record<string, number>;
  /** Reading, compiling and running the bundle (the loader's `require`), exclusive of the marks inside. */
  bundle: number;
  /** The first access to an undici global. */
  undici: number;
  undiciGlobal?: string;
  /** Each TLS context Node built (the first one builds the root certificate store). */
  tlsContexts: number[];
  /** Adding the bench's test CA to those contexts: the bench's own cost, not FC's. */
  caInjection: number;
  /** Every createHmac/createHash call and its update/digest calls. */
  hashing: number;
  hashCalls: number;
  /** Each upstream request: from `request()` to the end of the response (wall, the emulator's time included). */
  upstream: Array<{ protocol: string; ms: number; tlsHandshakeMs?: number }>;
  /** The bundle's code cache status, as its loader reports it. */
  codeCache?: string;
}

const marks: Marks = {
  builtinsAtLoad: {},
  builtinsLater: {},
  bundle: 0,
  undici: 0,
  tlsContexts: [],
  caInjection: 0,
  hashing: 0,
  hashCalls: 0,
  upstream: [],
};

type Category = 'builtin' | 'bundle' | 'undici' | 'tls' | 'ca' | 'hash';
const open: Array<{ nested: number }> = [];
let loadingBundle = false;
let bundleLoaded = false;

/** Runs `work`, adding its wall time minus the marks nested in it to `record`. */
function timed<T>(record: (ms: number) => void, work: () => T): T {
  const frame = { nested: 0 };
  open.push(frame);
  const started = performance.now();
  try {
    return work();
  } finally {
    const ms = performance.now() - started;
    open.pop();
    record(ms - frame.nested);
    const parent = open[open.length - 1];
    if (parent) parent.nested += ms;
  }
}
const add = (category: Category) => (ms: number) => {
  if (category === 'bundle') marks.bundle += ms;
  else if (category === 'undici') marks.undici += ms;
  else if (category === 'tls') marks.tlsContexts.push(ms);
  else if (category === 'ca') marks.caInjection += ms;
  else if (category === 'hash') marks.hashing += ms;
};

const trustedCa = process.env.BENCH_TRUST_CA ? readFileSync(process.env.BENCH_TRUST_CA, 'utf8') : undefined;

// biome-ignore lint/suspicious/noExplicitAny: patching node's own module objects
type AnyFn = (...args: any[]) => any;

function patchTls(tls: typeof import('node:tls')): void {
  const original = tls.createSecureContext;
  tls.createSecureContext = function createSecureContext(options) {
    const context = timed(add('tls'), () => original.call(this, options));
    if (trustedCa && !options?.ca) {
      const inner = (context as unknown as { context: { addCACert(pem: string): void } }).context;
      timed(add('ca'), () => inner.addCACert(trustedCa));
    }
    return context;
  };
}

function patchRequest(module: { request: AnyFn }, protocol: string): void {
  const original = module.request;
  module.request = function request(this: unknown, ...args: unknown[]) {
    const started = performance.now();
    const entry: Marks['upstream'][number] = { protocol, ms: Number.NaN };
    marks.upstream.push(entry);
    const req = original.apply(this, args) as import('node:http').ClientRequest;
    req.once('socket', (socket) =>
      socket.once('secureConnect', () => {
        entry.tlsHandshakeMs = performance.now() - started;
      }),
    );
    req.once('response', (res) => res.once('end', () => (entry.ms = performance.now() - started)));
    return req;
  };
}

function patchHashing(crypto: Record<string, AnyFn>): void {
  for (const name of ['createHmac', 'createHash']) {
    const original = crypto[name] as AnyFn;
    crypto[name] = function hashing(this: unknown, ...args: unknown[]) {
      marks.hashCalls++;
      const hash = timed(add('hash'), () => original.apply(this, args));
      for (const method of ['update', 'digest']) {
        const call = hash[method] as AnyFn;
        hash[method] = (...callArgs: unknown[]) => timed(add('hash'), () => call.apply(hash, callArgs));
      }
      return hash;
    };
  }
}

const builtins = new Set(builtinModules);
const seen = new Set<string>();
// biome-ignore lint/suspicious/noExplicitAny: Module._load is internal and untyped
const Module = require('node:module') as any;
const load = Module._load as AnyFn;
Module._load = function timedLoad(this: unknown, request: string, ...rest: unknown[]) {
  const id = request.startsWith('node:') ? request.slice('node:'.length) : request;
  if (builtins.has(id)) {
    if (seen.has(id)) return load.call(this, request, ...rest);
    seen.add(id);
    const table = loadingBundle ? marks.builtinsAtLoad : bundleLoaded ? marks.builtinsLater : undefined;
    return timed(
      (ms) => {
        if (table) table[id] = ms;
      },
      () => {
        const exports = load.call(this, request, ...rest);
        if (id === 'https' || id === 'tls') patchTls(load.call(this, 'tls', ...rest));
        if (id === 'http' || id === 'https') patchRequest(exports, `${id}:`);
        if (id === 'crypto') patchHashing(exports);
        return exports;
      },
    );
  }
  if (!loadingBundle && request.endsWith('/index.js')) {
    loadingBundle = true;
    try {
      const exports = timed(add('bundle'), () => load.call(this, request, ...rest));
      marks.codeCache = exports[Symbol.for('es-change-responder.code-cache')]?.status;
      return exports;
    } finally {
      loadingBundle = false;
      bundleLoaded = true;
    }
  }
  return load.call(this, request, ...rest);
};

// The undici globals are lazy getters: the first access loads undici.
for (const name of ['Headers', 'Request', 'Response', 'FormData', 'MessageEvent']) {
  const descriptor = Object.getOwnPropertyDescriptor(globalThis, name);
  const get = descriptor?.get;
  if (!descriptor || !get) continue;
  Object.defineProperty(globalThis, name, {
    ...descriptor,
    get() {
      if (marks.undiciGlobal !== undefined) return get.call(this);
      marks.undiciGlobal = name;
      return timed(add('undici'), () => get.call(this));
    },
  });
}

process.on('exit', () => {
  if (process.env.BENCH_MARKS_OUT) writeFileSync(process.env.BENCH_MARKS_OUT, JSON.stringify(marks));
});
