import { PayloadError } from '../../errors.ts';
import type { Labels } from '../alert-labels.ts';

/** CloudMonitor sends absent values as the string "null". */
export const present = (value: string | null | undefined): string | undefined => {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' || trimmed === 'null' ? undefined : trimmed;
};

function stringValues(value: unknown): Labels | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const labels: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
      const s = present(String(v));
      if (s !== undefined) labels[key] = s;
    }
  }
  return labels;
}

/**
 * `dimensions` as CloudMonitor sends it: a Java map string (`{instanceId=es-cn-xxx, userId=123}`,
 * what real callbacks carry), or JSON (`{"instanceId":"…"}` or `[{…}, {…}]`, the documented
 * example). One label set per monitored object.
 */
export function parseDimensions(raw: string | undefined): Labels[] {
  if (raw === undefined) return [];
  if (raw.startsWith('[') || /^\{\s*"/.test(raw)) {
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      throw new PayloadError('dimensions: starts like JSON but is not valid JSON');
    }
    const items = Array.isArray(value) ? value : [value];
    return items.slice(0, 1000).flatMap((item) => {
      const labels = stringValues(item);
      return labels ? [labels] : [];
    });
  }
  if (!raw.startsWith('{') || !raw.endsWith('}')) {
    throw new PayloadError('dimensions: expected {key=value, …} or JSON');
  }
  const labels: Record<string, string> = {};
  const inner = raw.slice(1, -1).trim();
  if (inner === '') return [labels];
  // Split only where the next entry starts (`, key=`), so a comma inside a value stays in it.
  for (const entry of inner.split(/,\s*(?=[^,=\s]+=)/)) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new PayloadError('dimensions: expected {key=value, …} or JSON');
    const value = present(entry.slice(eq + 1));
    if (value !== undefined) labels[entry.slice(0, eq).trim()] = value;
  }
  return [labels];
}
