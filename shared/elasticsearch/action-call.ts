import { type ActionSpec, actionPath, describePath } from '../actions.ts';
import type { ApiCall } from './client.ts';

/** The function's action on one target, under its clientToken: what is called, or reported by a dry run. */
export const actionCall = (
  action: ActionSpec,
  target: { instanceId: string; regionId: string; clientToken: string },
): ApiCall => ({
  operation: action.operation,
  method: 'POST',
  path: actionPath(action, target.instanceId),
  query: { ...(action.taskType ? { taskType: action.taskType } : {}), clientToken: target.clientToken },
  regionId: target.regionId,
});

/** The read of the target's status (DescribeInstance or DescribeLogstash). */
export const describeCall = (action: ActionSpec, target: { instanceId: string; regionId: string }): ApiCall => ({
  operation: action.describeOperation,
  method: 'GET',
  path: describePath(action.kind, target.instanceId),
  query: {},
  regionId: target.regionId,
});
