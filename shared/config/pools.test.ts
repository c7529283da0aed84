import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatRange } from '../net/ip.ts';
import { expectConfig, expectError, pool } from './test-helpers.ts';

describe('IPAddressPool validation (MetalLB webhook catalogue)', () => {
  it('rejects a pool without addresses', () => {
    expectError(
      { pools: [pool('empty', { addresses: [] })] },
      {
        kind: 'IPAddressPool',
        name: 'empty',
        field: 'spec.addresses',
        message: /at least one CIDR or START-END range/,
      },
    );
  });

  it('rejects a bad CIDR', () => {
    expectError(
      { pools: [pool('p', { addresses: ['198.51.100.0/24', '198.51.100.0/33'] })] },
      {
        kind: 'IPAddressPool',
        name: 'p',
        field: 'spec.addresses[1]',
        message: /invalid address entry: .*prefix length "33", expected 0 to 32/,
      },
    );
  });

  it('rejects an entry that is not an address at all', () => {
    expectError(
      { pools: [pool('p', { addresses: ['198.51.100.300/24'] })] },
      {
        kind: 'IPAddressPool',
        name: 'p',
        field: 'spec.addresses[0]',
        message: /does not start with an IP address/,
      },
    );
  });

  it('rejects a range with a bad end', () => {
    expectError(
      { pools: [pool('p', { addresses: ['198.51.100.10-198.51.100.x'] })] },
      {
        kind: 'IPAddressPool',
        name: 'p',
        field: 'spec.addresses[0]',
        message: /range end "198.51.100.x" is not an IP address/,
      },
    );
  });

  it('rejects a range mixing families', () => {
    expectError(
      { pools: [pool('p', { addresses: ['198.51.100.10-2001:db8:100::1'] })] },
      {
        kind: 'IPAddressPool',
        name: 'p',
        field: 'spec.addresses[0]',
        message: /mixes an IPv4 and an IPv6 address/,
      },
    );
  });

  it('rejects a range whose start is after its end', () => {
    expectError(
      { pools: [pool('p', { addresses: ['198.51.100.20-198.51.100.10'] })] },
      {
        kind: 'IPAddressPool',
        name: 'p',
        field: 'spec.addresses[0]',
        message: /starts after it ends/,
      },
    );
  });

  it('rejects overlapping entries within one pool', () => {
    expectError(
      {
        pools: [
          pool('p', {
            addresses: ['198.51.100.0/24', '2001:db8:100::/120', '198.51.100.100-198.51.100.110'],
          }),
        ],
      },
      {
        kind: 'IPAddressPool',
        name: 'p',
        field: 'spec.addresses[2]',
        message:
          /"198.51.100.100-198.51.100.110" overlaps spec.addresses\[0\] "198.51.100.0\/24" of the same pool/,
      },
    );
  });

  it('rejects overlapping entries across pools, naming the other pool', () => {
    expectError(
      {
        pools: [
          pool('a', { addresses: ['2001:db8:100::/120'] }),
          pool('b', { addresses: ['198.51.100.0/26', '2001:db8:100::80/121'] }),
        ],
      },
      {
        kind: 'IPAddressPool',
        name: 'b',
        field: 'spec.addresses[1]',
        message:
          /2001:db8:100::80\/121 overlaps 2001:db8:100::\/120 of IPAddressPool metalbeacon-system\/a \(spec.addresses\[0\]\)/,
      },
    );
  });

  it('rejects two pools with the same name', () => {
    const twin = {
      ...pool('p', { addresses: ['198.51.100.64/26'] }),
      metadata: { name: 'p', namespace: 'metalbeacon-system' },
    };
    expectError(
      { pools: [pool('p', { addresses: ['198.51.100.0/26'] }), twin] },
      {
        kind: 'IPAddressPool',
        name: 'p',
        field: 'metadata.name',
        message: /duplicate name: IPAddressPool metalbeacon-system\/p has the same name/,
      },
    );
  });

  it('rejects duplicate namespaces in serviceAllocation', () => {
    expectError(
      {
        pools: [
          pool('p', {
            addresses: ['198.51.100.0/26'],
            serviceAllocation: { namespaces: ['web', 'db', 'web'] },
          }),
        ],
      },
      {
        kind: 'IPAddressPool',
        name: 'p',
        field: 'spec.serviceAllocation.namespaces[2]',
        message: /duplicate namespace "web": already listed at spec.serviceAllocation.namespaces\[0\]/,
      },
    );
  });

  it('rejects duplicate namespace selectors', () => {
    expectError(
      {
        pools: [
          pool('p', {
            addresses: ['198.51.100.0/26'],
            serviceAllocation: {
              namespaceSelectors: [{ matchLabels: { a: '1', b: '2' } }, { matchLabels: { b: '2', a: '1' } }],
            },
          }),
        ],
      },
      {
        kind: 'IPAddressPool',
        name: 'p',
        field: 'spec.serviceAllocation.namespaceSelectors[1]',
        message: /duplicate selector: same as spec.serviceAllocation.namespaceSelectors\[0\]/,
      },
    );
  });

  it('rejects duplicate service selectors', () => {
    const sel = { matchExpressions: [{ key: 'tier', operator: 'In', values: ['a', 'b'] }] };
    const same = { matchExpressions: [{ key: 'tier', operator: 'In', values: ['b', 'a'] }] };
    expectError(
      {
        pools: [
          pool('p', { addresses: ['198.51.100.0/26'], serviceAllocation: { serviceSelectors: [sel, same] } }),
        ],
      },
      {
        kind: 'IPAddressPool',
        name: 'p',
        field: 'spec.serviceAllocation.serviceSelectors[1]',
        message: /duplicate selector/,
      },
    );
  });

  it('rejects an invalid selector (In without values)', () => {
    expectError(
      {
        pools: [
          pool('p', {
            addresses: ['198.51.100.0/26'],
            serviceAllocation: {
              serviceSelectors: [{ matchExpressions: [{ key: 'tier', operator: 'In' }] }],
            },
          }),
        ],
      },
      {
        kind: 'IPAddressPool',
        name: 'p',
        field: 'spec.serviceAllocation.serviceSelectors[0].matchExpressions[0].values',
        message: /operator In needs at least one value/,
      },
    );
  });

  it('rejects an invalid namespace name', () => {
    expectError(
      {
        pools: [
          pool('p', { addresses: ['198.51.100.0/26'], serviceAllocation: { namespaces: ['Web_Team'] } }),
        ],
      },
      {
        kind: 'IPAddressPool',
        name: 'p',
        field: 'spec.serviceAllocation.namespaces[0]',
        message: /not a valid namespace name/,
      },
    );
  });

  it('rejects a pool outside the MetalBeacon namespace', () => {
    const elsewhere = {
      ...pool('p', { addresses: ['198.51.100.0/26'] }),
      metadata: { name: 'p', namespace: 'default' },
    };
    expectError(
      { pools: [elsewhere] },
      {
        kind: 'IPAddressPool',
        namespace: 'default',
        name: 'p',
        field: 'metadata.namespace',
        message: /must be in namespace "metalbeacon-system"/,
      },
    );
  });
});

describe('valid pools', () => {
  it('counts exactly: a /64 holds 2^64 addresses and a range counts both ends', () => {
    const config = expectConfig({
      pools: [pool('big', { addresses: ['2001:db8::/64', '198.51.100.10-198.51.100.20'] })],
    });
    const big = config.pools[0];
    assert.equal(big?.size.IPv6, 18446744073709551616n);
    assert.equal(big?.size.IPv6.toString(), '18446744073709551616');
    assert.equal(big?.size.IPv4, 11n);
  });

  it('sorts ranges by family then start and applies MetalLB defaults', () => {
    const config = expectConfig({
      pools: [
        pool('p', { addresses: ['2001:db8:100::/120', '198.51.100.128/25', '198.51.100.0/25'] }, { x: 'y' }),
      ],
    });
    const p = config.pools[0];
    assert.deepEqual(p?.ranges.map(formatRange), [
      '198.51.100.0/25',
      '198.51.100.128/25',
      '2001:db8:100::/120',
    ]);
    assert.equal(p?.autoAssign, true);
    assert.equal(p?.avoidBuggyIPs, false);
    assert.equal(p?.serviceAllocation, undefined);
    assert.deepEqual(p?.labels, { x: 'y' });
  });

  it('adjacent pools do not overlap', () => {
    const config = expectConfig({
      pools: [pool('a', { addresses: ['198.51.100.0/25'] }), pool('b', { addresses: ['198.51.100.128/25'] })],
    });
    assert.deepEqual(
      config.pools.map((p) => p.name),
      ['a', 'b'],
    );
  });
});
