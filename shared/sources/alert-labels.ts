import { INSTANCE_ID_PATTERN, REGION_PATTERN } from '../core/target.ts';
import type { AlertLabelNames } from './source.ts';

export type Labels = Readonly<Record<string, string>>;

/**
 * The target an alert names through its labels: the first configured instance label
 * (ALERT_INSTANCE_LABELS, default instanceId, instance_id, es_instance_id) whose value is an
 * instance ID, and the region from the first region label (regionId, region) that holds one.
 * Returns a note instead when the alert names no usable instance.
 */
export function targetFromLabels(
  labels: Labels,
  names: AlertLabelNames,
): { instanceId: string; regionId: string | undefined } | { note: string } {
  let invalid: string | undefined;
  for (const name of names.instance) {
    const value = labels[name]?.trim();
    if (!value) continue;
    if (INSTANCE_ID_PATTERN.test(value)) {
      const region = names.region.map((r) => labels[r]?.trim()).find((v) => v !== undefined && REGION_PATTERN.test(v));
      return { instanceId: value, regionId: region };
    }
    invalid ??= name;
  }
  return {
    note: invalid
      ? `label ${invalid} does not hold an instance ID`
      : `no label among ${names.instance.join(', ')} names an instance`,
  };
}
