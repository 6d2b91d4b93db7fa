/**
 * The app's JSON answers without undici. hono's `c.json` builds a `new Response`, and in Node 20
 * the first `Response` loads undici (≈15 ms of a cold start); hono hands a handler's return value
 * through untouched, so the app returns this instead. The FC adapter reads its parts directly;
 * anything else that reads it as a `Response` gets the undici one, built on first use.
 */
export class LightResponse {
  readonly status: number;
  /** Lower-case names, sorted, as `Headers` iterates them. */
  readonly #headers: Readonly<Record<string, string>>;
  readonly #body: string;
  #real: Response | undefined;

  constructor(body: string, status: number, headers: Record<string, string>) {
    this.status = status;
    this.#body = body;
    this.#headers = Object.fromEntries(
      Object.entries(headers)
        .map(([name, value]): [string, string] => [name.toLowerCase(), value])
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    );
  }

  /** Status, headers and body text while nothing has built (and so may have changed) the undici `Response`. */
  parts(): { status: number; headers: Record<string, string>; body: string } | undefined {
    if (this.#real) return undefined;
    return { status: this.status, headers: { ...this.#headers }, body: this.#body };
  }

  /** The undici `Response` with the same status, headers and body. */
  toResponse(): Response {
    this.#real ??= new Response(this.#body, { status: this.status, headers: this.#headers });
    return this.#real;
  }

  /** What a hono handler is typed to return; the members it lacks are the getters below. */
  asResponse(): Response {
    return this as unknown as Response;
  }
}

const DELEGATED_PROPERTIES = ['body', 'bodyUsed', 'headers', 'ok', 'redirected', 'statusText', 'type', 'url'] as const;
const DELEGATED_METHODS = ['arrayBuffer', 'blob', 'bytes', 'clone', 'formData', 'json', 'text'] as const;

for (const key of DELEGATED_PROPERTIES) {
  Object.defineProperty(LightResponse.prototype, key, {
    get(this: LightResponse) {
      return (this.toResponse() as unknown as Record<string, unknown>)[key];
    },
  });
}
for (const key of DELEGATED_METHODS) {
  Object.defineProperty(LightResponse.prototype, key, {
    value(this: LightResponse, ...args: unknown[]) {
      const real = this.toResponse() as unknown as Record<string, (...a: unknown[]) => unknown>;
      return real[key]?.(...args);
    },
  });
}

/** `c.json(body, status, headers)` as a {@link LightResponse}: the same bytes and headers. */
export function jsonResponse(body: unknown, status: number, headers: Record<string, string> = {}): Response {
  return new LightResponse(JSON.stringify(body), status, {
    'content-type': 'application/json',
    ...headers,
  }).asResponse();
}
