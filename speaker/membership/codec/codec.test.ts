import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  decodeMessage,
  encodeMessage,
  encodingLength,
  MAX_HOLDINGS,
  MAX_RESTART_HOLD_MS,
  MembershipEncodeError,
  type MembershipMessage,
  peekHeader,
} from './codec.ts';
import { MAX_DATA_BYTES, MacKey } from './mac.ts';

const key = Buffer.from('metalbeacon-test-key-0123456789ab');
const otherKey = Buffer.from('another-key-of-the-wrong-cluster!');

// One heartbeat, annotated; the MAC was computed with `openssl dgst -sha256 -hmac`, not by this code.
const fixtureMessage: MembershipMessage = {
  type: 'Heartbeat',
  sender: 'node-a',
  incarnation: 1_700_000_000_000n,
  sequence: 7n,
  sentAtMs: 1_700_000_000_123,
};
const fixtureHex = [
  '4d42', // magic "MB"
  '01', // version 1
  '01', // type heartbeat
  '0000018bcfe56800', // incarnation 1700000000000
  '0000000000000007', // sequence 7
  '0000018bcfe5687b', // sentAtMs 1700000000123
  '06', // name length
  '6e6f64652d61', // "node-a"
  '468ac6bed79c25487cc1d2ab4a20c820bf75ee6c0adb183d5954f733dcdb45b1', // HMAC-SHA256
].join('');

test('a heartbeat encodes to the annotated fixture and decodes back', () => {
  const bytes = encodeMessage(fixtureMessage, key);
  assert.equal(Buffer.from(bytes).toString('hex'), fixtureHex);
  assert.equal(bytes.length, encodingLength('node-a'));
  assert.deepEqual(decodeMessage(Buffer.from(fixtureHex, 'hex'), [key]), {
    ok: true,
    message: fixtureMessage,
  });
});

const messages = fc.record({
  type: fc.constantFrom('Heartbeat' as const, 'Leave' as const, 'Claim' as const),
  sender: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }),
  incarnation: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  sequence: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  sentAtMs: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
});

test('property: every message round-trips', () => {
  fc.assert(
    fc.property(messages, (message) => {
      assert.deepEqual(decodeMessage(encodeMessage(message, key), [key]), {
        ok: true,
        message: { ...message },
      });
    }),
  );
});

test('a key rotation: a message signed with either configured key verifies', () => {
  const signedWithOld = encodeMessage(fixtureMessage, otherKey);
  assert.equal(decodeMessage(signedWithOld, [key, otherKey]).ok, true);
  assert.equal(decodeMessage(signedWithOld, [key]).ok, false);
});

test('a message signed with another key, or any byte changed, is bad-mac', () => {
  const forged = decodeMessage(encodeMessage(fixtureMessage, otherKey), [key]);
  assert.deepEqual(forged.ok ? undefined : forged.reason, 'bad-mac');
  const genuine = Buffer.from(fixtureHex, 'hex');
  // Bytes 4..end: header fields, name and MAC. (Magic, version, type, length and the range
  // of sentAtMs are checked before the MAC: the first byte of sentAtMs flipped makes it
  // larger than any clock, which no sender can have signed.)
  for (let i = 4; i < genuine.length; i++) {
    if (i === 28) continue;
    const tampered = Buffer.from(genuine);
    tampered[i]! ^= 0x01;
    const result = decodeMessage(tampered, [key]);
    assert.equal(result.ok ? 'ok' : result.reason, i === 20 ? 'malformed' : 'bad-mac', `byte ${i} flipped`);
  }
});

test('structural damage is malformed with a reason, before any MAC work', () => {
  const genuine = Buffer.from(fixtureHex, 'hex');
  const cases: Array<[string, Buffer, RegExp]> = [
    ['empty', Buffer.alloc(0), /too short/],
    ['magic', Buffer.concat([Buffer.from('XX'), genuine.subarray(2)]), /magic/],
    ['version', Buffer.from(genuine).fill(2, 2, 3), /version 2/],
    ['type', Buffer.from(genuine).fill(9, 3, 4), /type 9/],
    ['name length', Buffer.from(genuine).fill(7, 28, 29), /does not match name length 7/],
    ['zero name length', Buffer.from(genuine).fill(0, 28, 29), /name length 0/],
    ['trailing byte', Buffer.concat([genuine, Buffer.from([0])]), /does not match/],
  ];
  for (const [what, bytes, detail] of cases) {
    const result = decodeMessage(bytes, [key]);
    assert.equal(result.ok, false, what);
    if (!result.ok) {
      assert.equal(result.reason, 'malformed', what);
      assert.match(result.detail, detail, what);
    }
  }
  for (let length = 0; length < genuine.length; length++) {
    const result = decodeMessage(genuine.subarray(0, length), [key]);
    assert.equal(result.ok ? 'ok' : result.reason, 'malformed', `truncated to ${length}`);
  }
});

test('a signed name that is not UTF-8 is malformed, not a crash', () => {
  const header = Buffer.from(fixtureHex.slice(0, 56), 'hex');
  const name = Buffer.from([0xff, 0xfe]);
  const data = Buffer.concat([header, Buffer.from([name.length]), name]);
  const bytes = Buffer.concat([data, createHmac('sha256', key).update(data).digest()]);
  const result = decodeMessage(bytes, [key]);
  assert.equal(result.ok ? 'ok' : result.detail, 'sender name is not UTF-8');
});

test('property: random datagrams are dropped with a reason, never thrown', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
      const result = decodeMessage(bytes, [key]);
      return !result.ok && (result.reason === 'malformed' || result.reason === 'bad-mac');
    }),
  );
});

test('values that cannot go on the wire are typed encode errors', () => {
  const bad: Array<[Partial<MembershipMessage>, string]> = [
    [{ sender: '' }, 'sender'],
    [{ sender: 'x'.repeat(254) }, 'sender'],
    [{ incarnation: -1n }, 'incarnation'],
    [{ sequence: 1n << 64n }, 'sequence'],
    [{ sentAtMs: 1.5 }, 'sentAtMs'],
  ];
  for (const [change, field] of bad) {
    assert.throws(
      () => encodeMessage({ ...fixtureMessage, ...change }, key),
      (e: unknown) => e instanceof MembershipEncodeError && e.field === field,
      field,
    );
  }
  assert.throws(() => encodeMessage(fixtureMessage, new Uint8Array(0)), MembershipEncodeError);
});

test('the header reads without the key, and a frame may carry padding only where asked', () => {
  const bytes = Buffer.from(fixtureHex, 'hex');
  assert.deepEqual(peekHeader(bytes), {
    ok: true,
    header: {
      type: 'Heartbeat',
      sender: 'node-a',
      incarnation: 1_700_000_000_000n,
      sequence: 7n,
      sentAtMs: 1_700_000_000_123,
      length: bytes.length,
      bodyLength: 0,
    },
  });
  const padded = Buffer.concat([bytes, Buffer.alloc(10)]);
  assert.equal(peekHeader(padded).ok, false, 'UDP: the datagram is the message');
  assert.equal(peekHeader(padded, false).ok, true);
  assert.deepEqual(decodeMessage(padded, [key], false), { ok: true, message: fixtureMessage });
  assert.equal(peekHeader(bytes.subarray(0, 40)).ok, false);
  assert.deepEqual(peekHeader(Buffer.from('4d420103', 'hex')), { ok: false, detail: '4 bytes is too short' });
});

test('MacKey is HMAC-SHA256: the same bytes as createHmac for short, block-sized and long keys', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 1, maxLength: 200 }),
      fc.uint8Array({ maxLength: 600 }),
      (k, data) => {
        const expected = createHmac('sha256', k).update(data).digest();
        const prepared = new MacKey(k);
        assert.deepEqual(prepared.sign(data), expected);
        assert.equal(prepared.verify(data, expected), true);
        assert.equal(prepared.verify(data, Buffer.alloc(32)), expected.equals(Buffer.alloc(32)));
        assert.equal(prepared.verify(data, expected.subarray(0, 31)), false);
      },
    ),
    { numRuns: 300 },
  );
  const big = new Uint8Array(MAX_DATA_BYTES).fill(7);
  assert.deepEqual(new MacKey(key).sign(big), createHmac('sha256', key).update(big).digest());
  assert.throws(() => new MacKey(key).sign(new Uint8Array(MAX_DATA_BYTES + 1)), /9729 bytes/);
});

test('a Holdings message carries its IPs (IPv4 and IPv6) under the MAC and round-trips', () => {
  const holdings = ['198.51.100.1', '2001:db8::5', '0.0.0.0', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'];
  const message: MembershipMessage = { ...fixtureMessage, type: 'Holdings', holdings };
  const bytes = encodeMessage(message, key);
  // name, then a u16 body length (5 + 17 + 5 + 17 = 44), then the entries, then the MAC.
  const body = Buffer.from(bytes.subarray(29 + 6, 29 + 6 + 2 + 44)).toString('hex');
  assert.equal(body.slice(0, 4), '002c');
  assert.equal(body.slice(4, 14), '04c6336401', '4 bytes of 198.51.100.1');
  assert.equal(bytes.length, encodingLength('node-a') + 2 + 44);
  assert.deepEqual(decodeMessage(bytes, [key]), { ok: true, message });
  const empty = encodeMessage({ ...fixtureMessage, type: 'Holdings', holdings: [] }, key);
  assert.deepEqual(decodeMessage(empty, [key]), {
    ok: true,
    message: { ...fixtureMessage, type: 'Holdings', holdings: [] },
  });
  for (let i = 29 + 6; i < bytes.length; i++) {
    const tampered = Buffer.from(bytes);
    tampered[i]! ^= 0x01;
    const result = decodeMessage(tampered, [key]);
    assert.notEqual(result.ok, true, `byte ${i} flipped`);
  }
});

test('Holdings sent again (each heartbeat) carry the list they are given, never an earlier one', () => {
  const first = ['198.51.100.1', '2001:db8::5'];
  const send = (holdings: readonly string[], sequence: bigint) =>
    decodeMessage(encodeMessage({ ...fixtureMessage, type: 'Holdings', holdings, sequence }, key), [key]);
  for (const sequence of [8n, 9n]) {
    assert.deepEqual(send(first, sequence), {
      ok: true,
      message: { ...fixtureMessage, type: 'Holdings', holdings: first, sequence },
    });
  }
  // A new list of the same length, and the same content in a new array.
  const second = ['198.51.100.2', '2001:db8::6'];
  assert.deepEqual(send(second, 10n), {
    ok: true,
    message: { ...fixtureMessage, type: 'Holdings', holdings: second, sequence: 10n },
  });
  assert.deepEqual(send([...first], 11n), {
    ok: true,
    message: { ...fixtureMessage, type: 'Holdings', holdings: first, sequence: 11n },
  });
  // Restarting carries its list through the same encoding.
  const restarting = encodeMessage(
    { ...fixtureMessage, type: 'Restarting', holdings: second, holdMs: 5000 },
    key,
  );
  const decoded = decodeMessage(restarting, [key]);
  assert.equal(decoded.ok, true);
  assert.deepEqual(decoded.ok && decoded.message.holdings, second);
});

test('Holdings read again from a sender give its current list, for any number of senders', () => {
  const read = (sender: string, holdings: readonly string[], sequence: bigint) => {
    const decoded = decodeMessage(
      encodeMessage({ ...fixtureMessage, type: 'Holdings', sender, holdings, sequence }, key),
      [key],
    );
    assert.equal(decoded.ok, true);
    return decoded.ok ? decoded.message.holdings : undefined;
  };
  const first = ['198.51.100.1', '2001:db8::5'];
  assert.deepEqual(read('node-b', first, 1n), first);
  assert.deepEqual(read('node-b', first, 2n), first);
  // One byte differs: 198.51.100.1 -> 198.51.100.2.
  assert.deepEqual(read('node-b', ['198.51.100.2', '2001:db8::5'], 3n), ['198.51.100.2', '2001:db8::5']);
  assert.deepEqual(read('node-b', [], 4n), []);
  // More senders than are remembered, each with a list of its own, twice round.
  for (const round of [1n, 2n]) {
    for (let i = 0; i < 100; i++) {
      const own = [`198.51.100.${i}`, `2001:db8::${(i + 1).toString(16)}`];
      assert.deepEqual(read(`node-${i}`, own, round), own);
    }
  }
});

test('Holdings: encode refuses what is no IP or too many; a bad body is malformed, never thrown', () => {
  const holdingsOf = (holdings: string[]) => ({ ...fixtureMessage, type: 'Holdings' as const, holdings });
  assert.throws(() => encodeMessage(holdingsOf(['not-an-ip']), key), MembershipEncodeError);
  const tooMany = Array.from({ length: MAX_HOLDINGS + 1 }, (_, i) => `2001:db8::${i.toString(16)}`);
  assert.throws(() => encodeMessage(holdingsOf(tooMany), key), /at most 512/);
  // A body signed with the key but broken inside: the entries are checked after the MAC.
  const withBody = (entries: number[], declared = entries.length) => {
    const name = Buffer.from('node-a');
    const head = Buffer.from(encodeMessage(holdingsOf([]), key).subarray(0, 29));
    const data = Buffer.concat([
      head,
      name,
      Buffer.from([declared >> 8, declared & 0xff]),
      Buffer.from(entries),
    ]);
    return Buffer.concat([data, createHmac('sha256', key).update(data).digest()]);
  };
  const cases: Array<[string, Buffer, RegExp]> = [
    ['entry length 5', withBody([5, 1, 2, 3, 4, 5]), /length 5, not 4 or 16/],
    ['entry past the body', withBody([16, 1, 2, 3]), /runs past the body/],
    ['body past the datagram', withBody([4, 1, 2, 3, 4], 400), /does not match/],
  ];
  for (const [what, bytes, detail] of cases) {
    const result = decodeMessage(bytes, [key]);
    assert.equal(result.ok ? 'ok' : result.reason, 'malformed', what);
    if (!result.ok) assert.match(result.detail, detail, what);
  }
  const many: number[] = [];
  for (let i = 0; i <= MAX_HOLDINGS; i++) many.push(4, 198, 51, 100, i & 0xff);
  const over = decodeMessage(withBody(many), [key]);
  assert.equal(over.ok ? 'ok' : over.detail, `more than ${MAX_HOLDINGS} holdings`);
  // A declared body longer than the largest one is refused before any MAC work.
  const huge = decodeMessage(withBody([...many, ...new Array(9000).fill(0)]), [key]);
  assert.match(huge.ok ? 'ok' : huge.detail, /at most 8706/);
  const short = Buffer.from(encodeMessage(holdingsOf([]), key)).subarray(0, 29 + 6 + 1);
  assert.equal(decodeMessage(short, [key]).ok, false);
});

test('Restarting carries its hold time and IPs, Resume its subject and IPs, under the MAC; both round-trip', () => {
  const restarting: MembershipMessage = {
    ...fixtureMessage,
    type: 'Restarting',
    holdMs: 8000,
    holdings: ['198.51.100.1', '2001:db8::5'],
  };
  const bytes = encodeMessage(restarting, key);
  // name, then holdMs 8000 (u32), then the holdings list (u16 22 = 5 + 17, entries), then the MAC.
  assert.equal(Buffer.from(bytes.subarray(29 + 6, 29 + 6 + 6)).toString('hex'), '00001f400016');
  assert.equal(bytes[3], 5);
  assert.deepEqual(decodeMessage(bytes, [key]), { ok: true, message: restarting });
  const resume: MembershipMessage = {
    ...fixtureMessage,
    type: 'Resume',
    subject: 'node-b',
    holdings: ['198.51.100.1'],
  };
  const resumeBytes = encodeMessage(resume, key);
  assert.equal(Buffer.from(resumeBytes.subarray(29 + 6, 29 + 6 + 7)).toString(), '\x06node-b');
  assert.deepEqual(decodeMessage(resumeBytes, [key]), { ok: true, message: resume });
  assert.equal(peekHeader(resumeBytes).ok ? 'ok' : 'no', 'ok');
  for (const genuine of [bytes, resumeBytes]) {
    // Forged without the key: a host on the LAN cannot make the peers keep (or resume) IPs.
    const forged = Buffer.from(genuine);
    forged.set(
      createHmac('sha256', otherKey)
        .update(genuine.subarray(0, genuine.length - 32))
        .digest(),
      genuine.length - 32,
    );
    assert.equal(
      decodeMessage(forged, [key]).ok ? 'ok' : (decodeMessage(forged, [key]) as { reason: string }).reason,
      'bad-mac',
    );
    for (let i = 29 + 6; i < genuine.length; i++) {
      const tampered = Buffer.from(genuine);
      tampered[i]! ^= 0x01;
      assert.notEqual(decodeMessage(tampered, [key]).ok, true, `byte ${i} flipped`);
    }
    for (let length = 0; length < genuine.length; length++) {
      assert.equal(decodeMessage(genuine.subarray(0, length), [key]).ok, false, `truncated to ${length}`);
    }
  }
});

test('Restarting and Resume: values that cannot go on the wire throw; a hostile signed body is malformed, never thrown', () => {
  assert.throws(
    () => encodeMessage({ ...fixtureMessage, type: 'Restarting', holdMs: -1 }, key),
    (e: unknown) => e instanceof MembershipEncodeError && e.field === 'holdMs',
  );
  assert.throws(
    () => encodeMessage({ ...fixtureMessage, type: 'Restarting', holdMs: MAX_RESTART_HOLD_MS + 1 }, key),
    (e: unknown) => e instanceof MembershipEncodeError && e.field === 'holdMs',
  );
  assert.throws(
    () => encodeMessage({ ...fixtureMessage, type: 'Resume', subject: '' }, key),
    (e: unknown) => e instanceof MembershipEncodeError && e.field === 'subject',
  );
  // Signed with the key (a peer's own bug, or a stolen key) but broken inside.
  const signed = (type: number, body: number[]) => {
    const head = Buffer.from(encodeMessage(fixtureMessage, key).subarray(0, 29));
    head[3] = type;
    const data = Buffer.concat([head, Buffer.from('node-a'), Buffer.from(body)]);
    return Buffer.concat([data, createHmac('sha256', key).update(data).digest()]);
  };
  const over = MAX_RESTART_HOLD_MS + 1;
  const cases: Array<[string, Buffer, RegExp]> = [
    [
      'a hold over the maximum',
      signed(5, [over >>> 24, (over >>> 16) & 0xff, (over >>> 8) & 0xff, over & 0xff, 0, 0]),
      /holdMs 600001, at most 600000/,
    ],
    ['Restarting without its hold time', signed(5, [0, 0]), /too short for a Restarting/],
    ['Restarting entry past the body', signed(5, [0, 0, 0, 1, 0, 3, 16, 1, 2]), /runs past the body/],
    ['Resume with an empty subject', signed(6, [0, 0, 0]), /subject of 0 bytes/],
    ['Resume subject not UTF-8', signed(6, [2, 0xff, 0xfe, 0, 0]), /subject is not UTF-8/],
    ['Resume subject past the datagram', signed(6, [200, 1, 2]), /too short for a Resume/],
    ['Resume entry length 7', signed(6, [1, 0x61, 0, 8, 7, 1, 2, 3, 4, 5, 6, 7]), /length 7, not 4 or 16/],
  ];
  for (const [what, bytes, detail] of cases) {
    const result = decodeMessage(bytes, [key]);
    assert.equal(result.ok ? 'ok' : result.reason, 'malformed', what);
    if (!result.ok) assert.match(result.detail, detail, what);
  }
  // Random bytes after a genuine Restarting or Resume header: a reason, never a throw.
  fc.assert(
    fc.property(fc.constantFrom(5, 6), fc.uint8Array({ maxLength: 300 }), (type, body) => {
      const result = decodeMessage(signed(type, [...body]), [key]);
      return result.ok || result.reason === 'malformed';
    }),
  );
});
