import type { Credentials, Invocation } from '../../shared/core/invocation.ts';
import type { RequestLog } from '../../shared/logger.ts';
import { createEmbeddedStore } from '../../shared/state/embedded-store.ts';
import { type StateStore, StateStoreUnavailable } from '../../shared/state/store.ts';

/** What a fake logger recorded: level, message and attributes of each line, in order. */
export interface LoggedLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  attributes: Record<string, unknown>;
}

/** A request logger that records its lines instead of writing them. */
export function recordingLog(): { log: RequestLog; lines: LoggedLine[] } {
  const lines: LoggedLine[] = [];
  const line =
    (level: LoggedLine['level']) =>
    (message: string, attributes: Record<string, unknown> = {}) => {
      lines.push({ level, message, attributes });
    };
  return { log: { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') }, lines };
}

export const FAKE_CREDENTIALS: Credentials = { accessKeyId: 'LTAI-fake', accessKeySecret: 'fake-secret' };

/** An invocation with the fake credentials, a recording logger and a minute to spare. */
export function fakeInvocation(overrides: Partial<Invocation> = {}): Invocation & { lines: LoggedLine[] } {
  const { log, lines } = recordingLog();
  return {
    requestId: 'fc-request-1',
    credentials: FAKE_CREDENTIALS,
    logger: log,
    deadline: Date.now() + 60_000,
    ...overrides,
    lines,
  };
}

/**
 * A state store whose every operation fails as a store that does not answer (StateStoreUnavailable),
 * whatever operations the port gains: the embedded store's shape, each method rejecting.
 */
export function unreachableStore(detail = 'test: connection refused'): StateStore {
  return new Proxy(createEmbeddedStore(), {
    get(target, key) {
      const value = Reflect.get(target, key);
      if (key === 'kind') return 'redis';
      if (typeof value !== 'function' || key === 'close') return value;
      return () => Promise.reject(new StateStoreUnavailable('unreachable', detail));
    },
  });
}
