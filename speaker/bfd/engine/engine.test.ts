import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { controlPacket } from '../codec/fixtures.ts';
import { BfdPort, type ControlPacket, Diag, encodeControlPacket } from '../codec/index.ts';
import { clientSignal } from './client.ts';
import { MAX_PEER_INTERVAL_US, timerDelayMs } from './limits.ts';
import type { BfdSessionSpec } from './spec.ts';
import { VirtualNetwork } from './test-network.ts';

const NODE = '192.0.2.10';
const ROUTER = '192.0.2.1';
const timers = { desiredMinTxUs: 50_000, requiredMinRxUs: 50_000, detectMult: 3, passive: false };

/** The session each side runs toward the other. */
function pair(extra: Partial<BfdSessionSpec> = {}): [BfdSessionSpec, BfdSessionSpec] {
  return [
    { key: 'router', peerAddress: ROUTER, multihop: false, minimumTtl: 254, timers, ...extra },
    { key: 'node', peerAddress: NODE, multihop: false, minimumTtl: 254, timers, ...extra },
  ];
}

function upPair(extra: Partial<BfdSessionSpec> = {}) {
  const net = new VirtualNetwork();
  const node = net.host(NODE);
  const router = net.host(ROUTER);
  const [toRouter, toNode] = pair(extra);
  assert.deepEqual(node.engine.setSessions([toRouter]), []);
  assert.deepEqual(router.engine.setSessions([toNode]), []);
  net.runUntil(5000);
  assert.equal(node.state('router'), 'Up');
  assert.equal(router.state('node'), 'Up');
  return { net, node, router, toRouter, toNode };
}

/** A packet from ROUTER's session as it would send it, changed by `extra`. */
function routerPacket(extra: Partial<ControlPacket>, yourDiscriminator: number): Uint8Array {
  const timers = { desiredMinTxUs: 50_000, requiredMinRxUs: 50_000 };
  return encodeControlPacket(
    controlPacket({ myDiscriminator: 0x1234, ...timers, ...extra, yourDiscriminator }),
  );
}

describe('BFD engine: sessions over a network (virtual time)', () => {
  it('two engines come Up through Init at the negotiated 50 ms; counters and status say so', () => {
    const { node, router } = upPair();
    assert.deepEqual(
      node.transitions.map((t) => `${t.from}->${t.to}`),
      node.transitions.length === 1 ? ['Down->Up'] : ['Down->Init', 'Init->Up'],
    );
    const [s] = node.engine.snapshot().sessions;
    assert.ok(s);
    assert.equal(s.localAddress, NODE);
    assert.equal(s.transmitIntervalMs, 50);
    assert.equal(s.detectionTimeMs, 150);
    assert.equal(s.remoteDiscriminator, router.engine.snapshot().sessions[0]?.localDiscriminator);
    assert.ok(s.packetsSent > 50 && s.packetsReceived > 50, JSON.stringify(s));
    assert.deepEqual(s.packetsDropped, {});
    assert.deepEqual(node.receiversOpened, [`${NODE}|${BfdPort.SingleHop}`]);
  });

  it('a cut link takes both Down (Detection Time expired) and counts a flap; restored, both come back', () => {
    const { net, node, router } = upPair();
    net.cut.add(NODE);
    net.runUntil(5400);
    for (const host of [node, router]) {
      const last = host.transitions.at(-1)!;
      assert.equal(`${last.from}->${last.to}`, 'Up->Down');
      assert.equal(last.diag, Diag.ControlDetectionTimeExpired);
      assert.equal(last.diagName, 'ControlDetectionTimeExpired');
      assert.equal(clientSignal(last), 'down');
    }
    assert.equal(node.engine.snapshot().sessions[0]?.downs, 1);
    net.cut.delete(NODE);
    net.runUntil(9000);
    assert.equal(node.state('router'), 'Up');
    assert.equal(router.state('node'), 'Up');
  });

  it('a removed session says AdminDown at once: the peer goes Down but its client is told nothing', () => {
    const { net, node, router } = upPair();
    const sent = node.engine.snapshot().sessions[0]!.packetsSent;
    node.engine.setSessions([]);
    assert.deepEqual(node.engine.snapshot().sessions, []);
    net.runUntil(5002);
    const last = router.transitions.at(-1)!;
    assert.equal(`${last.from}->${last.to}`, 'Up->Down');
    assert.equal(last.remoteState, 'AdminDown');
    assert.equal(last.diag, Diag.NeighborSignaledSessionDown);
    assert.equal(clientSignal(last), undefined, 'RFC 5882 §3.2: not a path failure');
    assert.equal(router.engine.snapshot().sessions[0]?.downs, 0);
    assert.ok(sent > 0);
    // Its receiver is closed: a later packet to it finds nobody and nothing breaks.
    net.runUntil(8000);
    assert.equal(router.state('node'), 'Down');
  });

  it('changed timers go through Poll/Final without a flap; the peer then sends at the new interval', () => {
    const { net, node, router, toRouter } = upPair();
    node.engine.setSessions([{ ...toRouter, timers: { ...timers, requiredMinRxUs: 300_000 } }]);
    net.runUntil(9000);
    assert.equal(node.transitions.at(-1)?.to, 'Up', 'no state change during the Poll Sequence');
    assert.equal(node.transitions.length <= 2, true);
    assert.equal(router.engine.snapshot().sessions[0]?.transmitIntervalMs, 300);
    assert.equal(node.engine.snapshot().sessions[0]?.detectionTimeMs, 900);
    assert.equal(node.state('router'), 'Up');
    assert.equal(router.state('node'), 'Up');
  });

  it('a passive session speaks only after the peer did; a changed peer address is a new session', () => {
    const net = new VirtualNetwork();
    const node = net.host(NODE);
    const router = net.host(ROUTER);
    const [toRouter, toNode] = pair();
    node.engine.setSessions([{ ...toRouter, timers: { ...timers, passive: true } }]);
    net.runUntil(3000);
    assert.equal(node.engine.snapshot().sessions[0]?.packetsSent, 0);
    router.engine.setSessions([toNode]);
    net.runUntil(8000);
    assert.equal(node.state('router'), 'Up');
    const before = node.engine.snapshot().sessions[0]!.localDiscriminator;
    node.engine.setSessions([{ ...toRouter, peerAddress: '192.0.2.2' }]);
    const after = node.engine.snapshot().sessions[0]!;
    assert.notEqual(after.localDiscriminator, before);
    assert.equal(after.state, 'Down');
  });

  it('multihop: port 4784 and minimumTtl; a packet below it counts against the session', () => {
    const net = new VirtualNetwork();
    net.hops.set(ROUTER, 3);
    const node = net.host(NODE);
    const router = net.host(ROUTER);
    const [toRouter, toNode] = pair({ multihop: true, minimumTtl: 250 });
    node.engine.setSessions([toRouter]);
    router.engine.setSessions([toNode]);
    net.runUntil(5000);
    assert.equal(node.state('router'), 'Up');
    assert.deepEqual(node.receiversOpened, [`${NODE}|${BfdPort.Multihop}`]);
    // Six hops away now: TTL 249 arrives, below 250. Both drop everything and go Down.
    net.hops.set(ROUTER, 6);
    net.runUntil(6000);
    const s = node.engine.snapshot().sessions[0]!;
    assert.equal(s.state, 'Down');
    assert.ok((s.packetsDropped.ttl ?? 0) >= 3, JSON.stringify(s.packetsDropped));
    // The same packets on a single-hop session: anything below 255 is dropped (GTSM).
    const single = new VirtualNetwork();
    single.hops.set(ROUTER, 1);
    const a = single.host(NODE);
    const b = single.host(ROUTER);
    a.engine.setSessions([pair()[0]]);
    b.engine.setSessions([pair()[1]]);
    single.runUntil(5000);
    assert.equal(a.state('router'), 'Down');
    assert.ok((a.engine.snapshot().sessions[0]?.packetsDropped.ttl ?? 0) > 0);
  });
});

describe('BFD engine: what arrives is untrusted', () => {
  it('drops and counts malformed, unknown, forged and off-link packets; sessions stay Up and as configured', () => {
    const { net, node } = upPair();
    const my = node.engine.snapshot().sessions[0]!.localDiscriminator;
    const port = BfdPort.SingleHop;
    net.send(ROUTER, NODE, port, new Uint8Array(3)); // truncated
    net.send(ROUTER, NODE, port, new Uint8Array(24)); // version 0
    net.send(ROUTER, NODE, port, routerPacket({}, (my ^ 1) >>> 0)); // unknown discriminator
    net.send('192.0.2.66', NODE, port, routerPacket({}, my)); // right discriminator, wrong source
    net.send('192.0.2.66', NODE, port, routerPacket({ state: 'Down' }, 0)); // no session for the source
    net.send(ROUTER, NODE, port, routerPacket({}, my), 64); // off link: TTL 64
    const oversized = new Uint8Array(9000);
    oversized.set(routerPacket({ state: 'AdminDown' }, my));
    oversized[0] = 0x40; // version 2
    net.send(ROUTER, NODE, port, oversized);
    net.runUntil(5100);
    const snapshot = node.engine.snapshot();
    assert.deepEqual(snapshot.dropped, {
      truncated: 1,
      version: 2,
      'unknown-discriminator': 2,
      'no-session': 1,
    });
    assert.deepEqual(snapshot.sessions[0]?.packetsDropped, { ttl: 1 });
    assert.equal(snapshot.sessions.length, 1);
    assert.equal(node.state('router'), 'Up');
    assert.equal(node.transitions.at(-1)?.to, 'Up');
  });

  it('a flood of random packets from many sources creates no session and no state: each is counted once', () => {
    const { net, node } = upPair();
    let sent = 0;
    for (let i = 0; i < 20_000; i++) {
      const bytes = new Uint8Array(24 + (i % 5));
      for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(net.random() * 256);
      if (i % 2 === 0) bytes[0] = 0x20; // version 1: reaches the checks further down
      net.send(`198.51.100.${i % 250}`, NODE, i % 3 === 0 ? BfdPort.Multihop : BfdPort.SingleHop, bytes);
      sent += i % 3 === 0 ? 0 : 1; // nothing listens on 4784 here
    }
    net.runUntil(5200);
    const snapshot = node.engine.snapshot();
    const dropped = Object.values(snapshot.dropped).reduce((a, b) => a + (b ?? 0), 0);
    assert.equal(dropped, sent);
    assert.equal(snapshot.sessions.length, 1);
    assert.equal(node.state('router'), 'Up');
  });

  it("caps a peer's absurd intervals: at most a minute per packet, so Detection Time is bounded", () => {
    const net = new VirtualNetwork();
    const node = net.host(NODE);
    node.engine.setSessions([pair()[0]]);
    net.runUntil(10);
    const my = node.engine.snapshot().sessions[0]!.localDiscriminator;
    const huge = { desiredMinTxUs: 0xffffffff, requiredMinRxUs: 0xffffffff, detectMult: 255 };
    net.send(ROUTER, NODE, BfdPort.SingleHop, routerPacket({ ...huge, state: 'Init' }, my));
    net.runUntil(2000);
    const s = node.engine.snapshot().sessions[0]!;
    assert.equal(s.state, 'Up');
    assert.equal(s.detectionTimeMs, (255 * MAX_PEER_INTERVAL_US) / 1000);
    assert.equal(s.transmitIntervalMs, MAX_PEER_INTERVAL_US / 1000);
    assert.ok(net.timerDelays.every((ms) => Number.isInteger(ms) && ms >= 0 && ms <= 2 ** 31 - 1));
  });

  it('a client that throws does not stop the engine: the input is counted as internal-error', () => {
    const net = new VirtualNetwork();
    const node = net.host(NODE);
    const router = net.host(ROUTER);
    let throws = 1;
    node.onTransition = () => {
      if (throws-- > 0) throw new Error('client bug');
    };
    node.engine.setSessions([pair()[0]]);
    router.engine.setSessions([pair()[1]]);
    net.runUntil(5000);
    assert.equal(node.state('router'), 'Up');
    const s = node.engine.snapshot().sessions[0]!;
    assert.equal(s.packetsDropped['internal-error'], 1);
    assert.equal(node.logs.filter((l) => l.level === 'error').length, 1);
  });
});

describe('BFD engine: configuration and sockets', () => {
  it('names every invalid spec and runs the valid ones', () => {
    const net = new VirtualNetwork();
    const node = net.host(NODE);
    const [good] = pair();
    const problems = node.engine.setSessions([
      good,
      { ...good, key: 'bad', peerAddress: 'router-1' },
      { ...good, key: 'mixed', localAddress: '2001:db8::1' },
      { ...good, key: 'slow', timers: { ...timers, detectMult: 0 } },
      { ...good },
    ]);
    assert.deepEqual(problems, [
      'BFD session "bad": peerAddress "router-1" is not an IP address',
      'BFD session "mixed": localAddress 2001:db8::1 and peerAddress 192.0.2.1 differ in family',
      'BFD session "slow": detectMult 0 must be a whole number from 1 to 255',
      'BFD session "router": key given twice',
    ]);
    assert.deepEqual(
      node.engine.snapshot().sessions.map((s) => s.key),
      ['router'],
    );
  });

  it('a session whose socket cannot open says why, tries every second, and comes Up once it can', () => {
    const net = new VirtualNetwork();
    const node = net.host(NODE, { failOpens: 2 });
    const router = net.host(ROUTER);
    node.engine.setSessions([pair()[0]]);
    router.engine.setSessions([pair()[1]]);
    assert.equal(node.engine.snapshot().sessions[0]?.problem, 'connect: Network is unreachable');
    net.runUntil(1500);
    assert.equal(node.engine.snapshot().sessions[0]?.problem, 'connect: Network is unreachable');
    net.runUntil(8000);
    assert.equal(node.engine.snapshot().sessions[0]?.problem, undefined);
    assert.equal(node.state('router'), 'Up');
    assert.equal(node.logs.filter((l) => l.msg.startsWith('BFD session cannot open')).length, 1, 'said once');
  });

  it('sessions on one local address share one receiver, closed with the last of them', () => {
    const net = new VirtualNetwork();
    const node = net.host(NODE);
    const [a] = pair();
    const b = { ...a, key: 'router-2', peerAddress: '192.0.2.2' };
    node.engine.setSessions([a, b]);
    assert.deepEqual(node.receiversOpened, [`${NODE}|${BfdPort.SingleHop}`]);
    node.engine.setSessions([b]);
    node.engine.setSessions([]);
    // Bound again without EADDRINUSE: the last session closed it.
    node.engine.setSessions([a]);
    assert.deepEqual(node.receiversOpened, [`${NODE}|${BfdPort.SingleHop}`, `${NODE}|${BfdPort.SingleHop}`]);
    assert.equal(node.engine.snapshot().sessions[0]?.problem, undefined);
  });

  it('timers are armed in whole milliseconds, rounded up', () => {
    assert.equal(timerDelayMs(187.5), 188);
    assert.equal(timerDelayMs(0.01), 1);
    assert.equal(timerDelayMs(-3), 0);
    assert.equal(timerDelayMs(Number.NaN), 0);
    assert.equal(timerDelayMs(1e12), 2 ** 31 - 1);
    const { net } = upPair();
    assert.ok(net.timerDelays.length > 100);
    assert.ok(net.timerDelays.every((ms) => Number.isInteger(ms) && ms >= 0));
  });
});
