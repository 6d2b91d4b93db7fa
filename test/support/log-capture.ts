import { logSink } from '../../shared/logger.ts';

/**
 * Captures what the process writes to stdout and stderr while `run` runs: the function's logger
 * writes one JSON line per log item through `logSink` (to fd 1, fd 2 for WARN and above), and
 * anything else through the process's streams, which look `write` up at every call.
 * Nothing is forwarded to the terminal while capturing.
 */
export async function captureOutput<T>(run: () => Promise<T>): Promise<{ value: T; text: string }> {
  const chunks: string[] = [];
  const stdoutWrite = process.stdout.write;
  const stderrWrite = process.stderr.write;
  const grab = (chunk: unknown, encoding?: unknown, callback?: unknown): boolean => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    const done = typeof encoding === 'function' ? encoding : callback;
    if (typeof done === 'function') done();
    return true;
  };
  const sinkWrite = logSink.write;
  logSink.write = (_fd, line) => chunks.push(`${line}\n`);
  process.stdout.write = grab as typeof process.stdout.write;
  process.stderr.write = grab as typeof process.stderr.write;
  try {
    const value = await run();
    return { value, text: chunks.join('') };
  } finally {
    logSink.write = sinkWrite;
    process.stdout.write = stdoutWrite;
    process.stderr.write = stderrWrite;
  }
}

/** Non-empty lines of captured output. */
export const outputLines = (text: string): string[] => text.split('\n').filter((line) => line.trim() !== '');
