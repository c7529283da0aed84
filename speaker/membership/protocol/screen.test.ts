import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { encodeMessage, type MembershipMessage } from '../codec/codec.ts';
import { type LocalSocket, type MembershipPeer, sourceTable } from '../peers/peers.ts';
import { membershipConfig } from './config.ts';
import { initialState, type MembershipState, type PeerRecord, step } from './protocol.ts';
import { DEFAULT_SCREEN_LIMITS, Screen, type Source } from './screen.ts';
import { at, TEST_KEY, WALL0 } from './test-helpers.ts';

const key = TEST_KEY;
const wrongKey = Buffer.alloc(32, 8);
const local: LocalSocket = { nodeName: 'node-a', port: 7951, family: 'IPv6', dualStack: true };
const PEERS: MembershipPeer[] = [
  { name: 'node-b', address: '192.0.2.12', addresses: ['2001:db8:0:1::12'] },
  { name: 'node-c', address: '192.0.2.13' },
];
const FROM_B: Source = { kind: 'udp', address: '::ffff:192.0.2.12', port: 7951 };
const FROM_C: Source = { kind: 'udp', address: '::ffff:192.0.2.13', port: 7951 };

function screen(limits = DEFAULT_SCREEN_LIMITS): Screen {
  const s = new Screen('node-a', 5000, limits);
  s.setSources(sourceTable(PEERS, local));
  return s;
}

const record = (overrides: Partial<PeerRecord> = {}): PeerRecord => ({
  listed: true,
  status: 'alive',
  lastHeardMonoMs: 0,
  udpHeardMonoMs: 0,
  lan: undefined,
  incarnation: 100n,
  sequence: 10n,
  seen: 1n,
  holdings: [],
  holdingsHeardMonoMs: undefined,
  restartUntilMonoMs: undefined,
  resumingUntilMonoMs: undefined,
  nodeAliveMonoMs: undefined,
  changedAtMonoMs: 0,
  ...overrides,
});
const peers = (b: Partial<PeerRecord> = {}): ReadonlyMap<string, PeerRecord> =>
  new Map([
    ['node-b', record(b)],
    ['node-c', record()],
  ]);

const datagram = (overrides: Partial<MembershipMessage> = {}, signWith: Uint8Array = key) =>
  encodeMessage(
    { type: 'Heartbeat', sender: 'node-b', incarnation: 100n, sequence: 11n, sentAtMs: WALL0, ...overrides },
    signWith,
  );

test('the source must be an address and port of the node the datagram claims to be', () => {
  const s = screen();
  const verdict = (from: Source, message: Partial<MembershipMessage> = {}) =>
    s.check(datagram(message), from, peers(), at(0));
  assert.deepEqual(verdict(FROM_B), { admit: true, lane: 'expected' });
  assert.deepEqual(verdict({ kind: 'udp', address: '192.0.2.12', port: 7951 }), {
    admit: true,
    lane: 'expected',
  });
  assert.deepEqual(verdict({ kind: 'udp', address: '2001:db8:0:1::12', port: 7951 }), {
    admit: true,
    lane: 'expected',
  });
  assert.deepEqual(verdict({ kind: 'udp', address: '::ffff:192.0.2.99', port: 7951 }), {
    admit: false,
    reason: 'unknown-source',
  });
  assert.deepEqual(
    verdict(FROM_C),
    { admit: false, reason: 'source-mismatch' },
    "node-c's address claiming node-b",
  );
  assert.deepEqual(verdict({ ...FROM_B, port: 40000 }), { admit: false, reason: 'source-mismatch' });
  assert.deepEqual(verdict(FROM_B, { sender: 'node-z' }), { admit: false, reason: 'unknown-sender' });
  assert.deepEqual(verdict(FROM_B, { sender: 'node-a' }), { admit: false, reason: 'self' });
  assert.deepEqual(s.check(Buffer.from('junk'), FROM_B, peers(), at(0)), {
    admit: false,
    reason: 'malformed',
  });
});

test('stale and replayed datagrams are dropped before any cryptography', () => {
  const s = screen();
  const verdict = (message: Partial<MembershipMessage>, b: Partial<PeerRecord> = {}) =>
    s.check(datagram(message), FROM_B, peers(b), at(0));
  assert.deepEqual(verdict({ sentAtMs: WALL0 - 5001 }), { admit: false, reason: 'stale' });
  assert.deepEqual(verdict({ sentAtMs: WALL0 + 5001 }), { admit: false, reason: 'stale' });
  assert.deepEqual(verdict({ sequence: 10n }), { admit: false, reason: 'replay' });
  assert.deepEqual(verdict({ incarnation: 99n, sequence: 1000n }), { admit: false, reason: 'replay' });
  // Out of order (the other path was faster): unseen within the window passes, seen or older does not.
  assert.deepEqual(verdict({ sequence: 9n }), { admit: true, lane: 'expected' });
  assert.deepEqual(verdict({ sequence: 9n }, { seen: 0b11n }), { admit: false, reason: 'replay' });
  assert.deepEqual(verdict({ sequence: 36n }, { sequence: 100n }), { admit: false, reason: 'replay' });
  assert.deepEqual(verdict({ sequence: 37n }, { sequence: 100n }), { admit: true, lane: 'expected' });
  // A peer no longer listed (its record kept for the replay window) is unknown.
  assert.deepEqual(verdict({}, { listed: false }), { admit: false, reason: 'unknown-sender' });
});

test('lanes: the next sequence numbers of the current incarnation are expected; anything else is budgeted', () => {
  const s = screen();
  const lane = (message: Partial<MembershipMessage>, b: Partial<PeerRecord> = {}) => {
    const v = s.check(datagram(message), FROM_B, peers(b), at(0));
    return v.admit ? v.lane : v.reason;
  };
  assert.equal(lane({ sequence: 11n }), 'expected');
  assert.equal(lane({ sequence: 10n + 64n }), 'expected');
  assert.equal(
    lane({ sequence: 10n + 65n }),
    'budgeted',
    'far ahead: the peer was cut off from us for a while',
  );
  assert.equal(lane({ incarnation: 101n, sequence: 1n }), 'budgeted', 'a restart');
  assert.equal(lane({}, { incarnation: undefined, sequence: undefined }), 'budgeted', 'never heard');
});

test('a flood spoofing a peer with a made-up incarnation gets only the budgeted lane; the real heartbeats all pass', () => {
  const s = screen();
  // 1,000 junk datagrams, cycled: made-up incarnations, wrong key, a timestamp within the skew.
  const pool = Array.from({ length: 1000 }, (_, i) =>
    datagram({ incarnation: BigInt(i % 97) + 200n, sequence: BigInt(i), sentAtMs: WALL0 + 2500 }, wrongKey),
  );
  let budgeted = 0;
  const expected: string[] = [];
  let sequence = 10n;
  // 5 s: the flood sends one datagram every 10 µs (100,000/s), the peer a heartbeat every 50 ms.
  for (let tenUs = 0; tenUs < 500_000; tenUs++) {
    const ms = tenUs / 100;
    const v = s.check(pool[tenUs % pool.length]!, FROM_B, peers({ sequence }), at(ms));
    if (v.admit) budgeted++;
    if (tenUs % 5000 === 0) {
      sequence += 1n;
      const real = s.check(
        datagram({ sequence, sentAtMs: WALL0 + ms }),
        FROM_B,
        peers({ sequence: sequence - 1n }),
        at(ms),
      );
      expected.push(real.admit ? real.lane : real.reason);
    }
  }
  assert.equal(expected.length, 100);
  assert.ok(
    expected.every((lane) => lane === 'expected'),
    expected.join(','),
  );
  // The per-peer budgeted bucket: its burst (10) and 10 a second.
  assert.ok(budgeted <= 10 + 10 * 5, `${budgeted} junk datagrams went on to be verified`);
  assert.ok(budgeted >= 10, `${budgeted} junk datagrams went on to be verified`);
});

test('the budgeted lane is bounded for all peers together, and buckets exist only for listed peers', () => {
  const limits = {
    ...DEFAULT_SCREEN_LIMITS,
    budgeted: { perSecond: 1000, burst: 1000 },
    budgetedOverall: { perSecond: 5, burst: 5 },
  };
  const s = screen(limits);
  let admitted = 0;
  for (let i = 0; i < 1000; i++) {
    const fromB = s.check(datagram({ incarnation: 500n }), FROM_B, peers(), at(0));
    const fromC = s.check(datagram({ sender: 'node-c', incarnation: 500n }), FROM_C, peers(), at(0));
    admitted += Number(fromB.admit) + Number(fromC.admit);
  }
  assert.equal(admitted, 5);
  assert.equal(s.trackedPeers, 2);
  s.setSources(sourceTable([PEERS[0]!], local));
  assert.equal(s.trackedPeers, 1, 'the buckets of a peer gone from the list are forgotten');
  for (let i = 0; i < 100; i++) {
    s.check(
      datagram({ sender: `node-${i}` }),
      { kind: 'udp', address: `::ffff:192.0.2.${i}`, port: 7951 },
      peers(),
      at(0),
    );
  }
  assert.equal(s.trackedPeers, 1, 'strangers make no buckets');
});

test('property: nothing is admitted from a source the table does not hold for the claimed sender', () => {
  const s = screen({
    ...DEFAULT_SCREEN_LIMITS,
    budgeted: { perSecond: 1e9, burst: 1e9 },
    budgetedOverall: { perSecond: 1e9, burst: 1e9 },
  });
  const allowed = new Set([
    'node-b|::ffff:192.0.2.12|7951',
    'node-b|192.0.2.12|7951',
    'node-b|2001:db8:0:1::12|7951',
    'node-c|::ffff:192.0.2.13|7951',
    'node-c|192.0.2.13|7951',
  ]);
  fc.assert(
    fc.property(
      fc.constantFrom('node-a', 'node-b', 'node-c', 'node-d'),
      fc.constantFrom(
        '::ffff:192.0.2.12',
        '192.0.2.12',
        '2001:db8:0:1::12',
        '::ffff:192.0.2.13',
        '192.0.2.13',
        '192.0.2.14',
        '::1',
      ),
      fc.constantFrom(7951, 7952, 0),
      fc.bigInt({ min: 0n, max: 300n }),
      fc.bigInt({ min: 0n, max: 300n }),
      (sender, address, port, incarnation, sequence) => {
        const v = s.check(
          datagram({ sender, incarnation, sequence }),
          { kind: 'udp', address, port },
          peers(),
          at(0),
        );
        if (v.admit)
          assert.ok(allowed.has(`${sender}|${address}|${port}`), `${sender} from ${address}:${port}`);
      },
    ),
    { numRuns: 3000 },
  );
  // Random bytes are never admitted (they fail the shape, or claim nobody listed).
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 120 }), (bytes) => {
      assert.equal(s.check(bytes, FROM_B, peers(), at(0)).admit, false);
    }),
  );
});

test('screen and protocol together: a 100,000/s spoofed flood with wrong MACs costs no false failover', () => {
  // node-a hears node-b's real heartbeats every 50 ms through the screen; a LAN host sends
  // node-a a junk datagram every 10 µs from node-b's address and port, well-formed, with a
  // current timestamp and made-up incarnations, signed with a wrong key. Only what the
  // screen admits reaches the protocol (and its HMAC).
  const config = membershipConfig({ nodeName: 'node-a', keys: [key] });
  const configB = membershipConfig({ nodeName: 'node-b', keys: [key] });
  let a: MembershipState = initialState(config, 1n, ['node-b'], at(0));
  let b: MembershipState = initialState(configB, 2n, ['node-a'], at(0));
  const s = new Screen('node-a', config.maxClockSkewMs);
  s.setSources(sourceTable([{ name: 'node-b', address: '192.0.2.12' }], local));
  const failures: string[] = [];
  let verified = 0;
  const junkKey = Buffer.alloc(32, 0x5a);
  const pool = Array.from({ length: 1000 }, (_, i) =>
    encodeMessage(
      {
        type: 'Heartbeat',
        sender: 'node-b',
        incarnation: 5n + BigInt(i),
        sequence: BigInt(i),
        sentAtMs: WALL0 + 2500,
      },
      junkKey,
    ),
  );
  for (let tenUs = 0; tenUs < 500_000; tenUs++) {
    const ms = tenUs / 100;
    if (tenUs % 2500 === 0) {
      // Every 25 ms both tick; b's heartbeats reach a through the screen.
      const rb = step(b, { type: 'tick' }, at(ms));
      b = rb.state;
      for (const action of rb.actions) {
        if (action.type !== 'broadcast') continue;
        if (!s.check(action.bytes, FROM_B, a.peers, at(ms)).admit) continue;
        verified++;
        a = step(a, { type: 'datagram', bytes: action.bytes }, at(ms)).state;
      }
      const ra = step(a, { type: 'tick' }, at(ms));
      a = ra.state;
      for (const action of ra.actions)
        if (action.type === 'peer-failed') failures.push(`${action.name} at ${ms} ms`);
    }
    const junk = pool[tenUs % pool.length]!;
    if (s.check(junk, FROM_B, a.peers, at(ms)).admit) {
      verified++;
      a = step(a, { type: 'datagram', bytes: junk }, at(ms)).state;
    }
  }
  assert.deepEqual(failures, []);
  assert.deepEqual(
    [...a.peers].map(([name, p]) => [name, p.status]),
    [['node-b', 'alive']],
  );
  // 5 s: b's 100 heartbeats, and the junk the budgeted lane let through (burst 10, 10 a second).
  assert.ok(verified <= 100 + 10 + 50 + 1, `${verified} datagrams verified`);
});
