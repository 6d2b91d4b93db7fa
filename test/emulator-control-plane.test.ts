import { describe, expect, it } from 'vitest';
import {
  type ActionRequest,
  type ApiReply,
  ControlPlane,
  type InstanceStatus,
  type Operation,
  type SeedInstance,
} from '../emulator/control-plane.ts';
import { DEMO_INSTANCES } from '../emulator/seed.ts';

const REQUEST_ID = /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/;
const T0 = Date.parse('2025-01-02T03:04:05.000Z');

function planeWith(seed: SeedInstance[] = [], start = T0): { plane: ControlPlane; tick: (ms: number) => void } {
  let clock = start;
  const plane = new ControlPlane({ instances: seed, now: () => clock });
  return { plane, tick: (ms) => (clock += ms) };
}

const codeOf = (reply: ApiReply): string | undefined => ('Code' in reply.body ? reply.body.Code : undefined);
const stateOf = (plane: ControlPlane, instanceId: string) =>
  plane.snapshot().instances.find((i) => i.instanceId === instanceId);

type Row = {
  operation: Operation;
  id: string;
  status: InstanceStatus;
  migrating?: boolean;
  params?: Record<string, string>;
  code: string | null;
  after?: { status: InstanceStatus; migrating: boolean };
};

const MIGRATE = { taskType: 'MigrateData' };

// Every transition and every refusal, per operation.
const rows: Row[] = [
  {
    operation: 'InterruptElasticsearchTask',
    id: 'es-x1',
    status: 'activating',
    code: null,
    after: { status: 'suspended', migrating: false },
  },
  {
    operation: 'InterruptElasticsearchTask',
    id: 'es-x1',
    status: 'activating',
    migrating: true,
    code: null,
    after: { status: 'suspended', migrating: true },
  },
  {
    operation: 'InterruptElasticsearchTask',
    id: 'es-x1',
    status: 'suspended',
    code: 'InstanceStatusNotSupportCurrentAction',
  },
  {
    operation: 'InterruptElasticsearchTask',
    id: 'es-x1',
    status: 'active',
    code: 'InstanceStatusNotSupportCurrentAction',
  },
  {
    operation: 'InterruptElasticsearchTask',
    id: 'es-x1',
    status: 'inactive',
    code: 'InstanceStatusNotSupportCurrentAction',
  },
  {
    operation: 'InterruptElasticsearchTask',
    id: 'es-x1',
    status: 'invalid',
    code: 'InstanceStatusNotSupportCurrentAction',
  },
  { operation: 'InterruptElasticsearchTask', id: 'ls-x1', status: 'activating', code: 'InstanceNotFound' },
  {
    operation: 'ResumeElasticsearchTask',
    id: 'es-x1',
    status: 'suspended',
    code: null,
    after: { status: 'activating', migrating: false },
  },
  {
    operation: 'ResumeElasticsearchTask',
    id: 'es-x1',
    status: 'activating',
    code: 'InstanceStatusNotSupportCurrentAction',
  },
  {
    operation: 'ResumeElasticsearchTask',
    id: 'es-x1',
    status: 'active',
    code: 'InstanceStatusNotSupportCurrentAction',
  },
  {
    operation: 'ResumeElasticsearchTask',
    id: 'es-x1',
    status: 'invalid',
    code: 'InstanceStatusNotSupportCurrentAction',
  },
  { operation: 'ResumeElasticsearchTask', id: 'ls-x1', status: 'suspended', code: 'InstanceNotFound' },
  {
    operation: 'InterruptLogstashTask',
    id: 'ls-x1',
    status: 'activating',
    code: null,
    after: { status: 'suspended', migrating: false },
  },
  { operation: 'InterruptLogstashTask', id: 'ls-x1', status: 'suspended', code: 'InstanceActivating' },
  { operation: 'InterruptLogstashTask', id: 'ls-x1', status: 'active', code: 'InstanceActivating' },
  { operation: 'InterruptLogstashTask', id: 'ls-x1', status: 'inactive', code: 'InstanceActivating' },
  { operation: 'InterruptLogstashTask', id: 'es-x1', status: 'activating', code: 'InstanceNotFound' },
  {
    operation: 'ResumeLogstashTask',
    id: 'ls-x1',
    status: 'suspended',
    code: null,
    after: { status: 'activating', migrating: false },
  },
  { operation: 'ResumeLogstashTask', id: 'ls-x1', status: 'activating', code: 'InstanceStatusNotSupportCurrentAction' },
  { operation: 'ResumeLogstashTask', id: 'ls-x1', status: 'active', code: 'InstanceStatusNotSupportCurrentAction' },
  { operation: 'ResumeLogstashTask', id: 'es-x1', status: 'suspended', code: 'InstanceNotFound' },
  {
    operation: 'CancelTask',
    id: 'es-x1',
    status: 'activating',
    migrating: true,
    params: MIGRATE,
    code: null,
    after: { status: 'activating', migrating: false },
  },
  {
    operation: 'CancelTask',
    id: 'es-x1',
    status: 'active',
    migrating: true,
    params: MIGRATE,
    code: null,
    after: { status: 'active', migrating: false },
  },
  { operation: 'CancelTask', id: 'es-x1', status: 'activating', params: MIGRATE, code: 'InstanceActivating' },
  {
    operation: 'CancelTask',
    id: 'es-x1',
    status: 'active',
    params: MIGRATE,
    code: 'InstanceStatusNotSupportCurrentAction',
  },
  {
    operation: 'CancelTask',
    id: 'es-x1',
    status: 'suspended',
    params: MIGRATE,
    code: 'InstanceStatusNotSupportCurrentAction',
  },
  { operation: 'CancelTask', id: 'es-x1', status: 'activating', migrating: true, params: {}, code: 'InvalidParameter' },
  {
    operation: 'CancelTask',
    id: 'es-x1',
    status: 'activating',
    migrating: true,
    params: { taskType: 'Other' },
    code: 'InvalidParameter',
  },
  { operation: 'CancelTask', id: 'ls-x1', status: 'activating', params: MIGRATE, code: 'InstanceNotFound' },
];

describe('Class: ControlPlane', () => {
  describe('Method: apply', () => {
    it.each(rows)('$operation on $id ($status, migrating $migrating, $params) → $code', (row) => {
      const { plane } = planeWith([{ instanceId: row.id, status: row.status, migrating: row.migrating ?? false }]);
      const before = stateOf(plane, row.id);
      const reply = plane.apply({
        operation: row.operation,
        instanceId: row.id,
        clientToken: 'tok',
        params: row.params,
      });

      expect(reply.body.RequestId).toMatch(REQUEST_ID);
      if (row.code === null) {
        expect(reply).toEqual({ status: 200, body: { RequestId: reply.body.RequestId, Result: true } });
        expect(stateOf(plane, row.id)).toMatchObject({
          ...row.after,
          history: [{ action: row.operation, clientToken: 'tok' }],
        });
      } else {
        expect(reply.status).toBe(400);
        expect(codeOf(reply)).toBe(row.code);
        expect(stateOf(plane, row.id)).toEqual(before);
      }
    });

    it.each([
      ['InstanceNotFound', 'The instanceId provided does not exist.', 'es-missing', 'active'],
      [
        'InstanceStatusNotSupportCurrentAction',
        'The cluster is running tasks or in an error status. Try again later.',
        'es-x1',
        'active',
      ],
    ] as const)('answers %s with the documented message', (code, message, instanceId, status) => {
      const { plane } = planeWith([{ instanceId: 'es-x1', status }]);
      const reply = plane.apply({ operation: 'InterruptElasticsearchTask', instanceId });
      expect(reply.body).toEqual({ RequestId: expect.stringMatching(REQUEST_ID), Code: code, Message: message });
    });

    it('answers InstanceActivating with the documented message', () => {
      const { plane } = planeWith([{ instanceId: 'ls-x1', status: 'active' }]);
      expect(plane.apply({ operation: 'InterruptLogstashTask', instanceId: 'ls-x1' }).body).toMatchObject({
        Code: 'InstanceActivating',
        Message: 'Instance is activating.',
      });
    });

    it('an unknown instance is InstanceNotFound for every operation', () => {
      const { plane } = planeWith();
      for (const operation of ['InterruptElasticsearchTask', 'ResumeLogstashTask'] as const) {
        expect(codeOf(plane.apply({ operation, instanceId: 'es-nope' }))).toBe('InstanceNotFound');
      }
    });

    it.each([
      ['65 characters', 'x'.repeat(65)],
      ['non-ASCII', 'tökén'],
      ['a control character', 'a\nb'],
      ['empty', ''],
    ])('refuses a clientToken that is %s with InvalidParameter and changes nothing', (_, clientToken) => {
      const { plane } = planeWith([{ instanceId: 'es-x1', status: 'activating' }]);
      const reply = plane.apply({ operation: 'InterruptElasticsearchTask', instanceId: 'es-x1', clientToken });
      expect(codeOf(reply)).toBe('InvalidParameter');
      expect(stateOf(plane, 'es-x1')).toMatchObject({ status: 'activating', history: [] });
    });

    it('accepts a 64-character printable token', () => {
      const { plane } = planeWith([{ instanceId: 'es-x1', status: 'activating' }]);
      const clientToken = `${'~ !'.repeat(21)}z`;
      expect(plane.apply({ operation: 'InterruptElasticsearchTask', instanceId: 'es-x1', clientToken }).status).toBe(
        200,
      );
    });
  });

  describe('clientToken idempotency', () => {
    const interrupt = (clientToken: string | null): ActionRequest => ({
      operation: 'InterruptElasticsearchTask',
      instanceId: 'es-x1',
      clientToken,
    });

    it('replays the first result (same RequestId) without a second change', () => {
      const { plane, tick } = planeWith([{ instanceId: 'es-x1', status: 'activating' }]);
      const first = plane.apply(interrupt('t-1'));
      tick(1000);
      // Resume elsewhere in between: the replay must still not act again.
      plane.apply({ operation: 'ResumeElasticsearchTask', instanceId: 'es-x1', clientToken: 't-2' });
      const again = plane.apply(interrupt('t-1'));

      expect(again).toEqual(first);
      expect(stateOf(plane, 'es-x1')).toEqual({
        instanceId: 'es-x1',
        status: 'activating',
        migrating: false,
        history: [
          { action: 'InterruptElasticsearchTask', clientToken: 't-1', at: '2025-01-02T03:04:05.000Z' },
          { action: 'ResumeElasticsearchTask', clientToken: 't-2', at: '2025-01-02T03:04:06.000Z' },
        ],
      });
    });

    it('a replayed reply is a copy: mutating it does not change what is remembered', () => {
      const { plane } = planeWith([{ instanceId: 'es-x1', status: 'activating' }]);
      const first = plane.apply(interrupt('t-1'));
      first.body.RequestId = 'changed';
      expect(plane.apply(interrupt('t-1')).body.RequestId).not.toBe('changed');
    });

    it.each<[string, ActionRequest]>([
      ['another operation', { operation: 'ResumeElasticsearchTask', instanceId: 'es-x1', clientToken: 't-1' }],
      ['another instance', { operation: 'InterruptElasticsearchTask', instanceId: 'es-x2', clientToken: 't-1' }],
      [
        'other params',
        { operation: 'InterruptElasticsearchTask', instanceId: 'es-x1', clientToken: 't-1', params: { extra: '1' } },
      ],
    ])('the same token with %s is IdempotentParameterMismatch and changes nothing', (_, request) => {
      const { plane } = planeWith([
        { instanceId: 'es-x1', status: 'activating' },
        { instanceId: 'es-x2', status: 'activating' },
      ]);
      plane.apply(interrupt('t-1'));
      const before = plane.snapshot();
      const reply = plane.apply(request);
      expect(reply.status).toBe(400);
      expect(codeOf(reply)).toBe('IdempotentParameterMismatch');
      expect(plane.snapshot()).toEqual(before);
    });

    it('CancelTask params are part of the fingerprint, in any order', () => {
      const { plane } = planeWith([{ instanceId: 'es-x1', status: 'activating', migrating: true }]);
      const cancel = (params: Record<string, string>) =>
        plane.apply({ operation: 'CancelTask', instanceId: 'es-x1', clientToken: 'c-1', params });
      const first = cancel({ taskType: 'MigrateData', a: '1' });
      expect(cancel({ a: '1', taskType: 'MigrateData' })).toEqual(first);
      expect(codeOf(cancel({ taskType: 'MigrateData' }))).toBe('IdempotentParameterMismatch');
      expect(stateOf(plane, 'es-x1')?.history).toHaveLength(1);
    });

    it('an error is not remembered: a retry with the same token can succeed later', () => {
      const { plane } = planeWith([{ instanceId: 'es-x1', status: 'activating' }]);
      const resume: ActionRequest = { operation: 'ResumeElasticsearchTask', instanceId: 'es-x1', clientToken: 'r-1' };
      expect(codeOf(plane.apply(resume))).toBe('InstanceStatusNotSupportCurrentAction');
      plane.apply(interrupt('i-1'));
      expect(plane.apply(resume).status).toBe(200);
      expect(stateOf(plane, 'es-x1')?.status).toBe('activating');
    });

    it('without a token every call is a new call', () => {
      const { plane } = planeWith([{ instanceId: 'es-x1', status: 'activating' }]);
      expect(plane.apply(interrupt(null)).status).toBe(200);
      expect(codeOf(plane.apply(interrupt(null)))).toBe('InstanceStatusNotSupportCurrentAction');
      expect(stateOf(plane, 'es-x1')?.history).toEqual([
        { action: 'InterruptElasticsearchTask', clientToken: null, at: '2025-01-02T03:04:05.000Z' },
      ]);
    });

    it('remembers a bounded number of tokens, forgetting the oldest', () => {
      const plane = new ControlPlane({
        instances: [
          { instanceId: 'es-x1', status: 'activating' },
          { instanceId: 'es-x2', status: 'activating' },
        ],
        maxTokens: 1,
      });
      plane.apply(interrupt('t-1'));
      plane.apply({ operation: 'InterruptElasticsearchTask', instanceId: 'es-x2', clientToken: 't-2' });
      // t-1 is forgotten, so it is a new call (refused: the instance is already suspended).
      expect(codeOf(plane.apply(interrupt('t-1')))).toBe('InstanceStatusNotSupportCurrentAction');
    });
  });

  describe('Method: describe', () => {
    it.each([
      ['elasticsearch', 'es-x1', 'esVersion'],
      ['logstash', 'ls-x1', 'version'],
    ] as const)('describes a %s instance with its status', (kind, instanceId, versionField) => {
      const { plane } = planeWith([{ instanceId, status: 'suspended' }]);
      const reply = plane.describe(kind, instanceId);
      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({
        RequestId: expect.stringMatching(REQUEST_ID),
        Result: { instanceId, status: 'suspended', paymentType: 'postpaid', [versionField]: expect.any(String) },
      });
    });

    it.each([
      ['elasticsearch', 'ls-x1'],
      ['logstash', 'es-x1'],
      ['elasticsearch', 'es-missing'],
    ] as const)('as %s, %s is InstanceNotFound', (kind, instanceId) => {
      const { plane } = planeWith([
        { instanceId: 'es-x1', status: 'active' },
        { instanceId: 'ls-x1', status: 'active' },
      ]);
      expect(codeOf(plane.describe(kind, instanceId))).toBe('InstanceNotFound');
    });

    it('updatedAt follows the last applied change', () => {
      const { plane, tick } = planeWith([{ instanceId: 'es-x1', status: 'activating' }]);
      tick(5000);
      plane.apply({ operation: 'InterruptElasticsearchTask', instanceId: 'es-x1' });
      expect(plane.describe('elasticsearch', 'es-x1').body).toMatchObject({
        Result: { updatedAt: '2025-01-02T03:04:10.000Z' },
      });
    });
  });

  describe('Methods: snapshot and reset', () => {
    it('snapshots every seeded instance in the admin shape', () => {
      const plane = new ControlPlane({ instances: DEMO_INSTANCES });
      expect(plane.snapshot()).toEqual({
        instances: DEMO_INSTANCES.map((i) => ({ ...i, migrating: i.migrating ?? false, history: [] })),
      });
    });

    it('reset() returns to the seed and forgets history and tokens', () => {
      const { plane } = planeWith([{ instanceId: 'es-x1', status: 'activating' }]);
      const first = plane.apply({ operation: 'InterruptElasticsearchTask', instanceId: 'es-x1', clientToken: 't' });
      plane.reset();
      expect(plane.snapshot().instances).toEqual([
        { instanceId: 'es-x1', status: 'activating', migrating: false, history: [] },
      ]);
      const again = plane.apply({ operation: 'InterruptElasticsearchTask', instanceId: 'es-x1', clientToken: 't' });
      expect(again.status).toBe(200);
      expect(again.body.RequestId).not.toBe(first.body.RequestId);
    });

    it('reset(seed) replaces the instances once; a later reset() goes back to the starting seed', () => {
      const { plane } = planeWith([{ instanceId: 'es-x1', status: 'activating' }]);
      plane.reset([{ instanceId: 'ls-y1', status: 'suspended' }]);
      expect(plane.snapshot().instances.map((i) => i.instanceId)).toEqual(['ls-y1']);
      plane.reset();
      expect(plane.snapshot().instances.map((i) => i.instanceId)).toEqual(['es-x1']);
    });

    it('a snapshot is a copy', () => {
      const { plane } = planeWith([{ instanceId: 'es-x1', status: 'activating' }]);
      const snap = plane.snapshot();
      (snap.instances[0] as { status: string }).status = 'invalid';
      expect(stateOf(plane, 'es-x1')?.status).toBe('activating');
    });
  });
});
