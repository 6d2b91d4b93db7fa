import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';

/** Any fetch app on a real socket (127.0.0.1, a random free port), for clients that speak HTTP. */
export interface ServedApp {
  /** `http://127.0.0.1:PORT` */
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function serveApp(app: { fetch: Parameters<typeof serve>[0]['fetch'] }): Promise<ServedApp> {
  const { server, port } = await new Promise<{ server: ReturnType<typeof serve>; port: number }>((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) =>
      resolve({ server, port: info.port }),
    );
    server.once('error', reject);
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        // fc2's httpx keeps sockets alive; they would otherwise hold close() open.
        if ('closeAllConnections' in server) server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const served = await serveApp({ fetch: () => new Response(null) });
  await served.close();
  return served.port;
}
