import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { Registry } from '../../shared/metrics/metrics.ts';
import {
  BgpFramer,
  type BgpMessage,
  type CodecContext,
  encodeMessage,
  endOfRibFamily,
  frameMessage,
  type OpenMessage,
  shutdownMessage,
  type UpdateMessage,
} from './codec/index.ts';
import { hex } from './codec/test-helpers.ts';
import { tcpLivenessFor } from './fsm/index.ts';
import { BgpListener } from './listener.ts';
import { BgpMetrics } from './metrics.ts';
import { nativeSocketOptions, readTcpLiveness } from './native-socket.ts';
import type { PeerConfig, SessionDeps } from './peer-config.ts';
import { addPrefixList, EncodedPrefixMap, type RouteAttributes } from './rib/index.ts';
import { BgpSession } from './session.ts';
import { type SocketOptions, socketFd } from './socket-options.ts';

// The session shell against a scripted peer on loopback: real sockets and timers, the peer
// written with our codec so every byte it sees can be checked.

const logger = pino({ level: 'silent' });
const CTX: CodecContext = { fourOctetAs: true, extendedMessage: false };

function peerOpen(holdTimeSec: number, as = 65000): OpenMessage {
  return {
    type: 'open',
    version: 4,
    myAs: as,
    holdTimeSec,
    bgpId: '192.0.2.1',
    capabilities: [
      { kind: 'multiprotocol', afi: 1, safi: 1 },
      { kind: 'multiprotocol', afi: 2, safi: 1 },
      { kind: 'route-refresh' },
      { kind: 'four-octet-as', asn: as },
    ],
  };
}

/** A peer that records what it receives and answers as the test says. */
class ScriptedPeer {
  readonly received: BgpMessage[] = [];
  socket: net.Socket | undefined;
  closed = false;
  private readonly framer = new BgpFramer({ fourOctetAs: true, extendedMessage: true });
  private waiters: (() => void)[] = [];

  attach(socket: net.Socket, onOpen: (peer: ScriptedPeer) => void): void {
    this.socket = socket;
    socket.on('data', (chunk) => {
      for (const m of this.framer.push(chunk)) {
        this.received.push(m);
        if (m.type === 'open') onOpen(this);
      }
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('error', () => {});
  }

  send(message: BgpMessage): void {
    this.socket?.write(encodeMessage(message, CTX));
  }

  async until<T>(what: string, check: () => T | undefined, timeoutMs = 5000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = check();
      if (v !== undefined) return v;
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}; got ${this.received.map((m) => m.type)}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  updates(): UpdateMessage[] {
    return this.received.filter((m): m is UpdateMessage => m.type === 'update');
  }

  notification(): Extract<BgpMessage, { type: 'notification' }> | undefined {
    return this.received.find((m) => m.type === 'notification') as Extract<
      BgpMessage,
      { type: 'notification' }
    >;
  }
}

/** Listens on 127.0.0.1:0 as the peer; the session connects to it. */
async function listeningPeer(
  onOpen: (peer: ScriptedPeer) => void,
): Promise<{ peer: ScriptedPeer; port: number; server: net.Server }> {
  const peer = new ScriptedPeer();
  const server = net.createServer((socket) => peer.attach(socket, onOpen));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { peer, port: (server.address() as net.AddressInfo).port, server };
}

const established = (hold: number) => (p: ScriptedPeer) => {
  p.send(peerOpen(hold));
  p.send({ type: 'keepalive' });
};

function config(port: number, extra: Partial<PeerConfig> = {}): PeerConfig {
  return {
    localAs: 65001,
    peerAs: 65000,
    peerAddress: '127.0.0.1',
    peerPort: port,
    routerId: '192.0.2.10',
    holdTimeSec: 90,
    connectRetryMs: 200,
    connectRetryMaxMs: 400,
    nextHopIpv6: '2001:db8:0:1::10',
    ...extra,
  };
}

describe('BgpSession over loopback', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  after(async () => {
    for (const c of cleanups) await c();
  });

  /** A session to a scripted peer on loopback, both closed after the tests; its metrics in `registry`. */
  async function sessionTo(
    onOpen: (peer: ScriptedPeer) => void,
    extra: Partial<PeerConfig> = {},
    deps: Partial<SessionDeps> = {},
  ): Promise<{ peer: ScriptedPeer; session: BgpSession; registry: Registry; server: net.Server }> {
    const { peer, port, server } = await listeningPeer(onOpen);
    const registry = new Registry();
    const session = new BgpSession(config(port, extra), {
      logger,
      metrics: new BgpMetrics(registry),
      ...deps,
    });
    cleanups.push(
      () => session.abort(),
      () => void server.close(),
    );
    return { peer, session, registry, server };
  }

  it('establishes, announces with End-of-RIB, then sends only the difference', async () => {
    const { peer, session, registry } = await sessionTo(established(90));
    session.setRoutes(
      new Map([
        ['198.51.100.1/32', { communities: [0xfde80001] }],
        ['2001:db8:100::/120', {}],
      ]),
    );
    session.start();
    await peer.until('two End-of-RIBs', () =>
      peer.updates().filter((u) => endOfRibFamily(u)).length === 2 ? true : undefined,
    );
    assert.equal(session.state, 'Established');
    const [v4, v6] = peer.updates();
    assert.deepStrictEqual(v4!.nlri, ['198.51.100.1/32']);
    assert.equal(v4!.attributes.nextHop, '127.0.0.1', 'NEXT_HOP is the session address');
    assert.deepStrictEqual(v4!.attributes.asPath, [{ type: 'sequence', asns: [65001] }]);
    assert.deepStrictEqual(v6!.attributes.mpReach?.nlri, ['2001:db8:100::/120']);
    const sentOpen = peer.received[0] as OpenMessage;
    assert.equal(sentOpen.type, 'open');
    assert.equal(sentOpen.bgpId, '192.0.2.10');

    const before = peer.updates().length;
    session.setRoutes(new Map([['2001:db8:100::/120', {}]]));
    await peer.until('withdrawal', () => (peer.updates().length > before ? true : undefined));
    assert.deepStrictEqual(
      peer
        .updates()
        .slice(before)
        .map((u) => u.withdrawn),
      [['198.51.100.1/32']],
    );
    const text = await registry.metrics();
    assert.match(text, /metalbeacon_bgp_session_state\{peer="127.0.0.1"\} 6/);
    assert.match(text, /metalbeacon_bgp_prefixes_announced\{peer="127.0.0.1"\} 1/);
    assert.match(text, /metalbeacon_bgp_updates_sent_total\{peer="127.0.0.1"\} 5/);
  });

  it('answers a peer OPEN with hold time 2 with NOTIFICATION 2/6 and closes', async () => {
    const { peer, session } = await sessionTo((p) => {
      // Hand-made: our encoder would refuse nothing here, but say it in bytes anyway.
      const open = encodeMessage(peerOpen(90));
      open[22] = 0;
      open[23] = 2; // hold time field (after header 19, version 1, my AS 2)
      p.socket?.write(open);
    });
    session.start();
    const n = await peer.until('NOTIFICATION', () => peer.notification());
    assert.deepStrictEqual([n.code, n.subcode], [2, 6]);
    await peer.until('close', () => (peer.closed ? true : undefined));
  });

  it('answers a malformed UPDATE (session reset) with its NOTIFICATION', async () => {
    const { peer, session } = await sessionTo((p) => {
      established(90)(p);
      // Withdrawn routes length 16 in a 4-octet body: 3/1 Malformed Attribute List.
      setTimeout(() => p.socket?.write(frameMessage(2, Uint8Array.of(0, 16, 0, 0))), 50);
    });
    session.start();
    const n = await peer.until('NOTIFICATION', () => peer.notification());
    assert.deepStrictEqual([n.code, n.subcode], [3, 1]);
  });

  it('counts and logs UPDATEs kept despite errors (RFC 7606), LOCAL_PREF from eBGP and each discarded repeat included', async () => {
    const lines: { msg: string; action?: string; errors?: { attribute?: string }[] }[] = [];
    const captured = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const { peer, session, registry } = await sessionTo(established(90), {}, { logger: captured });
    session.setRoutes(new Map([['198.51.100.1/32', {}]]));
    session.start();
    await peer.until('End-of-RIB', () => (peer.updates().some((u) => endOfRibFamily(u)) ? true : undefined));
    const sentBefore = peer.updates().length;
    for (const body of [
      '0000 000e 40010103 400200 400304c0000201 18c63364', // ORIGIN 3: treat-as-withdraw
      '0000 0004 40060100', // ATOMIC_AGGREGATE of length 1: attribute discard
      '0000 0015 40010100 400200 400304c0000201 4005040000 00c8 18c63364', // LOCAL_PREF on eBGP
      // COMMUNITIES three times: the two repeats discarded, one error with occurrences 2.
      '0000 0023 40010100 400200 400304c0000201 c0080400000001 c0080400000002 c0080400000003 18c63364',
    ]) {
      peer.socket?.write(frameMessage(2, hex(body)));
    }
    // The session handles messages in order: once it answers this, it has seen the three.
    peer.send({ type: 'route-refresh', afi: 1, safi: 1, subtype: 0 });
    await peer.until('the refresh', () => (peer.updates().length > sentBefore ? true : undefined));
    assert.equal(session.state, 'Established', 'no session reset');
    const text = await registry.metrics();
    for (const [action, attribute, count] of [
      ['treat-as-withdraw', 'ORIGIN', 1],
      ['attribute-discard', 'ATOMIC_AGGREGATE', 1],
      ['attribute-discard', 'LOCAL_PREF', 1],
      ['attribute-discard', 'COMMUNITIES', 2],
    ]) {
      assert.match(
        text,
        new RegExp(
          `metalbeacon_bgp_update_errors_total\\{peer="127.0.0.1",action="${action}",attribute="${attribute}"\\} ${count}\n`,
        ),
      );
    }
    // The first goes to the log at once; how many follow depends on the throttle's clock.
    const first = lines.find((l) => l.msg.startsWith('UPDATE received with errors'));
    assert.equal(first?.action, 'treat-as-withdraw');
    assert.deepStrictEqual(
      first?.errors?.map((e) => e.attribute),
      ['ORIGIN'],
    );
  });

  it('enforces the hold timer on a silent peer: NOTIFICATION 4/0 within the hold time', async () => {
    const { peer, session, registry } = await sessionTo(established(3));
    session.start();
    await peer.until('established', () => (session.state === 'Established' ? true : undefined));
    const t0 = Date.now();
    const n = await peer.until('NOTIFICATION', () => peer.notification(), 6000);
    const elapsed = Date.now() - t0;
    assert.deepStrictEqual([n.code, n.subcode], [4, 0]);
    assert.ok(elapsed >= 2500 && elapsed <= 4500, `hold timer fired after ${elapsed} ms`);
    // We kept sending KEEPALIVEs every second meanwhile.
    assert.ok(peer.received.filter((m) => m.type === 'keepalive').length >= 3);
    assert.match(await registry.metrics(), /metalbeacon_bgp_hold_timer_expiries_total\{peer="127.0.0.1"\} 1/);
  });

  it('graceful shutdown re-advertises with GRACEFUL_SHUTDOWN, then Cease 6/2 with the RFC 9003 message', async () => {
    const { peer, session } = await sessionTo(established(90), { localAs: 65000 });
    session.setRoutes(new Map([['198.51.100.1/32', { localPref: 300 }]]));
    session.start();
    await peer.until('announced', () => (peer.updates().length >= 1 ? true : undefined));
    const before = peer.updates().length;
    await session.gracefulShutdown(100, 'planned maintenance');
    const drain = peer.updates().slice(before)[0]!;
    assert.deepStrictEqual(drain.nlri, ['198.51.100.1/32']);
    assert.deepStrictEqual(drain.attributes.communities, [0xffff0000]);
    assert.equal(drain.attributes.localPref, 0, 'iBGP: LOCAL_PREF lowered as well');
    const n = await peer.until('NOTIFICATION', () => peer.notification());
    assert.deepStrictEqual([n.code, n.subcode], [6, 2]);
    assert.equal(shutdownMessage(n), 'planned maintenance');
    assert.equal(session.state, 'Idle');
  });

  it('graceful shutdown of an announce list (its encodings, two attributes objects): every prefix again, each with its own communities and GRACEFUL_SHUTDOWN', async () => {
    const { peer, session } = await sessionTo(established(90));
    const desired = new EncodedPrefixMap<RouteAttributes>();
    const red = '198.51.100.0/25\n2001:db8:1::/64\n198.51.100.128/26\n';
    const blue = '203.0.113.0/24\n2001:db8:2::/64\n';
    assert.equal(addPrefixList(red, desired, { communities: [0xfde80001] }), undefined);
    assert.equal(addPrefixList(blue, desired, { med: 7 }), undefined);
    assert.ok(desired.nlri, 'the desired set carries its encodings');
    session.setRoutes(desired);
    session.start();
    await peer.until('synced', () =>
      peer.updates().filter((u) => endOfRibFamily(u)).length === 2 ? true : undefined,
    );
    const before = peer.updates().length;
    await session.gracefulShutdown(100, 'drain');
    await peer.until('NOTIFICATION', () => peer.notification());
    type Drained = { communities?: readonly number[] | undefined; med?: number | undefined };
    const drained = new Map<string, Drained>();
    for (const u of peer.updates().slice(before)) {
      for (const prefix of [...u.nlri, ...(u.attributes.mpReach?.nlri ?? [])]) {
        drained.set(prefix, { communities: u.attributes.communities, med: u.attributes.med });
      }
    }
    const redDrained: Drained = { communities: [0xfde80001, 0xffff0000], med: undefined };
    const blueDrained: Drained = { communities: [0xffff0000], med: 7 };
    assert.deepStrictEqual(
      drained,
      new Map([
        ['198.51.100.0/25', redDrained],
        ['198.51.100.128/26', redDrained],
        ['2001:db8:1::/64', redDrained],
        ['2001:db8:2::/64', blueDrained],
        ['203.0.113.0/24', blueDrained],
      ]),
    );
  });

  it('with graceful restart negotiated, a stop for restart closes without NOTIFICATION and withdraws nothing', async () => {
    // A helper peer (RFC 4724 §3: the capability without families) keeps our routes when the
    // connection ends without a NOTIFICATION; a NOTIFICATION or a withdrawal would remove them.
    const { peer, session, server } = await sessionTo(
      (p) => {
        const open = peerOpen(90);
        p.send({
          ...open,
          capabilities: [
            ...open.capabilities,
            {
              kind: 'graceful-restart',
              restartState: false,
              notification: false,
              restartTimeSec: 120,
              families: [],
            },
          ],
        });
        p.send({ type: 'keepalive' });
      },
      { gracefulRestartTimeSec: 120 },
    );
    let connections = 0;
    server.on('connection', () => connections++);
    session.setRoutes(new Map([['198.51.100.1/32', {}]]));
    session.start();
    await peer.until('two End-of-RIBs', () =>
      peer.updates().filter((u) => endOfRibFamily(u)).length === 2 ? true : undefined,
    );
    assert.equal(session.gracefulRestartNegotiated, true);
    const before = peer.received.length;
    await session.stopForRestart();
    await peer.until('closed', () => (peer.closed ? true : undefined));
    assert.deepStrictEqual(
      peer.received.slice(before).map((m) => m.type),
      [],
      'nothing after the announcements: no GRACEFUL_SHUTDOWN, no withdrawal, no NOTIFICATION',
    );
    // Stopped for good: no reconnect after three connect-retry intervals (200 ms each).
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.equal(connections, 1, 'the session connected again after its stop for restart');
  });

  it('graceful restart is negotiated only when both sides offer it', async () => {
    for (const [ours, theirs] of [
      [true, false],
      [false, true],
    ] as const) {
      const { peer, session } = await sessionTo(
        (p) => {
          const open = peerOpen(90);
          const gr = {
            kind: 'graceful-restart',
            restartState: false,
            notification: false,
            restartTimeSec: 120,
            families: [],
          } as const;
          p.send({ ...open, capabilities: [...open.capabilities, ...(theirs ? [gr] : [])] });
          p.send({ type: 'keepalive' });
        },
        ours ? { gracefulRestartTimeSec: 120 } : {},
      );
      session.start();
      await peer.until('two End-of-RIBs', () =>
        peer.updates().filter((u) => endOfRibFamily(u)).length === 2 ? true : undefined,
      );
      assert.equal(session.state, 'Established');
      assert.equal(session.gracefulRestartNegotiated, false, `ours ${ours}, theirs ${theirs}`);
      session.abort();
    }
  });

  it('accepts a connection from the peer through the listener (passive)', async () => {
    const listener = new BgpListener({ logger });
    const session = new BgpSession(config(179, { passive: true }), { logger });
    listener.add(session);
    await listener.listen(0, '127.0.0.1');
    cleanups.push(
      () => session.abort(),
      () => listener.close(),
    );
    session.setRoutes(new Map([['198.51.100.9/32', {}]]));
    session.start();
    assert.equal(session.state, 'Active');
    const peer = new ScriptedPeer();
    const socket = net.connect({ host: '127.0.0.1', port: listener.port, localAddress: '127.0.0.1' });
    peer.attach(socket, () => {});
    await new Promise((resolve) => socket.once('connect', resolve));
    peer.send(peerOpen(90));
    await peer.until('our OPEN', () => (peer.received[0]?.type === 'open' ? true : undefined));
    peer.send({ type: 'keepalive' });
    await peer.until('route', () => peer.updates().find((u) => u.nlri.includes('198.51.100.9/32')));
    assert.equal(session.state, 'Established');
  });

  it('the listener refuses a connection for a session stopped but left registered, and forgets it', async () => {
    const listener = new BgpListener({ logger });
    const session = new BgpSession(config(179, { passive: true }), { logger });
    listener.add(session);
    await listener.listen(0, '127.0.0.1');
    cleanups.push(() => listener.close());
    session.start();
    session.abort();
    assert.deepEqual(listener.peerAddresses, ['127.0.0.1']);
    const peer = new ScriptedPeer();
    const socket = net.connect({ host: '127.0.0.1', port: listener.port, localAddress: '127.0.0.1' });
    peer.attach(socket, () => {});
    socket.once('connect', () => peer.send(peerOpen(90)));
    await peer.until('closed', () => (peer.closed ? true : undefined));
    assert.deepEqual(peer.received, [], 'no OPEN from a stopped session');
    assert.deepEqual(listener.peerAddresses, []);
  });

  it('an exception inside the session resets that session only: logged once, counted, back after the backoff', async () => {
    const lines: { msg: string; err?: { message?: string } }[] = [];
    const captured = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const { peer, session, registry } = await sessionTo(established(90), {}, { logger: captured });
    let ups = 0;
    session.on('state', (state) => {
      if (state === 'Established' && ++ups === 1) throw new Error('injected fault');
    });
    session.setRoutes(new Map([['198.51.100.1/32', {}]]));
    session.start();
    await peer.until('the session back after the reset', () =>
      ups === 2 && session.state === 'Established' ? true : undefined,
    );
    const faults = lines.filter((l) => l.msg === 'BGP session reset after an internal error');
    assert.equal(faults.length, 1);
    assert.equal(faults[0]!.err?.message, 'injected fault');
    assert.match(
      await registry.metrics(),
      /metalbeacon_bgp_session_resets_total\{peer="127.0.0.1",cause="internal-error"\} 1\n/,
    );
    assert.equal(peer.notification(), undefined, 'no RFC NOTIFICATION applies: the connection is closed');
    await peer.until('routes again on the new connection', () =>
      peer.updates().filter((u) => u.nlri.includes('198.51.100.1/32')).length === 2 ? true : undefined,
    );
  });

  it('output beyond its budget resets the session with Cease / Out of Resources (6/8)', async () => {
    const { peer, session, registry } = await sessionTo(established(90), { outputBudgetBytes: 1000 });
    // 500 IPv4 /32s: about 2,500 octets of NLRI, more than the 1,000 allowed.
    const prefix = (i: number) => `${i < 250 ? '198.51.100' : '203.0.113'}.${i % 250}/32`;
    session.setRoutes(new Map(Array.from({ length: 500 }, (_, i) => [prefix(i), {}])));
    session.start();
    const n = await peer.until('NOTIFICATION', () => peer.notification());
    assert.deepStrictEqual([n.code, n.subcode], [6, 8]);
    assert.equal(peer.updates().length, 0, 'nothing of the refused output went out');
    assert.match(
      await registry.metrics(),
      /metalbeacon_bgp_session_resets_total\{peer="127.0.0.1",cause="output-budget"\} [1-9]/,
    );
  });

  it('sets TCP keepalive and TCP_USER_TIMEOUT from the negotiated hold time (read back by getsockopt)', async () => {
    const native = nativeSocketOptions();
    let socket: net.Socket | undefined;
    const socketOptions: SocketOptions = {
      ...native,
      connect: (options) => {
        socket = native.connect(options);
        return socket;
      },
    };
    const { peer, session } = await sessionTo(established(30), {}, { socketOptions });
    session.start();
    await peer.until('established', () => (session.state === 'Established' ? true : undefined));
    const fd = socketFd(socket!);
    assert.ok(fd !== undefined);
    // We proposed 90 s, the peer 30 s: the negotiated 30 s sets the kernel's timers.
    assert.deepStrictEqual(readTcpLiveness(fd), { keepalive: true, ...tcpLivenessFor(30) });
  });
});
