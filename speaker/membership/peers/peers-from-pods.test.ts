import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nodeAddresses, type PodLike, peersFromPods } from './peers-from-pods.ts';

// The shell passes the informer's V1Pods; the type checker holds that a V1Pod is a PodLike.
function pod(name: string, nodeName: string | undefined, ips: string[], phase = 'Running'): PodLike {
  return {
    metadata: { namespace: 'metalbeacon-system', name },
    spec: { ...(nodeName ? { nodeName } : {}) },
    status: { phase, ...(ips.length ? { podIP: ips[0], podIPs: ips.map((ip) => ({ ip })) } : {}) },
  };
}

test('speaker Pods become peers named by their node, with the address of the family asked for', () => {
  const pods = [
    pod('speaker-b', 'node-b', ['192.0.2.12', '2001:db8:0:1::12']),
    pod('speaker-a', 'node-a', ['192.0.2.11', '2001:db8:0:1::11']),
  ];
  assert.deepEqual(peersFromPods(pods), {
    peers: [
      { name: 'node-a', address: '192.0.2.11', addresses: ['2001:db8:0:1::11'] },
      { name: 'node-b', address: '192.0.2.12', addresses: ['2001:db8:0:1::12'] },
    ],
    skipped: [],
  });
  assert.deepEqual(
    peersFromPods(pods, 'IPv6').peers.map((p) => p.address),
    ['2001:db8:0:1::11', '2001:db8:0:1::12'],
  );
});

test('Pods that cannot be peers are skipped with the reason; a terminating Pod stays', () => {
  const terminating = {
    ...pod('speaker-d', 'node-d', ['192.0.2.14']),
    metadata: {
      namespace: 'metalbeacon-system',
      name: 'speaker-d',
      deletionTimestamp: new Date('2026-01-01T00:00:00Z'),
    },
  };
  const result = peersFromPods(
    [
      pod('speaker-a', undefined, []),
      pod('speaker-b', 'node-b', []),
      pod('speaker-c', 'node-c', ['192.0.2.13'], 'Failed'),
      pod('speaker-e', 'node-e', ['192.0.2.15']),
      terminating,
    ],
    'IPv6',
  );
  assert.deepEqual(result.peers, []);
  const v4 = peersFromPods([terminating, pod('speaker-a', undefined, [])], 'IPv4');
  assert.deepEqual(v4.peers, [{ name: 'node-d', address: '192.0.2.14' }]);
  assert.deepEqual(result.skipped, [
    'pod metalbeacon-system/speaker-a: not scheduled to a node yet',
    'pod metalbeacon-system/speaker-b: no IPv6 address yet',
    'pod metalbeacon-system/speaker-c: Failed',
    'pod metalbeacon-system/speaker-d: no IPv6 address yet',
    'pod metalbeacon-system/speaker-e: no IPv6 address yet',
  ]);
});

test('two Pods on one node during a rolling update give one peer', () => {
  const result = peersFromPods([
    pod('speaker-new', 'node-a', ['192.0.2.11']),
    pod('speaker-old', 'node-a', ['192.0.2.11']),
  ]);
  assert.deepEqual(result.peers, [{ name: 'node-a', address: '192.0.2.11' }]);
});

test("a peer's other addresses: every IP of its Pods and its Node's InternalIP and ExternalIP", () => {
  const nodes = nodeAddresses([
    {
      metadata: { name: 'node-a' },
      status: {
        addresses: [
          { type: 'InternalIP', address: '192.0.2.11' },
          { type: 'ExternalIP', address: '203.0.113.11' },
          { type: 'Hostname', address: 'node-a.example' },
        ],
      },
    },
    { metadata: { name: 'node-b' } },
    { metadata: {} },
  ]);
  assert.deepEqual(
    [...nodes],
    [
      ['node-a', ['192.0.2.11', '203.0.113.11']],
      ['node-b', []],
    ],
  );
  const { peers } = peersFromPods(
    [
      pod('speaker-a', 'node-a', ['198.51.100.250', '2001:db8:0:1::11']),
      pod('speaker-b', 'node-b', ['192.0.2.12']),
    ],
    'IPv4',
    nodes,
  );
  assert.deepEqual(peers, [
    {
      name: 'node-a',
      address: '198.51.100.250',
      addresses: ['192.0.2.11', '2001:db8:0:1::11', '203.0.113.11'],
    },
    { name: 'node-b', address: '192.0.2.12' },
  ]);
});
