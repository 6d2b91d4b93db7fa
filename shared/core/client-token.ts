import { createHash } from 'node:crypto';
import type { ActionSpec } from '../actions.ts';

/** Bumped only if the derivation changes; part of the hashed material so old and new never collide. */
export const CLIENT_TOKEN_VERSION = 1;

export interface ClientTokenInput {
  action: ActionSpec;
  regionId: string;
  instanceId: string;
  /** Source-qualified event key, e.g. `generic:<webhook-id>` or `alertmanager:<fingerprint>@<startsAt>`. */
  eventKey: string;
}

/**
 * clientToken = `<code><version>-<first 40 hex of SHA-256(JSON [version, operation, regionId, instanceId, taskType, eventKey])>`,
 * e.g. `ies1-3f0c…` (45 ASCII characters, within the API's 64). A pure function: the same delivery,
 * retried or duplicated, gives the same token, so the API applies it once; the JSON array keeps
 * fields from running into each other. `code` names the action (ies, res, ils, rls, cmt).
 */
export function deriveClientToken({ action, regionId, instanceId, eventKey }: ClientTokenInput): string {
  const material = JSON.stringify([
    CLIENT_TOKEN_VERSION,
    action.operation,
    regionId,
    instanceId,
    action.taskType ?? '',
    eventKey,
  ]);
  const digest = createHash('sha256').update(material).digest('hex').slice(0, 40);
  return `${action.tokenCode}${CLIENT_TOKEN_VERSION}-${digest}`;
}
