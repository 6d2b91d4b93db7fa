import { describe, expect, it } from 'vitest';
import { parseCidrs } from '../shared/auth/cidr.ts';

describe('source CIDR allow-list', () => {
  const list = parseCidrs(['47.74.206.0/26', '8.222.159.116', '2400:3200::/32', '10.1.2.3/8']);

  it.each([
    ['47.74.206.0', true],
    ['47.74.206.63', true],
    ['47.74.206.64', false],
    ['8.222.159.116', true],
    ['8.222.159.117', false],
    ['10.200.0.1', true],
    ['::ffff:47.74.206.1', true],
    ['2400:3200:1::1', true],
    ['2400:3201::1', false],
    ['', false],
    ['not-an-ip', false],
    ['47.74.206.1:443', false],
    ['047.74.206.1', false],
  ])('%s → %s', (ip, allowed) => {
    expect(list.allows(ip)).toBe(allowed);
  });

  it('allows nothing without an address', () => {
    expect(list.allows(undefined)).toBe(false);
  });

  it.each(['47.74.206.0/33', '::/129', '47.74.206', 'example.com/24', '47.74.206.0/', 'fe80::1%eth0', '1.2.3.4/-1'])(
    'refuses %s, naming it',
    (entry) => {
      expect(() => parseCidrs([entry])).toThrow(entry);
    },
  );
});
