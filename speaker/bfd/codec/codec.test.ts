import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { toHex } from '../../bgp/codec/test-helpers.ts';
import { anyControlPacket, DROP_FIXTURES, PACKET_FIXTURES } from './fixtures.ts';
import {
  type ControlPacket,
  checkTtl,
  DROP_REASONS,
  decodeControlPacket,
  diagName,
  encodeControlPacket,
  encodingLength,
  type FindSession,
  receiveControlPacket,
} from './index.ts';

describe('BFD control packet fixtures (RFC 5880 §4.1)', () => {
  for (const f of PACKET_FIXTURES) {
    it(`decodes: ${f.name}`, () => {
      assert.deepEqual(decodeControlPacket(f.bytes), { ok: true, packet: f.packet });
    });
    it(`encodes: ${f.name}`, () => {
      assert.equal(toHex(encodeControlPacket(f.packet)), toHex(f.bytes));
      assert.equal(encodingLength(), f.bytes.length);
    });
  }
});

describe('BFD reception checks without a session (RFC 5880 §6.8.6)', () => {
  for (const f of DROP_FIXTURES) {
    it(`drops ${f.name} as ${f.reason}`, () => {
      const result = decodeControlPacket(f.bytes);
      assert.equal(result.ok, false);
      if (result.ok) return;
      assert.equal(result.reason, f.reason);
      assert.ok(result.detail.length > 0);
    });
  }

  it('every drop reason the codec can give has a fixture or a session test below', () => {
    const covered = new Set<string>([
      ...DROP_FIXTURES.map((f) => f.reason),
      'unknown-discriminator',
      'no-session',
      'ttl',
    ]);
    assert.deepEqual(
      [...DROP_REASONS].filter((r) => !covered.has(r)),
      [],
    );
  });

  it('ignores bytes after Length, whether in the UDP payload or inside Length', () => {
    const base = PACKET_FIXTURES[2]!;
    const padded = new Uint8Array([...base.bytes, 1, 2, 3, 4]);
    assert.deepEqual(decodeControlPacket(padded), { ok: true, packet: base.packet });
    const longer = padded.slice();
    longer[3] = 28; // Length covers the 4 extra bytes; A is clear, so they carry nothing we read
    assert.deepEqual(decodeControlPacket(longer), { ok: true, packet: base.packet });
  });

  it('accepts Poll and Final together (§6.5 forbids sending it, §6.8.6 does not discard it)', () => {
    const bytes = PACKET_FIXTURES[2]!.bytes.slice();
    bytes[1] = 0xf0; // Up + P + F
    const r = decodeControlPacket(bytes);
    assert.equal(r.ok && r.packet.poll && r.packet.final, true);
  });

  it('reads a packet at an offset inside a larger buffer (a Buffer from the socket pool)', () => {
    const base = PACKET_FIXTURES[0]!;
    const pool = new Uint8Array(64);
    pool.set(base.bytes, 13);
    assert.deepEqual(decodeControlPacket(pool.subarray(13, 13 + 24)), { ok: true, packet: base.packet });
  });
});

describe('BFD encoder refuses values the wire cannot carry', () => {
  const good = PACKET_FIXTURES[2]!.packet;
  for (const [field, value] of [
    ['diag', 32],
    ['detectMult', 0],
    ['detectMult', 256],
    ['myDiscriminator', 0],
    ['yourDiscriminator', -1],
    ['desiredMinTxUs', 2 ** 32],
    ['requiredMinRxUs', 1.5],
  ] as const) {
    it(`${field} ${value}`, () => {
      assert.throws(() => encodeControlPacket({ ...good, [field]: value }), {
        name: 'BfdEncodeError',
        message: new RegExp(`${field} is ${value}`),
      });
    });
  }
  it('Poll and Final together (RFC 5880 §6.5)', () => {
    assert.throws(() => encodeControlPacket({ ...good, final: true }), /poll are both set/);
  });
  it('an unknown state', () => {
    assert.throws(() => encodeControlPacket({ ...good, state: 'Sideways' as never }), /not a state/);
  });
});

describe('BFD session selection and GTSM (RFC 5880 §6.8.6, RFC 5881 §5, RFC 5883 §5)', () => {
  const up = PACKET_FIXTURES[2]!; // Your Discriminator 0xc0000201
  const down = PACKET_FIXTURES[0]!; // Your Discriminator 0
  const table: FindSession<string> = (your) => {
    if (your === 0xc0000201) return { session: 'spine-a', hop: { kind: 'single-hop' } };
    if (your === 0) return { session: 'by-address', hop: { kind: 'multihop', minimumTtl: 250 } };
    return undefined;
  };

  it('hands a packet to the session its Your Discriminator names', () => {
    assert.deepEqual(receiveControlPacket(up.bytes, 255, table), {
      ok: true,
      packet: up.packet,
      session: 'spine-a',
    });
  });

  it('drops a packet whose Your Discriminator names no session', () => {
    const bytes = up.bytes.slice();
    bytes[11] = 0x02;
    const r = receiveControlPacket(bytes, 255, table);
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.reason, 'unknown-discriminator');
  });

  it('selects by source when Your Discriminator is 0, and drops when no session is configured there', () => {
    assert.equal(receiveControlPacket(down.bytes, 250, table).ok, true);
    const r = receiveControlPacket(down.bytes, 255, () => undefined);
    assert.equal(!r.ok && r.reason, 'no-session');
  });

  it('single hop: TTL 255 only', () => {
    const r = receiveControlPacket(up.bytes, 254, table);
    assert.equal(!r.ok && r.reason, 'ttl');
    assert.equal(!r.ok && r.detail, 'TTL 254 on a single-hop session, expected 255');
    assert.equal(checkTtl(255, { kind: 'single-hop' }), undefined);
    assert.match(checkTtl(1, { kind: 'single-hop' }) ?? '', /TTL 1/);
  });

  it('multihop: at least minimumTtl', () => {
    const r = receiveControlPacket(down.bytes, 249, table);
    assert.equal(!r.ok && r.reason, 'ttl');
    assert.equal(checkTtl(250, { kind: 'multihop', minimumTtl: 250 }), undefined);
    assert.equal(checkTtl(255, { kind: 'multihop', minimumTtl: 250 }), undefined);
  });

  it('asks the table nothing for a packet that fails the session-free checks', () => {
    let asked = 0;
    const r = receiveControlPacket(DROP_FIXTURES[4]!.bytes, 255, () => {
      asked++;
      return undefined;
    });
    assert.equal(!r.ok && r.reason, 'length');
    assert.equal(asked, 0);
  });
});

describe('BFD codec properties', () => {
  // What we may send: never P with F, and Your Discriminator set once Init or Up.
  const packet: fc.Arbitrary<ControlPacket> = anyControlPacket.map((p) => ({
    ...p,
    final: p.final && !p.poll,
    yourDiscriminator:
      p.state === 'Up' || p.state === 'Init' ? p.yourDiscriminator || 1 : p.yourDiscriminator,
  }));

  it('decode(encode(p)) is p for every packet we may send', () => {
    fc.assert(
      fc.property(packet, (p) => {
        assert.deepEqual(decodeControlPacket(encodeControlPacket(p)), { ok: true, packet: p });
      }),
      { numRuns: 2000, seed: 5880 },
    );
  });

  const payload = fc.oneof(
    fc.uint8Array({ maxLength: 80 }),
    // Valid packets with a few bytes changed reach the checks further down.
    fc
      .tuple(
        fc.constantFrom(...PACKET_FIXTURES.map((f) => f.bytes)),
        fc.array(fc.tuple(fc.nat(30), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.integer({ min: 0, max: 8 }),
      )
      .map(([bytes, changes, extra]) => {
        const out = new Uint8Array(bytes.length + extra);
        out.set(bytes);
        for (const [at, value] of changes) if (at < out.length) out[at] = value;
        return out;
      }),
  );

  it('decode never throws: random and mutated payloads are a packet or a known drop reason', () => {
    fc.assert(
      fc.property(payload, fc.integer({ min: 0, max: 255 }), (bytes, ttl) => {
        const r = receiveControlPacket(bytes, ttl, (your) =>
          your % 2 === 0 ? { session: your, hop: { kind: 'multihop', minimumTtl: 128 } } : undefined,
        );
        if (!r.ok) {
          assert.ok(DROP_REASONS.includes(r.reason), r.reason);
          assert.ok(r.detail.length > 0);
          return;
        }
        // P and F together break a MUST of §6.5 that §6.8.6 does not make a reason to drop:
        // accepted (the FSM answers the Poll and ends its own), but we never send such a packet.
        if (r.packet.poll && r.packet.final) return;
        // An accepted packet re-encodes to the bytes it came from, with Length 24.
        const again = encodeControlPacket(r.packet);
        const expected = bytes.slice(0, 24);
        expected[3] = 24;
        assert.equal(toHex(again), toHex(expected));
      }),
      { numRuns: 5000, seed: 5881 },
    );
  });
});

describe('diagName', () => {
  it('names the RFC 5880 codes and marks the reserved ones', () => {
    assert.equal(diagName(1), 'ControlDetectionTimeExpired');
    assert.equal(diagName(7), 'AdministrativelyDown');
    assert.equal(diagName(9), 'Reserved(9)');
  });
});
