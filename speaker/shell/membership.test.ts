import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MembershipPeer } from '../membership/peers/peers.ts';
import { SpeakerMembership } from './membership.ts';
import { capturedLog, ScriptedMembership } from './test-helpers.ts';
import type { CachedNode, CachedPod } from './trim.ts';

const pod = (node: string, ip?: string): CachedPod => ({
  metadata: { namespace: 'metalbeacon-system', name: `speaker-${node}` },
  spec: { nodeName: node },
  status: { phase: 'Running', ...(ip ? { podIPs: [{ ip }] } : {}) },
});

async function started(pods: CachedPod[]) {
  const scripted = new ScriptedMembership();
  const { log, messages } = capturedLog();
  const world = {
    pods,
    nodes: [] as CachedNode[],
    replans: 0,
    fatal: [] as Error[],
    firstPeers: [] as readonly MembershipPeer[],
  };
  const membership = await SpeakerMembership.start({
    nodeName: 'node-a',
    log,
    pods: () => world.pods,
    nodes: () => world.nodes,
    start: async (peers) => {
      world.firstPeers = peers;
      return scripted;
    },
    replan: () => world.replans++,
    onFatal: (error) => world.fatal.push(error),
  });
  return { scripted, membership, world, messages };
}

describe('SpeakerMembership', () => {
  it('starts with the speaker Pods as peers; known peers leave this node and Pods without an address out', async () => {
    const { membership, world, scripted } = await started([
      pod('node-a', '192.0.2.11'),
      pod('node-b', '192.0.2.12'),
      pod('node-c'),
    ]);
    assert.deepEqual(
      world.firstPeers.map((p) => [p.name, p.address]),
      [
        ['node-a', '192.0.2.11'],
        ['node-b', '192.0.2.12'],
      ],
    );
    scripted.aliveNow = ['node-a'];
    assert.deepEqual(membership.peers(), { knownPeers: 1, alivePeers: 0 });
    scripted.aliveNow = ['node-a', 'node-b'];
    assert.deepEqual(membership.peers(), { knownPeers: 1, alivePeers: 1 });
  });

  it("passes holdings both ways: ours to membership, the peers' from it, and a change of theirs replans at once", async () => {
    const { membership, world, scripted } = await started([
      pod('node-a', '192.0.2.11'),
      pod('node-b', '192.0.2.12'),
    ]);
    membership.setHoldings(['198.51.100.1']);
    assert.deepEqual(scripted.holdingsSet, [['198.51.100.1']]);
    scripted.holdingsNow = new Map([['node-b', ['198.51.100.2']]]);
    const before = world.replans;
    scripted.emit('holdings-changed', scripted.holdingsNow, []);
    assert.equal(world.replans, before + 1);
    assert.deepEqual([...membership.holdings()], [['node-b', ['198.51.100.2']]]);
    // Restart in place: who restarts, and what the peers say we held, reach the plans.
    scripted.restartingNow = ['node-b'];
    scripted.emit('holdings-changed', scripted.holdingsNow, ['node-b']);
    assert.deepEqual(membership.restarting(), ['node-b']);
    scripted.resumedNow = ['198.51.100.3'];
    scripted.emit('resumed', ['198.51.100.3']);
    assert.equal(world.replans, before + 3);
    assert.deepEqual(membership.resumed(), ['198.51.100.3']);
    await membership.restart(10_000);
    assert.deepEqual(scripted.calls.at(-1), 'restart 10000');
  });

  it('hands membership the new peer list when the Pods change, and logs what it skipped', async () => {
    const { membership, world, scripted, messages } = await started([pod('node-a', '192.0.2.11')]);
    world.pods = [...world.pods, pod('node-c', '192.0.2.13')];
    scripted.problems = ['node-c: address family differs from the socket'];
    membership.updatePeers();
    assert.deepEqual(
      scripted.peerLists.at(-1)?.map((p) => p.name),
      ['node-a', 'node-c'],
    );
    assert.equal(membership.peers().knownPeers, 1);
    assert.ok(messages().includes('membership peer skipped'));
  });

  it("a peer's Node addresses are its sources too; only a change of the list reaches membership", async () => {
    const { membership, world, scripted } = await started([
      pod('node-a', '192.0.2.11'),
      pod('node-b', '192.0.2.12'),
    ]);
    world.pods = [...world.pods]; // the same Pods, another list: nothing to pass on
    membership.updatePeers();
    assert.equal(scripted.peerLists.length, 0);
    world.nodes = [
      {
        metadata: { name: 'node-b' },
        status: {
          addresses: [
            { type: 'InternalIP', address: '192.0.2.12' },
            { type: 'ExternalIP', address: '203.0.113.12' },
            { type: 'Hostname', address: 'node-b' },
          ],
        },
      },
    ];
    membership.updatePeers();
    assert.deepEqual(
      scripted.peerLists.at(-1)?.find((p) => p.name === 'node-b'),
      { name: 'node-b', address: '192.0.2.12', addresses: ['203.0.113.12'] },
    );
    membership.updatePeers();
    assert.equal(scripted.peerLists.length, 1, 'unchanged: not passed on again');
  });

  it('replans on every liveness change; a failed peer coming back asks once for our L2 IPs again', async () => {
    const { membership, world, scripted } = await started([
      pod('node-a', '192.0.2.11'),
      pod('node-b', '192.0.2.12'),
    ]);
    scripted.emit('settled', ['node-a', 'node-b']);
    scripted.emit('peer-failed', 'node-b', 3000);
    scripted.emit('alive-changed', ['node-a']);
    assert.equal(membership.takeRejoin(), false, 'a failure alone asks nothing');
    scripted.emit('alive-changed', ['node-a', 'node-b']);
    assert.equal(world.replans, 3);
    assert.equal(membership.takeRejoin(), true);
    assert.equal(membership.takeRejoin(), false, 'taken once');
  });

  it('a peer that left with a goodbye announced nothing of ours: its return asks nothing', async () => {
    const { membership, scripted } = await started([
      pod('node-a', '192.0.2.11'),
      pod('node-b', '192.0.2.12'),
    ]);
    scripted.emit('peer-failed', 'node-b', 3000);
    scripted.emit('peer-left', 'node-b');
    scripted.emit('alive-changed', ['node-a', 'node-b']);
    assert.equal(membership.takeRejoin(), false);
  });

  it('a dead membership worker is fatal; leave and close reach membership', async () => {
    const { membership, world, scripted } = await started([]);
    scripted.emit('error', new Error('worker exited with code 1'));
    assert.deepEqual(
      world.fatal.map((e) => e.message),
      ['worker exited with code 1'],
    );
    await membership.leave();
    await membership.close();
    assert.deepEqual(scripted.calls, ['leave', 'close']);
  });
});
