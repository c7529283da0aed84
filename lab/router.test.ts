import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  parseBirdRoutes,
  parseKernelRoutes,
  parseRouteMonitorLine,
  routerBirdConfig,
  sameBirdInstant,
} from './router.ts';

// Output captured from BIRD 2.0.12 (`birdc show route` in the lab router) with three nodes
// announcing one IPv4 and one IPv6 Service IP.
const SHOW_ROUTE = `BIRD 2.0.12 ready.
Table master4:
198.51.100.64/32     unicast [node_1 09:20:56.799] * (100) [AS64512i]
\tvia 192.0.2.11 on eth0
                     unicast [node_2 09:20:56.789] (100) [AS64512i]
\tvia 192.0.2.12 on eth0
                     unicast [node_3 09:20:56.817] (100) [AS64512i]
\tvia 192.0.2.13 on eth0
198.51.100.65/32     unicast [node_2 09:21:00.001] * (100) [AS64512i]
\tvia 192.0.2.12 on eth0

Table master6:
2001:db8:100::40/128 unicast [node_1 09:20:56.799 from 192.0.2.11] * (100) [AS64512i]
\tvia 2001:db8:0:1::11 on eth0
                     unicast [node_2 09:20:56.789 from 192.0.2.12] (100) [AS64512i]
\tvia 2001:db8:0:1::12 on eth0
`;

/** A router with two nodes, without hold time or BFD. */
const TWO_NODES = {
  routerId: '192.0.2.1',
  localAddress: '192.0.2.1',
  localAs: 64513,
  peerAs: 64512,
  neighbors: [
    { name: 'node_1', address: '192.0.2.11' },
    { name: 'node_2', address: '192.0.2.12' },
  ],
};

describe('lab router', () => {
  it('parses every path of every prefix from birdc show route', () => {
    assert.deepEqual(parseBirdRoutes(SHOW_ROUTE), [
      {
        prefix: '198.51.100.64/32',
        paths: [
          { protocol: 'node_1', via: '192.0.2.11', best: true },
          { protocol: 'node_2', via: '192.0.2.12', best: false },
          { protocol: 'node_3', via: '192.0.2.13', best: false },
        ],
      },
      { prefix: '198.51.100.65/32', paths: [{ protocol: 'node_2', via: '192.0.2.12', best: true }] },
      {
        prefix: '2001:db8:100::40/128',
        paths: [
          { protocol: 'node_1', via: '2001:db8:0:1::11', best: true },
          { protocol: 'node_2', via: '2001:db8:0:1::12', best: false },
        ],
      },
    ]);
    assert.deepEqual(parseBirdRoutes('BIRD 2.0.12 ready.\nTable master4:\n'), []);
  });

  it('parses ECMP and single next hops from ip -j route', () => {
    const json =
      '[{"dst":"198.51.100.64","metric":32,"flags":[],"nexthops":[{"gateway":"192.0.2.11","dev":"eth0","weight":1,"flags":[]},' +
      '{"gateway":"192.0.2.12","dev":"eth0","weight":1,"flags":[]}]},' +
      '{"dst":"198.51.100.0/26","gateway":"192.0.2.13","dev":"eth0","flags":[]}]';
    assert.deepEqual(parseKernelRoutes(json, 'IPv4'), [
      { prefix: '198.51.100.64/32', nextHops: ['192.0.2.11', '192.0.2.12'] },
      { prefix: '198.51.100.0/26', nextHops: ['192.0.2.13'] },
    ]);
    assert.deepEqual(parseKernelRoutes('[{"dst":"2001:db8:100::40","gateway":"2001:db8:0:1::11"}]', 'IPv6'), [
      { prefix: '2001:db8:100::40/128', nextHops: ['2001:db8:0:1::11'] },
    ]);
    assert.deepEqual(parseKernelRoutes('', 'IPv4'), []);
  });

  it('configures eBGP per node with both families, a GRACEFUL_SHUTDOWN import policy and ECMP kernel export', () => {
    const conf = routerBirdConfig({ ...TWO_NODES, holdTimeSec: 9 });
    assert.equal(conf.match(/protocol bgp node_\d \{/g)?.length, 2);
    assert.match(conf, /neighbor 192\.0\.2\.12 as 64512;/);
    assert.equal(conf.match(/ipv4 \{ import filter gshut; export none; \};/g)?.length, 2);
    assert.equal(conf.match(/ipv6 \{ import filter gshut; export none; \};/g)?.length, 2);
    // RFC 8326 §4: GRACEFUL_SHUTDOWN routes lose to the others, so a draining node leaves ECMP.
    assert.match(conf, /filter gshut \{ if \(65535, 0\) ~ bgp_community then bgp_local_pref = 0; accept; \}/);
    assert.equal(conf.match(/merge paths on/g)?.length, 2);
    assert.match(conf, /hold time 9;/);
    assert.doesNotMatch(conf, /bfd/);
  });
  it('asks BFD for every session, `bfd graceful` only when told', () => {
    const timers = { minRxMs: 300, minTxMs: 300, multiplier: 3 };
    const plain = routerBirdConfig({ ...TWO_NODES, bfd: timers });
    assert.match(plain, /protocol bfd bfd1 \{/);
    assert.equal(plain.match(/^ {2}bfd on;$/gm)?.length, 2);
    const graceful = routerBirdConfig({ ...TWO_NODES, bfd: { ...timers, graceful: true } });
    assert.equal(graceful.match(/^ {2}bfd graceful;$/gm)?.length, 2);
    assert.doesNotMatch(graceful, /bfd on;/);
  });
  it('parses kernel route changes from ip -ts -o monitor route', () => {
    // Lines as ip 6.x prints them with -o (one message per line, its newlines as "\\").
    const at = Date.parse('2026-12-07T01:27:27.991Z') + 0.672;
    assert.deepEqual(
      parseRouteMonitorLine(
        '[2026-12-07T01:27:27.991672] 198.51.100.64 proto bird metric 32 \\\tnexthop via 192.0.2.13 dev eth0 weight 1 \\\tnexthop via 192.0.2.12 dev eth0 weight 1 ',
        'IPv4',
      ),
      { atMs: at, prefix: '198.51.100.64/32', nextHops: ['192.0.2.12', '192.0.2.13'] },
    );
    assert.deepEqual(
      parseRouteMonitorLine(
        '[2026-12-07T01:27:27.991672] 198.51.100.64 via 192.0.2.11 dev eth0 proto bird metric 32 ',
        'IPv4',
      ),
      { atMs: at, prefix: '198.51.100.64/32', nextHops: ['192.0.2.11'] },
    );
    assert.deepEqual(
      parseRouteMonitorLine(
        '[2026-12-07T01:27:27.991672] Deleted 198.51.100.64 via 192.0.2.11 dev eth0 proto bird metric 32 ',
        'IPv4',
      ),
      { atMs: at, prefix: '198.51.100.64/32', nextHops: [] },
    );
    assert.deepEqual(
      parseRouteMonitorLine(
        '[2026-12-07T01:27:27.991672] 2001:db8:100::40 proto bird metric 32 pref medium \\\tnexthop via 2001:db8:0:1::11 dev eth0 weight 1 ',
        'IPv6',
      )?.nextHops,
      ['2001:db8:0:1::11'],
    );
    // Not a route of ours, or not a route line at all.
    assert.equal(
      parseRouteMonitorLine(
        '[2026-12-07T01:27:27.991672] local 192.0.2.1 dev eth0 table local proto kernel',
        'IPv4',
      ),
      undefined,
    );
    assert.equal(parseRouteMonitorLine('198.51.100.64 via 192.0.2.11 dev eth0', 'IPv4'), undefined);
    assert.equal(parseRouteMonitorLine('', 'IPv4'), undefined);
  });
});

describe('sameBirdInstant', () => {
  it('takes one instant printed a millisecond apart as the same, a later state change as not', () => {
    assert.equal(sameBirdInstant('09:50:00.208', '09:50:00.207'), true);
    assert.equal(sameBirdInstant('09:50:00.208', '09:50:00.208'), true);
    assert.equal(sameBirdInstant('09:50:00.208', '09:50:00.300'), false);
    assert.equal(sameBirdInstant('09:50:00.208', '09:50:01.208'), false);
    assert.equal(sameBirdInstant('2026-12-06 09:50:00.208', '2026-12-07 09:50:00.208'), false);
    assert.equal(sameBirdInstant('2026-12-07 09:50:00.208', '2026-12-07 09:50:00.209'), true);
  });

  it('refuses what is not a BIRD time rather than calling it equal', () => {
    assert.throws(() => sameBirdInstant(undefined, '09:50:00.208'), /not BIRD times/);
    assert.throws(() => sameBirdInstant('up', 'up'), /not BIRD times/);
  });
});
