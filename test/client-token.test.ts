import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ACTIONS, FUNCTION_NAMES } from '../shared/actions.ts';
import { deriveClientToken } from '../shared/core/client-token.ts';

const base = {
  action: ACTIONS['interrupt-elasticsearch-task'],
  regionId: 'cn-hangzhou',
  instanceId: 'es-cn-n6w1o1x0w001c',
  eventKey: 'generic:msg_2KWPBgLlAfxdpx2AI54pPJ85f4W',
};

describe('Function: deriveClientToken', () => {
  it('is stable: the same inputs always give the same token', () => {
    expect(deriveClientToken({ ...base })).toBe(deriveClientToken({ ...base }));
  });

  it('follows the documented formula, so tokens survive a redeploy', () => {
    const material = JSON.stringify([
      1,
      'InterruptElasticsearchTask',
      base.regionId,
      base.instanceId,
      '',
      base.eventKey,
    ]);
    const expected = `ies1-${createHash('sha256').update(material).digest('hex').slice(0, 40)}`;
    expect(deriveClientToken(base)).toBe(expected);
    const cancel = JSON.stringify([1, 'CancelTask', base.regionId, base.instanceId, 'MigrateData', base.eventKey]);
    expect(deriveClientToken({ ...base, action: ACTIONS['cancel-migration-task'] })).toBe(
      `cmt1-${createHash('sha256').update(cancel).digest('hex').slice(0, 40)}`,
    );
  });

  it('does not depend on the order of the input keys', () => {
    const reordered = {
      eventKey: base.eventKey,
      instanceId: base.instanceId,
      regionId: base.regionId,
      action: base.action,
    };
    expect(deriveClientToken(reordered)).toBe(deriveClientToken(base));
  });

  it.each(FUNCTION_NAMES)('is at most 64 printable ASCII characters for %s', (name) => {
    const token = deriveClientToken({ ...base, action: ACTIONS[name], eventKey: 'x'.repeat(1000) });
    expect(token.length).toBeLessThanOrEqual(64);
    expect(token).toMatch(/^[a-z]{3}1-[0-9a-f]{40}$/);
  });

  it('differs across all five actions', () => {
    const tokens = FUNCTION_NAMES.map((name) => deriveClientToken({ ...base, action: ACTIONS[name] }));
    expect(new Set(tokens).size).toBe(FUNCTION_NAMES.length);
  });

  it.each([
    ['instance', { instanceId: 'es-cn-other0000001' }],
    ['region', { regionId: 'cn-shanghai' }],
    ['event', { eventKey: 'generic:msg_another' }],
    ['source of the same key', { eventKey: 'timer:msg_2KWPBgLlAfxdpx2AI54pPJ85f4W' }],
  ])('differs across %s', (_what, change) => {
    expect(deriveClientToken({ ...base, ...change })).not.toBe(deriveClientToken(base));
  });

  it('keeps fields from running into each other', () => {
    const a = deriveClientToken({ ...base, regionId: 'cn-hangzhou', instanceId: 'es-cn-ab' });
    const b = deriveClientToken({ ...base, regionId: 'cn-hangzhoues', instanceId: '-cn-ab' });
    expect(a).not.toBe(b);
  });

  it('names the action in its prefix', () => {
    expect(deriveClientToken({ ...base, action: ACTIONS['cancel-migration-task'] })).toMatch(/^cmt1-/);
    expect(deriveClientToken({ ...base, action: ACTIONS['resume-logstash-task'] })).toMatch(/^rls1-/);
  });
});
