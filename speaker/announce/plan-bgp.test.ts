import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Config } from '../../shared/config/types.ts';
import { planNode } from './plan.ts';
import {
  bgpAd,
  bgpPool,
  configOf,
  inputFor,
  nodeFacts,
  peer,
  planAll,
  service,
  three,
} from './test-helpers.ts';
import type { NodePlan } from './types.ts';

const ebgp = peer('router', { peerAddress: '192.0.2.1', peerASN: 64513 });
const ibgp = peer('rr', { peerAddress: '192.0.2.2', peerASN: 64512 });
const v6 = peer('router6', { peerAddress: '2001:db8:0:1::1', peerASN: 64513 });
const basic = configOf({ pools: [bgpPool], peers: [ebgp, ibgp, v6], bgpAdvertisements: [bgpAd('all', {})] });

/** peer name -> prefixes, for one plan. */
const prefixes = (plan: NodePlan) =>
  Object.fromEntries(plan.peers.map((p) => [p.peer.name, p.routes.map((r) => r.prefix)]));

test('BGP, ETP Cluster: every node advertises the /32 and /128 to every peer of its family', () => {
  const plans = planAll({ config: basic, services: [service('s', ['198.51.100.130', '2001:db8:100::81'])] });
  for (const plan of plans.values()) {
    assert.deepEqual(prefixes(plan), {
      router: ['198.51.100.130/32'],
      router6: ['2001:db8:100::81/128'],
      rr: ['198.51.100.130/32'],
    });
    const route = plan.peers.find((p) => p.peer.name === 'router')!.routes[0]!;
    assert.deepEqual(route, {
      prefix: '198.51.100.130/32',
      localPref: undefined,
      communities: [],
      services: ['default/s'],
      advertisements: ['all'],
    });
  }
});

test('BGP: dualStackAddressFamily lets a peer carry the other family too', () => {
  const dual = peer('dual', { peerAddress: '192.0.2.3', dualStackAddressFamily: true });
  const config = configOf({ pools: [bgpPool], peers: [dual], bgpAdvertisements: [bgpAd('all', {})] });
  const plan = planNode(
    inputFor({ config, services: [service('s', ['198.51.100.130', '2001:db8:100::81'])] }, 'node-a'),
  );
  assert.deepEqual(prefixes(plan), { dual: ['198.51.100.130/32', '2001:db8:100::81/128'] });
});

test('BGP, ETP Local: only nodes with a serving endpoint advertise', () => {
  const services = [service('s', ['198.51.100.131'], { etp: 'Local', endpoints: ['node-b'] })];
  const plans = planAll({ config: basic, services });
  assert.deepEqual(prefixes(plans.get('node-b')!).router, ['198.51.100.131/32']);
  for (const node of ['node-a', 'node-c']) {
    const plan = plans.get(node)!;
    assert.deepEqual(prefixes(plan), { router: [], router6: [], rr: [] });
    assert.deepEqual(
      plan.skipped.map((s) => [s.ip, s.code, s.protocol]),
      [['198.51.100.131', 'noLocalEndpoints', 'BGP']],
    );
  }
});

test('BGP: no serving endpoint anywhere, nothing advertised (sessions stay)', () => {
  const plans = planAll({ config: basic, services: [service('s', ['198.51.100.131'], { endpoints: [] })] });
  for (const plan of plans.values()) {
    assert.deepEqual(prefixes(plan), { router: [], router6: [], rr: [] });
    assert.equal(plan.skipped[0]?.code, 'noEndpoints');
  }
});

test('BGP: aggregationLength(V6) masks the IP; two Services in one aggregate share the route', () => {
  const config = configOf({
    pools: [bgpPool],
    peers: [ebgp, v6],
    bgpAdvertisements: [bgpAd('agg', { aggregationLength: 26, aggregationLengthV6: 123 })],
  });
  const services = [service('a', ['198.51.100.150', '2001:db8:100::9f']), service('b', ['198.51.100.140'])];
  const plan = planNode(inputFor({ config, services }, 'node-c'));
  assert.deepEqual(prefixes(plan), { router: ['198.51.100.128/26'], router6: ['2001:db8:100::80/123'] });
  assert.deepEqual(plan.peers[0]!.routes[0]!.services, ['default/a', 'default/b']);
});

test('BGP: spec.peers limits the sessions an advertisement uses; no usable peer is a reason', () => {
  const config = configOf({
    pools: [bgpPool],
    peers: [ebgp, ibgp, v6],
    bgpAdvertisements: [bgpAd('to-router', { peers: ['router'] })],
  });
  const plan = planNode(
    inputFor({ config, services: [service('s', ['198.51.100.130', '2001:db8:100::81'])] }, 'node-a'),
  );
  assert.deepEqual(prefixes(plan), { router: ['198.51.100.130/32'], router6: [], rr: [] });
  assert.deepEqual(
    plan.skipped.map((s) => [s.ip, s.code]),
    [['2001:db8:100::81', 'noPeers']],
  );
});

test('BGP: LOCAL_PREF is the highest of the advertisements hitting a prefix, and only on iBGP', () => {
  const config = configOf({
    pools: [bgpPool],
    peers: [ebgp, ibgp],
    bgpAdvertisements: [bgpAd('low', { localPref: 100 })],
  });
  // The config builder rejects two LOCAL_PREFs on one pool/peers/nodes; the planner still
  // merges any Config it is given, taking the highest.
  const low = config.bgpAdvertisements[0]!;
  const merged: Config = {
    ...config,
    bgpAdvertisements: [
      low,
      { ...low, name: 'high', localPref: 300 },
      { ...low, name: 'none', localPref: undefined },
    ],
  };
  const plan = planNode(inputFor({ config: merged, services: [service('s', ['198.51.100.130'])] }, 'node-a'));
  const route = (name: string) => plan.peers.find((p) => p.peer.name === name)!.routes[0]!;
  assert.equal(route('rr').localPref, 300);
  assert.deepEqual(route('rr').advertisements, ['high', 'low', 'none']);
  assert.equal(route('router').localPref, undefined);
});

test('BGP: communities of several advertisements on one prefix are merged, sorted, without duplicates', () => {
  const config = configOf({
    pools: [bgpPool],
    peers: [ebgp],
    bgpAdvertisements: [
      bgpAd('one', { communities: ['64512:2', '64512:1'] }),
      bgpAd('two', { communities: ['64512:1', 'large:1:2:3'] }),
    ],
  });
  const plan = planNode(inputFor({ config, services: [service('s', ['198.51.100.130'])] }, 'node-b'));
  assert.deepEqual(
    plan.peers[0]!.routes[0]!.communities.map((c) => c.text),
    ['64512:1', '64512:2', 'large:1:2:3'],
  );
});

test('BGP: advertisement nodeSelectors pick the advertising nodes', () => {
  const nodes = three.map((n) => nodeFacts(n.name, n.name === 'node-c' ? {} : { bgp: 'on' }));
  const config = configOf(
    {
      pools: [bgpPool],
      peers: [ebgp],
      bgpAdvertisements: [bgpAd('sel', { nodeSelectors: [{ matchLabels: { bgp: 'on' } }] })],
    },
    nodes,
  );
  const plans = planAll({ config, services: [service('s', ['198.51.100.130'])], nodes });
  assert.deepEqual(prefixes(plans.get('node-a')!).router, ['198.51.100.130/32']);
  assert.deepEqual(prefixes(plans.get('node-c')!).router, []);
  assert.equal(plans.get('node-c')!.skipped[0]?.code, 'notSelected');
});

test('BGPPeer nodeSelectors decide the sessions of a node, with or without routes', () => {
  const nodes = three.map((n) => nodeFacts(n.name, { 'kubernetes.io/hostname': n.name }));
  const onlyB = peer('only-b', {
    peerAddress: '192.0.2.9',
    nodeSelectors: [{ matchLabels: { 'kubernetes.io/hostname': 'node-b' } }],
  });
  const config = configOf({ pools: [bgpPool], peers: [ebgp, onlyB] }, nodes);
  const plans = planAll({ config, services: [], nodes });
  assert.deepEqual(prefixes(plans.get('node-b')!), { 'only-b': [], router: [] });
  assert.deepEqual(prefixes(plans.get('node-a')!), { router: [] });
});

test('BGP: an excluded or NetworkUnavailable node keeps its sessions and advertises nothing', () => {
  const nodes = [
    nodeFacts('node-a', { 'node.kubernetes.io/exclude-from-external-load-balancers': 'true' }),
    nodeFacts('node-b', {}, true),
    nodeFacts('node-c'),
  ];
  const plans = planAll({ config: basic, services: [service('s', ['198.51.100.130'])], nodes });
  assert.deepEqual(prefixes(plans.get('node-c')!).router, ['198.51.100.130/32']);
  for (const [node, code] of [
    ['node-a', 'nodeExcluded'],
    ['node-b', 'nodeNetworkUnavailable'],
  ] as const) {
    const plan = plans.get(node)!;
    assert.deepEqual(prefixes(plan), { router: [], router6: [], rr: [] });
    assert.deepEqual(
      plan.skipped.map((s) => s.code),
      [code],
    );
  }
});

test('a node without a Node object announces nothing and runs no session', () => {
  const plan = planNode(inputFor({ config: basic, services: [service('s', ['198.51.100.130'])] }, 'node-x'));
  assert.deepEqual(plan.peers, []);
  assert.deepEqual(
    plan.skipped.map((s) => s.code),
    ['nodeUnknown'],
  );
});
