import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { PeerConfig } from '../../shared/config/types.ts';
import { peerChanges, sessionChanged } from './peer-changes.ts';
import { planNode } from './plan.ts';
import { bgpAd, bgpPool, configOf, inputFor, peer, service } from './test-helpers.ts';
import type { PeerPlan } from './types.ts';

const names = (plans: readonly PeerPlan[]) => plans.map((p) => p.peer.name);
const peersOf = (cr: Parameters<typeof configOf>[0], ips: string[] = ['198.51.100.130']) =>
  planNode(inputFor({ config: configOf(cr), services: [service('s', ips)] }, 'node-a')).peers;

const a = peer('a', { peerAddress: '192.0.2.1' });
const b = peer('b', { peerAddress: '192.0.2.2' });
const c = peer('c', { peerAddress: '192.0.2.3' });
const ads = [bgpAd('all', {})];

test('peerChanges: from nothing every session starts; to nothing every session stops', () => {
  const plans = peersOf({ pools: [bgpPool], peers: [b, a], bgpAdvertisements: ads });
  const first = peerChanges(undefined, plans);
  assert.deepEqual([names(first.start), first.stop, first.restart, first.update], [['a', 'b'], [], [], []]);
  const last = peerChanges(plans, []);
  assert.deepEqual([last.start, names(last.stop), last.restart, last.update], [[], ['a', 'b'], [], []]);
});

test('peerChanges: a peer whose hold time changed restarts alone; one added starts; one removed stops', () => {
  const before = peersOf({ pools: [bgpPool], peers: [a, b], bgpAdvertisements: ads });
  const after = peersOf({
    pools: [bgpPool],
    peers: [a, peer('b', { peerAddress: '192.0.2.2', holdTime: '30s' }), c],
    bgpAdvertisements: ads,
  });
  const changes = peerChanges(before, after);
  assert.deepEqual(
    [names(changes.start), names(changes.stop), names(changes.restart), names(changes.update)],
    [['c'], [], ['b'], []],
  );
  const removed = peerChanges(after, before);
  assert.deepEqual([names(removed.stop), names(removed.restart)], [['c'], ['b']]);
});

test('peerChanges: new routes update every session in place; identical plans change nothing', () => {
  const cr = { pools: [bgpPool], peers: [a, b], bgpAdvertisements: ads };
  const before = peersOf(cr);
  const same = peerChanges(before, peersOf(cr));
  assert.deepEqual([same.start, same.stop, same.restart, same.update], [[], [], [], []]);
  const more = peerChanges(before, peersOf(cr, ['198.51.100.130', '198.51.100.131']));
  assert.deepEqual([more.start, more.stop, more.restart, names(more.update)], [[], [], [], ['a', 'b']]);
});

test('peerChanges: a peer that changes its nodeSelectors only (still on this node) is not touched', () => {
  const before = peersOf({ pools: [bgpPool], peers: [a], bgpAdvertisements: ads });
  const selected = peer('a', {
    peerAddress: '192.0.2.1',
    nodeSelectors: [{ matchExpressions: [{ key: 'x', operator: 'DoesNotExist' }] }],
  });
  const after = peersOf({ pools: [bgpPool], peers: [selected], bgpAdvertisements: ads });
  assert.notDeepEqual(before[0]!.peer.nodeSelectors, after[0]!.peer.nodeSelectors);
  const changes = peerChanges(before, after);
  assert.deepEqual([changes.start, changes.stop, changes.restart, changes.update], [[], [], [], []]);
});

test('sessionChanged: every session field restarts, node placement does not', () => {
  const base = peersOf({ pools: [bgpPool], peers: [a], bgpAdvertisements: ads })[0]!.peer;
  const changed: Partial<PeerConfig>[] = [
    { myAsn: 64600 },
    { peerAsn: 64601 },
    { ibgp: true },
    { peerAddress: { family: 'IPv4', value: 1n } },
    { peerPort: 1179 },
    { sourceAddress: { family: 'IPv4', value: 2n } },
    { routerId: { family: 'IPv4', value: 3n } },
    { holdTimeSec: 9 },
    { keepaliveTimeSec: 1 },
    { connectTimeSec: 5 },
    { ebgpMultiHop: true },
    { password: 'secret' },
    { bfdProfile: 'fast' },
    { enableGracefulRestart: true },
    { dualStackAddressFamily: true },
  ];
  for (const change of changed)
    assert.equal(
      sessionChanged(base, { ...base, ...change }),
      true,
      JSON.stringify(change, (_k, v) => (typeof v === 'bigint' ? String(v) : v)),
    );
  assert.equal(
    sessionChanged(base, { ...base, nodes: ['node-z'], nodeSelectors: [{ matchLabels: { x: 'y' } }] }),
    false,
  );
  assert.equal(sessionChanged(base, { ...base }), false);
});

test('property: start/stop/restart/update partition the peers, and only what differs is touched', () => {
  const template = peersOf({ pools: [bgpPool], peers: [a], bgpAdvertisements: ads })[0]!;
  const route = (i: number) => ({ ...template.routes[0]!, prefix: `198.51.100.${128 + i}/32` });
  const planArb = fc
    .uniqueArray(
      fc.record({
        name: fc.constantFrom('p1', 'p2', 'p3', 'p4'),
        hold: fc.constantFrom(90, 30),
        routes: fc.subarray([0, 1, 2]),
      }),
      { selector: (p) => p.name, maxLength: 4 },
    )
    .map((specs) =>
      specs.map(
        (s): PeerPlan => ({
          peer: { ...template.peer, name: s.name, holdTimeSec: s.hold },
          routes: s.routes.map(route),
        }),
      ),
    );
  fc.assert(
    fc.property(planArb, planArb, (before, after) => {
      const changes = peerChanges(before, after);
      const had = new Set(names(before));
      const has = new Set(names(after));
      assert.deepEqual(names(changes.start), [...has].filter((n) => !had.has(n)).sort());
      assert.deepEqual(names(changes.stop), [...had].filter((n) => !has.has(n)).sort());
      for (const plan of after) {
        const old = before.find((p) => p.peer.name === plan.peer.name);
        if (!old) continue;
        const restarted = names(changes.restart).includes(plan.peer.name);
        const updated = names(changes.update).includes(plan.peer.name);
        assert.equal(restarted, old.peer.holdTimeSec !== plan.peer.holdTimeSec, plan.peer.name);
        const sameRoutes = JSON.stringify(old.routes) === JSON.stringify(plan.routes);
        assert.equal(updated, !restarted && !sameRoutes, plan.peer.name);
      }
      const none = peerChanges(after, after);
      assert.equal(none.start.length + none.stop.length + none.restart.length + none.update.length, 0);
    }),
  );
});
