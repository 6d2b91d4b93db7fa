import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The folders of shared/ and which may import which, so dependencies keep pointing inward (see
 * ARCHITECTURE.md): the core imports no adapter, an adapter never the app that drives it, and no
 * two folders import each other, not even for a type. A unit is a folder of shared/, or a file at
 * its top (config, errors, …).
 */
const ALLOWED: Record<string, readonly string[]> = {
  // Leaves: every layer may use them.
  actions: [],
  errors: [],
  logger: [],
  'zod-locale': [],
  'lazy-schema': [],
  'env-schemas': ['lazy-schema', 'zod-locale'],
  // The domain: plan, policy, tokens, results, the executor port, the invocation.
  // lazy-schema: the core's own schemas (instance and region IDs) are built on first use.
  core: ['actions', 'errors', 'lazy-schema', 'logger'],
  auth: ['errors'],
  // Senders: verify, parse, render.
  sources: ['auth', 'core', 'env-schemas', 'errors', 'lazy-schema', 'zod-locale'],
  // The configuration: composes what core and the senders declare.
  config: ['core', 'env-schemas', 'errors', 'guardrails', 'sources', 'zod-locale'],
  // Outbound adapters, each with its executor.
  elasticsearch: ['actions', 'core', 'errors'],
  async: ['actions', 'config', 'core', 'elasticsearch', 'errors', 'lazy-schema', 'logger', 'sources'],
  state: ['errors'],
  // The guardrails across events: the core's guard step, on the state-store port.
  guardrails: ['core', 'env-schemas', 'errors', 'state', 'zod-locale'],
  // Entry points: the HTTP app, and the timer and command handlers.
  http: ['config', 'core', 'errors', 'logger', 'sources'],
  triggers: ['async', 'core', 'errors', 'logger', 'sources'],
  // The platform adapter: FC events to the entry points.
  fc: ['core', 'errors', 'http', 'lazy-schema', 'triggers', 'zod-locale'],
  // The composition root.
  'create-function': [
    'actions',
    'async',
    'config',
    'core',
    'elasticsearch',
    'errors',
    'fc',
    'guardrails',
    'http',
    'logger',
    'sources',
    'state',
    'triggers',
  ],
};

const SHARED = resolve(dirname(fileURLToPath(import.meta.url)), '../shared');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return files(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The unit of a file under shared/: its folder, or its own name at the top. */
const unitOf = (path: string): string =>
  relative(SHARED, path)
    .split('/')[0]
    ?.replace(/\.d\.ts$|\.ts$/, '') ?? '';

/** Every relative import, export-from and dynamic import of a file, type-only ones included. */
function importsOf(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  const specifiers = [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm)];
  return specifiers.map((match) => resolve(dirname(path), match[1] as string));
}

/** unit → the units it imports. */
function graph(): Map<string, Set<string>> {
  const edges = new Map<string, Set<string>>();
  for (const file of files(SHARED)) {
    const from = unitOf(file);
    const to = edges.get(from) ?? new Set<string>();
    edges.set(from, to);
    for (const target of importsOf(file)) {
      if (!target.startsWith(`${SHARED}/`)) continue;
      const unit = unitOf(target);
      if (unit !== from) to.add(unit);
    }
  }
  return edges;
}

/** The cycles of a graph, each as the path that closes it. */
function cycles(edges: Map<string, Set<string>>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const visit = (unit: string, path: string[]) => {
    if (state.get(unit) === 'done') return;
    if (state.get(unit) === 'open') {
      found.push([...path.slice(path.indexOf(unit)), unit]);
      return;
    }
    state.set(unit, 'open');
    for (const next of edges.get(unit) ?? []) visit(next, [...path, unit]);
    state.set(unit, 'done');
  };
  for (const unit of edges.keys()) visit(unit, []);
  return found;
}

describe('Architecture: dependencies point inward', () => {
  const edges = graph();

  it('reads the imports of every unit (the check is not vacuous)', () => {
    expect([...edges.keys()].sort()).toEqual(Object.keys(ALLOWED).sort());
    expect(edges.get('create-function')?.size).toBeGreaterThan(5);
  });

  it('every import between units is one the table allows', () => {
    const unexpected = [...edges].flatMap(([from, to]) =>
      [...to].filter((unit) => !ALLOWED[from]?.includes(unit)).map((unit) => `${from} → ${unit}`),
    );
    expect(unexpected).toEqual([]);
  });

  it('the core imports no adapter, entry point or sender', () => {
    expect([...(edges.get('core') ?? [])].sort()).toEqual(['actions', 'errors', 'lazy-schema', 'logger']);
  });

  it('no two units depend on each other, directly or around a cycle', () => {
    expect(cycles(edges).map((cycle) => cycle.join(' → '))).toEqual([]);
  });

  it('finds a cycle when there is one', () => {
    const looped = new Map([
      ['core', new Set(['sources'])],
      ['sources', new Set(['config'])],
      ['config', new Set(['core'])],
    ]);
    expect(cycles(looped)).toEqual([['core', 'sources', 'config', 'core']]);
  });
});
