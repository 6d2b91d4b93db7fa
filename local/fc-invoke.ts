import { randomUUID } from 'node:crypto';
import type { FcContext, FcHttpResult } from '../shared/fc/events.ts';

/**
 * The reverse of the FC adapter, for local mode and tests: a Web `Request` becomes the exact
 * envelope Function Compute 3.0 hands an HTTP-triggered function (a Buffer of JSON, headers
 * joined with commas), and FC's return shape becomes a `Response` again.
 */
export async function toFcHttpEvent(
  request: Request,
  options: { sourceIp?: string; requestId?: string; base64?: boolean } = {},
): Promise<Buffer> {
  const url = new URL(request.url);
  const headers: Record<string, string> = {};
  request.headers.forEach((value, name) => {
    headers[name] = value;
  });
  const queryParameters: Record<string, string> = {};
  url.searchParams.forEach((value, name) => {
    queryParameters[name] = queryParameters[name] === undefined ? value : `${queryParameters[name]},${value}`;
  });
  const bytes = Buffer.from(await request.arrayBuffer());
  const now = new Date();
  const event = {
    version: 'v1',
    rawPath: url.pathname,
    body: options.base64 ? bytes.toString('base64') : bytes.toString('utf8'),
    isBase64Encoded: options.base64 ?? false,
    headers,
    queryParameters,
    requestContext: {
      accountId: '1234567890123456',
      domainName: url.host,
      domainPrefix: url.hostname.split('.')[0],
      http: {
        method: request.method,
        path: url.pathname,
        protocol: 'HTTP/1.1',
        sourceIp: options.sourceIp ?? '127.0.0.1',
        userAgent: request.headers.get('user-agent') ?? '',
      },
      requestId: options.requestId ?? `1-${randomUUID()}`,
      time: `${now.toISOString().slice(0, 19)}Z`,
      timeEpoch: String(now.getTime()),
    },
  };
  return Buffer.from(JSON.stringify(event));
}

export function fromFcHttpResult(result: unknown): Response {
  const r = result as FcHttpResult;
  const body = r.isBase64Encoded ? Buffer.from(r.body, 'base64') : r.body;
  return new Response(body, { status: r.statusCode, headers: r.headers });
}

/** A context like FC's for a function without a role (`credentials` empty). */
export function localContext(functionName: string, requestId: string = randomUUID()): FcContext {
  return {
    requestId,
    credentials: {},
    function: { name: functionName },
    region: 'cn-hangzhou',
    accountId: '1234567890123456',
    retryCount: 0,
  };
}
