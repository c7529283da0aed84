import assert from 'node:assert/strict';
import { test } from 'node:test';
import { service } from '../../announce/test-helpers.ts';
import { aliveMembers, initialState } from './protocol.ts';
import { Cluster, ipRanked, NAMES } from './test-cluster.ts';
import { at, testConfig } from './test-helpers.ts';

// The membership port blocked between two of three speakers (the chaos fault "membership-block"),
// replayed with their membership, planners and guards (test-cluster.ts).

test('membership port blocked between two nodes: the one that took the other for dead a moment and took its IP resolves with it to one owner within the bound', () => {
  // node-3 ranks first for the IP, node-1 second; node-1 holds it (it took it while node-3 was
  // away: a cable cut earlier, as in the chaos soak, seed 3, fault #14).
  const ip = ipRanked(['node-3', 'node-1', 'node-2']);
  const cluster = new Cluster([service('web', [ip], { endpoints: NAMES })]);
  cluster.down.add('node-3');
  cluster.run(1000);
  assert.deepEqual(cluster.owners(ip), ['node-1'], 'node-1 took it while node-3 was away');
  // node-3's speaker back (a new incarnation): the IP stays with its holder.
  cluster.down.delete('node-3');
  cluster.states['node-3'] = initialState(testConfig('node-3'), 10n, [...NAMES], at(cluster.nowMs));
  cluster.run(2000);
  assert.deepEqual(cluster.owners(ip), ['node-1'], 'sticky');
  assert.deepEqual(aliveMembers(cluster.states['node-3']), [...NAMES]);

  // The membership port blocked between node-1 and node-3 (both ways); node-3's tick comes
  // first, so node-3 takes node-1 for dead and plans before node-1's answer on the LAN path.
  const blockedAt = cluster.nowMs;
  cluster.udp = (from, to) =>
    !((from === 'node-1' && to === 'node-3') || (from === 'node-3' && to === 'node-1'));
  cluster.watchFromMs = blockedAt;
  cluster.run(blockedAt + 6000, ['node-3', 'node-1', 'node-2']);
  const views = NAMES.map((n) => aliveMembers(cluster.states[n]).length);
  assert.deepEqual(views, [3, 3, 3], 'everyone alive to everyone (the LAN path)');
  // node-3 took it for the moment node-1 was dead to it; since node-3 ranks first among the two
  // holders, node-1 yields as soon as it hears node-3's Holdings on the LAN path. Before the fix
  // both answered for the whole block (node-1 never heard that node-3 holds it).
  assert.ok(cluster.overlaps.length > 0, 'node-3 did take it for a moment (the case under test)');
  const { deadAfterMs, heartbeatIntervalMs } = cluster.states['node-1'].config;
  const late = cluster.overlaps.filter((o) => o.atMs > blockedAt + deadAfterMs + heartbeatIntervalMs);
  assert.deepEqual(
    late.slice(0, 3),
    [],
    'one answerer per IP from a dead time and a heartbeat after the block on',
  );
  assert.deepEqual(cluster.owners(ip), ['node-3']);

  // Unblocked: still one owner, the same.
  const owner = cluster.owners(ip);
  cluster.udp = () => true;
  cluster.run(blockedAt + 8000);
  assert.deepEqual(
    cluster.overlaps.filter((o) => o.atMs > blockedAt + 6000),
    [],
  );
  assert.deepEqual(cluster.owners(ip), owner);
});
