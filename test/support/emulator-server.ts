import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createEmulator, type Emulator, type EmulatorOptions } from '../../emulator/app.ts';
import { LOCAL_EMULATOR_CREDENTIALS } from '../../emulator/credentials.ts';

/** The emulator on a real socket (a random free port), so SDKs and fetch talk to it over HTTP. */
export interface StartedEmulator {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** `127.0.0.1:PORT`, what the SDK's `endpoint` takes. */
  endpoint: string;
  emulator: Emulator;
  close(): Promise<void>;
}

/** Credentials default to the documented local pair. */
export async function startEmulator(options: Partial<EmulatorOptions> = {}): Promise<StartedEmulator> {
  const emulator = createEmulator({ ...options, credentials: options.credentials ?? [LOCAL_EMULATOR_CREDENTIALS] });
  const { server, port } = await new Promise<{ server: ReturnType<typeof serve>; port: number }>((resolve, reject) => {
    const server = serve({ fetch: emulator.app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) =>
      resolve({ server, port: info.port }),
    );
    server.once('error', reject);
  });
  const endpoint = `127.0.0.1:${port}`;
  return {
    url: `http://${endpoint}`,
    endpoint,
    emulator,
    close: () =>
      new Promise<void>((resolve, reject) => {
        // Keep-alive sockets (the SDK's agent) would otherwise hold close() open.
        if ('closeAllConnections' in server) server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
