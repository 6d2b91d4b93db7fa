import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/** The README's performance table must say under which settings `npm run bench` took each figure. */
const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

describe('Function: npm run bench fan-out settings', () => {
  it('runs the 100-alert fan-out with MAX_TARGETS_PER_EVENT=100, and the README table says so', () => {
    const bench = read('scripts/bench.ts');
    const limit = /const fanOutEnv = \{[^}]*MAX_TARGETS_PER_EVENT: '(\d+)'/.exec(bench)?.[1];
    expect(limit).toBe('100');
    // The fan-out handler is built with those settings, and the printed label comes from them.
    expect(bench).toMatch(/env: \{ \.\.\.fnEnv, \.\.\.fanOutEnv \}/);
    expect(bench).toMatch(/MAX_TARGETS_PER_EVENT=\$\{fanOutEnv\.MAX_TARGETS_PER_EVENT\}/);
    const row = read('README.md')
      .split('\n')
      .find((line) => line.startsWith('| (d) fan-out'));
    expect(row).toContain(`\`MAX_TARGETS_PER_EVENT=${limit}\``);
  });
});
