import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BGPAdvertisementSpec } from '../api/resources.ts';
import {
  bfd,
  bgpAd,
  community,
  errorAt,
  expectConfig,
  expectError,
  l2,
  node,
  peer,
  pool,
} from './test-helpers.ts';

const pools = [
  pool('v4', { addresses: ['198.51.100.0/26'] }, { mode: 'bgp' }),
  pool('v6', { addresses: ['2001:db8:100::/120'] }, { mode: 'l2' }),
];
const bgpAt = errorAt('BGPAdvertisement');
const l2At = errorAt('L2Advertisement');

describe('L2Advertisement validation', () => {
  it('rejects duplicate pool names', () => {
    expectError(
      { pools, l2Advertisements: [l2('a', { ipAddressPools: ['v4', 'v6', 'v4'] })] },
      l2At('a', 'spec.ipAddressPools[2]', /duplicate pool "v4": already listed at spec.ipAddressPools\[0\]/),
    );
  });

  for (const [field, s] of [
    ['ipAddressPoolSelectors', { matchLabels: { mode: 'l2' } }],
    ['nodeSelectors', { matchLabels: { rack: '1' } }],
    ['serviceSelectors', { matchLabels: { app: 'web' } }],
  ] as const) {
    it(`rejects duplicate ${field}`, () => {
      expectError(
        { pools, l2Advertisements: [l2('a', { [field]: [s, s] })] },
        l2At('a', `spec.${field}[1]`, /duplicate selector/),
      );
    });
  }

  it('rejects an invalid selector label key', () => {
    expectError(
      { pools, l2Advertisements: [l2('a', { nodeSelectors: [{ matchLabels: { 'bad key!': 'x' } }] })] },
      l2At('a', 'spec.nodeSelectors[0].matchLabels[bad key!]', /label key "bad key!" is invalid/),
    );
  });

  it('rejects an interface name Linux cannot have', () => {
    expectError(
      { pools, l2Advertisements: [l2('a', { interfaces: ['eth0', 'a-very-long-interface'] })] },
      l2At('a', 'spec.interfaces[1]', /not a network interface name/),
    );
  });

  it('rejects duplicate interfaces', () => {
    expectError(
      { pools, l2Advertisements: [l2('a', { interfaces: ['eth0', 'eth0'] })] },
      l2At('a', 'spec.interfaces[1]', /duplicate interface "eth0"/),
    );
  });

  it('resolves pools (names, selectors, or all) and nodes', () => {
    const config = expectConfig({
      pools,
      nodes: [node('n1', { rack: '1' }), node('n2', { rack: '2' })],
      l2Advertisements: [
        l2('all', {}),
        l2('by-name', { ipAddressPools: ['v4', 'missing'] }),
        l2('by-label', {
          ipAddressPoolSelectors: [{ matchLabels: { mode: 'l2' } }],
          nodeSelectors: [{ matchLabels: { rack: '2' } }],
        }),
      ],
    });
    assert.deepEqual(
      config.l2Advertisements.map((a) => [a.name, a.pools, a.nodes]),
      [
        ['all', ['v4', 'v6'], ['n1', 'n2']],
        ['by-label', ['v6'], ['n2']],
        ['by-name', ['v4'], ['n1', 'n2']],
      ],
    );
  });
});

describe('BGPAdvertisement validation (MetalLB webhook catalogue)', () => {
  // [what is wrong, the spec of BGPAdvertisement a, the field named, the message]
  const badSpecs: [string, BGPAdvertisementSpec, string, RegExp][] = [
    [
      'an IPv4 aggregation length above 32',
      { aggregationLength: 33 },
      'spec.aggregationLength',
      /aggregation length 33 is out of range: expected 1 to 32/,
    ],
    [
      'an aggregation length below 1',
      { aggregationLength: 0 },
      'spec.aggregationLength',
      /aggregation length 0 is out of range/,
    ],
    [
      'an IPv6 aggregation length above 128',
      { aggregationLengthV6: 129 },
      'spec.aggregationLengthV6',
      /aggregation length 129 is out of range: expected 1 to 128/,
    ],
    [
      'an IPv4 aggregation length shorter than a pool prefix',
      { ipAddressPools: ['v4'], aggregationLength: 24 },
      'spec.aggregationLength',
      /aggregation length 24 is shorter than prefix \/26 in 198.51.100.0\/26 of IPAddressPool v4: the route would cover addresses outside the pool/,
    ],
    [
      'an IPv6 aggregation length shorter than a pool prefix',
      { aggregationLengthV6: 64 },
      'spec.aggregationLengthV6',
      /aggregation length 64 is shorter than prefix \/120 in 2001:db8:100::\/120 of IPAddressPool v6/,
    ],
    [
      'a bad standard community',
      { communities: ['99999999:1'] },
      'spec.communities[0]',
      /"99999999:1" is not a standard community: both halves must be numbers from 0 to 65535/,
    ],
    [
      'a bad large community',
      { communities: ['large:1:2'] },
      'spec.communities[0]',
      /"large:1:2" is not a large community: expected large:GLOBAL:LOCAL1:LOCAL2/,
    ],
    [
      'a large community part above 2^32-1',
      { communities: ['large:1:2:4294967296'] },
      'spec.communities[0]',
      /each part must be a number from 0 to 4294967295/,
    ],
    [
      'a misspelt large community',
      { communities: ['lar:1:2:3'] },
      'spec.communities[0]',
      /"lar:1:2:3" is not a community: expected AA:NN or large:GLOBAL:LOCAL1:LOCAL2/,
    ],
    ['duplicate peers', { peers: ['r1', 'r1'] }, 'spec.peers[1]', /duplicate peer "r1"/],
    [
      'LOCAL_PREF out of range',
      { localPref: 4294967296 },
      'spec.localPref',
      /out of range: expected 0 to 4294967295/,
    ],
  ];
  for (const [what, spec, field, message] of badSpecs) {
    it(`rejects ${what}`, () => {
      expectError({ pools, bgpAdvertisements: [bgpAd('a', spec)] }, bgpAt('a', field, message));
    });
  }

  it('checks ranges by their most specific covering CIDR', () => {
    expectError(
      {
        pools: [pool('r', { addresses: ['198.51.100.0-198.51.100.4'] })],
        bgpAdvertisements: [bgpAd('a', { aggregationLength: 30 })],
      },
      bgpAt('a', 'spec.aggregationLength', /shorter than prefix \/32/),
    );
  });

  it('reports an unknown community alias as transient', () => {
    expectError(
      { pools, bgpAdvertisements: [bgpAd('a', { communities: ['no-export'] })] },
      bgpAt(
        'a',
        'spec.communities[0]',
        /"no-export" is neither a community value nor an alias defined by a Community object \(yet\)/,
        true,
      ),
    );
  });

  it('rejects duplicate communities, also when an alias repeats a value', () => {
    expectError(
      {
        pools,
        communities: [community('c', { communities: [{ name: 'ours', value: '64512:100' }] })],
        bgpAdvertisements: [bgpAd('a', { communities: ['64512:100', 'ours'] })],
      },
      bgpAt(
        'a',
        'spec.communities[1]',
        /duplicate community 64512:100: already listed at spec.communities\[0\]/,
      ),
    );
  });

  it('rejects duplicate pools and pool selectors', () => {
    expectError(
      { pools, bgpAdvertisements: [bgpAd('a', { ipAddressPools: ['v4', 'v4'] })] },
      bgpAt('a', 'spec.ipAddressPools[1]', /duplicate pool "v4"/),
    );
    const s = { matchLabels: { mode: 'bgp' } };
    expectError(
      { pools, bgpAdvertisements: [bgpAd('a', { ipAddressPoolSelectors: [s, s] })] },
      bgpAt('a', 'spec.ipAddressPoolSelectors[1]', /duplicate selector/),
    );
  });

  it('rejects two identical advertisements', () => {
    expectError(
      {
        pools,
        bgpAdvertisements: [bgpAd('a', { communities: ['1:1'] }), bgpAd('b', { communities: ['1:1'] })],
      },
      bgpAt('b', 'spec', /identical to BGPAdvertisement metalbeacon-system\/a/),
    );
  });

  it('rejects LOCAL_PREF conflicts on the same pool, peers and nodes', () => {
    expectError(
      {
        pools,
        bgpAdvertisements: [
          bgpAd('a', { localPref: 100, ipAddressPools: ['v4'] }),
          bgpAd('b', { localPref: 200 }),
        ],
      },
      bgpAt(
        'b',
        'spec.localPref',
        /LOCAL_PREF 200 conflicts with 100 of BGPAdvertisement metalbeacon-system\/a/,
      ),
    );
  });

  it('rejects serviceSelectors with a non-default aggregation length', () => {
    expectError(
      {
        pools,
        bgpAdvertisements: [
          bgpAd('a', {
            ipAddressPools: ['v4'],
            aggregationLength: 28,
            serviceSelectors: [{ matchLabels: { a: 'b' } }],
          }),
        ],
      },
      bgpAt('a', 'spec.serviceSelectors', /cannot be combined with an aggregation length/),
    );
  });

  it('refuses a BFD profile with echo mode at the profile, for IPv4 and IPv6 pools alike', () => {
    // MetalLB refuses echo only with IPv6 pools; we run no echo at all (shared/config/bfd-profiles.ts).
    for (const pool of ['v4', 'v6']) {
      expectError(
        {
          pools,
          bfdProfiles: [bfd('echo', { echoMode: true })],
          peers: [peer('r1', { bfdProfile: 'echo' })],
          bgpAdvertisements: [bgpAd('a', { ipAddressPools: [pool] })],
        },
        { kind: 'BFDProfile', name: 'echo', field: 'spec.echoMode', message: /echo mode is not supported/ },
      );
    }
  });

  it('resolves aliases to values and keeps disjoint LOCAL_PREFs', () => {
    const config = expectConfig({
      pools,
      peers: [peer('r1', {}), peer('r2', { peerAddress: '192.0.2.2' })],
      communities: [community('c', { communities: [{ name: 'ours', value: 'large:64512:1:2' }] })],
      bgpAdvertisements: [
        bgpAd('a', {
          ipAddressPools: ['v4'],
          localPref: 100,
          peers: ['r1'],
          communities: ['ours', '65535:65281'],
        }),
        bgpAd('b', { ipAddressPools: ['v4'], localPref: 200, peers: ['r2'], aggregationLength: 26 }),
      ],
    });
    const a = config.bgpAdvertisements[0];
    assert.deepEqual(a?.communities, [
      { kind: 'large', globalAdmin: 64512, localData1: 1, localData2: 2, text: 'large:64512:1:2' },
      { kind: 'standard', value: 65535 * 65536 + 65281, text: '65535:65281' },
    ]);
    assert.equal(a?.aggregationLength, 32);
    assert.equal(a?.aggregationLengthV6, 128);
    assert.equal(config.bgpAdvertisements[1]?.aggregationLength, 26);
  });
});
