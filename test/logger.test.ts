import { beforeEach, describe, expect, it, vi } from 'vitest';

/**
 * The logger writes Powertools' lines straight to fd 1 and 2 (shared/logger.ts): a short write
 * goes on from where it stopped, and a descriptor that refuses (a full non-blocking pipe: EAGAIN)
 * hands the rest to the process's stream, so no line is lost or cut.
 */
const writes = vi.hoisted(() => ({ plan: [] as Array<number | Error>, seen: [] as Array<[number, string]> }));

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  return {
    ...fs,
    // Whatever the runner's stdout is, fd 1 and 2 are written as they are here (test/logger-pipe.test.ts
    // covers the pipe reopened non-blocking).
    fstatSync: () => ({ isFIFO: () => false }),
    writeSync: (fd: number, buffer: Buffer, offset = 0) => {
      const step = writes.plan.shift() ?? buffer.byteLength - offset;
      if (step instanceof Error) throw step;
      const n = Math.min(step, buffer.byteLength - offset);
      writes.seen.push([fd, buffer.subarray(offset, offset + n).toString('utf8')]);
      return n;
    },
  };
});

const { createRootLogger, logSink, writeLine } = await import('../shared/logger.ts');

const eagain = () => Object.assign(new Error('EAGAIN: resource temporarily unavailable, write'), { code: 'EAGAIN' });

beforeEach(() => {
  writes.plan = [];
  writes.seen = [];
});

describe('Function: writeLine', () => {
  it('writes the whole line and its newline to the descriptor', () => {
    writeLine(1, '{"a":"é"}');
    expect(writes.seen).toEqual([[1, '{"a":"é"}\n']]);
  });

  it('goes on after a short write', () => {
    writes.plan = [3, 2];
    writeLine(2, 'abcdefgh');
    expect(writes.seen.map(([, text]) => text).join('')).toBe('abcdefgh\n');
    expect(writes.seen.every(([fd]) => fd === 2)).toBe(true);
  });

  // A fresh module each: once a descriptor has refused, its lines go through the stream for good.
  it.each([
    [1, 'stdout'],
    [2, 'stderr'],
  ] as const)('hands what fd %i refused to process.%s, and every later line too, in order', async (fd, stream) => {
    vi.resetModules();
    const fresh = await import('../shared/logger.ts');
    writes.plan = [4, eagain()];
    const spy = vi.spyOn(process[stream], 'write').mockImplementation(() => true);
    try {
      fresh.writeLine(fd, 'abcdefgh');
      fresh.writeLine(fd, 'next');
      expect(writes.seen).toEqual([[fd, 'abcd']]);
      expect(spy.mock.calls.map((call) => Buffer.from(call[0] as Uint8Array).toString('utf8'))).toEqual([
        'efgh\n',
        'next\n',
      ]);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('Function: createRootLogger', () => {
  it('prints Powertools lines, INFO to fd 1 and WARN and above to fd 2, at the configured level', () => {
    const logger = createRootLogger('interrupt-elasticsearch-task', { POWERTOOLS_LOG_LEVEL: 'INFO' });
    logger.debug('not printed');
    logger.info('called', { instanceId: 'es-cn-1' });
    logger.warn('retrying');
    logger.error('failed');
    expect(writes.seen.map(([fd]) => fd)).toEqual([1, 2, 2]);
    const lines = writes.seen.map(([, text]) => {
      expect(text.endsWith('\n')).toBe(true);
      expect(text.slice(0, -1)).not.toContain('\n');
      return JSON.parse(text) as Record<string, unknown>;
    });
    expect(lines[0]).toMatchObject({
      level: 'INFO',
      message: 'called',
      service: 'es-change-responder',
      function: 'interrupt-elasticsearch-task',
      instanceId: 'es-cn-1',
    });
    expect(lines.map((line) => line.level)).toEqual(['INFO', 'WARN', 'ERROR']);
  });

  it('writes through logSink, which a test may swap', () => {
    const seen: Array<[number, string]> = [];
    const saved = logSink.write;
    logSink.write = (fd, line) => seen.push([fd, line]);
    try {
      createRootLogger('cancel-migration-task', { POWERTOOLS_LOG_LEVEL: 'INFO' }).info('hello');
    } finally {
      logSink.write = saved;
    }
    expect(writes.seen).toEqual([]);
    expect(seen).toHaveLength(1);
    expect(JSON.parse(seen[0]?.[1] ?? '')).toMatchObject({ level: 'INFO', message: 'hello' });
  });
});
