/**
 * A `Request` and `Headers` for FC's HTTP envelope that cost nothing to build. In Node 20 the
 * globals `Headers`/`Request`/`Response` are lazy getters that load undici (≈15 ms, the largest item
 * of a cold start); the app reads only the method, the URL and a few headers (the body travels in
 * the bindings). The same checks as WHATWG's apply, so what `Request`/`Headers` refuse is refused
 * here too; anything beyond method, URL and headers builds the undici `Request` then.
 */

/** RFC 9110 token: a header name or a method. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Leading and trailing HTTP whitespace, which `Headers` strips from values. */
const EDGE_WHITESPACE = /^[\t\n\r ]+|[\t\n\r ]+$/g;
/** What `Headers` refuses inside a value: NUL, CR, LF, and anything that is not a byte. */
const BAD_VALUE = /[\0\r\n]|[^\0-\xff]/;
/** Methods `new Request` refuses. */
const FORBIDDEN_METHODS = new Set(['CONNECT', 'TRACE', 'TRACK']);
/** Methods `new Request` upper-cases; any other keeps its case. */
const NORMALISED_METHODS = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT']);

function headerName(name: string): string {
  if (!TOKEN.test(name)) throw new TypeError(`invalid header name "${name.slice(0, 40)}"`);
  return name.toLowerCase();
}

function headerValue(value: string): string {
  const trimmed = String(value).replace(EDGE_WHITESPACE, '');
  if (BAD_VALUE.test(trimmed)) throw new TypeError('invalid header value');
  return trimmed;
}

/** A `Headers` on a Map: names lower-cased, values checked and combined as WHATWG says. */
export class LightHeaders implements Headers {
  readonly #values = new Map<string, string>();
  /** Set-Cookie is never combined (`getSetCookie`). */
  #cookies: string[] = [];

  constructor(init?: Iterable<readonly [string, string]>) {
    for (const [name, value] of init ?? []) this.append(name, value);
  }

  append(name: string, value: string): void {
    const key = headerName(name);
    const v = headerValue(value);
    if (key === 'set-cookie') this.#cookies.push(v);
    const old = this.#values.get(key);
    this.#values.set(key, old === undefined ? v : `${old}, ${v}`);
  }

  set(name: string, value: string): void {
    const key = headerName(name);
    const v = headerValue(value);
    if (key === 'set-cookie') this.#cookies = [v];
    this.#values.set(key, v);
  }

  delete(name: string): void {
    const key = headerName(name);
    if (key === 'set-cookie') this.#cookies = [];
    this.#values.delete(key);
  }

  get(name: string): string | null {
    return this.#values.get(headerName(name)) ?? null;
  }

  has(name: string): boolean {
    return this.#values.has(headerName(name));
  }

  getSetCookie(): string[] {
    return [...this.#cookies];
  }

  /** Sorted by name, as `Headers` iterates; each Set-Cookie on its own. */
  *entries(): HeadersIterator<[string, string]> {
    for (const name of [...this.#values.keys()].sort()) {
      if (name === 'set-cookie') for (const cookie of this.#cookies) yield [name, cookie];
      else yield [name, this.#values.get(name) as string];
    }
  }

  *keys(): HeadersIterator<string> {
    for (const [name] of this.entries()) yield name;
  }

  *values(): HeadersIterator<string> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): HeadersIterator<[string, string]> {
    return this.entries();
  }

  forEach(callback: (value: string, key: string, parent: Headers) => void, thisArg?: unknown): void {
    for (const [name, value] of this.entries()) callback.call(thisArg, value, name, this);
  }
}

/** The members of `Request` that need the undici object: read from it, built on first use. */
const DELEGATED_PROPERTIES = [
  'body',
  'bodyUsed',
  'cache',
  'credentials',
  'destination',
  'duplex',
  'integrity',
  'keepalive',
  'mode',
  'redirect',
  'referrer',
  'referrerPolicy',
  'signal',
] as const;
const DELEGATED_METHODS = ['arrayBuffer', 'blob', 'bytes', 'clone', 'formData', 'json', 'text'] as const;

/**
 * A body-less `Request`: method, URL and headers are its own; every other member is the undici
 * `Request` built from them the first time one is read (a hono helper, a future middleware).
 */
export class LightRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: LightHeaders;
  #real: Request | undefined;

  constructor(url: URL, method: string, headers: LightHeaders) {
    if (!TOKEN.test(method)) throw new TypeError('invalid method');
    const upper = method.toUpperCase();
    if (FORBIDDEN_METHODS.has(upper)) throw new TypeError(`forbidden method ${upper}`);
    if (url.username || url.password) throw new TypeError('a request URL may not include credentials');
    this.method = NORMALISED_METHODS.has(upper) ? upper : method;
    this.url = url.href;
    this.headers = headers;
  }

  /** The undici `Request` with the same method, URL and headers (and no body: it is in the bindings). */
  toRequest(): Request {
    this.#real ??= new Request(this.url, { method: this.method, headers: [...this.headers] });
    return this.#real;
  }

  /** What the app's `fetch` is typed to take; the members it lacks are the getters below. */
  asRequest(): Request {
    return this as unknown as Request;
  }
}

for (const key of DELEGATED_PROPERTIES) {
  Object.defineProperty(LightRequest.prototype, key, {
    get(this: LightRequest) {
      return (this.toRequest() as unknown as Record<string, unknown>)[key];
    },
  });
}
for (const key of DELEGATED_METHODS) {
  Object.defineProperty(LightRequest.prototype, key, {
    value(this: LightRequest, ...args: unknown[]) {
      const real = this.toRequest() as unknown as Record<string, (...a: unknown[]) => unknown>;
      return real[key]?.(...args);
    },
  });
}
