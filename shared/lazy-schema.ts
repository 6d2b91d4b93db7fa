/**
 * A schema built on first use, once. Building zod schemas is most of zod's share of a cold start,
 * and an invocation needs only its own sender's: module load builds none of them (issue 13).
 * Each build is recorded under its name in a process-wide set, the seam through which a test of a
 * built bundle sees which schemas a cold request built (test/cold-path.test.ts).
 */
const BUILT_KEY = Symbol.for('es-responder.builtSchemas');

const registry = globalThis as Record<symbol, Set<string> | undefined>;
registry[BUILT_KEY] ??= new Set<string>();
const built: Set<string> = registry[BUILT_KEY];

/** The names of the schemas this process has built so far. */
export const builtSchemas = (): readonly string[] => [...built];

export function lazySchema<Schema>(name: string, build: () => Schema): () => Schema {
  let schema: Schema | undefined;
  return () => {
    if (schema === undefined) {
      schema = build();
      built.add(name);
    }
    return schema;
  };
}

/** A value built once, on first call, and not recorded: the shared pieces the recorded schemas are made of. */
export const once = <T>(build: () => T): (() => T) => {
  let value: T | undefined;
  let built = false;
  return () => {
    if (!built) {
      value = build();
      built = true;
    }
    return value as T;
  };
};
