import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rankAnnouncers } from './choose-announcer.ts';
import { planNode } from './plan.ts';
import {
  configOf,
  inputFor,
  l2,
  l2Owners,
  l2Pool,
  nodeFacts,
  planAll,
  pool,
  service,
  three,
} from './test-helpers.ts';

const all = three.map((n) => ({ name: n.name, alive: true, eligible: true }));
const basic = configOf({ pools: [l2Pool], l2Advertisements: [l2('l2', { ipAddressPools: ['l2-pool'] })] });

test('L2: the owner of each IP is the first of the node#ip ranking, and only it announces', () => {
  const ips = ['198.51.100.1', '198.51.100.2', '198.51.100.3', '2001:db8:100::5'];
  const plans = planAll({ config: basic, services: ips.map((ip, i) => service(`s${i}`, [ip])) });
  const owners = l2Owners(plans);
  for (const ip of ips) assert.deepEqual(owners.get(ip), [rankAnnouncers(ip, all)[0]], ip);
  const owner = rankAnnouncers('198.51.100.1', all)[0]!;
  const announcement = plans.get(owner)!.l2.find((a) => a.ip === '198.51.100.1')!;
  assert.deepEqual(announcement, {
    ip: '198.51.100.1',
    interfaces: [],
    services: ['default/s0'],
    advertisements: ['l2'],
  });
  for (const [node, plan] of plans) {
    if (node === owner) continue;
    const skip = plan.skipped.find((s) => s.service === 'default/s0');
    assert.equal(skip?.code, 'notOwner');
    assert.match(skip.reason, new RegExp(owner));
  }
});

test('L2: only IPs in Service status are announced, in canonical form, each once', () => {
  const services = [service('a', ['2001:DB8:100:0::7', '2001:db8:100::7']), service('none', [])];
  const owners = l2Owners(planAll({ config: basic, services }));
  assert.deepEqual([...owners.keys()], ['2001:db8:100::7']);
  assert.equal(owners.get('2001:db8:100::7')!.length, 1);
});

test('L2: a Service without a serving endpoint is not announced by anyone, with a reason', () => {
  const plans = planAll({ config: basic, services: [service('idle', ['198.51.100.1'], { endpoints: [] })] });
  for (const plan of plans.values()) {
    assert.deepEqual(plan.l2, []);
    assert.deepEqual(
      plan.skipped.map((s) => [s.service, s.ip, s.code]),
      [['default/idle', undefined, 'noEndpoints']],
    );
  }
});

test('L2: a dead node is no candidate; this node is alive for itself even if membership omits it', () => {
  const ip = '198.51.100.9';
  const [first, second] = rankAnnouncers(ip, all);
  const cluster = { config: basic, services: [service('s', [ip])] };
  const others = three.map((n) => n.name).filter((n) => n !== first);
  const onSecond = planNode(inputFor({ ...cluster, alive: others }, second!));
  assert.deepEqual(
    onSecond.l2.map((a) => a.ip),
    [ip],
  );
  // The first node does not see itself in membership (alone, or not yet joined): it still announces.
  const onFirst = planNode({ ...inputFor(cluster, first!), aliveNodes: new Set() });
  assert.deepEqual(
    onFirst.l2.map((a) => a.ip),
    [ip],
  );
});

test('L2: excluded and NetworkUnavailable nodes announce nothing and are no candidates', () => {
  const ip = '198.51.100.10';
  const [first, second, third] = rankAnnouncers(ip, all);
  for (const [nodes, expected] of [
    [
      three.map((n) =>
        n.name === first
          ? nodeFacts(n.name, { 'node.kubernetes.io/exclude-from-external-load-balancers': '' })
          : n,
      ),
      second,
    ],
    [three.map((n) => (n.name === first ? nodeFacts(n.name, {}, true) : n)), second],
    [three.map((n) => (n.name === third ? n : nodeFacts(n.name, {}, true))), third],
  ] as const) {
    const plans = planAll({ config: basic, services: [service('s', [ip])], nodes });
    assert.deepEqual(l2Owners(plans).get(ip), [expected]);
    const skip = plans.get(first!)!.skipped.find((s) => s.protocol === 'L2');
    assert.ok(skip?.code === 'nodeExcluded' || skip?.code === 'nodeNetworkUnavailable', JSON.stringify(skip));
  }
});

test('L2: pools by name and by selector; an IP of an uncovered pool is skipped with a reason', () => {
  const other = pool('other', { addresses: ['198.51.100.64/26'] }, { tier: 'gold' });
  const third = pool('third', { addresses: ['198.51.100.192/26'] });
  const config = configOf({
    pools: [l2Pool, other, third],
    l2Advertisements: [
      l2('by-name', { ipAddressPools: ['l2-pool'] }),
      l2('by-selector', { ipAddressPoolSelectors: [{ matchLabels: { tier: 'gold' } }] }),
    ],
  });
  const services = [
    service('a', ['198.51.100.1']),
    service('b', ['198.51.100.65']),
    service('c', ['198.51.100.193']),
  ];
  const plans = planAll({ config, services });
  const owners = l2Owners(plans);
  assert.deepEqual([...owners.keys()].sort(), ['198.51.100.1', '198.51.100.65']);
  const anyPlan = plans.get('node-a')!;
  assert.deepEqual(
    anyPlan.skipped.filter((s) => s.service === 'default/c').map((s) => s.code),
    ['noAdvertisement'],
  );
  const ad = [...plans.values()].flatMap((p) => p.l2).find((a) => a.ip === '198.51.100.65')!;
  assert.deepEqual(ad.advertisements, ['by-selector']);
});

test('L2: the pool annotation picks the pool when it holds the IP; else the pool holding it; none: skipped', () => {
  const gold = pool('gold', { addresses: ['198.51.100.64/26'] });
  const config = configOf({
    pools: [l2Pool, gold],
    l2Advertisements: [l2('gold-only', { ipAddressPools: ['gold'] })],
  });
  const services = [
    service('stale', ['198.51.100.65'], { pool: 'l2-pool' }),
    service('right', ['198.51.100.66'], { pool: 'gold' }),
    service('wrong', ['198.51.100.1'], { pool: 'gold' }),
    service('outside', ['203.0.113.5']),
  ];
  const plans = planAll({ config, services });
  assert.deepEqual([...l2Owners(plans).keys()].sort(), ['198.51.100.65', '198.51.100.66']);
  const codes = plans.get('node-a')!.skipped.map((s) => [s.service, s.code]);
  assert.ok(
    codes.some(([s, c]) => s === 'default/wrong' && c === 'noAdvertisement'),
    JSON.stringify(codes),
  );
  assert.ok(
    codes.some(([s, c]) => s === 'default/outside' && c === 'noPool'),
    JSON.stringify(codes),
  );
});

test('L2: serviceSelectors restrict the Services an advertisement covers', () => {
  const config = configOf({
    pools: [l2Pool],
    l2Advertisements: [
      l2('web', { ipAddressPools: ['l2-pool'], serviceSelectors: [{ matchLabels: { app: 'web' } }] }),
    ],
  });
  const services = [
    service('web', ['198.51.100.1'], { labels: { app: 'web' } }),
    service('db', ['198.51.100.2']),
  ];
  const owners = l2Owners(planAll({ config, services }));
  assert.deepEqual([...owners.keys()], ['198.51.100.1']);
});

test('L2: nodeSelectors decide the candidates; an unselected node says why', () => {
  const ip = '198.51.100.11';
  const [first] = rankAnnouncers(ip, all);
  const nodes = three.map((n) => nodeFacts(n.name, n.name === first ? {} : { l2: 'yes' }));
  const config = configOf(
    { pools: [l2Pool], l2Advertisements: [l2('sel', { nodeSelectors: [{ matchLabels: { l2: 'yes' } }] })] },
    nodes,
  );
  const plans = planAll({ config, services: [service('s', [ip])], nodes });
  const others = all.filter((c) => c.name !== first);
  assert.deepEqual(l2Owners(plans).get(ip), [rankAnnouncers(ip, others)[0]]);
  assert.equal(plans.get(first!)!.skipped[0]?.code, 'notSelected');
});

test('L2: interfaces are the union over the matching advertisements, empty when one says all', () => {
  const ip = '198.51.100.12';
  const onlyA = (name: string, spec: object) =>
    l2(name, {
      ...spec,
      ipAddressPools: ['l2-pool'],
      nodeSelectors: [{ matchLabels: { 'kubernetes.io/hostname': 'node-a' } }],
    });
  const nodes = three.map((n) => nodeFacts(n.name, { 'kubernetes.io/hostname': n.name }));
  const run = (ads: ReturnType<typeof l2>[]) => {
    const config = configOf({ pools: [l2Pool], l2Advertisements: ads }, nodes);
    // Only node-a alive: it owns the IP whatever the ranking.
    return planNode(inputFor({ config, services: [service('s', [ip])], nodes, alive: ['node-a'] }, 'node-a'))
      .l2[0]!;
  };
  const two = run([
    onlyA('x', { interfaces: ['eth1', 'eth0'] }),
    onlyA('y', { interfaces: ['eth2', 'eth1'] }),
  ]);
  assert.deepEqual(two.interfaces, ['eth0', 'eth1', 'eth2']);
  assert.deepEqual(two.advertisements, ['x', 'y']);
  const withAll = run([onlyA('x', { interfaces: ['eth1'] }), onlyA('y', {})]);
  assert.deepEqual(withAll.interfaces, []);
  // An advertisement that does not select this node does not add its interfaces here.
  const elsewhere = l2('z', {
    ipAddressPools: ['l2-pool'],
    interfaces: ['eth9'],
    nodeSelectors: [{ matchLabels: { 'kubernetes.io/hostname': 'node-b' } }],
  });
  const notHere = run([onlyA('x', { interfaces: ['eth1'] }), elsewhere]);
  assert.deepEqual([notHere.interfaces, notHere.advertisements], [['eth1'], ['x']]);
});

test('L2, ETP Local: the owner is chosen among the nodes with a serving endpoint', () => {
  const ip = '198.51.100.13';
  const [first, second, third] = rankAnnouncers(ip, all) as [string, string, string];
  const plans = planAll({
    config: basic,
    services: [service('s', [ip], { etp: 'Local', endpoints: [third, second] })],
  });
  assert.deepEqual(l2Owners(plans).get(ip), [second]);
  assert.deepEqual(
    plans.get(first)!.skipped.map((s) => [s.code, s.protocol]),
    [['noLocalEndpoints', 'L2']],
  );
  assert.equal(plans.get(third)!.skipped[0]?.code, 'notOwner');
});

test('node selectors follow the Node facts, not the labels the Config was built with', () => {
  const ip = '198.51.100.14';
  // Built when no node had the label (a last-good Config kept after a rejected edit).
  const config = configOf({
    pools: [l2Pool],
    l2Advertisements: [l2('sel', { nodeSelectors: [{ matchLabels: { l2: 'yes' } }] })],
  });
  assert.deepEqual(config.l2Advertisements[0]!.nodes, []);
  const nodes = three.map((n) => nodeFacts(n.name, n.name === 'node-c' ? { l2: 'yes' } : {}));
  const plans = planAll({ config, services: [service('s', [ip])], nodes });
  assert.deepEqual(l2Owners(plans).get(ip), ['node-c']);
});
