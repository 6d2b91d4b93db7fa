import { readFileSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';

/**
 * `npm run bench` only: where a cold run's CPU time went inside the bundle, from a V8 CPU profile
 * (`node --cpu-prof`) and the bundle's source map. The bundle is one scope-hoisted file, so marks
 * cannot separate zod, hono and Powertools from our code; the profile's samples can: each sample
 * goes to the innermost frame that has a script, and a bundle frame to the package its function
 * comes from.
 */

interface CpuProfile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
    children?: number[];
  }>;
  samples: number[];
  timeDeltas: number[];
}

export type Phase = 'load' | 'run';

/** Milliseconds of samples per category, per phase (load: inside the loader's require; run: the rest). */
export type ProfileTimes = Record<Phase, Record<string, number>>;

function packageOf(source: string): string {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(source);
  if (!match) return 'ours';
  const name = match[1] as string;
  if (name === 'zod') return 'zod';
  if (name === 'hono') return 'hono';
  if (name.startsWith('@aws-lambda-powertools/')) return 'Powertools';
  return 'other packages';
}

function nodeCategory(url: string): string {
  if (url.startsWith('node:internal/deps/undici')) return 'undici';
  if (url.startsWith('node:internal/crypto') || url === 'node:crypto') return 'node crypto';
  return 'node internals';
}

/**
 * `bundle`: the bundle.js the profile ran, with its source map beside it (bundle.js.map);
 * `loader`: the loader's path (its frames mark the load phase).
 */
export function attributeProfile(profileFile: string, bundle: string, loader: string): ProfileTimes {
  const profile = JSON.parse(readFileSync(profileFile, 'utf8')) as CpuProfile;
  const map = new SourceMap(JSON.parse(readFileSync(`${bundle}.map`, 'utf8')) as SourceMapPayload);
  const parent = new Map<number, number>();
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  /** A frame's own category; undefined for frames without a script (builtins such as JSON.parse). */
  function frameCategory({ functionName, url, lineNumber, columnNumber }: CpuProfile['nodes'][number]['callFrame']) {
    if (functionName === '(garbage collector)') return 'GC';
    if (functionName === '(program)') return 'V8 and native, outside JS';
    if (functionName === '(idle)') return 'idle';
    if (url.endsWith(bundle)) {
      // The loader's wrapper (on the line before bundle.js's first) runs every module's
      // top-level statements (scope hoisting): no one package's.
      if (lineNumber < 0) return 'bundle top level';
      return packageOf((map.findEntry(lineNumber, columnNumber) as { originalSource?: string }).originalSource ?? '');
    }
    if (url.startsWith('node:')) return nodeCategory(url);
    if (url.endsWith(loader)) return 'loader';
    return url === '' ? undefined : 'harness';
  }

  const categoryCache = new Map<number, { category: string; phase: Phase }>();
  /**
   * The innermost frame's category; node's own internals (streams, module loading, sockets) are
   * named after the innermost caller that is not: `node internals ← undici`.
   */
  function classify(id: number): { category: string; phase: Phase } {
    const cached = categoryCache.get(id);
    if (cached) return cached;
    let category: string | undefined;
    let viaNode = false;
    let phase: Phase = 'run';
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = (byId.get(at) as CpuProfile['nodes'][number]).callFrame;
      if (frame.url.endsWith(loader)) phase = 'load';
      if (category !== undefined) continue;
      const own = frameCategory(frame);
      if (own === 'node internals') viaNode = true;
      else if (own !== undefined) category = viaNode ? `node internals <- ${own}` : own;
    }
    const result = { category: category ?? (viaNode ? 'node internals' : 'V8 and native, outside JS'), phase };
    categoryCache.set(id, result);
    return result;
  }

  const times: ProfileTimes = { load: {}, run: {} };
  profile.samples.forEach((id, i) => {
    const { category, phase } = classify(id);
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    times[phase][category] = (times[phase][category] ?? 0) + ms;
  });
  return times;
}
