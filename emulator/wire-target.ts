/** What a handler needs to see the request target: the raw request under @hono/node-server, or the URL. */
export interface WireContext {
  env?: { incoming?: { url?: string | undefined } | undefined } | undefined;
  req: { url: string };
}

/**
 * The request target exactly as it came off the wire, split into path and raw query: signatures
 * (ACS3, fc2) cover the encoded path, and Hono's own view of the path is decoded.
 */
export function wireTarget(c: WireContext): { path: string; rawQuery: string } {
  let target = c.env?.incoming?.url;
  if (!target?.startsWith('/')) {
    // No raw request (app.request), or an absolute-form target: take the path from the full URL text.
    const url = c.req.url;
    const start = url.indexOf('/', url.indexOf('://') + 3);
    target = start === -1 ? '/' : url.slice(start);
  }
  const hash = target.indexOf('#');
  if (hash !== -1) target = target.slice(0, hash);
  const question = target.indexOf('?');
  return question === -1
    ? { path: target, rawQuery: '' }
    : { path: target.slice(0, question), rawQuery: target.slice(question + 1) };
}
