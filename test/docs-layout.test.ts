import { readdirSync, readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * README's "Project layout" and ARCHITECTURE.md's table of folders describe the code as it is: each
 * names every folder of shared/, and every path either names exists.
 */
const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');
const exists = (path: string) => {
  try {
    statSync(new URL(`../${path}`, import.meta.url));
    return true;
  } catch {
    return false;
  }
};

const FOLDERS = readdirSync(new URL('../shared', import.meta.url), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => `shared/${entry.name}/`)
  .sort();

const layout = (() => {
  const readme = read('README.md');
  const start = readme.indexOf('## Project layout');
  return readme.slice(start, readme.indexOf('\n## ', start + 1));
})();
const architecture = read('ARCHITECTURE.md');

/** The `shared/…` paths a text names (the layout writes `shared/state/, guardrails/` for two). */
function paths(text: string): string[] {
  const named = [...text.matchAll(/\bshared\/[\w-]+(?:\/|\.ts)/g)].map((m) => m[0]);
  const siblings = [...text.matchAll(/shared\/[\w-]+\/`?, `?(?!shared\/)([\w-]+)\//g)].map((m) => `shared/${m[1]}/`);
  return [...new Set([...named, ...siblings])].sort();
}

describe('Docs: the layout matches the code', () => {
  it.each([
    ['README "Project layout"', layout],
    ['ARCHITECTURE.md', architecture],
  ])('%s names every folder of shared/', (_, text) => {
    expect(FOLDERS.length).toBeGreaterThan(8);
    expect(FOLDERS.filter((folder) => !paths(text).includes(folder))).toEqual([]);
  });

  it.each([
    ['README "Project layout"', layout],
    ['ARCHITECTURE.md', architecture],
  ])('%s names no path that does not exist', (_, text) => {
    expect(paths(text).filter((path) => !exists(path))).toEqual([]);
  });

  it('ARCHITECTURE.md names only files that exist, in the folder it says (core/plan.ts, …)', () => {
    const folders = FOLDERS.map((folder) => folder.slice('shared/'.length, -1)).join('|');
    const files = [...architecture.matchAll(new RegExp(`(?<![\\w/])(?:${folders})/[\\w-]+\\.ts`, 'g'))].map(
      (m) => `shared/${m[0]}`,
    );
    expect(files.length).toBeGreaterThan(8);
    expect(files.filter((path) => !exists(path))).toEqual([]);
  });
});
