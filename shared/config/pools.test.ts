import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatRange } from '../net/ip.ts';
import { errorAt, expectConfig, expectError, pool } from './test-helpers.ts';

const poolAt = errorAt('IPAddressPool');

describe('IPAddressPool validation (MetalLB webhook catalogue)', () => {
  it('rejects a pool without addresses', () => {
    expectError(
      { pools: [pool('empty', { addresses: [] })] },
      poolAt('empty', 'spec.addresses', /at least one CIDR or START-END range/),
    );
  });

  // [what is wrong, addresses, the entry's field, the message]
  const badEntries: [string, string[], string, RegExp][] = [
    [
      'a bad CIDR',
      ['198.51.100.0/24', '198.51.100.0/33'],
      'spec.addresses[1]',
      /invalid address entry: .*prefix length "33", expected 0 to 32/,
    ],
    [
      'an entry that is not an address at all',
      ['198.51.100.300/24'],
      'spec.addresses[0]',
      /does not start with an IP address/,
    ],
    [
      'a range with a bad end',
      ['198.51.100.10-198.51.100.x'],
      'spec.addresses[0]',
      /range end "198.51.100.x" is not an IP address/,
    ],
    [
      'a range mixing families',
      ['198.51.100.10-2001:db8:100::1'],
      'spec.addresses[0]',
      /mixes an IPv4 and an IPv6 address/,
    ],
    [
      'a range whose start is after its end',
      ['198.51.100.20-198.51.100.10'],
      'spec.addresses[0]',
      /starts after it ends/,
    ],
  ];
  for (const [what, addresses, field, message] of badEntries) {
    it(`rejects ${what}`, () => {
      expectError({ pools: [pool('p', { addresses })] }, poolAt('p', field, message));
    });
  }

  it('rejects overlapping entries within one pool', () => {
    expectError(
      {
        pools: [
          pool('p', {
            addresses: ['198.51.100.0/24', '2001:db8:100::/120', '198.51.100.100-198.51.100.110'],
          }),
        ],
      },
      poolAt(
        'p',
        'spec.addresses[2]',
        /"198.51.100.100-198.51.100.110" overlaps spec.addresses\[0\] "198.51.100.0\/24" of the same pool/,
      ),
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
      poolAt(
        'b',
        'spec.addresses[1]',
        /2001:db8:100::80\/121 overlaps 2001:db8:100::\/120 of IPAddressPool metalbeacon-system\/a \(spec.addresses\[0\]\)/,
      ),
    );
  });

  it('rejects two pools with the same name', () => {
    const twin = {
      ...pool('p', { addresses: ['198.51.100.64/26'] }),
      metadata: { name: 'p', namespace: 'metalbeacon-system' },
    };
    expectError(
      { pools: [pool('p', { addresses: ['198.51.100.0/26'] }), twin] },
      poolAt('p', 'metadata.name', /duplicate name: IPAddressPool metalbeacon-system\/p has the same name/),
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
      poolAt(
        'p',
        'spec.serviceAllocation.namespaces[2]',
        /duplicate namespace "web": already listed at spec.serviceAllocation.namespaces\[0\]/,
      ),
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
      poolAt(
        'p',
        'spec.serviceAllocation.namespaceSelectors[1]',
        /duplicate selector: same as spec.serviceAllocation.namespaceSelectors\[0\]/,
      ),
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
      poolAt('p', 'spec.serviceAllocation.serviceSelectors[1]', /duplicate selector/),
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
      poolAt(
        'p',
        'spec.serviceAllocation.serviceSelectors[0].matchExpressions[0].values',
        /operator In needs at least one value/,
      ),
    );
  });

  it('rejects an invalid namespace name', () => {
    expectError(
      {
        pools: [
          pool('p', { addresses: ['198.51.100.0/26'], serviceAllocation: { namespaces: ['Web_Team'] } }),
        ],
      },
      poolAt('p', 'spec.serviceAllocation.namespaces[0]', /not a valid namespace name/),
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
