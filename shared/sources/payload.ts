import * as z from 'zod/mini';
import { PayloadError } from '../errors.ts';
import '../zod-locale.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes the raw body; invalid UTF-8 is a payload error, never silently replaced. */
export function bodyText(body: Uint8Array): string {
  try {
    return utf8.decode(body);
  } catch {
    throw new PayloadError('the body is not valid UTF-8');
  }
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new PayloadError('the body is not valid JSON');
  }
}

/** A JSON object (not an array, not null): what a sender's fields are read from. */
export type Json = Record<string, unknown>;

export const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Text parsed as a JSON object; undefined when it is not JSON or not an object (the caller says why). */
export function parseObject(text: string): Json | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A body that verify read (to check what binds it) and parse reads again: its content, or what
 * reading it threw, which parse throws in turn (a PayloadError: a 400 after authentication).
 */
export type Readable<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

export function readable<T>(read: () => T): Readable<T> {
  try {
    return { ok: true, value: read() };
  } catch (error) {
    return { ok: false, error };
  }
}

export function contentOf<T>(body: Readable<T>): T {
  if (!body.ok) throw body.error;
  return body.value;
}

/** `instanceIds[0]: must be …; regionId: …` — names every field that is wrong. */
export function describeIssues(error: z.core.$ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => {
      const path = issue.path
        .map((part, index) =>
          typeof part === 'number' ? `[${part}]` : index === 0 ? String(part) : `.${String(part)}`,
        )
        .join('');
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
}

/** Validates with a zod schema and turns its error into a 400 that names the field. */
export function validate<T>(schema: z.core.$ZodType<T>, value: unknown, what: string): T {
  const parsed = z.safeParse(schema, value);
  if (!parsed.success) throw new PayloadError(`invalid ${what}: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

/** Event keys are opaque to us but must be printable ASCII of sane length. */
export const EVENT_KEY_PATTERN = /^[\x21-\x7e](?:[\x20-\x7e]{0,254}[\x21-\x7e])?$/;
