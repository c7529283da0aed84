import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { decodeFrame, encodeArpFrame, encodeNdpFrame, gratuitousArpRequestFrame } from '../frames/frame.ts';
import { AnswerBudget, RateLimiter, TokenBucket } from './rate-limiter.ts';
import { respond } from './responder.ts';
import { burstOffsetsMs, DEFAULT_SCHEDULE, validateSchedule } from './schedule.ts';

const NODE = { name: 'eth0', mac: '02:00:00:00:00:01' };
const CLIENT_MAC = '02:00:00:00:00:0a';
const owned = new Set(['198.51.100.7', '2001:db8:100::7']);
const owns = (ip: string) => owned.has(ip);

const arpRequest = (targetIp: string, destination = 'ff:ff:ff:ff:ff:ff', senderMac = CLIENT_MAC) =>
  encodeArpFrame(destination, senderMac, {
    operation: 1,
    senderMac,
    senderIp: '192.0.2.10',
    targetMac: '00:00:00:00:00:00',
    targetIp,
  });
const ns = (target: string, source = '2001:db8:0:1::10') =>
  encodeNdpFrame('33:33:ff:00:00:07', CLIENT_MAC, {
    type: 'ns',
    source,
    destination: 'ff02::1:ff00:7',
    hopLimit: 255,
    target,
    sourceLinkLayer: source === '::' ? undefined : CLIENT_MAC,
  });

describe('respond', () => {
  test('answers an ARP request for an owned IP with the interface MAC, unicast to the asker', () => {
    const outcome = respond(arpRequest('198.51.100.7'), NODE, owns, new AnswerBudget(), 0);
    assert.equal(outcome.kind, 'reply');
    assert.ok(outcome.kind === 'reply');
    const reply = decodeFrame(outcome.frame);
    assert.ok(reply.ok && reply.value.kind === 'arp');
    assert.equal(reply.value.destination, CLIENT_MAC);
    assert.equal(reply.value.arp.senderMac, NODE.mac);
    assert.equal(reply.value.arp.senderIp, '198.51.100.7');
  });

  test('answers a unicast ARP probe to our MAC (the kernel re-validating a stale entry)', () => {
    assert.equal(
      respond(arpRequest('198.51.100.7', NODE.mac), NODE, owns, new AnswerBudget(), 0).kind,
      'reply',
    );
  });

  test('ignores foreign IPs, replies, our own announcements, and unicast to another host', () => {
    const limiter = new AnswerBudget();
    const cases: [Uint8Array, string][] = [
      [arpRequest('198.51.100.8'), 'not-owned'],
      [arpRequest('198.51.100.7', '02:00:00:00:00:02'), 'not-for-us'],
      [gratuitousArpRequestFrame('198.51.100.7', NODE.mac), 'own-mac'],
      [gratuitousArpRequestFrame('198.51.100.8', '02:00:00:00:00:02'), 'gratuitous'],
      [ns('2001:db8:100::8'), 'not-owned'],
    ];
    for (const [frame, reason] of cases)
      assert.deepEqual(respond(frame, NODE, owns, limiter, 0), { kind: 'ignored', reason });
  });

  test('answers NS with a solicited NA, and a DAD probe for our IP to all-nodes', () => {
    for (const source of ['2001:db8:0:1::10', '::']) {
      const outcome = respond(ns('2001:db8:100::7', source), NODE, owns, new AnswerBudget(), 0);
      assert.ok(outcome.kind === 'reply', source);
      const reply = decodeFrame(outcome.frame);
      assert.ok(reply.ok && reply.value.kind === 'ndp' && reply.value.ndp.type === 'na');
      assert.equal(reply.value.ndp.target, '2001:db8:100::7');
      assert.equal(reply.value.ndp.targetLinkLayer, NODE.mac);
      assert.equal(reply.value.ndp.destination, source === '::' ? 'ff02::1' : source);
      assert.equal(reply.value.ndp.solicited, source !== '::');
    }
  });

  test('another host announcing an owned IP is reported as a conflict', () => {
    const outcome = respond(
      gratuitousArpRequestFrame('198.51.100.7', '02:00:00:00:00:02'),
      NODE,
      owns,
      new AnswerBudget(),
      0,
    );
    assert.deepEqual(outcome, { kind: 'conflict', ip: '198.51.100.7', otherMac: '02:00:00:00:00:02' });
  });

  test('a requester over its limit is not answered; others still are; the bucket refills with time', () => {
    const limiter = new AnswerBudget({ perSecond: 10, burst: 3 });
    const kinds = Array.from(
      { length: 5 },
      () => respond(arpRequest('198.51.100.7'), NODE, owns, limiter, 1000).kind,
    );
    assert.deepEqual(kinds, ['reply', 'reply', 'reply', 'rate-limited', 'rate-limited']);
    const other = arpRequest('198.51.100.7', 'ff:ff:ff:ff:ff:ff', '02:00:00:00:00:0b');
    assert.equal(respond(other, NODE, owns, limiter, 1000).kind, 'reply');
    assert.equal(respond(arpRequest('198.51.100.7'), NODE, owns, limiter, 1100).kind, 'reply');
    assert.equal(respond(arpRequest('198.51.100.7'), NODE, owns, limiter, 1100).kind, 'rate-limited');
  });

  test('malformed frames come back as counted outcomes, never exceptions', () => {
    const truncated = arpRequest('198.51.100.7').subarray(0, 30);
    assert.equal(respond(truncated, NODE, owns, new AnswerBudget(), 0).kind, 'malformed');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), (bytes) => {
        const kind = respond(bytes, NODE, owns, new AnswerBudget(), 0).kind;
        assert.ok(['ignored', 'malformed', 'reply', 'rate-limited', 'conflict'].includes(kind));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('respond: who is never answered (hygiene)', () => {
  const arpFrom = (ethernetSource: string, senderMac: string, senderIp: string) =>
    encodeArpFrame('ff:ff:ff:ff:ff:ff', ethernetSource, {
      operation: 1,
      senderMac,
      senderIp,
      targetMac: '00:00:00:00:00:00',
      targetIp: '198.51.100.7',
    });
  const nsFrom = (ethernetSource: string, source: string, sourceLinkLayer: string | undefined) =>
    encodeNdpFrame('33:33:ff:00:00:07', ethernetSource, {
      type: 'ns',
      source,
      destination: 'ff02::1:ff00:7',
      hopLimit: 255,
      target: '2001:db8:100::7',
      sourceLinkLayer,
    });
  const dropped = (bytes: Uint8Array) => respond(bytes, NODE, owns, new AnswerBudget(), 0);
  /** The drop reason, and the owned IP it names (`reason@ip`), or the outcome's kind. */
  const reasonOf = (outcome: ReturnType<typeof respond>) =>
    outcome.kind === 'dropped' && owned.has(outcome.ip) ? outcome.reason : outcome.kind;

  test('a request from a broadcast, multicast or all-zero Ethernet source is dropped, not answered to everyone', () => {
    for (const source of [
      'ff:ff:ff:ff:ff:ff',
      '01:00:5e:00:00:01',
      '33:33:00:00:00:01',
      '00:00:00:00:00:00',
    ]) {
      assert.deepEqual(dropped(arpFrom(source, CLIENT_MAC, '192.0.2.10')), {
        kind: 'dropped',
        ip: '198.51.100.7',
        reason: 'source-not-unicast',
      });
      assert.deepEqual(dropped(nsFrom(source, '2001:db8:0:1::10', CLIENT_MAC)), {
        kind: 'dropped',
        ip: '2001:db8:100::7',
        reason: 'source-not-unicast',
      });
    }
  });

  test('an ARP sender or NS link-layer option that is not a unicast MAC is dropped', () => {
    assert.equal(
      (dropped(arpFrom(CLIENT_MAC, 'ff:ff:ff:ff:ff:ff', '192.0.2.10')) as { reason: string }).reason,
      'sender-mac-not-unicast',
    );
    assert.equal(
      (dropped(arpFrom(CLIENT_MAC, '01:00:5e:7f:00:01', '192.0.2.10')) as { reason: string }).reason,
      'sender-mac-not-unicast',
    );
    assert.equal(
      (dropped(nsFrom(CLIENT_MAC, '2001:db8:0:1::10', '33:33:00:00:00:01')) as { reason: string }).reason,
      'sender-mac-not-unicast',
    );
  });

  test('ARP from a multicast, broadcast or loopback IPv4 sender is dropped; a probe from 0.0.0.0 is answered unicast', () => {
    for (const senderIp of ['224.0.0.1', '239.255.255.250', '255.255.255.255', '127.0.0.1']) {
      assert.deepEqual(
        reasonOf(dropped(arpFrom(CLIENT_MAC, CLIENT_MAC, senderIp))),
        'sender-ip-not-unicast',
        senderIp,
      );
    }
    const probe = dropped(arpFrom(CLIENT_MAC, CLIENT_MAC, '0.0.0.0'));
    assert.ok(probe.kind === 'reply');
    const reply = decodeFrame(probe.frame);
    assert.ok(reply.ok && reply.value.kind === 'arp');
    assert.equal(reply.value.destination, CLIENT_MAC);
    assert.equal(reply.value.arp.targetIp, '0.0.0.0');
  });

  test('an NS from a multicast IPv6 source is dropped (RFC 4861 §7.1.1); unicast and DAD sources are answered', () => {
    for (const source of ['ff02::1', 'ff05::2', 'ff0e::1:3']) {
      assert.deepEqual(
        reasonOf(dropped(nsFrom(CLIENT_MAC, source, CLIENT_MAC))),
        'sender-ip-not-unicast',
        source,
      );
    }
    assert.equal(dropped(nsFrom(CLIENT_MAC, 'fe80::1', CLIENT_MAC)).kind, 'reply');
    assert.equal(dropped(nsFrom(CLIENT_MAC, '::', undefined)).kind, 'reply');
  });

  test('a frame carrying our own MAC as its source is not answered', () => {
    assert.deepEqual(dropped(arpFrom(NODE.mac, NODE.mac, '192.0.2.10')), {
      kind: 'ignored',
      reason: 'own-mac',
    });
  });

  test('every answer goes to a unicast MAC, except the all-nodes answer to DAD that RFC 4861 §7.2.4 prescribes', () => {
    const mac = fc
      .tuple(fc.constantFrom(0x00, 0x01, 0x02, 0x33, 0xff), fc.uint8Array({ minLength: 5, maxLength: 5 }))
      .map(([first, rest]) => [first, ...rest].map((b) => b.toString(16).padStart(2, '0')).join(':'));
    const ipv4 = fc.constantFrom('0.0.0.0', '192.0.2.10', '224.0.0.5', '255.255.255.255', '127.0.0.9');
    const ipv6 = fc.constantFrom('::', '2001:db8:0:1::10', 'fe80::2', 'ff02::1', 'ff02::1:ff00:7');
    const request = fc.oneof(
      fc.tuple(mac, mac, ipv4).map(([source, sender, ip]) => arpFrom(source, sender, ip)),
      fc
        .tuple(mac, ipv6, fc.option(mac, { nil: undefined }))
        .map(([source, ip, slla]) => nsFrom(source, ip, ip === '::' ? undefined : slla)),
    );
    fc.assert(
      fc.property(request, (bytes) => {
        const outcome = respond(bytes, NODE, owns, new AnswerBudget(), 0);
        if (outcome.kind !== 'reply') return;
        const reply = decodeFrame(outcome.frame);
        assert.ok(reply.ok);
        const dad = reply.value.kind === 'ndp' && reply.value.ndp.destination === 'ff02::1';
        const first = Number.parseInt(reply.value.destination.slice(0, 2), 16);
        assert.ok(
          dad || ((first & 1) === 0 && reply.value.destination !== '00:00:00:00:00:00'),
          reply.value.destination,
        );
      }),
      { numRuns: 2000 },
    );
  });
});

describe('AnswerBudget: the overall limit besides the per-requester one', () => {
  test('a host rotating through many MACs gets no more than the overall limit', () => {
    const budget = new AnswerBudget({ perSecond: 100, burst: 50 }, { perSecond: 200, burst: 100 });
    let answered = 0;
    // 10,000 requests from 10,000 MACs within one second: each MAC is within its own limit.
    for (let i = 0; i < 10_000; i++) {
      const mac = `02:f0:00:00:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;
      if (
        respond(arpRequest('198.51.100.7', 'ff:ff:ff:ff:ff:ff', mac), NODE, owns, budget, i / 10).kind ===
        'reply'
      )
        answered++;
    }
    // Never more than the overall burst (100) plus one second of refill (200); here each MAC
    // asks once, so all draw from the half for rare askers: its burst 50 plus 100 per second.
    assert.ok(answered <= 300, `${answered} answers`);
    assert.ok(answered >= 140 && answered <= 151, `${answered} answers`);
  });

  test('a few MACs flooding exhaust only their half: a client that asks rarely is still answered', () => {
    const budget = new AnswerBudget({ perSecond: 100, burst: 50 }, { perSecond: 200, burst: 100 });
    const floodMacs = Array.from(
      { length: 64 },
      (_, i) => `02:f0:00:00:00:${i.toString(16).padStart(2, '0')}`,
    );
    const outcomes: string[] = [];
    let flooded = 0;
    for (let ms = 0; ms < 5000; ms++) {
      for (const mac of floodMacs) {
        const kind = respond(
          arpRequest('198.51.100.7', 'ff:ff:ff:ff:ff:ff', mac),
          NODE,
          owns,
          budget,
          ms,
        ).kind;
        if (kind === 'reply') flooded++;
      }
      // The client asks every 150 ms, like arping in test/l2/robustness.test.ts; the flooders
      // start with full buckets (rare askers) and move to the other half within a second.
      if (ms % 150 === 0 && ms >= 1000) {
        outcomes.push(respond(arpRequest('198.51.100.7'), NODE, owns, budget, ms).kind);
      }
    }
    assert.equal(outcomes.length, 27);
    assert.ok(
      outcomes.every((kind) => kind === 'reply'),
      outcomes.join(','),
    );
    // The flooders got the half for frequent askers (burst 50, 100 per second for 5 s) and, in
    // their first milliseconds, the rare half's burst (50) and its refill meanwhile.
    assert.ok(flooded <= 50 + 100 * 5 + 50 + 10, `${flooded} answers to the flood`);
    assert.ok(flooded >= 50 + 100 * 5, `${flooded} answers to the flood`);
    assert.ok(flooded > 0);
  });

  test('the overall refusal is reported as a drop with its reason', () => {
    const budget = new AnswerBudget({ perSecond: 100, burst: 50 }, { perSecond: 1, burst: 2 });
    const kinds = Array.from({ length: 3 }, (_, i) =>
      respond(arpRequest('198.51.100.7', 'ff:ff:ff:ff:ff:ff', `02:00:00:00:01:0${i}`), NODE, owns, budget, 0),
    );
    assert.deepEqual(
      kinds.map((o) => o.kind),
      ['reply', 'dropped', 'dropped'],
    );
    assert.deepEqual(kinds[1], { kind: 'dropped', ip: '198.51.100.7', reason: 'overall-budget' });
  });

  test('rejects nonsense overall limits with the field named', () => {
    assert.throws(
      () => new AnswerBudget(undefined, { perSecond: 1, burst: 0 }),
      /overall rate limit: .*burst/,
    );
  });
});

describe('TokenBucket', () => {
  test('refills with time, never above its burst, and a clock going backwards gives nothing', () => {
    const bucket = new TokenBucket({ perSecond: 10, burst: 2 }, 0);
    assert.deepEqual([bucket.take(0), bucket.take(0), bucket.take(0)], [true, true, false]);
    assert.equal(bucket.take(100), true);
    assert.equal(bucket.take(50), false);
    assert.deepEqual([bucket.take(10_000), bucket.take(10_000), bucket.take(10_000)], [true, true, false]);
  });
});

describe('RateLimiter', () => {
  test('memory is bounded: the oldest requester is forgotten at maxKeys', () => {
    const limiter = new RateLimiter({ perSecond: 1, burst: 1 }, 100);
    for (let i = 0; i < 1000; i++) limiter.allow(`requester-${i}`, 0);
    assert.equal(limiter.size, 100);
    assert.equal(limiter.allow('requester-0', 0), true, 'forgotten requesters start with a full bucket');
    assert.equal(limiter.allow('requester-999', 0), false);
  });

  test('rejects nonsense limits with the field named', () => {
    assert.throws(() => new RateLimiter({ perSecond: 0, burst: 1 }), /perSecond/);
  });
});

describe('schedule', () => {
  test('default burst: immediately, then 4 more within 2 s', () => {
    assert.deepEqual(burstOffsetsMs(DEFAULT_SCHEDULE), [0, 500, 1000, 1500, 2000]);
    assert.equal(validateSchedule(DEFAULT_SCHEDULE), undefined);
  });

  test('bad schedules are named', () => {
    assert.match(validateSchedule({ ...DEFAULT_SCHEDULE, burstCount: 0 }) ?? '', /burstCount/);
    assert.match(validateSchedule({ ...DEFAULT_SCHEDULE, burstIntervalMs: 0 }) ?? '', /burstIntervalMs/);
    assert.match(validateSchedule({ ...DEFAULT_SCHEDULE, refreshIntervalMs: 10 }) ?? '', /refreshIntervalMs/);
  });
});
