import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * The first executable among `explicit` (an override such as $REDIS_SERVER_BIN, then Debian's path)
 * and `names` on PATH; undefined when none is, so a suite can skip loudly instead of failing.
 */
export function findExecutable(
  names: readonly string[],
  explicit: ReadonlyArray<string | undefined> = [],
): string | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  const candidates = [...explicit, ...dirs.flatMap((dir) => names.map((name) => join(dir, name)))];
  for (const candidate of candidates) {
    if (!candidate) continue;
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not this one
    }
  }
  return undefined;
}
