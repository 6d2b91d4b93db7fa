import type { Agent, ClientRequest, IncomingMessage, RequestOptions } from 'node:http';
import { UpstreamError } from '../errors.ts';

/** One HTTP exchange with the API, reduced to what the client reads. */
export interface WireResponse {
  status: number;
  retryAfter: string | undefined;
  body: string;
  /** Response headers, lowercase names, first value of each (the FC invoke API's `x-fc-request-id`). */
  headers?: Record<string, string> | undefined;
}

export interface WireRequest {
  method: string;
  headers: Record<string, string>;
  timeoutMs: number;
  /** Request body (the FC invoke API's event); none for the Elasticsearch API's calls. */
  body?: string | undefined;
}

function firstValues(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) out[name] = first;
  }
  return out;
}

export type Transport = (url: URL, request: WireRequest) => Promise<WireResponse>;

/** Thrown when an attempt exceeds its time: the request may or may not have been applied. */
export class AttemptTimeoutError extends UpstreamError {
  constructor(timeoutMs: number, cause?: unknown) {
    super('RequestTimeout', `no answer within ${timeoutMs} ms`, { retryable: true, cause });
  }
}

/**
 * Whether a `fetch` failed by its time-out or abort. A DOMException has no subclasses: WHATWG
 * tells its kinds apart by `name`, so that is the one place a name is read.
 */
const isFetchTimeout = (error: unknown): boolean =>
  error instanceof DOMException && (error.name === 'TimeoutError' || error.name === 'AbortError');

/** One of node's two HTTP clients, with its keep-alive agent. */
interface NodeClient {
  agent: Agent;
  request(url: URL, options: RequestOptions, onResponse: (res: IncomingMessage) => void): ClientRequest;
}

/**
 * The default transport: node's own http(s). The first `fetch` of a process costs 20–30 ms more
 * than this on a cold start (undici's dispatcher), and almost every alert meets a cold start.
 * Each client is loaded on its first request: `node:https` brings `tls` (about 5 ms to load on a
 * cold start), which a call over plain http (local mode) never needs.
 * Keep-alive agents let warm invocations reuse the TLS connection to the API.
 */
export function createNodeTransport(maxSockets: number): Transport {
  const clients = new Map<string, Promise<NodeClient>>();
  const clientFor = (protocol: string): Promise<NodeClient> => {
    let client = clients.get(protocol);
    if (!client) {
      client = (protocol === 'http:' ? import('node:http') : import('node:https')).then((module) => ({
        agent: new module.Agent({ keepAlive: true, maxSockets }),
        request: module.request,
      }));
      clients.set(protocol, client);
    }
    return client;
  };
  return async (url, { method, headers, timeoutMs, body }) => {
    const { agent, request } = await clientFor(url.protocol === 'http:' ? 'http:' : 'https:');
    return new Promise<WireResponse>((resolve, reject) => {
      const req = request(url, { method, headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('aborted', () => reject(Object.assign(new Error('the response was cut off'), { code: 'ECONNRESET' })));
        res.on('end', () => {
          clearTimeout(timer);
          const retryAfter = res.headers['x-acs-retry-after'];
          resolve({
            status: res.statusCode ?? 0,
            retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
            body: Buffer.concat(chunks).toString('utf8'),
            headers: firstValues(res.headers),
          });
        });
      });
      const timer = setTimeout(() => req.destroy(new AttemptTimeoutError(timeoutMs)), timeoutMs);
      req.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      req.end(body);
    });
  };
}

/** A transport over a WHATWG `fetch` (tests count or fake calls through it). */
export function fetchTransport(doFetch: typeof fetch): Transport {
  return async (url, { method, headers, timeoutMs, body }) => {
    let response: Response;
    try {
      response = await doFetch(url, { method, headers, body, signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      throw isFetchTimeout(error) ? new AttemptTimeoutError(timeoutMs, error) : error;
    }
    return {
      status: response.status,
      retryAfter: response.headers.get('x-acs-retry-after') ?? undefined,
      body: await response.text(),
      headers: Object.fromEntries(response.headers),
    };
  };
}
