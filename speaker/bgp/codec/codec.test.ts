import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { formatIpv6, formatPrefix, parsePrefix } from './address.ts';
import { mergeAs4Path, toTwoOctetPath } from './as-path.ts';
import { formatCommunity, parseCommunity, parseLargeCommunity } from './communities.ts';
import {
  AttrFlag,
  AttrType,
  ErrorCode,
  HeaderSubcode,
  OpenSubcode,
  RouteRefreshSubcode,
  UpdateSubcode,
} from './constants.ts';
import { BgpMessageError } from './errors.ts';
import { FIXTURES, LARGE_UPDATE } from './fixtures.ts';
import { BgpFramer } from './framer.ts';
import { decodeMessage, encodeMessage, shutdownMessage, shutdownNotification } from './message.ts';
import { hex, MARKER, toHex, updateMessage } from './test-helpers.ts';
import type { BgpMessage, CodecContext, UpdateMessage } from './types.ts';
import { endOfRib, endOfRibFamily, isTreatAsWithdraw } from './update.ts';

describe('fixtures: bytes <-> message both ways', () => {
  for (const fixture of FIXTURES) {
    it(`decodes ${fixture.name}`, () => {
      assert.deepStrictEqual(decodeMessage(fixture.bytes, fixture.context), fixture.message);
    });
    it(`encodes ${fixture.name}`, () => {
      assert.equal(toHex(encodeMessage(fixture.message, fixture.context)), toHex(fixture.bytes));
    });
  }
});

describe('framer', () => {
  const all = FIXTURES.filter((f) => f.context.fourOctetAs);
  const stream = new Uint8Array(all.reduce((n, f) => n + f.bytes.length, 0));
  let offset = 0;
  for (const f of all) {
    stream.set(f.bytes, offset);
    offset += f.bytes.length;
  }
  const context: CodecContext = { fourOctetAs: true, extendedMessage: false };

  it('splits every fixture at every byte boundary into two chunks', () => {
    for (const fixture of FIXTURES) {
      for (let cut = 0; cut <= fixture.bytes.length; cut++) {
        const framer = new BgpFramer(fixture.context);
        const got = [
          ...framer.push(fixture.bytes.subarray(0, cut)),
          ...framer.push(fixture.bytes.subarray(cut)),
        ];
        assert.deepStrictEqual(got, [fixture.message], `${fixture.name} cut at ${cut}`);
        assert.equal(framer.pendingBytes, 0);
      }
    }
  });

  it('reassembles a stream of all messages fed one byte at a time', () => {
    const framer = new BgpFramer(context);
    const got: BgpMessage[] = [];
    for (let i = 0; i < stream.length; i++) got.push(...framer.push(stream.subarray(i, i + 1)));
    assert.deepStrictEqual(
      got,
      all.map((f) => f.message),
    );
  });

  it('reassembles the stream cut at random places', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 12 }),
        (cuts) => {
          const points = [0, ...cuts.sort((a, b) => a - b), stream.length];
          const framer = new BgpFramer(context);
          const got: BgpMessage[] = [];
          for (let i = 0; i + 1 < points.length; i++)
            got.push(...framer.push(stream.subarray(points[i], points[i + 1])));
          assert.deepStrictEqual(
            got,
            all.map((f) => f.message),
          );
        },
      ),
    );
  });

  it('rejects a bad length as soon as the header is in, without waiting for the body', () => {
    const framer = new BgpFramer();
    assert.throws(
      () => [...framer.push(hex(`${MARKER} 1001 02`))],
      (e: unknown) =>
        e instanceof BgpMessageError && e.code === 1 && e.subcode === 2 && toHex(e.data) === '1001',
    );
  });

  it('accepts up to 65,535 octets once extended messages are negotiated (RFC 8654)', () => {
    const big = LARGE_UPDATE;
    const ext: CodecContext = { fourOctetAs: true, extendedMessage: true };
    const bytes = encodeMessage(big, ext);
    assert.ok(bytes.length > 4096);
    assert.throws(() => encodeMessage(big, context), /more than the 4096 allowed/);
    const framer = new BgpFramer(context);
    assert.throws(() => [...framer.push(bytes)], BgpMessageError);
    const framer2 = new BgpFramer(ext);
    assert.deepStrictEqual([...framer2.push(bytes)], [big]);
  });
});

/** Expected NOTIFICATION and action for a malformed message. */
interface ErrorFixture {
  name: string;
  bytes: string;
  code: number;
  subcode: number;
  data?: string;
  action?: 'session-reset' | 'treat-as-withdraw' | 'attribute-discard';
  /** Decoded for a 2-octet AS peer (an OLD speaker, RFC 6793) instead of a 4-octet one. */
  twoOctetAs?: boolean;
}

const HEADER_OPEN_ERRORS: ErrorFixture[] = [
  {
    name: 'marker not all ones → 1/1 Connection Not Synchronized',
    bytes: `ffffffffffffffffffffffffffffff00 0013 04`,
    code: 1,
    subcode: 1,
  },
  { name: 'length 18 → 1/2 with the length', bytes: `${MARKER} 0012 04`, code: 1, subcode: 2, data: '0012' },
  {
    name: 'KEEPALIVE of length 20 → 1/2',
    bytes: `${MARKER} 0014 04 00`,
    code: 1,
    subcode: 2,
    data: '0014',
  },
  { name: 'type 9 → 1/3 with the type', bytes: `${MARKER} 0013 09`, code: 1, subcode: 3, data: '09' },
  {
    name: 'OPEN shorter than 29 → 1/2',
    bytes: `${MARKER} 001c 01 04fde800b4c0000201`,
    code: 1,
    subcode: 2,
    data: '001c',
  },
  {
    name: 'NOTIFICATION shorter than 21 → 1/2',
    bytes: `${MARKER} 0014 03 06`,
    code: 1,
    subcode: 2,
    data: '0014',
  },
  {
    name: 'OPEN version 3 → 2/1 with the largest supported version',
    bytes: `${MARKER} 001d 01 03 fde8 00b4 c0000201 00`,
    code: 2,
    subcode: 1,
    data: '0004',
  },
  {
    name: 'OPEN hold time 2 → 2/6 Unacceptable Hold Time',
    bytes: `${MARKER} 001d 01 04 fde8 0002 c0000201 00`,
    code: 2,
    subcode: 6,
  },
  {
    name: 'OPEN BGP identifier 0.0.0.0 → 2/3',
    bytes: `${MARKER} 001d 01 04 fde8 00b4 00000000 00`,
    code: 2,
    subcode: 3,
  },
  {
    name: 'OPEN authentication parameter (type 1) → 2/4 Unsupported Optional Parameter',
    bytes: `${MARKER} 0020 01 04 fde8 00b4 c0000201 03 01 01 00`,
    code: 2,
    subcode: 4,
  },
  {
    name: 'OPEN optional parameters length past the end → 2/0',
    bytes: `${MARKER} 001d 01 04 fde8 00b4 c0000201 04`,
    code: 2,
    subcode: 0,
  },
  {
    name: 'ROUTE-REFRESH of length 24 → 7/1 with the whole message (RFC 7313 §5)',
    bytes: `${MARKER} 0018 05 0001 00 01 00`,
    code: 7,
    subcode: 1,
    data: `${MARKER}00180500010001 00`,
  },
];

/** UPDATE errors: body after a header computed by the test. */
const UPDATE_ERRORS: ErrorFixture[] = [
  {
    name: 'withdrawn routes length too large → 3/1 session reset',
    bytes: '0010 0000',
    code: 3,
    subcode: 1,
    action: 'session-reset',
  },
  {
    name: 'total attribute length too large → 3/1 session reset',
    bytes: '0000 0010 40010100',
    code: 3,
    subcode: 1,
    action: 'session-reset',
  },
  {
    name: 'NLRI prefix length 33 → 3/10 session reset (RFC 7606 §5.3)',
    bytes: '0000 000e 40010100 400200 400304c0000201 21 c6336401ff',
    code: 3,
    subcode: 10,
    action: 'session-reset',
  },
  {
    name: 'ORIGIN value 3 → 3/6 treat-as-withdraw with the attribute',
    bytes: '0000 000e 40010103 400200 400304c0000201 18c63364',
    code: 3,
    subcode: 6,
    data: '40010103',
    action: 'treat-as-withdraw',
  },
  {
    name: 'ORIGIN length 2 → 3/5 treat-as-withdraw',
    bytes: '0000 000f 4001020000 400200 400304c0000201 18c63364',
    code: 3,
    subcode: 5,
    data: '4001020000',
    action: 'treat-as-withdraw',
  },
  {
    name: 'ORIGIN flagged optional → 3/4 treat-as-withdraw',
    bytes: '0000 000e c0010100 400200 400304c0000201 18c63364',
    code: 3,
    subcode: 4,
    data: 'c0010100',
    action: 'treat-as-withdraw',
  },
  {
    name: 'AS_PATH missing with NLRI → 3/3 treat-as-withdraw with the type code',
    bytes: '0000 000b 40010100 400304c0000201 18c63364',
    code: 3,
    subcode: 3,
    data: '02',
    action: 'treat-as-withdraw',
  },
  {
    name: 'AS_PATH with segment type 5 → 3/11 treat-as-withdraw',
    bytes: '0000 0014 40010100 400206050100 00fde8 400304c0000201 18c63364',
    code: 3,
    subcode: 11,
    action: 'treat-as-withdraw',
  },
  {
    name: 'NEXT_HOP 0.0.0.0 → 3/8 treat-as-withdraw',
    bytes: '0000 000e 40010100 400200 40030400000000 18c63364',
    code: 3,
    subcode: 8,
    data: '40030400000000',
    action: 'treat-as-withdraw',
  },
  {
    name: 'COMMUNITIES length 3 → 3/5 treat-as-withdraw',
    bytes: '0000 0014 40010100 400200 400304c0000201 c00803000000 18c63364',
    code: 3,
    subcode: 5,
    data: 'c00803000000',
    action: 'treat-as-withdraw',
  },
  {
    name: 'LARGE_COMMUNITY length 8 → 3/5 treat-as-withdraw (RFC 8092 §6)',
    bytes: '0000 0019 40010100 400200 400304c0000201 c020080000000000000000 18c63364',
    code: 3,
    subcode: 5,
    data: 'c020080000000000000000',
    action: 'treat-as-withdraw',
  },
  {
    name: 'ATOMIC_AGGREGATE length 1 → 3/5 attribute discard',
    bytes: '0000 0004 40060100',
    code: 3,
    subcode: 5,
    data: '40060100',
    action: 'attribute-discard',
  },
  {
    name: 'duplicate ORIGIN → attribute discard (RFC 7606 §3 g)',
    bytes: '0000 0008 40010100 40010101',
    code: 3,
    subcode: 1,
    action: 'attribute-discard',
  },
  {
    name: 'duplicate MP_UNREACH_NLRI → 3/1 session reset',
    bytes: '0000 000c 800f03000201 800f03000201',
    code: 3,
    subcode: 1,
    action: 'session-reset',
  },
  {
    name: 'MP_REACH_NLRI next hop length 5 → 3/9 session reset (RFC 7606 §7.11)',
    bytes: '0000 000d 800e0a 000201 05 c000020101 00 00',
    code: 3,
    subcode: 9,
    action: 'session-reset',
  },
  {
    name: 'unrecognized well-known attribute → 3/2 with the attribute',
    bytes: '0000 0004 40630100',
    code: 3,
    subcode: 2,
    data: '40630100',
    action: 'session-reset',
  },
  {
    name: 'attribute length overruns the attributes → 3/1 treat-as-withdraw (RFC 7606 §4)',
    bytes: '0000 0004 40010500 18c63364',
    code: 3,
    subcode: 1,
    action: 'treat-as-withdraw',
  },
  {
    name: 'AS4_AGGREGATOR length 6 → 3/5 attribute discard (RFC 6793 §6)',
    bytes: '0000 0009 c012 06 fa56ea01 c000',
    code: 3,
    subcode: 5,
    data: 'c01206fa56ea01c000',
    action: 'attribute-discard',
    twoOctetAs: true,
  },
  {
    name: 'AS4_PATH malformed → attribute discard (RFC 6793 §6)',
    bytes: '0000 0005 c0110201 00',
    code: 3,
    subcode: 11,
    action: 'attribute-discard',
    twoOctetAs: true,
  },
  {
    name: 'AS4_PATH between 4-octet AS speakers → 3/9 attribute discard, whatever it holds (RFC 6793 §6)',
    bytes: '0000 0005 c0110201 00',
    code: 3,
    subcode: 9,
    data: 'c011020100',
    action: 'attribute-discard',
  },
  {
    name: 'AS4_AGGREGATOR between 4-octet AS speakers → 3/9 attribute discard (RFC 6793 §6)',
    bytes: '0000 000b c01208fa56ea01c0000202',
    code: 3,
    subcode: 9,
    data: 'c01208fa56ea01c0000202',
    action: 'attribute-discard',
  },
  {
    name: 'withdrawn routes prefix length 33 → 3/10 session reset (RFC 7606 §3 i, §5.3)',
    bytes: '0002 2101 0000',
    code: 3,
    subcode: 10,
    action: 'session-reset',
  },
  {
    name: 'a treat-as-withdraw error in an UPDATE that reaches no routes → its NOTIFICATION (RFC 7606 §5.2)',
    bytes: '0000 0006 c00803000000',
    code: 3,
    subcode: 5,
    data: 'c00803000000',
    action: 'session-reset',
  },
  {
    name: '… also when the UPDATE withdraws routes (MP_UNREACH_NLRI)',
    bytes: '0000 000f 800f0800020120200100db 40010103',
    code: 3,
    subcode: 6,
    data: '40010103',
    action: 'session-reset',
  },
];

const updateBytes = updateMessage;

describe('malformed messages carry the NOTIFICATION of RFC 4271 §6 / the RFC 7606 action', () => {
  for (const f of HEADER_OPEN_ERRORS) {
    it(f.name, () => {
      assert.throws(
        () => decodeMessage(hex(f.bytes)),
        (e: unknown) => {
          assert.ok(e instanceof BgpMessageError, String(e));
          assert.deepStrictEqual([e.code, e.subcode, e.action], [f.code, f.subcode, 'session-reset']);
          if (f.data !== undefined) assert.equal(toHex(e.data), hex(f.data).length ? toHex(hex(f.data)) : '');
          return true;
        },
      );
    });
  }
  const context: CodecContext = { fourOctetAs: true, extendedMessage: false };
  for (const f of UPDATE_ERRORS) {
    it(f.name, () => {
      const bytes = updateBytes(f.bytes);
      let error: BgpMessageError | undefined;
      try {
        const message = decodeMessage(
          bytes,
          f.twoOctetAs ? { ...context, fourOctetAs: false } : context,
        ) as UpdateMessage;
        assert.equal(message.type, 'update');
        error = message.errors?.[0];
        if (f.action === 'treat-as-withdraw') assert.ok(isTreatAsWithdraw(message));
        if (f.action === 'attribute-discard') assert.ok(!isTreatAsWithdraw(message));
      } catch (e) {
        assert.ok(e instanceof BgpMessageError, String(e));
        error = e;
      }
      assert.ok(error, 'an error is reported');
      assert.deepStrictEqual([error.code, error.subcode, error.action], [f.code, f.subcode, f.action]);
      if (f.data !== undefined) assert.equal(toHex(error.data), toHex(hex(f.data)));
    });
  }

  it('an OPEN longer than 4,096 octets → 1/2 even after extended messages (RFC 8654 §4)', () => {
    const open = new Uint8Array(4097);
    open.set(hex(`${MARKER} 1001 01 04 fde8 00b4 c0000201 ff ff 0fe6 02 0fe3`));
    for (let at = 37; at < open.length; at += 257) open.set(hex('80 ff'), at); // unknown capabilities
    for (const extendedMessage of [false, true]) {
      assert.throws(
        () => decodeMessage(open, { fourOctetAs: true, extendedMessage }),
        (e: unknown) =>
          e instanceof BgpMessageError && e.code === 1 && e.subcode === 2 && toHex(e.data) === '1001',
      );
    }
  });

  it('keeps the first of duplicate attributes and drops a discarded one', () => {
    const message = decodeMessage(
      updateBytes('0000 000c 40010100 40010101 40060100'),
      context,
    ) as UpdateMessage;
    assert.equal(message.attributes.origin, 0);
    assert.equal(message.attributes.atomicAggregate, undefined);
    assert.equal(message.errors?.length, 2);
  });

  // A route with LOCAL_PREF 200; the second carries a LOCAL_PREF of length 2.
  const withLocalPref = '0000 0015 40010100 400200 400304c0000201 4005040000 00c8 18c63364';
  const badLocalPref = '0000 0013 40010100 400200 400304c0000201 40050200c8 18c63364';

  it('LOCAL_PREF from an external peer is discarded, whatever its length (RFC 7606 §7.5)', () => {
    const external: CodecContext = { ...context, externalPeer: true };
    for (const body of [withLocalPref, badLocalPref]) {
      const message = decodeMessage(updateBytes(body), external) as UpdateMessage;
      assert.equal(message.attributes.localPref, undefined);
      assert.deepStrictEqual(message.nlri, ['198.51.100.0/24']);
      assert.ok(!isTreatAsWithdraw(message), 'the route stands');
      assert.deepStrictEqual(
        message.errors?.map((e) => [e.code, e.subcode, e.action, e.attribute]),
        [[3, 1, 'attribute-discard', 5]],
      );
    }
  });

  it('LOCAL_PREF from an internal peer is kept, and a bad length is treat-as-withdraw', () => {
    for (const internal of [context, { ...context, externalPeer: false }]) {
      const good = decodeMessage(updateBytes(withLocalPref), internal) as UpdateMessage;
      assert.equal(good.attributes.localPref, 200);
      assert.equal(good.errors, undefined);
      const bad = decodeMessage(updateBytes(badLocalPref), internal) as UpdateMessage;
      assert.ok(isTreatAsWithdraw(bad));
      assert.deepStrictEqual(
        bad.errors?.map((e) => [e.code, e.subcode, e.attribute, toHex(e.data)]),
        [[3, 5, 5, '40050200c8']],
      );
    }
  });

  it('AS4_AGGREGATOR from a 2-octet peer is kept, never an error; malformed, only it is dropped', () => {
    const two: CodecContext = { fourOctetAs: false, extendedMessage: false };
    const body = '0000 0019 40010100 400200 400304c0000201 c01208fa56ea01c0000202 18c63364';
    const kept = decodeMessage(updateBytes(body), two) as UpdateMessage;
    assert.deepStrictEqual(kept.attributes.as4Aggregator, { asn: 4200000001, address: '192.0.2.2' });
    assert.equal(kept.errors, undefined);
    const cut = '0000 0017 40010100 400200 400304c0000201 c01206fa56ea01c000 18c63364';
    const dropped = decodeMessage(updateBytes(cut), two) as UpdateMessage;
    assert.equal(dropped.attributes.as4Aggregator, undefined);
    assert.equal(dropped.attributes.nextHop, '192.0.2.1');
    assert.ok(!isTreatAsWithdraw(dropped));
  });
});

// ---------------------------------------------------------------------------------------------
// Properties

/**
 * (code → subcodes) a decoder may put in a NOTIFICATION for a malformed message: RFC 4271 §6
 * with the deprecated 2/5 and 3/7 left out, 2/0 Unspecific for a malformed optional parameter
 * (§6.2), RFC 5492's 2/7 and RFC 7313's 7/1. Hold Timer (4), FSM (5) and Cease (6) never come
 * from a message's bytes.
 */
const MESSAGE_ERROR_SUBCODES: ReadonlyMap<number, ReadonlySet<number>> = new Map([
  [ErrorCode.MessageHeader, new Set(Object.values(HeaderSubcode))],
  [ErrorCode.OpenMessage, new Set<number>([0, ...Object.values(OpenSubcode)])],
  [ErrorCode.UpdateMessage, new Set<number>(Object.values(UpdateSubcode))],
  [ErrorCode.RouteRefreshMessage, new Set<number>(Object.values(RouteRefreshSubcode))],
]);

/** UPDATE subcodes whose Data is the attribute in error: type, length and value (RFC 4271 §6.3). */
const DATA_IS_ATTRIBUTE: ReadonlySet<number> = new Set([
  UpdateSubcode.UnrecognizedWellKnownAttribute,
  UpdateSubcode.AttributeFlagsError,
  UpdateSubcode.AttributeLengthError,
  UpdateSubcode.InvalidOriginAttribute,
  UpdateSubcode.InvalidNextHopAttribute,
  UpdateSubcode.OptionalAttributeError,
]);

function contains(haystack: Uint8Array, needle: Uint8Array, from: number): boolean {
  return toHex(haystack.subarray(from)).includes(toHex(needle));
}

/** Checks an error against RFC 4271 §6 (and RFC 7313 §5) for the message `bytes` it came from. */
function assertRfcNotification(error: BgpMessageError, bytes: Uint8Array): void {
  const pair = `${error.code}/${error.subcode} (${error.message})`;
  assert.ok(MESSAGE_ERROR_SUBCODES.get(error.code)?.has(error.subcode), `${pair} is no message error`);
  const data = toHex(error.data);
  if (error.code === ErrorCode.MessageHeader && error.subcode === HeaderSubcode.BadMessageLength) {
    assert.equal(data, toHex(bytes.subarray(16, 18)), `${pair}: Data is the Length field`);
  }
  if (error.code === ErrorCode.MessageHeader && error.subcode === HeaderSubcode.BadMessageType) {
    assert.equal(data, toHex(bytes.subarray(18, 19)), `${pair}: Data is the Type field`);
  }
  if (error.code === ErrorCode.OpenMessage && error.subcode === OpenSubcode.UnsupportedVersionNumber) {
    assert.equal(data, '0004', `${pair}: Data is the largest supported version, 2 octets`);
  }
  if (error.code === ErrorCode.UpdateMessage && error.subcode === UpdateSubcode.MissingWellKnownAttribute) {
    assert.equal(error.data.length, 1, `${pair}: Data is one type code`);
    assert.ok([AttrType.Origin, AttrType.AsPath, AttrType.NextHop].includes(error.data[0]! as 1 | 2 | 3));
    assert.equal(error.attribute, error.data[0]);
  }
  if (error.code === ErrorCode.UpdateMessage && DATA_IS_ATTRIBUTE.has(error.subcode)) {
    const d = error.data;
    assert.ok(d.length >= 3, `${pair}: Data is a whole attribute`);
    const extended = (d[0]! & AttrFlag.ExtendedLength) !== 0;
    const headerLength = extended ? 4 : 3;
    const length = extended ? (d[2]! << 8) | d[3]! : d[2]!;
    assert.equal(d.length, headerLength + length, `${pair}: Data is type, length and value`);
    assert.equal(error.attribute, d[1], `${pair}: the attribute named is the one in Data`);
    assert.ok(contains(bytes, d, 19), `${pair}: Data is an attribute of the message`);
  }
  if (error.code === ErrorCode.RouteRefreshMessage) {
    assert.equal(data, toHex(bytes), `${pair}: Data is the whole ROUTE-REFRESH (RFC 7313 §5)`);
  }
}

/**
 * The property's outcome for any bytes: a message, whose kept errors (RFC 7606) are UPDATE
 * errors the session survives; or a thrown BgpMessageError that resets the session with a
 * NOTIFICATION of RFC 4271 §6. Anything else thrown fails.
 */
function decodesOrNotifies(bytes: Uint8Array, ctx: CodecContext): void {
  let message: BgpMessage;
  try {
    message = decodeMessage(bytes, ctx);
  } catch (error) {
    if (!(error instanceof BgpMessageError)) throw error;
    assert.equal(error.action, 'session-reset', `${error.message}: thrown means session reset`);
    assertRfcNotification(error, bytes);
    return;
  }
  if (message.type !== 'update') return;
  for (const error of message.errors ?? []) {
    assert.equal(error.code, ErrorCode.UpdateMessage, error.message);
    assert.notEqual(error.action, 'session-reset', `${error.message}: a kept error is no reset`);
    assertRfcNotification(error, bytes);
  }
}

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u8 = fc.integer({ min: 0, max: 255 });
const bytesArb = (max: number) => fc.uint8Array({ maxLength: max });

function prefixArb(family: 'IPv4' | 'IPv6'): fc.Arbitrary<string> {
  const bits = family === 'IPv4' ? 32 : 128;
  // formatPrefix masks the bits beyond the length, giving the canonical spelling.
  return fc
    .tuple(fc.integer({ min: 0, max: bits }), fc.uint8Array({ minLength: bits / 8, maxLength: bits / 8 }))
    .map(([length, bytes]) => formatPrefix(family, length, bytes, 0));
}

const ipv4 = fc.tuple(u8, u8, u8, u8).map((b) => b.join('.'));
const hostIpv4 = fc.tuple(fc.integer({ min: 1, max: 223 }), u8, u8, u8).map((b) => b.join('.'));
// Next hops a valid MP_REACH_NLRI carries: a unicast global address, then a link-local one.
const ipv6Host = prefixArb('IPv6')
  .map((p) => p.replace(/\/\d+$/, '').replace(/^::$/, '::1'))
  .filter((a) => !/^ff[0-9a-f]{2}:/.test(a));
const ipv6LinkLocal = fc
  .uint8Array({ minLength: 16, maxLength: 16 })
  .map((b) => formatIpv6(Uint8Array.of(0xfe, 0x80 | (b[1]! & 0x3f), ...b.subarray(2))));

// AS 0 is never valid (RFC 7607); confederation segments are, in AS_PATH from an internal peer.
const segmentArb = (maxAs: number, confed = false) =>
  fc.record({
    type: confed
      ? fc.constantFrom(
          'set' as const,
          'sequence' as const,
          'confed-sequence' as const,
          'confed-set' as const,
        )
      : fc.constantFrom('set' as const, 'sequence' as const),
    asns: fc.array(fc.integer({ min: 1, max: maxAs }), { minLength: 1, maxLength: 6 }),
  });

const knownCodes = new Set([1, 2, 3, 4, 5, 6, 7, 8, 14, 15, 17, 18, 32]);
const rawAttrArb = fc.record({
  flags: fc.constantFrom(0x80, 0xc0, 0xa0, 0xe0),
  typeCode: fc.integer({ min: 0, max: 255 }).filter((c) => !knownCodes.has(c)),
  value: bytesArb(20),
});

function updateArb(fourOctetAs: boolean): fc.Arbitrary<UpdateMessage> {
  const maxAs = fourOctetAs ? 0xffffffff : 0xffff;
  return fc
    .record(
      {
        withdrawn: fc.array(prefixArb('IPv4'), { maxLength: 5 }),
        nlri: fc.array(prefixArb('IPv4'), { maxLength: 5 }),
        origin: fc.integer({ min: 0, max: 2 }),
        asPath: fc.array(segmentArb(maxAs, true), { maxLength: 3 }),
        nextHop: hostIpv4,
        med: fc.option(u32, { nil: undefined }),
        localPref: fc.option(u32, { nil: undefined }),
        atomicAggregate: fc.option(fc.constant(true), { nil: undefined }),
        aggregator: fc.option(fc.record({ asn: fc.integer({ min: 1, max: maxAs }), address: ipv4 }), {
          nil: undefined,
        }),
        communities: fc.option(fc.array(u32, { minLength: 1, maxLength: 6 }), { nil: undefined }),
        largeCommunities: fc.option(
          fc.array(fc.record({ globalAdmin: u32, localData1: u32, localData2: u32 }), {
            minLength: 1,
            maxLength: 4,
          }),
          { nil: undefined },
        ),
        mpReach: fc.option(
          fc.oneof(
            fc.record({
              afi: fc.constant(2),
              safi: fc.constant(1),
              nextHops: fc.oneof(fc.tuple(ipv6Host), fc.tuple(ipv6Host, ipv6LinkLocal)),
              nlri: fc.array(prefixArb('IPv6'), { maxLength: 5 }),
            }),
            fc.record({
              afi: fc.constant(1),
              safi: fc.constant(1),
              nextHops: fc.tuple(hostIpv4),
              nlri: fc.array(prefixArb('IPv4'), { maxLength: 5 }),
            }),
          ),
          { nil: undefined },
        ),
        mpUnreach: fc.option(
          fc.record({
            afi: fc.constant(2),
            safi: fc.constant(1),
            withdrawn: fc.array(prefixArb('IPv6'), { maxLength: 5 }),
          }),
          { nil: undefined },
        ),
        as4Path: fc.option(fc.array(segmentArb(0xffffffff), { minLength: 1, maxLength: 2 }), {
          nil: undefined,
        }),
        as4Aggregator: fc.option(fc.record({ asn: u32.filter((asn) => asn !== 0), address: ipv4 }), {
          nil: undefined,
        }),
        unknown: fc.option(
          fc.uniqueArray(rawAttrArb, { selector: (a) => a.typeCode, minLength: 1, maxLength: 3 }),
          {
            nil: undefined,
          },
        ),
        mandatory: fc.boolean(),
      },
      { requiredKeys: ['withdrawn', 'nlri', 'origin', 'asPath', 'nextHop', 'mandatory'] },
    )
    .map((r) => {
      const reaches = r.nlri.length > 0 || (r.mpReach !== undefined && r.mpReach.nlri.length > 0);
      const withMandatory = reaches || r.mandatory;
      const attributes: Record<string, unknown> = {};
      if (withMandatory) {
        attributes.origin = r.origin;
        attributes.asPath = r.asPath;
      }
      if (r.nlri.length > 0 || (withMandatory && r.mandatory)) attributes.nextHop = r.nextHop;
      for (const key of [
        'med',
        'localPref',
        'atomicAggregate',
        'aggregator',
        'communities',
        'largeCommunities',
        'mpReach',
        'mpUnreach',
        'as4Path',
        'as4Aggregator',
        'unknown',
      ] as const) {
        // RFC 6793 §6: AS4_* only toward a 2-octet speaker (between 4-octet ones they are discarded).
        if (fourOctetAs && (key === 'as4Path' || key === 'as4Aggregator')) continue;
        if (r[key] !== undefined) attributes[key] = r[key];
      }
      return { type: 'update', withdrawn: r.withdrawn, nlri: r.nlri, attributes } as UpdateMessage;
    });
}

const capabilityArb = fc.oneof(
  fc.record({ kind: fc.constant('multiprotocol' as const), afi: u16, safi: u8 }),
  fc.constant({ kind: 'route-refresh' as const }),
  fc.record({ kind: fc.constant('four-octet-as' as const), asn: u32 }),
  fc.record({
    kind: fc.constant('graceful-restart' as const),
    restartState: fc.boolean(),
    notification: fc.boolean(),
    restartTimeSec: fc.integer({ min: 0, max: 4095 }),
    families: fc.array(fc.record({ afi: u16, safi: u8, forwardingState: fc.boolean() }), { maxLength: 3 }),
  }),
  fc.constant({ kind: 'extended-message' as const }),
  fc.record({
    kind: fc.constant('unknown' as const),
    code: u8.filter((c) => ![1, 2, 6, 64, 65].includes(c)),
    value: bytesArb(16),
  }),
);

const openArb = fc.record({
  type: fc.constant('open' as const),
  version: fc.constant(4),
  myAs: u16,
  holdTimeSec: u16.filter((h) => h !== 1 && h !== 2),
  bgpId: fc.tuple(fc.integer({ min: 1, max: 255 }), u8, u8, u8).map((b) => b.join('.')),
  capabilities: fc.array(capabilityArb, { maxLength: 20 }),
});

const messageArb = (fourOctetAs: boolean): fc.Arbitrary<BgpMessage> =>
  fc.oneof(
    openArb,
    updateArb(fourOctetAs),
    fc.record({ type: fc.constant('notification' as const), code: u8, subcode: u8, data: bytesArb(40) }),
    fc.constant({ type: 'keepalive' as const }),
    fc.record({ type: fc.constant('route-refresh' as const), afi: u16, safi: u8, subtype: u8 }),
  );

describe('properties', () => {
  for (const fourOctetAs of [true, false]) {
    const context: CodecContext = { fourOctetAs, extendedMessage: true };
    it(`decode(encode(m)) = m for random valid messages (${fourOctetAs ? '4' : '2'}-octet AS)`, () => {
      fc.assert(
        fc.property(messageArb(fourOctetAs), (message) => {
          // structuredClone: fast-check records have a null prototype, decoded ones do not.
          assert.deepStrictEqual(
            decodeMessage(encodeMessage(message, context), context),
            structuredClone(message),
          );
        }),
        { numRuns: 400 },
      );
    });
  }

  const context: CodecContext = { fourOctetAs: true, extendedMessage: false };
  // Decoding sees the peer's AS width and whether it is external (LOCAL_PREF discard).
  const receiveContextArb = fc.record({
    fourOctetAs: fc.boolean(),
    extendedMessage: fc.constant(false),
    externalPeer: fc.boolean(),
  });

  it('random bytes after a valid header either decode or carry an RFC NOTIFICATION', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), bytesArb(200), receiveContextArb, (type, body, ctx) => {
        const length = (19 + body.length).toString(16).padStart(4, '0');
        const header = hex(`${MARKER} ${length} 0${type}`);
        const bytes = new Uint8Array(header.length + body.length);
        bytes.set(header);
        bytes.set(body, header.length);
        decodesOrNotifies(bytes, ctx);
      }),
      { numRuns: 3000 },
    );
  });

  it('random bytes with any header either decode or carry an RFC NOTIFICATION', () => {
    fc.assert(
      fc.property(
        // Mostly lengths near the real ones, where the limits are.
        fc.oneof(fc.integer({ min: 0, max: 40 }), u16),
        fc.oneof(fc.integer({ min: 0, max: 7 }), u8),
        bytesArb(40),
        fc.boolean(),
        (length, type, body, marker) => {
          const bytes = new Uint8Array(19 + body.length);
          bytes.fill(marker ? 0xff : 0xfe, 0, 16);
          bytes[16] = length >> 8;
          bytes[17] = length & 0xff;
          bytes[18] = type;
          bytes.set(body, 19);
          decodesOrNotifies(bytes, context);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('mutated valid messages either decode or carry an RFC NOTIFICATION', () => {
    fc.assert(
      fc.property(
        messageArb(true).filter(
          (m) => encodeMessage(m, { ...context, extendedMessage: true }).length <= 4096,
        ),
        fc.array(fc.tuple(fc.nat(), u8), { minLength: 1, maxLength: 4 }),
        fc.nat(),
        receiveContextArb,
        (message, edits, cut, ctx) => {
          const bytes = encodeMessage(message, context);
          for (const [at, value] of edits) bytes[19 + (at % Math.max(1, bytes.length - 19))] = value;
          decodesOrNotifies(bytes, ctx);
          // Also with the length field fixed up after truncation.
          const shorter = bytes.slice(0, Math.max(19, bytes.length - (cut % 8)));
          shorter[16] = shorter.length >> 8;
          shorter[17] = shorter.length & 0xff;
          decodesOrNotifies(shorter, ctx);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('random byte streams through the framer yield messages or a BgpMessageError', () => {
    fc.assert(
      fc.property(fc.array(bytesArb(64), { maxLength: 5 }), (chunks) => {
        const framer = new BgpFramer(context);
        try {
          for (const chunk of chunks) for (const _ of framer.push(chunk));
        } catch (error) {
          if (!(error instanceof BgpMessageError)) throw error;
        }
      }),
    );
  });
});

describe('helpers', () => {
  it('End-of-RIB markers are recognized for both families and nothing else', () => {
    assert.deepStrictEqual(endOfRibFamily(endOfRib(1, 1)), { afi: 1, safi: 1 });
    assert.deepStrictEqual(endOfRibFamily(endOfRib(2, 1)), { afi: 2, safi: 1 });
    for (const f of FIXTURES) {
      if (f.message.type !== 'update' || f.name.startsWith('End-of-RIB')) continue;
      assert.equal(endOfRibFamily(f.message), undefined, f.name);
    }
  });

  it('shutdown communication round-trips and is cut at 255 octets on a character boundary (RFC 9003)', () => {
    const n = shutdownNotification(2, 'maintenance: back at 07:00');
    assert.equal(shutdownMessage(n), 'maintenance: back at 07:00');
    const long = shutdownNotification(2, 'é'.repeat(200));
    assert.equal(long.data[0], 254);
    assert.equal(shutdownMessage(long), 'é'.repeat(127));
    assert.equal(shutdownMessage({ ...n, data: Uint8Array.of(3, 0xff, 0xfe, 0xfd) }), undefined);
    assert.equal(shutdownMessage({ ...n, data: Uint8Array.of(9, 0x41) }), undefined);
    assert.equal(shutdownMessage({ ...n, subcode: 3 }), undefined);
  });

  it('communities parse and print, including well-known names', () => {
    assert.equal(parseCommunity('65000:100'), 0xfde80064);
    assert.equal(parseCommunity('GRACEFUL_SHUTDOWN'), 0xffff0000);
    assert.equal(parseCommunity('no-export'), 0xffffff01);
    assert.equal(formatCommunity(0xfde80064), '65000:100');
    assert.match(String(parseCommunity('65536:1')), /16-bit/);
    assert.deepStrictEqual(parseLargeCommunity('4200000001:1:2'), {
      globalAdmin: 4200000001,
      localData1: 1,
      localData2: 2,
    });
    assert.match(String(parseLargeCommunity('1:2')), /GLOBAL:LOCAL1:LOCAL2/);
  });

  it('AS_TRANS / AS4_PATH conversion and merge (RFC 6793 §4.2)', () => {
    const path = [{ type: 'sequence' as const, asns: [4200000001, 65001] }];
    const two = toTwoOctetPath(path);
    assert.deepStrictEqual(two.asPath, [{ type: 'sequence', asns: [23456, 65001] }]);
    assert.deepStrictEqual(two.as4Path, path);
    assert.deepStrictEqual(toTwoOctetPath([{ type: 'sequence', asns: [65001] }]).as4Path, undefined);
    // A 2-octet speaker prepended 65010 in front: it stays, the rest comes from AS4_PATH.
    const received = [{ type: 'sequence' as const, asns: [65010, 23456, 65001] }];
    assert.deepStrictEqual(mergeAs4Path(received, path), [
      { type: 'sequence', asns: [65010] },
      { type: 'sequence', asns: [4200000001, 65001] },
    ]);
    assert.deepStrictEqual(mergeAs4Path([{ type: 'sequence', asns: [1] }], path), [
      { type: 'sequence', asns: [1] },
    ]);
  });

  it('prefix parsing rejects host bits, bad lengths and bad addresses with the prefix named', () => {
    assert.throws(() => parsePrefix('198.51.100.1/24'), /198\.51\.100\.1\/24.*host bits/);
    assert.throws(() => parsePrefix('2001:db8::/129'), /length must be 0..128/);
    assert.throws(() => parsePrefix('2001:db8::'), /missing/);
    assert.throws(() => parsePrefix('300.1.1.0/24'), /not an IP address/);
    assert.equal(toHex(parsePrefix('2001:db8:100::/64').nlri), '4020010db801000000');
    assert.equal(toHex(parsePrefix('0.0.0.0/0').nlri), '00');
  });
});
