/**
 * The five responders. The action is fixed by the function: a payload never chooses it.
 * Paths and operation names are those of the Elasticsearch API 2017-06-13 (ROA).
 */
export const API_VERSION = '2017-06-13';

export type InstanceKind = 'elasticsearch' | 'logstash';

export interface ActionSpec {
  /** Function name, also the first path segment in local mode. */
  readonly functionName: string;
  /** API operation name, sent as `x-acs-action`. */
  readonly operation: string;
  readonly kind: InstanceKind;
  /** Target ID prefix this function accepts. */
  readonly prefix: 'es-' | 'ls-';
  readonly resource: 'instances' | 'logstashes';
  /** Last path segment after `/actions/`. */
  readonly verb: 'interrupt' | 'resume' | 'cancel-task';
  readonly taskType?: 'MigrateData';
  /** Read operation that tells whether the instance is already in the desired state. */
  readonly describeOperation: 'DescribeInstance' | 'DescribeLogstash';
  /** Short code used in client tokens, so a token says which action it belongs to. */
  readonly tokenCode: string;
  /** Interrupt and cancel act on firing alerts; resume acts on the state RESUME_ON names. */
  readonly alertRole: 'stop' | 'resume';
  /** What the action does, for people. */
  readonly summary: string;
  /** The Slack slash command bound to this function unless SLACK_COMMANDS says otherwise. */
  readonly slackCommand: string;
}

export const ACTIONS = {
  'interrupt-elasticsearch-task': {
    functionName: 'interrupt-elasticsearch-task',
    alertRole: 'stop',
    operation: 'InterruptElasticsearchTask',
    kind: 'elasticsearch',
    prefix: 'es-',
    resource: 'instances',
    verb: 'interrupt',
    describeOperation: 'DescribeInstance',
    tokenCode: 'ies',
    summary: 'interrupt the running change of an Elasticsearch instance',
    slackCommand: '/es-interrupt',
  },
  'resume-elasticsearch-task': {
    functionName: 'resume-elasticsearch-task',
    alertRole: 'resume',
    operation: 'ResumeElasticsearchTask',
    kind: 'elasticsearch',
    prefix: 'es-',
    resource: 'instances',
    verb: 'resume',
    describeOperation: 'DescribeInstance',
    tokenCode: 'res',
    summary: 'resume the interrupted change of an Elasticsearch instance',
    slackCommand: '/es-resume',
  },
  'interrupt-logstash-task': {
    functionName: 'interrupt-logstash-task',
    alertRole: 'stop',
    operation: 'InterruptLogstashTask',
    kind: 'logstash',
    prefix: 'ls-',
    resource: 'logstashes',
    verb: 'interrupt',
    describeOperation: 'DescribeLogstash',
    tokenCode: 'ils',
    summary: 'interrupt the running change of a Logstash instance',
    slackCommand: '/ls-interrupt',
  },
  'resume-logstash-task': {
    functionName: 'resume-logstash-task',
    alertRole: 'resume',
    operation: 'ResumeLogstashTask',
    kind: 'logstash',
    prefix: 'ls-',
    resource: 'logstashes',
    verb: 'resume',
    describeOperation: 'DescribeLogstash',
    tokenCode: 'rls',
    summary: 'resume the interrupted change of a Logstash instance',
    slackCommand: '/ls-resume',
  },
  'cancel-migration-task': {
    functionName: 'cancel-migration-task',
    alertRole: 'stop',
    operation: 'CancelTask',
    kind: 'elasticsearch',
    prefix: 'es-',
    resource: 'instances',
    verb: 'cancel-task',
    taskType: 'MigrateData',
    describeOperation: 'DescribeInstance',
    tokenCode: 'cmt',
    summary: 'cancel the running data-migration task of an Elasticsearch instance',
    slackCommand: '/es-cancel-migration',
  },
} as const satisfies Record<string, ActionSpec>;

export type FunctionName = keyof typeof ACTIONS;

export const FUNCTION_NAMES = Object.keys(ACTIONS) as FunctionName[];

export const actionFor = (name: FunctionName): ActionSpec => ACTIONS[name];

export const isFunctionName = (value: string): value is FunctionName => Object.hasOwn(ACTIONS, value);

/** The API path of an action on one instance (the instance ID percent-encoded as the SDK does). */
export const actionPath = (action: ActionSpec, instanceId: string): string =>
  `/openapi/${action.resource}/${encodeURIComponent(instanceId)}/actions/${action.verb}`;

/**
 * Why the action has nothing to do on an instance whose DescribeInstance/DescribeLogstash status
 * is `status` (read only after the API refused the action), or undefined when the refusal stands.
 * Interrupt: the change is already interrupted (`suspended`), or none is running (`active`).
 * Resume: the change already runs again (`activating`), or none is suspended (`active`).
 * Cancel: the API shows no migration flag, so "no change running at all" (any status but
 * activating) is the only state that proves no migration runs; while activating we cannot tell.
 * `inactive` and `invalid` say something is wrong with the instance: the refusal stands there.
 */
export function nothingToDo(action: ActionSpec, status: string): string | undefined {
  switch (action.verb) {
    case 'interrupt':
      if (status === 'suspended') return 'the change is already interrupted (the instance is suspended)';
      if (status === 'active') return 'no change is running (the instance is active): nothing to interrupt';
      return undefined;
    case 'resume':
      if (status === 'activating') return 'the change is already running again (the instance is activating)';
      if (status === 'active') return 'no change is suspended (the instance is active): nothing to resume';
      return undefined;
    case 'cancel-task':
      return status === 'activating'
        ? undefined
        : `no change is running (the instance is ${status}), so no migration: nothing to cancel`;
  }
}

export const describePath = (kind: InstanceKind, instanceId: string): string =>
  `/openapi/${kind === 'logstash' ? 'logstashes' : 'instances'}/${encodeURIComponent(instanceId)}`;
