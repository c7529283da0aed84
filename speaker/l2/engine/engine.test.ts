import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeFrame, encodeArpFrame, gratuitousArpRequestFrame } from '../frames/frame.ts';
import { decodeMembershipFrame, encodeMembershipFrame } from '../frames/membership.ts';
import { DEFAULT_SCHEDULE } from '../responder/schedule.ts';
import { L2Engine, type LanHooks } from './engine.ts';
import type { FromWorker, WorkerInterface } from './messages.ts';

// The engine with an in-memory socket and a manual clock: which frames go out when. The
// real socket and timers are exercised by the namespace tests (test/l2).
function harness(lan?: LanHooks) {
  let nowMs = 0;
  const timers: { at: number; callback: () => void; id: number }[] = [];
  let nextId = 1;
  const sockets: {
    iface: string;
    sent: { at: number; frame: Uint8Array }[];
    groups: Set<string>;
    closed: boolean;
    deliver: (frame: Buffer) => void;
  }[] = [];
  const events: FromWorker[] = [];
  const engine = new L2Engine({
    openSocket(iface, onFrame) {
      const record = {
        iface: iface.name,
        sent: [] as { at: number; frame: Uint8Array }[],
        groups: new Set<string>(),
        closed: false,
        deliver: onFrame,
      };
      sockets.push(record);
      return {
        send: (frame) => {
          record.sent.push({ at: nowMs, frame });
          return frame.length;
        },
        addMembership: (mac) => record.groups.add(mac.toString('hex')),
        dropMembership: (mac) => record.groups.delete(mac.toString('hex')),
        setFilter: () => {},
        close: () => {
          record.closed = true;
        },
      };
    },
    post: (message) => events.push(message),
    nowMs: () => nowMs,
    setTimer: (callback, ms) => {
      const id = nextId++;
      timers.push({ at: nowMs + ms, callback, id });
      return id;
    },
    clearTimer: (id) => {
      const index = timers.findIndex((t) => t.id === id);
      if (index >= 0) timers.splice(index, 1);
    },
    ...(lan ? { lan } : {}),
  });
  const advance = (ms: number) => {
    const until = nowMs + ms;
    for (;;) {
      timers.sort((a, b) => a.at - b.at);
      const next = timers[0];
      if (!next || next.at > until) break;
      timers.shift();
      nowMs = next.at;
      next.callback();
    }
    nowMs = until;
  };
  return { engine, sockets, events, advance, pendingTimers: () => timers.length };
}

const ETH0: WorkerInterface = { name: 'eth0', ifindex: 2, mac: '02:00:00:00:00:01' };
const ETH1: WorkerInterface = { name: 'eth1', ifindex: 3, mac: '02:00:00:00:00:02' };

const kinds = (frames: { frame: Uint8Array }[]) =>
  frames.map(({ frame }) => {
    const decoded = decodeFrame(frame);
    assert.ok(decoded.ok);
    return decoded.value.kind === 'arp'
      ? `arp-${decoded.value.arp.operation}`
      : `na-${decoded.value.ndp.type}`;
  });

describe('L2Engine', () => {
  test('takeover burst: both gratuitous ARP forms at 0, 500, 1000, 1500, 2000 ms, then silence', () => {
    const { engine, sockets, advance } = harness();
    engine.setInterfaces([ETH0]);
    engine.announce('198.51.100.7', ['eth0']);
    advance(5000);
    const sent = sockets[0]!.sent;
    assert.deepEqual(
      sent.map((s) => s.at),
      [0, 0, 500, 500, 1000, 1000, 1500, 1500, 2000, 2000],
    );
    assert.deepEqual(kinds(sent.slice(0, 2)), ['arp-1', 'arp-2']);
  });

  test('IPv6: unsolicited NA burst and the solicited-node multicast group joined, then left on withdraw', () => {
    const { engine, sockets, advance } = harness();
    engine.setInterfaces([ETH0]);
    engine.announce('2001:db8:100::7', ['eth0']);
    assert.deepEqual([...sockets[0]!.groups], ['3333ff000007']);
    advance(3000);
    assert.equal(sockets[0]!.sent.length, 5);
    assert.deepEqual(kinds(sockets[0]!.sent), ['na-na', 'na-na', 'na-na', 'na-na', 'na-na']);
    engine.withdraw('2001:db8:100::7');
    assert.deepEqual([...sockets[0]!.groups], []);
    assert.equal(sockets[0]!.closed, true, 'no IP left: socket closed');
  });

  test('reassert restarts the burst for every announced IP on every interface, and nothing else', () => {
    const { engine, sockets, advance } = harness();
    engine.setInterfaces([ETH0, ETH1]);
    engine.announce('198.51.100.7', undefined);
    engine.announce('2001:db8:100::7', ['eth1']);
    advance(5000);
    const before = sockets.map((s) => s.sent.length);
    engine.reassert();
    advance(5000);
    const after = sockets.map((s, i) => s.sent.slice(before[i]));
    // eth0: the IPv4 burst (two ARP forms × 5); eth1: the same plus the IPv6 NA burst (× 5).
    assert.deepEqual(
      after.map((sent) => sent.map((s) => s.at - 5000)),
      [
        [0, 0, 500, 500, 1000, 1000, 1500, 1500, 2000, 2000],
        [0, 0, 0, 500, 500, 500, 1000, 1000, 1000, 1500, 1500, 1500, 2000, 2000, 2000],
      ],
    );
    engine.withdraw('198.51.100.7');
    engine.withdraw('2001:db8:100::7');
    engine.reassert();
    advance(5000);
    assert.deepEqual(
      sockets.map((s) => s.sent.length),
      after.map((sent, i) => (before[i] as number) + sent.length),
      'nothing announced, nothing sent',
    );
  });

  test('withdraw stops answering and cancels the rest of the burst at once', () => {
    const { engine, sockets, advance, pendingTimers } = harness();
    engine.setInterfaces([ETH0]);
    engine.announce('198.51.100.7', ['eth0']);
    advance(600);
    engine.withdraw('198.51.100.7');
    assert.equal(pendingTimers(), 0);
    const before = sockets[0]!.sent.length;
    sockets[0]!.deliver(
      Buffer.from(
        encodeArpFrame('ff:ff:ff:ff:ff:ff', '02:00:00:00:00:0a', {
          operation: 1,
          senderMac: '02:00:00:00:00:0a',
          senderIp: '192.0.2.10',
          targetMac: '00:00:00:00:00:00',
          targetIp: '198.51.100.7',
        }),
      ),
    );
    advance(3000);
    assert.equal(sockets[0]!.sent.length, before);
  });

  test('answers only on the interfaces asked for, with that interface MAC', () => {
    const { engine, sockets } = harness();
    engine.setInterfaces([ETH0, ETH1]);
    engine.announce('198.51.100.7', ['eth1']);
    assert.deepEqual(
      sockets.map((s) => s.iface),
      ['eth1'],
    );
    const request = encodeArpFrame('ff:ff:ff:ff:ff:ff', '02:00:00:00:00:0a', {
      operation: 1,
      senderMac: '02:00:00:00:00:0a',
      senderIp: '192.0.2.10',
      targetMac: '00:00:00:00:00:00',
      targetIp: '198.51.100.7',
    });
    sockets[0]!.deliver(Buffer.from(request));
    const reply = decodeFrame(sockets[0]!.sent.at(-1)!.frame);
    assert.ok(reply.ok && reply.value.kind === 'arp');
    assert.equal(reply.value.arp.operation, 2);
    assert.equal(reply.value.arp.senderMac, ETH1.mac);
    const counters = engine.counters();
    assert.ok(
      counters.some((c) => c.name === 'responses_sent' && c.ip === '198.51.100.7' && c.interface === 'eth1'),
    );
  });

  test('requests refused by hygiene or the overall budget are counted by reason per interface, never answered', () => {
    const { engine, sockets } = harness();
    engine.configure(DEFAULT_SCHEDULE, { perSecond: 100, burst: 50 }, { perSecond: 1, burst: 2 });
    engine.setInterfaces([ETH0]);
    engine.announce('198.51.100.7', ['eth0']);
    const socket = sockets[0]!;
    const sentBefore = socket.sent.length;
    const request = (ethernetSource: string, senderMac: string) =>
      Buffer.from(
        encodeArpFrame('ff:ff:ff:ff:ff:ff', ethernetSource, {
          operation: 1,
          senderMac,
          senderIp: '192.0.2.10',
          targetMac: '00:00:00:00:00:00',
          targetIp: '198.51.100.7',
        }),
      );
    socket.deliver(request('ff:ff:ff:ff:ff:ff', '02:00:00:00:00:0a'));
    socket.deliver(request('02:00:00:00:00:0a', '01:00:5e:00:00:01'));
    for (let i = 0; i < 5; i++) socket.deliver(request(`02:00:00:00:01:0${i}`, `02:00:00:00:01:0${i}`));
    // The overall budget (burst 2, in halves of 1) lets one rare asker through at this instant.
    assert.equal(socket.sent.length - sentBefore, 1);
    const dropped = engine
      .counters()
      .filter((c) => c.name === 'requests_dropped')
      .map((c) => [c.interface, c.reason, c.value, c.ip]);
    assert.deepEqual(dropped.sort(), [
      ['eth0', 'overall-budget', 4, ''],
      ['eth0', 'sender-mac-not-unicast', 1, ''],
      ['eth0', 'source-not-unicast', 1, ''],
    ]);
  });

  test('an interface whose MAC changes gets a new socket and a new burst; one that goes away is closed', () => {
    const { engine, sockets, advance } = harness();
    engine.setInterfaces([ETH0]);
    engine.announce('198.51.100.7', undefined);
    advance(3000);
    engine.setInterfaces([{ ...ETH0, mac: '02:00:00:00:00:99' }]);
    assert.equal(sockets[0]!.closed, true);
    const second = sockets[1]!;
    assert.equal(second.sent.length, 2, 'immediate announcement with the new MAC');
    const frame = decodeFrame(second.sent[0]!.frame);
    assert.ok(frame.ok && frame.value.kind === 'arp' && frame.value.arp.senderMac === '02:00:00:00:00:99');
    engine.setInterfaces([]);
    assert.equal(second.closed, true);
    assert.deepEqual(engine.active(), []);
  });

  test('optional periodic refresh re-announces every owned IP', () => {
    const { engine, sockets, advance } = harness();
    engine.configure(
      { burstCount: 1, burstIntervalMs: 500, refreshIntervalMs: 10_000 },
      { perSecond: 100, burst: 50 },
    );
    engine.setInterfaces([ETH0]);
    engine.announce('198.51.100.7', ['eth0']);
    advance(30_000);
    assert.deepEqual(
      sockets[0]!.sent.map((s) => s.at),
      [0, 0, 10_000, 10_000, 20_000, 20_000, 30_000, 30_000],
    );
  });

  test('a socket that cannot be opened is reported with its code; nothing is half-announced', () => {
    const events: FromWorker[] = [];
    const engine = new L2Engine({
      openSocket: () => {
        throw Object.assign(new Error('socket(AF_PACKET): Operation not permitted'), { code: 'EPERM' });
      },
      post: (m) => events.push(m),
      nowMs: () => 0,
      setTimer: () => 0,
      clearTimer: () => {},
    });
    engine.setInterfaces([ETH0]);
    assert.throws(() => engine.announce('198.51.100.7', ['eth0']), {
      code: 'EPERM',
      message: /eth0: .*not permitted/,
    });
    assert.deepEqual(engine.active(), []);
    // A second IP that fails the same way reports its own failure only, so the message (and the
    // speaker's announceFailed event built from it) does not change with the number of failures.
    assert.throws(
      () => engine.announce('198.51.100.8', ['eth0']),
      (error: Error) => error.message.split('; ').length === 1 && /^eth0: /.test(error.message),
    );
  });
});

describe('L2Engine: defending an announced IP', () => {
  test('another host announcing our IP gets a fresh burst back, at most once per 10 s (RFC 5227 §2.4)', () => {
    const { engine, sockets, advance } = harness();
    engine.setInterfaces([ETH0]);
    engine.announce('198.51.100.7', ['eth0']);
    advance(3000);
    const socket = sockets[0]!;
    const sentAt = () => socket.sent.map((s) => s.at);
    const claim = () =>
      socket.deliver(Buffer.from(gratuitousArpRequestFrame('198.51.100.7', '02:00:00:00:00:0b')));
    const before = socket.sent.length;
    claim();
    advance(3000);
    assert.deepEqual(sentAt().slice(before), [3000, 3000, 3500, 3500, 4000, 4000, 4500, 4500, 5000, 5000]);
    claim();
    advance(3000);
    assert.equal(socket.sent.length, before + 10, 'no second defence within 10 s');
    advance(4000);
    claim();
    assert.equal(socket.sent.length, before + 12, 'defended again after 10 s');
    // Withdrawn: nothing of ours to defend, and the pending burst is cancelled.
    engine.withdraw('198.51.100.7');
    advance(3000);
    assert.equal(socket.sent.length, before + 12);
  });
});

describe('L2Engine: the membership LAN path', () => {
  test('membership frames to us or to everyone go to membership; conflicts too; others are not ours', () => {
    const heard: string[] = [];
    const { engine, sockets } = harness({
      frame: (iface, mac, payload) => heard.push(`frame ${iface} ${mac} ${payload.length}`),
      conflict: (iface, ip, mac) => heard.push(`conflict ${iface} ${ip} ${mac}`),
    });
    engine.setInterfaces([ETH0]);
    engine.announce('198.51.100.7', ['eth0']);
    const socket = sockets[0]!;
    const payload = new Uint8Array(80);
    socket.deliver(Buffer.from(encodeMembershipFrame(ETH0.mac, '02:00:00:00:00:0b', payload)));
    socket.deliver(Buffer.from(encodeMembershipFrame('ff:ff:ff:ff:ff:ff', '02:00:00:00:00:0c', payload)));
    socket.deliver(Buffer.from(encodeMembershipFrame('02:00:00:00:00:99', '02:00:00:00:00:0d', payload)));
    socket.deliver(Buffer.from(gratuitousArpRequestFrame('198.51.100.7', '02:00:00:00:00:0b')));
    assert.deepEqual(heard, [
      'frame eth0 02:00:00:00:00:0b 80',
      'frame eth0 02:00:00:00:00:0c 80',
      'conflict eth0 198.51.100.7 02:00:00:00:00:0b',
    ]);
  });

  test('sends membership frames from the interface MAC; a pinned interface stays open with nothing announced', () => {
    const { engine, sockets } = harness();
    engine.setInterfaces([ETH0, ETH1]);
    assert.equal(
      engine.sendMembership('eth0', '02:00:00:00:00:0b', new Uint8Array(70)),
      false,
      'no socket yet',
    );
    engine.pinInterfaces(new Set(['eth1']));
    assert.deepEqual(
      sockets.map((s) => [s.iface, s.closed]),
      [['eth1', false]],
    );
    assert.equal(engine.sendMembership('eth1', '02:00:00:00:00:0b', new Uint8Array(70)), true);
    const sent = decodeMembershipFrame(sockets[0]!.sent[0]!.frame);
    assert.deepEqual(
      { destination: sent?.destination, source: sent?.source, length: sent?.payload.length },
      { destination: '02:00:00:00:00:0b', source: ETH1.mac, length: 70 },
    );
    // Announcing and withdrawing there does not close it while pinned; unpinning does.
    engine.announce('198.51.100.7', ['eth1']);
    engine.withdraw('198.51.100.7');
    assert.equal(sockets[0]!.closed, false);
    engine.pinInterfaces(new Set());
    assert.equal(sockets[0]!.closed, true);
    assert.deepEqual(engine.active(), []);
  });

  test('while membership listens, every usable interface stays open with nothing announced, and hears a broadcast Claim', () => {
    const heard: string[] = [];
    const { engine, sockets } = harness({
      frame: (iface, mac) => heard.push(`frame ${iface} ${mac}`),
      conflict: () => {},
    });
    engine.setInterfaces([ETH0]);
    assert.equal(sockets.length, 0, 'nothing announced, nothing pinned: no socket');
    engine.listenForMembership(true);
    assert.deepEqual(
      sockets.map((s) => [s.iface, s.closed]),
      [['eth0', false]],
    );
    // A peer that lost us on the membership port broadcasts its Claim: we hear it and can answer.
    sockets[0]!.deliver(
      Buffer.from(encodeMembershipFrame('ff:ff:ff:ff:ff:ff', '02:00:00:00:00:0c', new Uint8Array(80))),
    );
    assert.deepEqual(heard, ['frame eth0 02:00:00:00:00:0c']);
    assert.equal(engine.sendMembership('eth0', '02:00:00:00:00:0c', new Uint8Array(70)), true);
    // An interface that appears is opened; one that goes is closed; an IP withdrawn keeps it open.
    engine.setInterfaces([ETH0, ETH1]);
    engine.announce('198.51.100.7', ['eth1']);
    engine.withdraw('198.51.100.7');
    assert.deepEqual(
      sockets.map((s) => [s.iface, s.closed]),
      [
        ['eth0', false],
        ['eth1', false],
      ],
    );
    engine.setInterfaces([ETH1]);
    assert.equal(sockets[0]!.closed, true);
    assert.deepEqual(engine.active(), []);
    // Membership stops: the sockets it alone kept open close.
    engine.listenForMembership(false);
    assert.equal(sockets[1]!.closed, true);
  });
});
