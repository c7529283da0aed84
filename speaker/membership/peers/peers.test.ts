import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type LocalSocket, resolvePeers, sourceTable } from './peers.ts';

const dualStack: LocalSocket = { nodeName: 'node-a', port: 7951, family: 'IPv6', dualStack: true };
const v4Only: LocalSocket = { nodeName: 'node-a', port: 7951, family: 'IPv4', dualStack: false };

test('peers become destinations on our port unless they name one; IPv4 is mapped on a dual-stack socket', () => {
  const { destinations, problems } = resolvePeers(
    [
      { name: 'node-a', address: '192.0.2.11' },
      { name: 'node-b', address: '192.0.2.12' },
      { name: 'node-c', address: '2001:db8:0:1::13', port: 8000 },
    ],
    dualStack,
  );
  assert.deepEqual(problems, [], 'this node is skipped silently');
  assert.deepEqual(Object.fromEntries(destinations), {
    'node-b': { address: '::ffff:192.0.2.12', port: 7951 },
    'node-c': { address: '2001:db8:0:1::13', port: 8000 },
  });
  const plain = resolvePeers([{ name: 'node-b', address: '192.0.2.12' }], v4Only);
  assert.deepEqual(plain.destinations.get('node-b'), { address: '192.0.2.12', port: 7951 });
});

test('a bad address, a bad port or IPv6 on an IPv4 socket skips that peer only, with the reason', () => {
  const { destinations, problems } = resolvePeers(
    [
      { name: 'node-b', address: 'node-b.example' },
      { name: 'node-c', address: '192.0.2.13', port: 0 },
      { name: 'node-d', address: '192.0.2.14', port: 65536 },
      { name: 'node-e', address: '192.0.2.15', port: 1.5 },
      { name: 'node-f', address: '2001:db8:0:1::16' },
      { name: 'node-g', address: '192.0.2.17/32' },
      { name: 'node-h', address: '192.0.2.18' },
    ],
    v4Only,
  );
  assert.deepEqual(problems, [
    'peer node-b: address "node-b.example" is not an IP address',
    'peer node-c: port 0 is invalid',
    'peer node-d: port 65536 is invalid',
    'peer node-e: port 1.5 is invalid',
    'peer node-f: IPv6 address on an IPv4 socket',
    'peer node-g: address "192.0.2.17/32" is not an IP address',
  ]);
  assert.deepEqual([...destinations.keys()], ['node-h']);
});

test('source table: every address of every resolvable peer, IPv4 also IPv4-mapped, with the port it sends from', () => {
  const table = sourceTable(
    [
      { name: 'node-a', address: '192.0.2.11' },
      { name: 'node-b', address: '192.0.2.12', addresses: ['2001:DB8:0:1:0:0:0:12', 'not-an-ip'] },
      { name: 'node-c', address: '2001:db8:0:1::13', port: 8000 },
      { name: 'node-d', address: 'node-d.example' },
      { name: 'node-e', address: '192.0.2.12' },
    ],
    dualStack,
  );
  const flat = [...table].map(([source, names]) => [source, Object.fromEntries(names)]);
  assert.deepEqual(flat, [
    ['192.0.2.12', { 'node-b': 7951, 'node-e': 7951 }],
    ['::ffff:192.0.2.12', { 'node-b': 7951, 'node-e': 7951 }],
    ['2001:db8:0:1::12', { 'node-b': 7951 }],
    ['2001:db8:0:1::13', { 'node-c': 8000 }],
  ]);
});
