import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BGPPeerSpec } from '../api/resources.ts';
import { passwordSecretNames } from './peers.ts';
import { basicAuthSecret, bfd, errorAt, expectConfig, expectError, node, peer } from './test-helpers.ts';

const at = errorAt('BGPPeer');

describe('BGPPeer validation (MetalLB webhook catalogue)', () => {
  // [what is wrong, the spec of BGPPeer r over a valid default, the field named, the message]
  const badSpecs: [string, Partial<BGPPeerSpec>, string, RegExp][] = [
    ['myASN 0', { myASN: 0 }, 'spec.myASN', /AS number 0 is out of range: expected 1 to 4294967295/],
    ['an ASN above 2^32-1', { peerASN: 4294967296 }, 'spec.peerASN', /AS number 4294967296 is out of range/],
    ['a peer without peerASN', { peerASN: undefined }, 'spec.peerASN', /peerASN is required/],
    ['a peer without peerAddress', { peerAddress: undefined }, 'spec.peerAddress', /peerAddress is required/],
    [
      'an invalid peer address',
      { peerAddress: '192.0.2.300' },
      'spec.peerAddress',
      /"192.0.2.300" is not an IPv4 or IPv6 address/,
    ],
    [
      'an invalid source address',
      { sourceAddress: 'eth0' },
      'spec.sourceAddress',
      /"eth0" is not an IPv4 or IPv6 address/,
    ],
    [
      'a source address of the other family',
      { sourceAddress: '2001:db8:0:1::10' },
      'spec.sourceAddress',
      /is IPv6 but the peer address 192.0.2.1 is IPv4/,
    ],
    [
      'a router ID that is not IPv4',
      { routerID: '2001:db8:0:1::10' },
      'spec.routerID',
      /must be an IPv4 address/,
    ],
    [
      'a port out of range',
      { peerPort: 70000 },
      'spec.peerPort',
      /port 70000 is out of range: expected 1 to 65535/,
    ],
    [
      'a hold time below 3s that is not zero',
      { holdTime: '2s' },
      'spec.holdTime',
      /hold time "2s" is too short: use 0 \(no keepalives\) or at least 3s/,
    ],
    [
      'a hold time that is not a duration',
      { holdTime: '90' },
      'spec.holdTime',
      /"90" is not a duration such as "90s"/,
    ],
    [
      'a keepalive time longer than the hold time',
      { holdTime: '30s', keepaliveTime: '1m' },
      'spec.keepaliveTime',
      /keepalive time "1m" \(60s\) is longer than the hold time \(30s\)/,
    ],
    [
      'ebgpMultiHop on an iBGP session',
      { myASN: 64512, peerASN: 64512, ebgpMultiHop: true },
      'spec.ebgpMultiHop',
      /ebgpMultiHop is for eBGP only, but myASN and peerASN are both 64512 \(iBGP\)/,
    ],
    [
      'a password Secret in another namespace',
      { passwordSecret: { name: 's', namespace: 'default' } },
      'spec.passwordSecret.namespace',
      /must be in namespace "metalbeacon-system"/,
    ],
    [
      'a password longer than the kernel accepts for TCP MD5',
      { password: 'x'.repeat(81) },
      'spec.password',
      /longer than 80 bytes/,
    ],
  ];
  for (const [what, spec, field, message] of badSpecs) {
    it(`rejects ${what}`, () => {
      expectError({ peers: [peer('r', spec)] }, at('r', field, message));
    });
  }

  it('rejects a connect time that is fractional or out of range', () => {
    expectError(
      { peers: [peer('r', { connectTime: '1.5s' })] },
      at('r', 'spec.connectTime', /whole seconds from 1s to 65535s/),
    );
    expectError(
      { peers: [peer('r', { connectTime: '20h' })] },
      at('r', 'spec.connectTime', /whole seconds from 1s to 65535s/),
    );
  });

  it('rejects both password and passwordSecret', () => {
    expectError(
      {
        peers: [peer('r', { password: 'x', passwordSecret: { name: 's' } })],
        secrets: [basicAuthSecret('s', 'y')],
      },
      at('r', 'spec.passwordSecret', /set either password or passwordSecret, not both/),
    );
  });

  it('rejects two peers with the same address and port on the same nodes, naming the first', () => {
    expectError(
      { peers: [peer('a', {}), peer('b', { peerASN: 64514 })] },
      at(
        'b',
        'spec.peerAddress',
        /duplicate peer: BGPPeer metalbeacon-system\/a already opens a session to 192.0.2.1 port 179/,
      ),
    );
  });

  it('rejects duplicate node selectors', () => {
    const sel = { matchLabels: { rack: '1' } };
    expectError(
      { peers: [peer('r', { nodeSelectors: [sel, sel] })] },
      at('r', 'spec.nodeSelectors[1]', /duplicate selector: same as spec.nodeSelectors\[0\]/),
    );
  });

  it('rejects an invalid node selector', () => {
    expectError(
      {
        peers: [
          peer('r', {
            nodeSelectors: [{ matchExpressions: [{ key: 'rack', operator: 'Exists', values: ['1'] }] }],
          }),
        ],
      },
      at('r', 'spec.nodeSelectors[0].matchExpressions[0].values', /operator Exists takes no values/),
    );
  });

  it('reports a missing password Secret as transient', () => {
    expectError(
      { peers: [peer('r', { passwordSecret: { name: 'missing' } })] },
      at('r', 'spec.passwordSecret', /Secret metalbeacon-system\/missing does not exist \(yet\)/, true),
    );
  });

  it('reports a password Secret the speaker may not read as transient, saying why', () => {
    expectError(
      {
        peers: [peer('r', { passwordSecret: { name: 'locked' } })],
        unreadableSecrets: new Map([['locked', 'the speaker may not read it (403 Forbidden)']]),
      },
      at(
        'r',
        'spec.passwordSecret',
        /Secret metalbeacon-system\/locked cannot be read: the speaker may not read it \(403 Forbidden\)/,
        true,
      ),
    );
  });

  it('names the password Secrets to read: only those in our namespace, each once', () => {
    const names = passwordSecretNames(
      [
        peer('a', { passwordSecret: { name: 's1' } }),
        peer('b', { passwordSecret: { name: 's1', namespace: 'metalbeacon-system' } }),
        peer('c', { passwordSecret: { name: 'elsewhere', namespace: 'default' } }),
        peer('d', { password: 'inline' }),
        peer('e', { passwordSecret: { name: 's2' } }),
      ],
      'metalbeacon-system',
    );
    assert.deepEqual([...names].sort(), ['s1', 's2']);
  });

  it('rejects a password Secret of the wrong type', () => {
    const secret = { ...basicAuthSecret('s', 'pw'), type: 'Opaque' };
    expectError(
      { peers: [peer('r', { passwordSecret: { name: 's' } })], secrets: [secret] },
      at('r', 'spec.passwordSecret', /has type "Opaque"; it must be kubernetes.io\/basic-auth/),
    );
  });

  it('rejects a password Secret without the key "password"', () => {
    const secret = {
      metadata: { name: 's', namespace: 'metalbeacon-system' },
      type: 'kubernetes.io/basic-auth',
      data: { username: 'eA==' },
    };
    expectError(
      { peers: [peer('r', { passwordSecret: { name: 's' } })], secrets: [secret] },
      at('r', 'spec.passwordSecret', /has no key "password"/),
    );
  });

  it('reports an unknown BFD profile as transient', () => {
    expectError(
      { peers: [peer('r', { bfdProfile: 'fast' })] },
      at('r', 'spec.bfdProfile', /BFDProfile "fast" does not exist \(yet\)/, true),
    );
  });

  for (const field of ['vrf', 'interface', 'dynamicASN'] as const) {
    it(`rejects the FRR-only field ${field} as unsupported`, () => {
      const value = field === 'dynamicASN' ? 'external' : 'x';
      expectError(
        { peers: [peer('r', { [field]: value })] },
        at('r', `spec.${field}`, /FRR-mode feature that MetalBeacon's BGP speaker does not support/),
      );
    });
  }
});

describe('valid peers', () => {
  it('derives timers as MetalLB does: default 90/30, keepalive = hold/3, hold = 3 x keepalive', () => {
    const config = expectConfig({
      peers: [
        peer('a', { peerAddress: '192.0.2.1' }),
        peer('b', { peerAddress: '192.0.2.2', holdTime: '1m' }),
        peer('c', { peerAddress: '192.0.2.3', keepaliveTime: '10s' }),
        peer('d', { peerAddress: '192.0.2.4', holdTime: '0' }),
        peer('e', { peerAddress: '192.0.2.5', holdTime: '4.6s', connectTime: '5s' }),
      ],
    });
    assert.deepEqual(
      config.peers.map((p) => [p.name, p.holdTimeSec, p.keepaliveTimeSec, p.connectTimeSec]),
      [
        ['a', 90, 30, undefined],
        ['b', 60, 20, undefined],
        ['c', 30, 10, undefined],
        ['d', 0, 0, undefined],
        ['e', 5, 1, 5],
      ],
    );
  });

  it('resolves the password from a basic-auth Secret and nodes from selectors', () => {
    const config = expectConfig({
      peers: [
        peer('r', {
          passwordSecret: { name: 's' },
          nodeSelectors: [{ matchLabels: { rack: '1' } }],
          bfdProfile: 'fast',
        }),
      ],
      secrets: [basicAuthSecret('s', 'sésame')],
      nodes: [node('n2', { rack: '1' }), node('n1', { rack: '1' }), node('n3', { rack: '2' })],
      bfdProfiles: [bfd('fast', {})],
    });
    const r = config.peers[0];
    assert.equal(r?.password, 'sésame');
    assert.deepEqual(r?.nodes, ['n1', 'n2']);
    assert.equal(r?.ibgp, false);
    assert.equal(r?.peerPort, 179);
    assert.equal(r?.bfdProfile, 'fast');
  });

  it('allows the same router address from disjoint node sets', () => {
    const config = expectConfig({
      peers: [
        peer('a', { nodeSelectors: [{ matchLabels: { rack: '1' } }] }),
        peer('b', { nodeSelectors: [{ matchLabels: { rack: '2' } }] }),
      ],
      nodes: [node('n1', { rack: '1' }), node('n2', { rack: '2' })],
    });
    assert.equal(config.peers.length, 2);
  });
});
