import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseIp } from '../../shared/net/ip.ts';
import { desiredStatusObjects } from '../status/status-objects.ts';
import {
  announcedCounts,
  announceFailures,
  appliedPlan,
  assignedMessages,
  withdrawnPlan,
} from './applied-plan.ts';
import type { BgpRoute, NodePlan, PeerPlan } from './types.ts';

const route = (prefix: string, services: string[]): BgpRoute => ({
  prefix,
  localPref: undefined,
  communities: [],
  services,
  advertisements: ['bgp'],
});
const peer = (name: string, routes: BgpRoute[]): PeerPlan => ({
  peer: { name, peerAddress: parseIp('192.0.2.1')! } as never,
  routes,
});

// web: L2 on two IPs; api: BGP to two routers; both: L2 and BGP.
const plan: NodePlan = {
  l2: [
    { ip: '198.51.100.1', interfaces: ['eth0'], services: ['default/web'], advertisements: ['l2'] },
    { ip: '2001:db8:100::1', interfaces: [], services: ['default/web'], advertisements: ['l2'] },
    { ip: '198.51.100.3', interfaces: [], services: ['default/both'], advertisements: ['l2'] },
  ],
  peers: [
    peer('r1', [route('198.51.100.2/32', ['default/api']), route('198.51.100.3/32', ['default/both'])]),
    peer('r2', [route('198.51.100.2/32', ['default/api'])]),
  ],
  skipped: [{ service: 'default/x', ip: undefined, reason: 'no IP assigned yet' }],
};
const none = { l2: new Map<string, string>(), bgp: new Map<string, string>() };
const statusSummary = (p: NodePlan) =>
  desiredStatusObjects(p, 'node-a').map((o) => [o.kind, o.labels['metalbeacon.io/service-name'], o.status]);

describe('appliedPlan', () => {
  it('is the plan itself when nothing failed', () => {
    assert.equal(appliedPlan(plan, none), plan);
  });

  it('drops the L2 IPs that failed and the peers that did not start, and with them their status objects', () => {
    const applied = appliedPlan(plan, {
      l2: new Map([
        ['198.51.100.1', 'cannot announce 198.51.100.1: eth0: Operation not permitted'],
        ['198.51.100.3', 'cannot announce 198.51.100.3: Operation not permitted'],
      ]),
      bgp: new Map([['r1', 'no IPv4 address on this node for the BGP router ID; set spec.routerID']]),
    });
    assert.deepEqual(
      applied.l2.map((a) => a.ip),
      ['2001:db8:100::1'],
    );
    assert.deepEqual(
      applied.peers.map((p) => p.peer.name),
      ['r2'],
    );
    assert.deepEqual(applied.skipped, plan.skipped);
    // web is still announced on its other IP (every interface); api to r2 only; both not at all.
    assert.deepEqual(statusSummary(applied), [
      [
        'ServiceL2Status',
        'web',
        { node: 'node-a', serviceName: 'web', serviceNamespace: 'default', interfaces: [] },
      ],
      [
        'ServiceBGPStatus',
        'api',
        { node: 'node-a', serviceName: 'api', serviceNamespace: 'default', peers: ['r2'] },
      ],
    ]);
  });

  it('leaves no status object when every announcement failed', () => {
    const applied = appliedPlan(plan, {
      l2: new Map(plan.l2.map((a) => [a.ip, 'refused'])),
      bgp: new Map([
        ['r1', 'no router ID'],
        ['r2', 'no router ID'],
      ]),
    });
    assert.deepEqual(applied.l2, []);
    assert.deepEqual(applied.peers, []);
    assert.deepEqual(statusSummary(applied), []);
    assert.equal(statusSummary(plan).length, 4, 'the plan itself wants four');
  });
});

describe('announceFailures', () => {
  it('is empty when nothing failed', () => {
    assert.deepEqual(announceFailures(plan, none, 'node-a'), []);
  });

  it('names node and cause, one per (Service, failed IP or peer), sorted', () => {
    const failures = announceFailures(
      plan,
      {
        l2: new Map([
          ['198.51.100.3', 'cannot announce 198.51.100.3: Operation not permitted'],
          ['203.0.113.9', 'not in the plan: ignored'],
        ]),
        bgp: new Map([
          ['r1', 'no router ID'],
          ['r2', 'no router ID'],
        ]),
      },
      'node-a',
    );
    assert.deepEqual(failures, [
      { service: 'default/api', topic: 'bgp r1', message: 'bgp to r1 on node-a: no router ID' },
      { service: 'default/api', topic: 'bgp r2', message: 'bgp to r2 on node-a: no router ID' },
      { service: 'default/both', topic: 'bgp r1', message: 'bgp to r1 on node-a: no router ID' },
      {
        service: 'default/both',
        topic: 'layer2 198.51.100.3',
        message: 'layer2 on node-a: cannot announce 198.51.100.3: Operation not permitted',
      },
    ]);
  });

  it('gives one failure per Service and peer even when several of its prefixes go to that peer', () => {
    const twoPrefixes: NodePlan = {
      l2: [],
      peers: [
        peer('r1', [
          route('198.51.100.2/32', ['default/api']),
          route('2001:db8:100::2/128', ['default/api']),
        ]),
      ],
      skipped: [],
    };
    assert.deepEqual(announceFailures(twoPrefixes, { l2: new Map(), bgp: new Map([['r1', 'down']]) }, 'n'), [
      { service: 'default/api', topic: 'bgp r1', message: 'bgp to r1 on n: down' },
    ]);
  });
});

describe('withdrawnPlan', () => {
  it('keeps every peer with no route and no L2 IP, and the skipped list', () => {
    const withdrawn = withdrawnPlan(plan);
    assert.deepEqual(withdrawn.l2, []);
    assert.deepEqual(
      withdrawn.peers.map((p) => [p.peer.name, p.routes.length]),
      [
        ['r1', 0],
        ['r2', 0],
      ],
    );
    assert.equal(withdrawn.skipped, plan.skipped);
    assert.deepEqual(statusSummary(withdrawn), []);
  });
});

describe('assignedMessages', () => {
  it('says per Service what the node does, each thing once and sorted', () => {
    assert.deepEqual(
      [...assignedMessages(plan, 'node-a')],
      [
        ['default/web', 'announcing from node node-a: layer2 198.51.100.1 on eth0; layer2 2001:db8:100::1'],
        ['default/both', 'announcing from node node-a: bgp 198.51.100.3/32 to r1; layer2 198.51.100.3'],
        ['default/api', 'announcing from node node-a: bgp 198.51.100.2/32 to r1; bgp 198.51.100.2/32 to r2'],
      ],
    );
  });

  it('reads the same whatever the order of the plan', () => {
    const reversed: NodePlan = { ...plan, l2: [...plan.l2].reverse(), peers: [...plan.peers].reverse() };
    const sorted = (m: Map<string, string>) => [...m].sort(([a], [b]) => (a < b ? -1 : 1));
    assert.deepEqual(sorted(assignedMessages(reversed, 'node-a')), sorted(assignedMessages(plan, 'node-a')));
    assert.equal(assignedMessages(withdrawnPlan(plan), 'node-a').size, 0);
  });
});

describe('announcedCounts', () => {
  it('counts Services per protocol, L2 IPs, and prefixes once over every peer', () => {
    assert.deepEqual(announcedCounts(plan), { l2Services: 2, bgpServices: 2, l2Ips: 3, bgpPrefixes: 2 });
    assert.deepEqual(announcedCounts(withdrawnPlan(plan)), {
      l2Services: 0,
      bgpServices: 0,
      l2Ips: 0,
      bgpPrefixes: 0,
    });
  });
});
