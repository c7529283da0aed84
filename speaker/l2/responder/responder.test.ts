import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { decodeFrame, encodeArpFrame, encodeNdpFrame, gratuitousArpRequestFrame } from '../frames/frame.ts';
import { RateLimiter } from './rate-limiter.ts';
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
    const outcome = respond(arpRequest('198.51.100.7'), NODE, owns, new RateLimiter(), 0);
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
      respond(arpRequest('198.51.100.7', NODE.mac), NODE, owns, new RateLimiter(), 0).kind,
      'reply',
    );
  });

  test('ignores foreign IPs, replies, our own announcements, and unicast to another host', () => {
    const limiter = new RateLimiter();
    const cases: [Uint8Array, string][] = [
      [arpRequest('198.51.100.8'), 'not-owned'],
      [arpRequest('198.51.100.7', '02:00:00:00:00:02'), 'not-for-us'],
      [gratuitousArpRequestFrame('198.51.100.7', NODE.mac), 'gratuitous'],
      [ns('2001:db8:100::8'), 'not-owned'],
    ];
    for (const [frame, reason] of cases)
      assert.deepEqual(respond(frame, NODE, owns, limiter, 0), { kind: 'ignored', reason });
  });

  test('answers NS with a solicited NA, and a DAD probe for our IP to all-nodes', () => {
    for (const source of ['2001:db8:0:1::10', '::']) {
      const outcome = respond(ns('2001:db8:100::7', source), NODE, owns, new RateLimiter(), 0);
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
      new RateLimiter(),
      0,
    );
    assert.deepEqual(outcome, { kind: 'conflict', ip: '198.51.100.7', otherMac: '02:00:00:00:00:02' });
  });

  test('a requester over its limit is not answered; others still are; the bucket refills with time', () => {
    const limiter = new RateLimiter({ perSecond: 10, burst: 3 });
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
    assert.equal(respond(truncated, NODE, owns, new RateLimiter(), 0).kind, 'malformed');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), (bytes) => {
        const kind = respond(bytes, NODE, owns, new RateLimiter(), 0).kind;
        assert.ok(['ignored', 'malformed', 'reply', 'rate-limited', 'conflict'].includes(kind));
      }),
      { numRuns: 3000 },
    );
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
