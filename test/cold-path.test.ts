import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { FUNCTION_NAMES, type FunctionName } from '../shared/actions.ts';
import type { SourceName } from '../shared/sources/registry.ts';
import { coldRun } from './support/cold-run.ts';

/**
 * Issue 13: a cold request must not load undici (≈15 ms, the largest item of a cold start). Each
 * case is a fresh `node` running the built dist/<function>/index.js with only the function's
 * environment, one signed request through FC's HTTP envelope, then `process.moduleLoadList`: Node
 * 20 loads undici lazily, on the first touch of `Headers`/`Request`/`Response`/`fetch`/`FormData`.
 * The same run lists the schemas the request built (shared/lazy-schema.ts): no other sender's.
 */

const _run = promisify(execFile);

/**
 * Built-ins a dry run never needs, each a few ms of a cold start: the HTTP clients (`node:http`,
 * `node:https` and its `tls`, `net`), `perf_hooks` (behind the `performance` global) and the
 * process's stdout/stderr streams, which Powertools' own Console would build (a pipe's socket, a
 * file's sync stream): the logger writes its lines to the descriptors instead.
 */
const HEAVY = /^NativeModule (http|https|tls|net|perf_hooks|tty|internal\/fs\/sync_write_stream)$/;

const HOST = `
const { handler } = require(process.argv[1]);
handler(Buffer.from(process.argv[2], 'base64'), { requestId: 'cold-path-test', credentials: {} }).then((result) => {
  const undici = process.moduleLoadList.filter((name) => /undici|fetch/i.test(name));
  const heavy = process.moduleLoadList.filter((name) => ${HEAVY}.test(name));
  const schemas = [...(globalThis[Symbol.for('es-responder.builtSchemas')] ?? [])];
  process.stdout.write('\\nanswer ' + JSON.stringify({ statusCode: result.statusCode, body: result.body, headers: result.headers, undici, heavy, schemas }));
});
`;

interface ColdAnswer {
  statusCode: number;
  headers: Record<string, string>;
  body: { results: Array<{ outcome: string }> };
  undici: string[];
  /** Modules matching HEAVY that the request loaded. */
  heavy: string[];
  /** The log lines on stdout (INFO) and stderr (WARN and above). */
  stdout: string;
  stderr: string;
  /** The lazily built schemas (shared/lazy-schema.ts) the request built, by name. */
  schemas: string[];
}

async function coldRequest(name: FunctionName, source: SourceName): Promise<ColdAnswer> {
  const { dir } = inject('bundles');
  const { answer, stdout, stderr } = await coldRun<ColdAnswer & { body: string }>({
    dir: join(dir, name),
    name,
    source,
    host: HOST,
  });
  return { ...answer, body: JSON.parse(answer.body), stdout, stderr };
}

describe('Function: a cold dry-run request to a built bundle', () => {
  it.each(FUNCTION_NAMES.flatMap((name) => (['generic', 'alertmanager'] as const).map((source) => [name, source])))(
    'answers %s’s signed %s request without loading undici',
    async (name, source) => {
      const answer = await coldRequest(name as FunctionName, source as SourceName);
      expect(answer.statusCode, JSON.stringify(answer.body)).toBe(200);
      expect(answer.body.results).toMatchObject([{ outcome: 'dry-run' }]);
      expect(answer.headers).toEqual({ 'cache-control': 'no-store', 'content-type': 'application/json' });
      expect(answer.undici).toEqual([]);
      expect(answer.heavy).toEqual([]);
      // Powertools' lines, written to the descriptors: INFO on stdout, the guardrails' WARN on stderr.
      const lines = (text: string) =>
        text
          .split('\n')
          .filter((line) => line.startsWith('{'))
          .map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(lines(answer.stdout)).toContainEqual(
        expect.objectContaining({ level: 'INFO', requestId: 'cold-path-test', source, function: name }),
      );
      expect(lines(answer.stdout).every((line) => line.level === 'INFO' || line.level === 'DEBUG')).toBe(true);
      expect(lines(answer.stderr)).toContainEqual(
        expect.objectContaining({ level: 'WARN', message: expect.stringMatching(/^STATE_STORE_URL is not set/) }),
      );
      // Every sender is configured (sendersEnv), yet only the requested sender's section is built,
      // and of the event schemas only the HTTP envelope's (not the timer's, nor the command's).
      // The generic payload's schema is built by the generic request alone.
      const payload = source === 'generic' ? ['payload:generic'] : [];
      expect([...answer.schemas].sort()).toEqual(['fc:http', ...payload, `source:${source}`].sort());
    },
  );
});
