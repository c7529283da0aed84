import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseIp } from '../../shared/net/ip.ts';
import { GRACEFUL_RESTART_TIME_SEC, routerIdFor, routesFor, sessionPeerConfig } from './bgp-peers.ts';
import { peerConfig } from './test-helpers.ts';

describe('routerIdFor', () => {
  it('takes the configured router ID first', () => {
    assert.equal(
      routerIdFor(peerConfig({ routerId: parseIp('192.0.2.200')! }), ['192.0.2.11']),
      '192.0.2.200',
    );
  });
  it('else the first non-loopback IPv4 of the node', () => {
    assert.equal(
      routerIdFor(peerConfig(), ['2001:db8::1', '127.0.0.1', '192.0.2.11', '192.0.2.12']),
      '192.0.2.11',
    );
  });
});

describe('sessionPeerConfig', () => {
  it('maps a plain eBGP peer', () => {
    assert.deepEqual(sessionPeerConfig(peerConfig(), '192.0.2.11'), {
      localAs: 64512,
      peerAs: 64513,
      peerAddress: '192.0.2.1',
      peerPort: 179,
      routerId: '192.0.2.11',
      holdTimeSec: 90,
      keepaliveSec: 30,
    });
  });
  it('maps source, connect time, multihop, password and graceful restart', () => {
    const config = sessionPeerConfig(
      peerConfig({
        peerAddress: parseIp('2001:db8:0:1::1')!,
        sourceAddress: parseIp('2001:db8:0:1::11')!,
        connectTimeSec: 3,
        ebgpMultiHop: true,
        password: 'secret',
        enableGracefulRestart: true,
        holdTimeSec: 0,
      }),
      '192.0.2.11',
    );
    assert.equal(config.peerAddress, '2001:db8:0:1::1');
    assert.equal(config.sourceAddress, '2001:db8:0:1::11');
    assert.equal(config.connectTimeMs, 3000);
    assert.equal(config.ebgpMultiHop, 255);
    assert.equal(config.password, 'secret');
    assert.equal(config.gracefulRestartTimeSec, GRACEFUL_RESTART_TIME_SEC);
    assert.equal(config.holdTimeSec, 0);
    assert.equal(config.keepaliveSec, undefined, 'no keepalive with hold time 0');
  });
  it('does not set a multihop TTL on iBGP (255 already)', () => {
    const config = sessionPeerConfig(
      peerConfig({ ibgp: true, peerAsn: 64512, ebgpMultiHop: true }),
      '192.0.2.11',
    );
    assert.equal(config.ebgpMultiHop, undefined);
  });
});

describe('routesFor', () => {
  it('splits standard and large communities and keeps local preference', () => {
    const routes = routesFor([
      {
        prefix: '198.51.100.7/32',
        localPref: 200,
        communities: [
          { kind: 'standard', value: (65001 << 16) | 100, text: '65001:100' },
          { kind: 'large', globalAdmin: 1, localData1: 2, localData2: 3, text: 'large:1:2:3' },
        ],
        services: ['a/b'],
        advertisements: ['ads'],
      },
      { prefix: '198.51.100.8/32', localPref: undefined, communities: [], services: [], advertisements: [] },
    ]);
    assert.deepEqual(
      [...routes],
      [
        [
          '198.51.100.7/32',
          {
            communities: [(65001 << 16) | 100],
            largeCommunities: [{ globalAdmin: 1, localData1: 2, localData2: 3 }],
            localPref: 200,
          },
        ],
        ['198.51.100.8/32', {}],
      ],
    );
  });
});
