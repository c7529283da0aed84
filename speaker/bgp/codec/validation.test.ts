import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ATTRIBUTES } from './attributes/table.ts';
import { AttrFlag, AttrType } from './constants.ts';
import { BgpMessageError } from './errors.ts';
import { decodeMessage } from './message.ts';
import { toHex, updateMessage } from './test-helpers.ts';
import type { CodecContext, UpdateMessage } from './types.ts';
import { isTreatAsWithdraw } from './update.ts';
import { flagsConflict, isHostAddress, isLinkLocal, missingMandatory } from './validation.ts';
import { VERDICT_FIXTURES } from './verdict-fixtures.ts';

/** The verdict of decoding: the kept errors, or the session reset thrown. */
function verdictOf(
  bytes: Uint8Array,
  context: CodecContext,
): { message?: UpdateMessage; errors: BgpMessageError[] } {
  try {
    const message = decodeMessage(bytes, context) as UpdateMessage;
    return { message, errors: [...(message.errors ?? [])] };
  } catch (error) {
    if (!(error instanceof BgpMessageError)) throw error;
    return { errors: [error] };
  }
}

describe('strict decoding: each verdict from annotated wire bytes', () => {
  for (const f of VERDICT_FIXTURES) {
    it(f.name, () => {
      const { message, errors } = verdictOf(f.bytes, f.context);
      assert.deepStrictEqual(
        errors.map((e) => [e.code, e.subcode, e.action, e.attribute, e.occurrences]),
        f.errors.map(([code, subcode, action, attribute, occurrences]) => [
          code,
          subcode,
          action,
          attribute,
          occurrences ?? 1,
        ]),
      );
      if (f.data !== undefined) assert.equal(toHex(errors[0]!.data), f.data.replaceAll(' ', ''));
      const reset = f.errors.some(([, , action]) => action === 'session-reset');
      assert.equal(message === undefined, reset, 'thrown exactly when the session resets');
      if (!message) return;
      const withdraw = f.errors.some(([, , action]) => action === 'treat-as-withdraw');
      assert.equal(isTreatAsWithdraw(message), withdraw);
      for (const [key, value] of Object.entries(f.attributes ?? {})) {
        assert.deepStrictEqual(message.attributes[key as keyof typeof message.attributes], value, key);
      }
    });
  }
});

describe('validation rules', () => {
  it('flags: Optional and Transitive must match; Partial only on optional transitive (RFC 4271 §4.3)', () => {
    const { Optional: O, Transitive: T, Partial: P, ExtendedLength: E } = AttrFlag;
    // [expected class, received flags, conflict]
    const table: [number, number, boolean][] = [
      [T, T, false],
      [T, T | E, false],
      [T, T | P, true],
      [T, O | T, true],
      [O, O, false],
      [O, O | P, true],
      [O, O | T, true],
      [O | T, O | T, false],
      [O | T, O | T | P, false],
      [O | T, O, true],
    ];
    for (const [expected, flags, conflict] of table) {
      assert.equal(
        flagsConflict(expected, flags),
        conflict,
        `0x${expected.toString(16)} / 0x${flags.toString(16)}`,
      );
    }
  });

  it('host addresses: not unspecified, not multicast (nor class E in IPv4); link-local is fe80::/10', () => {
    const v4 = (a: number[]) => isHostAddress(Uint8Array.from(a), 0, 4);
    assert.deepStrictEqual(
      [
        v4([192, 0, 2, 1]),
        v4([0, 0, 0, 0]),
        v4([224, 0, 0, 1]),
        v4([240, 0, 0, 1]),
        v4([255, 255, 255, 255]),
      ],
      [true, false, false, false, false],
    );
    const v6 = (first: number[]) => Uint8Array.from([...first, ...new Array(16 - first.length).fill(0)]);
    assert.equal(
      isHostAddress(v6([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]), 0, 16),
      true,
    );
    assert.equal(isHostAddress(v6([]), 0, 16), false);
    assert.equal(isHostAddress(v6([0xff, 0x02]), 0, 16), false);
    assert.equal(isLinkLocal(v6([0xfe, 0x80]), 0), true);
    assert.equal(isLinkLocal(v6([0xfe, 0xbf]), 0), true);
    assert.equal(isLinkLocal(v6([0xfe, 0xc0]), 0), false);
  });

  it('mandatory attributes are required only when routes are reached (RFC 7606 §3 d)', () => {
    const none = () => false;
    assert.equal(missingMandatory(0, {}, none), undefined);
    assert.equal(missingMandatory(1, {}, none), AttrType.Origin);
    const seen = (codes: number[]) => (code: number) => codes.includes(code);
    assert.equal(missingMandatory(1, {}, seen([1])), AttrType.AsPath);
    assert.equal(missingMandatory(1, {}, seen([1, 2])), AttrType.NextHop);
    const mpOnly = { mpReach: { afi: 2, safi: 1, nextHops: ['2001:db8::1'], nlri: ['2001:db8::/64'] } };
    assert.equal(
      missingMandatory(0, mpOnly, seen([1, 2])),
      undefined,
      'NEXT_HOP is not needed for MP routes',
    );
  });

  it('every descriptor is a distinct type code with Partial left out of its flags', () => {
    const codes = ATTRIBUTES.map((d) => d.typeCode);
    assert.deepStrictEqual(
      codes,
      [...codes].sort((a, b) => a - b),
    );
    assert.equal(new Set(codes).size, codes.length);
    for (const d of ATTRIBUTES)
      assert.equal(d.flags & (AttrFlag.Partial | AttrFlag.ExtendedLength), 0, d.name);
  });
});

// ---------------------------------------------------------------------------------------------
// Structured fuzzing: UPDATEs made of attributes the codec knows, with any flags, lengths and
// values, in every decode context. Random bytes rarely get past the attribute headers; these
// reach every rule.

const knownCode = fc.constantFrom(...ATTRIBUTES.map((d) => d.typeCode), 99, 0);
const attributeArb = fc
  .record({
    flags: fc.constantFrom(0x40, 0x50, 0x60, 0x80, 0x90, 0xa0, 0xc0, 0xd0, 0xe0, 0x00),
    typeCode: knownCode,
    value: fc.oneof(
      fc.uint8Array({ maxLength: 40 }),
      // Values shaped like the real thing: AFI 1/2, SAFI 1, a next hop length, AS_PATH segments.
      fc
        .tuple(
          fc.constantFrom(1, 2),
          fc.constantFrom(4, 16, 32, 5),
          fc.uint8Array({ minLength: 32, maxLength: 60 }),
        )
        .map(([afi, hop, rest]) => Uint8Array.of(0, afi, 1, hop, ...rest)),
      fc
        .array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 3 })), { maxLength: 4 })
        .map((segments) =>
          Uint8Array.from(segments.flatMap(([type, n]) => [type, n, ...new Array(n * 4).fill(n)])),
        ),
    ),
  })
  .map(({ flags, typeCode, value }) => {
    const extended = (flags & AttrFlag.ExtendedLength) !== 0;
    const header = extended ? [flags, typeCode, 0, value.length] : [flags, typeCode, value.length];
    return Uint8Array.from([...header, ...value]);
  });

const contextArb = fc.record({
  fourOctetAs: fc.boolean(),
  extendedMessage: fc.boolean(),
  externalPeer: fc.boolean(),
  extendedNextHop: fc.boolean(),
});

describe('properties of strict decoding', () => {
  it('decode never throws anything but BgpMessageError, and reports each attribute type at most twice', () => {
    fc.assert(
      fc.property(
        fc.array(attributeArb, { maxLength: 24 }),
        fc.uint8Array({ maxLength: 12 }),
        contextArb,
        (attributes, nlri, context) => {
          const list = attributes.flatMap((a) => [...a]);
          const body = `0000 ${list.length.toString(16).padStart(4, '0')} ${toHex(Uint8Array.from(list))} ${toHex(nlri)}`;
          const { message, errors } = verdictOf(updateMessage(body), context);
          if (!message) {
            assert.equal(errors[0]!.action, 'session-reset');
            return;
          }
          const types = new Set(attributes.map((a) => a[1]));
          // One error about a type's first occurrence, one about its repeats, one missing attribute.
          assert.ok(errors.length <= 2 * types.size + 1, `${errors.length} errors for ${types.size} types`);
          for (const e of errors) assert.notEqual(e.action, 'session-reset');
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('a repeated attribute costs one error whatever the number of repeats (RFC 7606 §3 g)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 2000 }), fc.constantFrom(4, 8, 99), (times, typeCode) => {
        const one = typeCode === 4 ? '80 04 04 00000001' : typeCode === 8 ? 'c0 08 04 00000001' : '80 63 00';
        const list = new Array(times).fill(one).join(' ');
        const length = list.replaceAll(' ', '').length / 2;
        const message = decodeMessage(updateMessage(`0000 ${length.toString(16).padStart(4, '0')} ${list}`), {
          fourOctetAs: true,
          extendedMessage: true,
        }) as UpdateMessage;
        assert.deepStrictEqual(
          message.errors?.map((e) => [e.action, e.attribute, e.occurrences]),
          [['attribute-discard', typeCode, times - 1]],
        );
      }),
      { numRuns: 50 },
    );
  });
});
