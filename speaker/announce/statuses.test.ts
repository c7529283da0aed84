import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StatusLabels } from '../../shared/api/names.ts';
import { rankAnnouncers } from './choose-announcer.ts';
import { planNode } from './plan.ts';
import { desiredStatuses, statusLabelValue, statusObjectName } from './statuses.ts';
import {
  bgpAd,
  bgpPool,
  configOf,
  inputFor,
  l2,
  l2Pool,
  nodeFacts,
  peer,
  planAll,
  service,
  three,
} from './test-helpers.ts';

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const config = configOf({
  pools: [l2Pool, bgpPool],
  l2Advertisements: [
    l2('eth', { ipAddressPools: ['l2-pool'], interfaces: ['eth1'] }),
    l2('v6-all', { ipAddressPools: ['l2-pool'], serviceSelectors: [{ matchLabels: { all: 'yes' } }] }),
  ],
  bgpAdvertisements: [bgpAd('bgp', { ipAddressPools: ['bgp-pool'] })],
  peers: [peer('r1', { peerAddress: '192.0.2.1' }), peer('r2', { peerAddress: '192.0.2.2' })],
});
const all = three.map((n) => ({ name: n.name, alive: true, eligible: true }));

test('desiredStatuses: one ServiceL2Status per announced Service, interfaces over its IPs', () => {
  const ip = '198.51.100.3';
  const owner = rankAnnouncers(ip, all)[0]!;
  const plan = planNode(
    inputFor({ config, services: [service('web', [ip], { namespace: 'shop' })], alive: [owner] }, owner),
  );
  const { l2: objects, bgp } = desiredStatuses(plan, owner, 'metalbeacon-system');
  assert.deepEqual(bgp, []);
  assert.deepEqual(objects, [
    {
      apiVersion: 'metalbeacon.io/v1beta1',
      kind: 'ServiceL2Status',
      metadata: {
        name: statusObjectName('l2', owner, 'shop/web'),
        namespace: 'metalbeacon-system',
        labels: {
          [StatusLabels.Node]: owner,
          [StatusLabels.ServiceName]: 'web',
          [StatusLabels.ServiceNamespace]: 'shop',
        },
      },
      status: { node: owner, serviceName: 'web', serviceNamespace: 'shop', interfaces: [{ name: 'eth1' }] },
    },
  ]);
  // A second IP of the same Service answered on every interface: the status says all (empty).
  const both = planNode(
    inputFor(
      {
        config,
        services: [service('web', [ip, '2001:db8:100::3'], { labels: { all: 'yes' } })],
        alive: [owner],
      },
      owner,
    ),
  );
  const [one] = desiredStatuses(both, owner).l2;
  assert.deepEqual(one?.status?.interfaces, []);
  assert.equal(one?.metadata.namespace, undefined);
});

test('desiredStatuses: one ServiceBGPStatus per advertised Service with its peers; none where nothing is advertised', () => {
  const services = [
    service('api', ['198.51.100.130']),
    service('local', ['198.51.100.131'], { etp: 'Local', endpoints: ['node-b'] }),
  ];
  const plans = planAll({ config, services });
  for (const [node, plan] of plans) {
    const { bgp } = desiredStatuses(plan, node);
    const expected = node === 'node-b' ? ['default/api', 'default/local'] : ['default/api'];
    assert.deepEqual(
      bgp.map((o) => `${o.status?.serviceNamespace}/${o.status?.serviceName}`),
      expected,
    );
    for (const o of bgp) {
      assert.deepEqual(o.status?.peers, ['r1', 'r2']);
      assert.equal(o.status?.node, node);
      assert.equal(o.metadata.labels?.[StatusLabels.Node], node);
    }
  }
});

test('status object names are valid, deterministic and unique per (Service, node)', () => {
  const seen = new Map<string, string>(); // object name -> what it is for
  const nodes = ['node-a', 'node-b', 'a.very.long.node.name.example.com', 'x'];
  const keys = ['default/web', 'default/web2', 'shop/web', 'a/b-c', 'a-b/c'];
  for (const kind of ['l2', 'bgp'] as const) {
    for (const node of nodes) {
      for (const key of keys) {
        const name = statusObjectName(kind, node, key);
        assert.match(name, DNS_SUBDOMAIN);
        assert.ok(name.length <= 253);
        assert.equal(statusObjectName(kind, node, key), name);
        const what = `${kind} ${node} ${key}`;
        assert.equal(seen.get(name), undefined, `${what} collides with ${seen.get(name)}`);
        seen.set(name, what);
      }
    }
  }
});

test('statusLabelValue keeps valid names and makes long node names valid and distinct', () => {
  assert.equal(statusLabelValue('node-a'), 'node-a');
  assert.equal(statusLabelValue('worker-1.example.com'), 'worker-1.example.com');
  const long = `${'n'.repeat(60)}.example.com`;
  const other = `${'n'.repeat(60)}.example.org`;
  for (const value of [statusLabelValue(long), statusLabelValue(other)]) {
    assert.ok(value.length <= 63 && LABEL_VALUE.test(value), value);
  }
  assert.notEqual(statusLabelValue(long), statusLabelValue(other));
  const plan = planNode(
    inputFor({ config, services: [service('api', ['198.51.100.130'])], nodes: [nodeFacts(long)] }, long),
  );
  const [status] = desiredStatuses(plan, long).bgp;
  assert.equal(status?.metadata.labels?.[StatusLabels.Node], statusLabelValue(long));
  assert.equal(status?.status?.node, long);
});
