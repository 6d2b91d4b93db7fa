import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { REGION_PATTERN } from '../shared/core/target.ts';
import { INSTANCE_STATUSES, type SeedInstance } from './control-plane.ts';

/**
 * The instances the emulator starts with: the documented demo set, or the JSON file named by
 * `EMULATOR_INSTANCES`, validated so a typo fails loudly at startup instead of as InstanceNotFound later.
 */

/** One instance per situation a responder meets. */
export const DEMO_INSTANCES: readonly SeedInstance[] = Object.freeze([
  { instanceId: 'es-cn-demo-activating', status: 'activating', migrating: false },
  { instanceId: 'es-cn-demo-suspended', status: 'suspended', migrating: false },
  { instanceId: 'es-cn-demo-active', status: 'active', migrating: false },
  { instanceId: 'es-cn-demo-migrating', status: 'activating', migrating: true },
  { instanceId: 'ls-cn-demo-activating', status: 'activating', migrating: false },
  { instanceId: 'ls-cn-demo-suspended', status: 'suspended', migrating: false },
]);

export const INSTANCE_ID = /^(es|ls)-[a-z0-9][a-z0-9-]{2,62}$/;

const SeedInstanceSchema = z
  .strictObject({
    instanceId: z.string().regex(INSTANCE_ID, 'must match ^(es|ls)-[a-z0-9][a-z0-9-]{2,62}$'),
    status: z.enum(INSTANCE_STATUSES),
    migrating: z.boolean().default(false),
    regionId: z.string().regex(REGION_PATTERN, 'must be a region ID such as cn-hangzhou').optional(),
  })
  .refine((instance) => !(instance.migrating && instance.instanceId.startsWith('ls-')), {
    message: 'a Logstash (ls-) instance cannot be migrating: data migration is an Elasticsearch task',
    path: ['migrating'],
  });

export const SeedInstancesSchema = z.array(SeedInstanceSchema).superRefine((instances, ctx) => {
  const seen = new Set<string>();
  instances.forEach((instance, index) => {
    if (seen.has(instance.instanceId)) {
      ctx.addIssue({
        code: 'custom',
        message: `duplicate instanceId ${instance.instanceId}`,
        path: [index, 'instanceId'],
      });
    }
    seen.add(instance.instanceId);
  });
});

/** Validates a seed (already parsed JSON); throws an Error naming every problem. */
export function parseSeedInstances(value: unknown, source = 'seed'): SeedInstance[] {
  const parsed = SeedInstancesSchema.safeParse(value);
  if (!parsed.success) throw new Error(`${source} is not a valid instance list: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

export function loadSeedFile(path: string): SeedInstance[] {
  const source = `EMULATOR_INSTANCES file ${path}`;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`${source} cannot be read: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${source} is not valid JSON: ${(error as Error).message}`);
  }
  return parseSeedInstances(value, source);
}

/** `EMULATOR_INSTANCES` (a path) when set, else the demo set. */
export function seedFromEnv(env: Record<string, string | undefined> = process.env): SeedInstance[] {
  const path = env.EMULATOR_INSTANCES?.trim();
  return path ? loadSeedFile(path) : DEMO_INSTANCES.map((instance) => ({ ...instance }));
}
