import * as z from 'zod/mini';
import { once } from './lazy-schema.ts';
import './zod-locale.ts';

/**
 * The shapes an environment variable's value takes, for the central configuration and for each
 * sender's own section of it. A variable that is empty or blank never reaches these schemas
 * (config.ts drops it first), so `undefined` is the only "unset".
 *
 * Each variable is an `EnvVar`: what it means when unset, and its schema, built on first use. A
 * function reads some fifty variables of which a deployment sets a handful, and building a zod
 * schema is most of zod's cost on a cold start (issue 13): an unset variable takes its `unset`
 * value without a schema, a set one builds only its own.
 */
export interface EnvVar<T = unknown> {
  /** The value when the variable is unset (its documented default). */
  readonly unset: T;
  /** Its schema, built once, on first use; it also accepts `undefined` (the unset value again). */
  readonly schema: () => z.ZodMiniType<T>;
}

export const envVar = <T>(unset: T, build: () => z.ZodMiniType<T>): EnvVar<T> => ({ unset, schema: once(build) });

/** A variable that is `undefined` when unset. */
export const optionalVar = <T>(build: () => z.ZodMiniType<T | undefined>): EnvVar<T | undefined> =>
  envVar<T | undefined>(undefined, build);

/** The values of a set of variables: each set one through its schema, each unset one its `unset` value. */
export type EnvValues<Vars extends Record<string, EnvVar>> = {
  -readonly [K in keyof Vars]: Vars[K] extends EnvVar<infer T> ? T : never;
};

/** Parses the set variables of `vars` (empty ones already dropped); issues name the variable. */
export function parseEnvVars<Vars extends Record<string, EnvVar>>(
  vars: Vars,
  present: Record<string, string | undefined>,
): { values: EnvValues<Vars>; issues: z.core.$ZodIssue[] } {
  const values: Record<string, unknown> = {};
  const issues: z.core.$ZodIssue[] = [];
  for (const [name, variable] of Object.entries(vars)) {
    const raw = present[name];
    if (raw === undefined) {
      values[name] = variable.unset;
      continue;
    }
    const parsed = z.safeParse(variable.schema(), raw);
    if (parsed.success) values[name] = parsed.data;
    else issues.push(...parsed.error.issues.map((issue) => ({ ...issue, path: [name, ...issue.path] })));
  }
  return { values: values as EnvValues<Vars>, issues };
}

export const trimmedOrUndefined = (value: string | undefined) => (value?.trim() ? value.trim() : undefined);

/** Comma-separated, blanks dropped: secrets and tokens rotate by listing the old and the new. */
export const listSchema = once(() =>
  z.pipe(
    z.optional(z.string()),
    z.transform((value: string | undefined) =>
      (value ?? '')
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item.length > 0),
    ),
  ),
);

/** A `list` where empty means unset (`undefined`), never "nothing". */
export const optionalListSchema = once(() =>
  z.pipe(
    listSchema(),
    z.transform((items: string[]) => (items.length > 0 ? items : undefined)),
  ),
);

/** A comma-separated list, empty when unset. */
export const list: EnvVar<string[]> = envVar<string[]>(Object.freeze([]) as unknown as string[], listSchema);

/** A comma-separated list, `undefined` when unset or empty. */
export const optionalList: EnvVar<string[] | undefined> = optionalVar(optionalListSchema);

/** A string, trimmed; `undefined` when unset. */
export const trimmed: EnvVar<string | undefined> = optionalVar(() =>
  z.pipe(z.optional(z.string()), z.transform(trimmedOrUndefined)),
);

/** A string as given; `undefined` when unset. */
export const optionalString: EnvVar<string | undefined> = optionalVar(() => z.optional(z.string()));

/** A `list` that falls back to `defaults` when empty. */
export const listOr = (defaults: string[]): EnvVar<string[]> =>
  envVar(defaults, () =>
    z.pipe(
      listSchema(),
      z.transform((items: string[]) => (items.length > 0 ? items : defaults)),
    ),
  );

export const bool = (fallback: boolean): EnvVar<boolean> =>
  envVar(fallback, () =>
    z.pipe(
      z.optional(z.enum(['true', 'false', '1', '0', 'yes', 'no'])),
      z.transform((value) => (value === undefined ? fallback : ['true', '1', 'yes'].includes(value))),
    ),
  );

export const int = (fallback: number, min: number, max: number): EnvVar<number> =>
  envVar(fallback, () =>
    z.pipe(
      z.optional(z.string()),
      z.transform((value: string | undefined, ctx) => {
        if (value === undefined) return fallback;
        const parsed = Number(value);
        if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
          ctx.issues.push({ code: 'custom', message: `must be a whole number from ${min} to ${max}`, input: value });
          return z.NEVER;
        }
        return parsed;
      }),
    ),
  );
