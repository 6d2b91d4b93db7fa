import type { InstanceKind, Operation } from './control-plane.ts';

/**
 * The Elasticsearch API (2017-06-13) routes the emulator serves, written from the API reference
 * rather than taken from the product's own action table: a wrong path or operation name in the
 * product must meet a 404 or `InvalidAction` here, as it would on the real API.
 */
export const ES_API_VERSION = '2017-06-13';

export interface ActionRoute {
  method: 'POST';
  path: string;
  operation: Operation;
}

export interface DescribeRoute {
  method: 'GET';
  path: string;
  operation: 'DescribeInstance' | 'DescribeLogstash';
  kind: InstanceKind;
}

export const ACTION_ROUTES: readonly ActionRoute[] = [
  { method: 'POST', path: '/openapi/instances/:instanceId/actions/interrupt', operation: 'InterruptElasticsearchTask' },
  { method: 'POST', path: '/openapi/instances/:instanceId/actions/resume', operation: 'ResumeElasticsearchTask' },
  { method: 'POST', path: '/openapi/logstashes/:instanceId/actions/interrupt', operation: 'InterruptLogstashTask' },
  { method: 'POST', path: '/openapi/logstashes/:instanceId/actions/resume', operation: 'ResumeLogstashTask' },
  { method: 'POST', path: '/openapi/instances/:instanceId/actions/cancel-task', operation: 'CancelTask' },
];

export const DESCRIBE_ROUTES: readonly DescribeRoute[] = [
  { method: 'GET', path: '/openapi/instances/:instanceId', operation: 'DescribeInstance', kind: 'elasticsearch' },
  { method: 'GET', path: '/openapi/logstashes/:instanceId', operation: 'DescribeLogstash', kind: 'logstash' },
];
