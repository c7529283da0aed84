import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bfd, expectConfig, peer } from '../../../shared/config/test-helpers.ts';
import type { BfdProfileConfig } from '../../../shared/config/types.ts';
import { Registry } from '../../../shared/metrics/metrics.ts';
import { type BfdTransition, clientSignal } from '../engine/client.ts';
import { VirtualNetwork } from '../engine/test-network.ts';
import { LocalBfd } from './bfd.ts';
import { registerBfdMetrics } from './metrics.ts';
import { PeerBfd, peerSpec } from './peer-bfd.ts';

// The speaker daemon's seam to BFD on a simulated network (virtual time): BGPPeers with a
// BFDProfile get a session with its timers and role, the session drives the BGP client bound
// to it, profile changes reach it without a flap, and detach ends it.

const NODE = '192.0.2.10';
const ROUTER = '192.0.2.1';

function config(profile: Parameters<typeof bfd>[1], extra: Parameters<typeof peer>[1] = {}) {
  const built = expectConfig({
    peers: [peer('router', { bfdProfile: 'fast', ...extra }), peer('plain', { peerAddress: '192.0.2.2' })],
    bfdProfiles: [bfd('fast', profile)],
  });
  const named = (name: string) => built.peers.find((p) => p.name === name)!;
  return { bfdProfiles: built.bfdProfiles, router: named('router'), plain: named('plain') };
}

/** A simulated network with the router's BFD session to the node running at 100 ms. */
function routerAt100ms() {
  const net = new VirtualNetwork();
  const router = net.host(ROUTER);
  router.engine.setSessions([
    {
      key: 'node',
      peerAddress: NODE,
      multihop: false,
      minimumTtl: 254,
      timers: { desiredMinTxUs: 100_000, requiredMinRxUs: 100_000, detectMult: 3, passive: false },
    },
  ]);
  return { net, router };
}

/** What BfdBgpBinding tells a BGP session, recorded. */
function client() {
  const seen: string[] = [];
  return {
    seen,
    bfdDown: (d?: object) => seen.push(`down ${JSON.stringify(d)}`),
    bfdUp: () => seen.push('up'),
  };
}

describe('PeerBfd: BGPPeer.spec.bfdProfile in the speaker daemon', () => {
  it('runs the profile, drives the BGP session, follows profile changes, ends on detach', async () => {
    const { net, router } = routerAt100ms();
    let current = config({ receiveInterval: 100, transmitInterval: 100 });
    const fatal: Error[] = [];
    const heard: BfdTransition[] = [];
    const seam = new PeerBfd({
      logger: { info() {}, warn() {}, error() {} },
      profiles: () => current.bfdProfiles,
      onFatal: (e) => fatal.push(e),
      start: () => new LocalBfd({ io: net.io(NODE) }),
      onTransition: (t) => heard.push(t),
    });
    const session = client();
    seam.attach(current.plain, client());
    assert.equal(seam.bfd(), undefined, 'no BFD runner for a peer without a profile');
    assert.equal(seam.state('plain'), undefined, 'no BFD state for a peer without a profile');
    seam.attach(current.router, session);
    assert.equal(seam.state('router')?.state, 'Down', 'Down until the session first changes');
    net.runUntil(5000);
    assert.deepEqual(session.seen, ['up']);
    assert.equal(seam.state('router')?.state, 'Up');
    assert.deepEqual(
      heard.map((t) => t.to),
      ['Init', 'Up'],
      'status hears every change',
    );
    let snapshot = await seam.snapshot();
    assert.deepEqual(
      snapshot.sessions.map((s) => [s.key, s.peerAddress, s.multihop, s.state, s.transmitIntervalMs]),
      [['router', ROUTER, false, 'Up', 100]],
    );

    net.cut.add(NODE);
    net.runUntil(5500);
    assert.deepEqual(session.seen, [
      'up',
      'down {"bfdDiag":"ControlDetectionTimeExpired","bfdRemoteState":"Down"}',
    ]);
    assert.deepEqual(
      { ...seam.state('router'), sinceMs: 0 },
      { state: 'Down', sinceMs: 0, diagName: 'ControlDetectionTimeExpired' },
    );
    net.cut.delete(NODE);
    net.runUntil(9000);
    assert.deepEqual(session.seen.at(-1), 'up');

    // A changed profile: the same session, new timers, no flap.
    current = config({ receiveInterval: 100, transmitInterval: 300 });
    seam.sync();
    net.runUntil(13_000);
    snapshot = await seam.snapshot();
    assert.equal(snapshot.sessions[0]?.transmitIntervalMs, 300);
    assert.equal(session.seen.length, 3, 'no flap');

    seam.detach('router');
    net.runUntil(13_100);
    assert.deepEqual((await seam.snapshot()).sessions, []);
    assert.equal(seam.state('router'), undefined, 'a detached peer has no BFD state');
    assert.notEqual(
      heard.at(-1)?.to,
      'AdminDown',
      'our AdminDown of a removed session is no state of a peer',
    );
    const last = router.transitions.at(-1)!;
    assert.equal(last.remoteState, 'AdminDown', 'the peer is told the session ends on purpose');
    assert.equal(clientSignal(last), undefined);
    assert.deepEqual(fatal, []);
    await seam.close();
  });

  it('metrics: each session’s state, transitions, flaps, packets sent, received and dropped', async () => {
    const { net } = routerAt100ms();
    const current = config({ receiveInterval: 100, transmitInterval: 100 });
    const seam = new PeerBfd({
      logger: { info() {}, warn() {}, error() {} },
      profiles: () => current.bfdProfiles,
      onFatal: () => {},
      start: () => new LocalBfd({ io: net.io(NODE) }),
    });
    const registry = new Registry();
    registerBfdMetrics(registry, () => seam.snapshot());
    seam.attach(current.router, client());
    net.runUntil(5000);
    net.cut.add(NODE);
    net.runUntil(5500);
    net.cut.delete(NODE);
    net.runUntil(9000);
    net.send('198.51.100.77', NODE, 3784, new Uint8Array([0x20, 0x40, 0x03]));
    net.runUntil(9100);
    const text = await registry.metrics();
    const value = (line: string) => Number(new RegExp(`^${line} (\\d+)$`, 'm').exec(text)?.[1]);
    assert.equal(value('metalbeacon_bfd_session_state\\{peer="router"\\}'), 3, 'Up');
    assert.equal(value('metalbeacon_bfd_session_downs_total\\{peer="router"\\}'), 1, 'one flap');
    assert.ok(value('metalbeacon_bfd_state_transitions_total\\{peer="router"\\}') >= 4);
    assert.ok(value('metalbeacon_bfd_control_packets_sent_total\\{peer="router"\\}') > 30);
    assert.ok(value('metalbeacon_bfd_control_packets_received_total\\{peer="router"\\}') > 30);
    assert.match(
      text,
      /^metalbeacon_bfd_control_packets_dropped_total\{peer="",reason="truncated"\} 1$/m,
      'a datagram naming no session is counted without a peer',
    );
    await seam.close();
  });

  it('passiveMode: the session waits for the peer to speak first', async () => {
    const net = new VirtualNetwork();
    const current = config({ passiveMode: true });
    const seam = new PeerBfd({
      logger: { info() {}, warn() {}, error() {} },
      profiles: () => current.bfdProfiles,
      onFatal: () => {},
      start: () => new LocalBfd({ io: net.io(NODE) }),
    });
    seam.attach(current.router, client());
    net.runUntil(10_000);
    assert.equal((await seam.snapshot()).sessions[0]?.packetsSent, 0);
  });

  it('single hop on the link, multihop for eBGP multihop and for iBGP off this node’s links', () => {
    const fast: BfdProfileConfig = config({}).bfdProfiles[0]!;
    const spec = (extra: Parameters<typeof peer>[1]) => peerSpec(config({}, extra).router, fast);
    assert.equal(spec({}).multihop, false);
    assert.equal(spec({ ebgpMultiHop: true }).multihop, true);
    assert.equal(spec({ peerASN: 64512, peerAddress: '203.0.113.99' }).multihop, true);
    assert.equal(
      spec({ peerASN: 64512, peerAddress: '127.0.0.2' }).multihop,
      false,
      'on a link of this node',
    );
    const s = spec({ sourceAddress: '192.0.2.10' });
    assert.deepEqual(s, {
      key: 'router',
      peerAddress: ROUTER,
      localAddress: '192.0.2.10',
      multihop: false,
      minimumTtl: 254,
      timers: { desiredMinTxUs: 300_000, requiredMinRxUs: 300_000, detectMult: 3, passive: false },
    });
  });
});

describe('clientSignal (RFC 5882)', () => {
  const TABLE: [string, string, string, 'down' | 'up' | undefined][] = [
    ['Up', 'Down', 'Down', 'down'],
    ['Up', 'Down', 'AdminDown', undefined],
    ['Up', 'AdminDown', 'Up', undefined],
    ['Init', 'Down', 'Down', undefined],
    ['Down', 'Up', 'Init', 'up'],
    ['Init', 'Up', 'Up', 'up'],
    ['Down', 'Init', 'Down', undefined],
  ];
  for (const [from, to, remoteState, signal] of TABLE) {
    it(`${from} -> ${to} (peer ${remoteState}): ${signal ?? 'nothing'}`, () => {
      assert.equal(clientSignal({ from, to, remoteState } as Parameters<typeof clientSignal>[0]), signal);
    });
  }
});
