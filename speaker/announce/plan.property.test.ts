import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { NODE_EXCLUSION_LABEL } from '../../shared/api/names.ts';
import { matchesAnySelector } from '../../shared/config/selectors.ts';
import type { Config } from '../../shared/config/types.ts';
import { parseIp, rangeContains } from '../../shared/net/ip.ts';
import { planNode } from './plan.ts';
import {
  bgpAd,
  bgpPool,
  type Cluster,
  configOf,
  l2,
  l2Owners,
  l2Pool,
  nodeFacts,
  peer,
  pool,
  service,
} from './test-helpers.ts';
import type { NodeFacts, NodePlan, PlanInput, ServiceFacts } from './types.ts';

const NAMES = ['n0', 'n1', 'n2', 'n3', 'n4', 'n5'];
const IPS = [
  '198.51.100.1',
  '198.51.100.2',
  '198.51.100.3',
  '198.51.100.4',
  '2001:db8:100::1',
  '2001:db8:100::2',
  '198.51.100.130',
  '2001:db8:100::81',
];
const peers = [peer('r4', { peerAddress: '192.0.2.1' }), peer('r6', { peerAddress: '2001:db8:0:1::1' })];

/** A few configurations: plain, selective (nodes, Services, interfaces), and both modes on one pool. */
const CONFIGS: readonly Config[] = [
  configOf({
    pools: [l2Pool, bgpPool],
    peers,
    l2Advertisements: [l2('l2', { ipAddressPools: ['l2-pool'] })],
    bgpAdvertisements: [bgpAd('bgp', { ipAddressPools: ['bgp-pool'] })],
  }),
  configOf({
    pools: [l2Pool, bgpPool],
    peers,
    l2Advertisements: [
      l2('zone-a', { nodeSelectors: [{ matchLabels: { zone: 'a' } }], interfaces: ['eth0'] }),
      l2('web', {
        ipAddressPools: ['l2-pool'],
        serviceSelectors: [{ matchLabels: { app: 'web' } }],
        interfaces: ['eth1'],
      }),
    ],
    bgpAdvertisements: [
      bgpAd('zone-b', { nodeSelectors: [{ matchLabels: { zone: 'b' } }], communities: ['64512:1'] }),
    ],
  }),
  configOf({
    pools: [l2Pool, bgpPool],
    peers,
    l2Advertisements: [l2('every', {})],
    bgpAdvertisements: [bgpAd('every', { localPref: 50 })],
  }),
];

const rare = fc.integer({ min: 0, max: 5 }).map((x) => x === 0);
const clusterArb = fc
  .record({
    nodes: fc.array(fc.record({ zone: fc.constantFrom('a', 'b'), excluded: rare, unavailable: rare }), {
      minLength: 1,
      maxLength: NAMES.length,
    }),
    alive: fc.array(fc.boolean(), { minLength: NAMES.length, maxLength: NAMES.length }),
    services: fc.array(
      fc.record({
        ips: fc.subarray(IPS, { maxLength: 2 }),
        local: fc.boolean(),
        web: fc.boolean(),
        endpoints: fc.subarray(NAMES),
      }),
      { maxLength: 12 },
    ),
    config: fc.constantFrom(...CONFIGS),
  })
  .map(({ nodes, alive, services, config }): Cluster & { nodes: NodeFacts[]; alive: string[] } => {
    const facts = nodes.map((n, i) =>
      nodeFacts(
        NAMES[i]!,
        { zone: n.zone, ...(n.excluded ? { [NODE_EXCLUSION_LABEL]: '' } : {}) },
        n.unavailable,
      ),
    );
    return {
      config,
      nodes: facts,
      alive: facts.map((n) => n.name).filter((_, i) => alive[i]),
      services: services.map((s, i) =>
        service(`s${i}`, s.ips, {
          etp: s.local ? 'Local' : 'Cluster',
          endpoints: s.endpoints,
          labels: s.web ? { app: 'web' } : {},
        }),
      ),
    };
  });

/** The plans of the alive nodes (the dead ones run no speaker), all with the same membership view. */
function alivePlans(cluster: Cluster & { nodes: NodeFacts[]; alive: string[] }): Map<string, NodePlan> {
  return new Map(
    cluster.alive.map((name) => [
      name,
      planNode({
        nodeName: name,
        config: cluster.config,
        services: cluster.services,
        nodes: cluster.nodes,
        aliveNodes: new Set(cluster.alive),
      }),
    ]),
  );
}

/** Whether `node` may announce `svc`'s IP in L2, straight from the rules (no election). */
function mayAnnounce(config: Config, node: NodeFacts, svc: ServiceFacts, ip: string): boolean {
  if (Object.hasOwn(node.labels, NODE_EXCLUSION_LABEL) || node.networkUnavailable) return false;
  if (svc.endpointNodes.length === 0) return false;
  if (svc.externalTrafficPolicy === 'Local' && !svc.endpointNodes.includes(node.name)) return false;
  const value = parseIp(ip)!;
  const pool = config.pools.find((p) => p.ranges.some((r) => rangeContains(r, value)));
  return config.l2Advertisements.some(
    (ad) =>
      pool !== undefined &&
      ad.pools.includes(pool.name) &&
      matchesAnySelector(ad.serviceSelectors, svc.labels) &&
      matchesAnySelector(ad.nodeSelectors, node.labels),
  );
}

test('property: the plan is deterministic and ignores input order', () => {
  fc.assert(
    fc.property(clusterArb, fc.nat(), (cluster, pick) => {
      const node = cluster.nodes[pick % cluster.nodes.length]!.name;
      const input: PlanInput = {
        nodeName: node,
        config: cluster.config,
        services: cluster.services,
        nodes: cluster.nodes,
        aliveNodes: new Set(cluster.alive),
      };
      const shuffled: PlanInput = {
        ...input,
        services: [...cluster.services].reverse().map((s) => ({
          ...s,
          ips: [...s.ips].reverse(),
          endpointNodes: [...s.endpointNodes].reverse(),
        })),
        nodes: [...cluster.nodes].reverse(),
        aliveNodes: new Set([...cluster.alive].reverse()),
      };
      const plan = planNode(input);
      assert.deepEqual(planNode(input), plan);
      assert.deepEqual(planNode(shuffled), plan);
    }),
    { numRuns: 200 },
  );
});

test('property: each L2 IP has exactly one owner among the eligible alive nodes, shared by all its Services', () => {
  fc.assert(
    fc.property(clusterArb, (cluster) => {
      const plans = alivePlans(cluster);
      const owners = l2Owners(plans);
      for (const [ip, nodes] of owners) {
        assert.equal(nodes.length, 1, `${ip} announced by ${nodes.join(', ')}`);
        const owner = cluster.nodes.find((n) => n.name === nodes[0])!;
        const announcement = plans.get(owner.name)!.l2.find((a) => a.ip === ip)!;
        for (const key of announcement.services) {
          const svc = cluster.services.find((s) => s.key === key)!;
          assert.ok(
            mayAnnounce(cluster.config, owner, svc, ip),
            `${owner.name} may not announce ${key} ${ip}`,
          );
        }
      }
      for (const svc of cluster.services) {
        for (const ip of new Set(svc.ips)) {
          const someone = cluster.nodes.some(
            (n) => cluster.alive.includes(n.name) && mayAnnounce(cluster.config, n, svc, ip),
          );
          if (someone) assert.ok(owners.has(ip), `${svc.key} ${ip} has an eligible alive node but no owner`);
        }
      }
    }),
    { numRuns: 200 },
  );
});

/** IP -> owner over the alive nodes' plans. */
function ownersOf(cluster: Cluster & { nodes: NodeFacts[]; alive: string[] }): Map<string, string> {
  return new Map([...l2Owners(alivePlans(cluster))].map(([ip, nodes]) => [ip, nodes[0]!]));
}

test('property: removing a node moves no IP it does not own', () => {
  fc.assert(
    fc.property(clusterArb, fc.nat(), (cluster, pick) => {
      const removed = cluster.nodes[pick % cluster.nodes.length]!.name;
      const before = ownersOf(cluster);
      const after = ownersOf({
        ...cluster,
        nodes: cluster.nodes.filter((n) => n.name !== removed),
        alive: cluster.alive.filter((n) => n !== removed),
      });
      for (const [ip, owner] of before) {
        if (owner !== removed) assert.equal(after.get(ip), owner, `${ip} moved when ${removed} left`);
      }
    }),
    { numRuns: 200 },
  );
});

test('property: adding a node moves an IP only onto the new node', () => {
  fc.assert(
    fc.property(clusterArb, (cluster) => {
      const [added, ...rest] = cluster.nodes;
      if (!added || rest.length === 0) return;
      const before = ownersOf({
        ...cluster,
        nodes: rest,
        alive: cluster.alive.filter((n) => n !== added.name),
      });
      const after = ownersOf(cluster);
      for (const [ip, owner] of before) {
        const now = after.get(ip);
        assert.ok(
          now === owner || now === added.name,
          `${ip} moved from ${owner} to ${now} when ${added.name} joined`,
        );
      }
    }),
    { numRuns: 200 },
  );
});

test('balance: 1,000 IPs over 3 nodes, each node owns a fair share', () => {
  // Four documentation ranges of 256 addresses each (no traffic: the test only hashes).
  const config = configOf({
    pools: [
      pool('wide', {
        addresses: ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24', '2001:db8:100::/120'],
      }),
    ],
    l2Advertisements: [l2('l2', {})],
  });
  const prefixes = ['192.0.2.', '198.51.100.', '203.0.113.'];
  const services = Array.from({ length: 1000 }, (_, i) =>
    service(`s${i}`, [i < 768 ? `${prefixes[i >> 8]}${i & 255}` : `2001:db8:100::${(i - 768).toString(16)}`]),
  );
  assert.equal(new Set(services.map((s) => s.ips[0])).size, 1000);
  const nodes = ['node-a', 'node-b', 'node-c'];
  const counts = nodes.map(
    (nodeName) =>
      planNode({
        nodeName,
        config,
        services,
        nodes: nodes.map((n) => nodeFacts(n)),
        aliveNodes: new Set(nodes),
      }).l2.length,
  );
  assert.equal(
    counts.reduce((a, b) => a + b, 0),
    1000,
  );
  // Binomial(1000, 1/3): mean 333, standard deviation 14.9; 4 deviations either side.
  for (const [i, count] of counts.entries())
    assert.ok(count >= 273 && count <= 393, `${nodes[i]} owns ${count}`);
});

test('property: any ingress text, pool annotation or endpoint list gives a plan, never a crash', () => {
  const ipText = fc.oneof(fc.constantFrom(...IPS), fc.string({ maxLength: 20 }), fc.ipV4(), fc.ipV6());
  fc.assert(
    fc.property(
      clusterArb,
      fc.array(
        fc.tuple(
          fc.array(ipText, { maxLength: 3 }),
          fc.option(fc.string({ maxLength: 8 }), { nil: undefined }),
        ),
      ),
      (cluster, extra) => {
        const services = [
          ...cluster.services,
          ...extra.map(([ips, pool], i) => ({ ...service(`x${i}`, ips), pool })),
        ];
        const plan = planNode({
          nodeName: cluster.nodes[0]!.name,
          config: cluster.config,
          services,
          nodes: cluster.nodes,
          aliveNodes: new Set(cluster.alive),
        });
        for (const a of plan.l2) assert.ok(parseIp(a.ip), a.ip);
      },
    ),
    { numRuns: 200 },
  );
});
