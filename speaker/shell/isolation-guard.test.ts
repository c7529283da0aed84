import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualTimers } from '../../shared/daemon/manual-timers.ts';
import { REGATHER_MS } from '../membership/isolation/split-brain.ts';
import { apiAnswers, IsolationGuard, type PeerCounts } from './isolation-guard.ts';
import { SpeakerMetrics } from './metrics.ts';
import { capturedLog, l2At, peerPlan, planOf, route } from './test-helpers.ts';

const plan = planOf([l2At('198.51.100.1')], [peerPlan('r1', [route('198.51.100.2/32', ['default/api'])])]);

/** A guard whose peers and API server the test sets; probes and replans are counted. */
function guarded(peers: PeerCounts, reachable: boolean) {
  const timers = new ManualTimers();
  const metrics = new SpeakerMetrics();
  const { log, messages } = capturedLog();
  const world = { peers, reachable, probes: 0, replans: 0 };
  const guard = new IsolationGuard({
    log,
    metrics,
    timers,
    peers: () => world.peers,
    probe: async () => {
      world.probes++;
      return world.reachable;
    },
    replan: () => world.replans++,
  });
  const gauge = async () => (await metrics.isolated.get()).values[0]?.value;
  const isolations = async () => (await metrics.isolations.get()).values[0]?.value ?? 0;
  return { timers, guard, world, messages, gauge, isolations };
}

describe('IsolationGuard', () => {
  it('passes the plan through without asking the API server while a peer is alive, or alone', async () => {
    for (const peers of [
      { knownPeers: 2, alivePeers: 1 },
      { knownPeers: 0, alivePeers: 0 },
    ]) {
      const { guard, world, timers } = guarded(peers, false);
      assert.equal(await guard.check(plan), plan);
      assert.equal(world.probes, 0);
      assert.equal(timers.pending, 0);
    }
  });

  it('every peer dead and the API server silent: withdraws everything, keeps the sessions, says so once', async () => {
    const { guard, messages, gauge, isolations } = guarded({ knownPeers: 2, alivePeers: 0 }, false);
    const applied = await guard.check(plan);
    assert.deepEqual(applied.l2, []);
    assert.deepEqual(
      applied.peers.map((p) => [p.peer.name, p.routes.length]),
      [['r1', 0]],
    );
    assert.equal(guard.isolated, true);
    await guard.check(plan);
    assert.equal(
      messages().filter((m) => m.startsWith('split-brain guard: no peer alive')).length,
      1,
      'one warning for one isolation',
    );
    assert.equal(await gauge(), 1);
    assert.equal(await isolations(), 1);
    guard.stop();
  });

  it('every peer dead but the API server answers: the peers are gone, this node announces', async () => {
    const { guard, world } = guarded({ knownPeers: 2, alivePeers: 0 }, true);
    assert.equal(await guard.check(plan), plan);
    assert.equal(guard.isolated, false);
    assert.equal(world.probes, 1);
    guard.stop();
  });

  it('keeps asking every 500 ms while isolated and replans when the API server answers again', async () => {
    const { guard, world, timers, messages, gauge } = guarded({ knownPeers: 1, alivePeers: 0 }, false);
    await guard.check(plan);
    await timers.advance(1000);
    assert.equal(world.probes, 3, 'the check and two ticks');
    assert.equal(world.replans, 0, 'same verdict: no replan');
    world.reachable = true;
    await timers.advance(500);
    assert.equal(world.replans, 1);
    // Back from isolation: the peer not heard yet gets REGATHER_MS to be heard, then it is gone.
    assert.deepEqual((await guard.check(plan)).l2, []);
    assert.equal(guard.isolated, true);
    await timers.advance(REGATHER_MS);
    assert.equal(world.replans, 2);
    assert.equal(await guard.check(plan), plan);
    assert.equal(guard.isolated, false);
    assert.ok(messages().includes('split-brain guard lifted; announcing again'));
    assert.equal(await gauge(), 0);
    guard.stop();
  });

  it('back from isolation: withholds until every peer is heard again, or REGATHER_MS after it first could lift', async () => {
    // A cut cable put back: the peers are heard again one by one. Announcing from the first one
    // heard would take what the other took over meanwhile, and the ranking would give it back
    // here: one more flip of the clients.
    const { guard, world, timers, messages } = guarded({ knownPeers: 2, alivePeers: 0 }, false);
    await guard.check(plan);
    world.peers = { knownPeers: 2, alivePeers: 1 };
    assert.deepEqual((await guard.check(plan)).l2, [], 'one of two peers heard');
    assert.equal(guard.isolated, true);
    await timers.advance(REGATHER_MS / 2);
    world.peers = { knownPeers: 2, alivePeers: 2 };
    assert.equal(await guard.check(plan), plan, 'both heard: at once');
    assert.ok(messages().includes('split-brain guard lifted; announcing again'));
    const replans = world.replans;
    await timers.advance(REGATHER_MS);
    assert.equal(world.replans, replans, 'no replan armed any more');

    // Isolated again; one peer comes back, the other never does: it is gone after REGATHER_MS.
    world.peers = { knownPeers: 2, alivePeers: 0 };
    await guard.check(plan);
    assert.equal(guard.isolated, true);
    world.peers = { knownPeers: 2, alivePeers: 1 };
    assert.deepEqual((await guard.check(plan)).l2, []);
    await timers.advance(REGATHER_MS - 1);
    assert.deepEqual((await guard.check(plan)).l2, [], 'a plan meanwhile still withholds');
    const before = world.replans;
    await timers.advance(1);
    assert.equal(world.replans, before + 1, 'a replan when the wait is over');
    assert.equal(await guard.check(plan), plan);
    assert.equal(guard.isolated, false);
    guard.stop();
    assert.equal(timers.pending, 0);
  });

  it('a peer lost again while regathering: isolated again, the wait starts over', async () => {
    const { guard, world, timers } = guarded({ knownPeers: 2, alivePeers: 0 }, false);
    await guard.check(plan);
    world.peers = { knownPeers: 2, alivePeers: 1 };
    await guard.check(plan);
    await timers.advance(REGATHER_MS - 100);
    world.peers = { knownPeers: 2, alivePeers: 0 };
    assert.deepEqual((await guard.check(plan)).l2, []);
    world.peers = { knownPeers: 2, alivePeers: 1 };
    await timers.advance(200);
    assert.deepEqual((await guard.check(plan)).l2, [], 'the first wait does not count');
    await timers.advance(REGATHER_MS);
    assert.equal(await guard.check(plan), plan);
    guard.stop();
  });

  it('stops asking when a peer is back, and for good on stop()', async () => {
    const { guard, world, timers } = guarded({ knownPeers: 1, alivePeers: 0 }, false);
    await guard.check(plan);
    world.peers = { knownPeers: 1, alivePeers: 1 };
    await timers.advance(500);
    assert.equal(timers.pending, 0);
    const probes = world.probes;
    await timers.advance(5000);
    assert.equal(world.probes, probes);
    world.peers = { knownPeers: 1, alivePeers: 0 };
    await guard.check(plan);
    guard.stop();
    assert.equal(timers.pending, 0);
    await guard.check(plan);
    assert.equal(timers.pending, 0, 'no probing after stop()');
  });
});

describe('apiAnswers', () => {
  it('asks GET /version with a deadline; any failure means unreachable', async () => {
    const asked: unknown[][] = [];
    const up = { get: async (...args: unknown[]) => void asked.push(args) } as never;
    const down = {
      get: async () => {
        throw new Error('connect ECONNREFUSED 192.0.2.1:6443');
      },
    } as never;
    assert.equal(await apiAnswers(up), true);
    assert.deepEqual(asked, [['/version', undefined, { timeoutMs: 1000 }]]);
    assert.equal(await apiAnswers(down, 10), false);
  });
});
