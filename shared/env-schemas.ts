import * as z from 'zod/mini';
import './zod-locale.ts';

/**
 * The shapes an environment variable's value takes, for the central configuration and for each
 * sender's own section of it. A variable that is empty or blank never reaches these schemas
 * (config.ts drops it first), so `undefined` is the only "unset".
 */

export const trimmedOrUndefined = (value: string | undefined) => (value?.trim() ? value.trim() : undefined);

/** Comma-separated, blanks dropped: secrets and tokens rotate by listing the old and the new. */
export const list = z.pipe(
  z.optional(z.string()),
  z.transform((value: string | undefined) =>
    (value ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0),
  ),
);

/** A `list` where empty means unset (`undefined`), never "nothing". */
export const optionalList = z.pipe(
  list,
  z.transform((items: string[]) => (items.length > 0 ? items : undefined)),
);

/** A `list` that falls back to `defaults` when empty. */
export const listOr = (defaults: string[]) =>
  z.pipe(
    list,
    z.transform((items: string[]) => (items.length > 0 ? items : defaults)),
  );

export const bool = (fallback: boolean) =>
  z.pipe(
    z.optional(z.enum(['true', 'false', '1', '0', 'yes', 'no'])),
    z.transform((value) => (value === undefined ? fallback : ['true', '1', 'yes'].includes(value))),
  );

export const int = (fallback: number, min: number, max: number) =>
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
  );
