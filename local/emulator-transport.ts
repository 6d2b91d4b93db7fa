import { createNodeTransport, type Transport } from '../shared/elasticsearch/transport.ts';

/**
 * Local mode's wire to the embedded emulator. The functions build their API URLs as in the cloud
 * (`https://elasticsearch.<region>.aliyuncs.com/openapi/…`) and sign that host; every request then
 * goes to `localUrl` instead, with the signed `host` header kept, so the emulator sees the region of
 * each call as the real API does, and local mode can never reach a real endpoint.
 */
export function emulatorTransport(localUrl: string, maxSockets = 16): Transport {
  const send = createNodeTransport(maxSockets);
  const local = new URL(localUrl);
  return (url, request) => send(new URL(`${url.pathname}${url.search}`, local), request);
}
