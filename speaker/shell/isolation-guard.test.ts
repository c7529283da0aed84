import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualTimers } from '../../shared/daemon/manual-timers.ts';
import { REGATHER_MS } from '../membership/isolation/split-brain.ts';
import { apiAnswers, IsolationGuard, type PeerCounts } from './isolation-guard.ts';
import { SpeakerMetrics } from './metrics.ts';
import { capturedLog, l2At, peerPlan, planOf, route } from './test-helpers.ts';

const plan = planOf([l2At('198.51.100.1')], [peerPlan('r1', [route('198.51.100.2/32', ['default/api'])])]);

/** A guard whose peers and API server the test sets; probes and replans are counted. */
function guarded(peers: PeerCounts, reachable: boolean, lanUp?: boolean) {
  const timers = new ManualTimers();
  const metrics = new SpeakerMetrics();
  const { log, messages } = capturedLog();
  const world = { peers, reachable, lanUp, probes: 0, replans: 0, lanReads: 0 };
  const guard = new IsolationGuard({
    log,
    metrics,
    timers,
    peers: () => world.peers,
    probe: async () => {
      world.probes++;
      return world.reachable;
    },
    lanUp: async () => {
      world.lanReads++;
      return world.lanUp;
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

  it('every peer dead, the API server answers, but no carrier on the LAN link: withholds the L2 IPs only, and back announces once regathered', async () => {
    // A flap of the owner's link while it keeps the API server (issue 18): its answers reach
    // nobody, its peers move its IPs. It used to go on claiming them and, back, take them from
    // the node that served them meanwhile: a second move. Now it claims nothing while cut off,
    // and back waits to hear its peers (and their holdings) before planning.
    const { guard, world, timers, messages, gauge } = guarded({ knownPeers: 2, alivePeers: 0 }, true, false);
    const applied = await guard.check(plan);
    assert.deepEqual(applied.l2, [], 'L2 IPs withheld');
    assert.deepEqual(applied.peers, plan.peers, 'routes kept: BGP has BFD and the hold time');
    assert.equal(
      guard.isolated,
      false,
      'not isolated: the API server answers and status objects are written',
    );
    assert.equal(await gauge(), 0, 'the isolation gauge counts full isolations only');
    assert.equal(messages().filter((m) => m.includes('no carrier on the LAN interfaces')).length, 1);
    await guard.check(plan);
    await timers.advance(1000);
    assert.equal(world.replans, 0, 'link still down: same verdict, no replan');
    assert.equal(
      messages().filter((m) => m.includes('no carrier on the LAN interfaces')).length,
      1,
      'said once',
    );

    // The link is back: a probe tick sees the carrier and replans; the peers are not heard yet.
    world.lanUp = true;
    await timers.advance(500);
    assert.equal(world.replans, 1);
    assert.deepEqual((await guard.check(plan)).l2, [], 'back: no peer heard yet, still withheld');
    world.peers = { knownPeers: 2, alivePeers: 1 };
    assert.deepEqual((await guard.check(plan)).l2, [], 'one of two peers heard');
    world.peers = { knownPeers: 2, alivePeers: 2 };
    assert.equal(await guard.check(plan), plan, 'every peer heard: the plan (from their holdings) as it is');
    assert.ok(messages().includes('split-brain guard lifted; announcing again'));
    guard.stop();
    assert.equal(timers.pending, 0);
  });

  it('LAN link down and then the API server lost too: everything withheld until regathered', async () => {
    const { guard, world, timers } = guarded({ knownPeers: 1, alivePeers: 0 }, true, false);
    assert.deepEqual((await guard.check(plan)).peers, plan.peers);
    world.reachable = false;
    await timers.advance(500);
    assert.equal(world.replans, 1, 'the verdict would change');
    const isolated = await guard.check(plan);
    assert.deepEqual(isolated.l2, []);
    assert.deepEqual(
      isolated.peers.map((p) => p.routes.length),
      [0],
    );
    assert.equal(guard.isolated, true);
    // The API server back first, the link still down: still everything withheld, no replan storm.
    world.reachable = true;
    await timers.advance(2000);
    assert.equal(world.replans, 1);
    assert.deepEqual(
      (await guard.check(plan)).peers.map((p) => p.routes.length),
      [0],
    );
    world.lanUp = true;
    await timers.advance(500);
    assert.equal(world.replans, 2, 'the link back: replan');
    assert.deepEqual(
      (await guard.check(plan)).peers.map((p) => p.routes.length),
      [0],
      'regathering',
    );
    world.peers = { knownPeers: 1, alivePeers: 1 };
    assert.equal(await guard.check(plan), plan);
    guard.stop();
  });

  it('reads the LAN link only while no peer is alive, and counts an unreadable one as up', async () => {
    const { guard, world } = guarded({ knownPeers: 2, alivePeers: 1 }, true, false);
    assert.equal(await guard.check(plan), plan);
    assert.equal(world.lanReads, 0);
    guard.stop();
    const unknown = guarded({ knownPeers: 2, alivePeers: 0 }, true, undefined);
    assert.equal(await unknown.guard.check(plan), plan, 'unknown carrier: the API server decides, as before');
    unknown.guard.stop();
    const failing = new IsolationGuard({
      ...{ log: capturedLog().log, metrics: new SpeakerMetrics(), timers: new ManualTimers() },
      peers: () => ({ knownPeers: 2, alivePeers: 0 }),
      probe: async () => true,
      lanUp: async () => {
        throw new Error('EACCES /sys/class/net');
      },
      replan: () => {},
    });
    assert.equal(await failing.check(plan), plan);
    failing.stop();
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
