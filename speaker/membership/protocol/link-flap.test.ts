import assert from 'node:assert/strict';
import { test } from 'node:test';
import { service } from '../../announce/test-helpers.ts';
import { Cluster, ipRanked, NAMES, type Name } from './test-cluster.ts';

// A node's LAN link down for a while, then up (the chaos fault "link-flap"), the API server
// answering every node throughout, replayed with three speakers' membership, planners and
// split-brain guards (test-cluster.ts). What the client sees: the nodes answering ARP for the IP
// that it can reach (not the unplugged one).

/** Runs the cluster until `untilMs`, recording who the client could reach for `ip` (repeats collapsed). */
function servedBy(cluster: Cluster, ip: string, untilMs: number, seen: string[] = []): string[] {
  cluster.run(untilMs, NAMES, () => {
    const reachable = cluster.owners(ip).filter((n) => !cluster.unplugged.has(n));
    const now = reachable.join('+') || '-';
    if (seen.at(-1) !== now) seen.push(now);
  });
  return seen;
}

/** Unplugs `node` for `ms`, then runs 4 s more; returns who served `ip`, from just before. */
function flap(cluster: Cluster, node: Name, ms: number, ip: string): string[] {
  const before = cluster.owners(ip).join('+');
  cluster.unplugged.add(node);
  const seen = servedBy(cluster, ip, cluster.nowMs + ms, [before]);
  cluster.unplugged.delete(node);
  return servedBy(cluster, ip, cluster.nowMs + 4000, seen);
}

test("a flap of the owner's link longer than the dead time moves its IP once: the node that took it keeps it", () => {
  const ip = ipRanked(['node-1', 'node-2', 'node-3']);
  const cluster = new Cluster([service('web', [ip], { endpoints: NAMES })]);
  cluster.run(1000);
  assert.deepEqual(cluster.owners(ip), ['node-1']);

  // node-1, the owner, unplugged for a second. It takes every peer for dead, and its guard, the
  // API server answering but its link without carrier, withholds the IP; back, it plans once it
  // hears its peers, whose holdings say node-2 has the IP. Before, it kept the IP through the
  // flap (the API server answers) and took it back from node-2 on its return, the ranking
  // preferring it among the two holders: node-1, -, node-2, node-1.
  cluster.watchFromMs = cluster.nowMs + 2000;
  assert.deepEqual(flap(cluster, 'node-1', 1000, ip), ['node-1', '-', 'node-2']);
  assert.deepEqual(cluster.owners(ip), ['node-2']);
  assert.deepEqual(cluster.overlaps, [], 'one answerer once the link is back and the views settled');

  // Now node-2, the holder the ranking does not prefer, flaps: the IP goes to the best ranked
  // node alive, node-1, once, and stays there when node-2 is back.
  cluster.watchFromMs = cluster.nowMs + 2000;
  assert.deepEqual(flap(cluster, 'node-2', 1000, ip), ['node-2', '-', 'node-1']);
  assert.deepEqual(cluster.owners(ip), ['node-1']);
  assert.deepEqual(cluster.overlaps, []);

  // A flap of node-3, which holds nothing, moves nothing.
  assert.deepEqual(flap(cluster, 'node-3', 1000, ip), ['node-1']);
});

test('a flap shorter than the dead time moves nothing, and the guard of the owner never withholds', () => {
  const ip = ipRanked(['node-1', 'node-2', 'node-3']);
  const cluster = new Cluster([service('web', [ip], { endpoints: NAMES })]);
  cluster.run(1000);
  const { deadAfterMs } = cluster.states['node-1'].config;
  assert.deepEqual(flap(cluster, 'node-1', deadAfterMs - 100, ip), ['node-1', '-', 'node-1']);
  assert.equal(cluster.guards['node-1'].withheld, false);
  assert.deepEqual(cluster.owners(ip), ['node-1']);
});
