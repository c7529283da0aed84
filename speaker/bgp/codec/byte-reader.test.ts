import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ByteReader } from './byte-reader.ts';
import { ByteWriter } from './byte-writer.ts';
import { toHex } from './test-helpers.ts';

describe('ByteReader', () => {
  it('reads big-endian fields in order within its window, without copying', () => {
    const source = Uint8Array.of(0xaa, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0xbb);
    const r = new ByteReader(source, 1, 10);
    assert.equal(r.remaining, 9);
    assert.equal(r.peekU8(), 0x01);
    assert.equal(r.u8(), 0x01);
    assert.equal(r.u16(), 0x0203);
    assert.equal(r.u32(), 0x04050607);
    const view = r.bytes(2);
    assert.equal(view.buffer, source.buffer, 'a view of the source');
    assert.equal(toHex(view), '0809');
    assert.equal(r.remaining, 0);
    assert.equal(r.offset, 10);
  });

  it('sub() gives a reader over the next octets and moves past them; rest() takes what is left', () => {
    const r = new ByteReader(Uint8Array.of(1, 2, 3, 4, 5));
    r.skip(1);
    const inner = r.sub(2);
    assert.equal(r.offset, 3);
    assert.deepStrictEqual([inner.u8(), inner.u8(), inner.remaining], [2, 3, 0]);
    assert.equal(toHex(r.rest()), '0405');
    assert.equal(r.remaining, 0);
  });

  it('a read past the window is a decoder bug: RangeError, never a silent undefined', () => {
    const r = new ByteReader(Uint8Array.of(1, 2, 3), 0, 2);
    assert.throws(() => r.u32(), RangeError);
    assert.throws(() => r.sub(3), RangeError);
    r.skip(2);
    assert.throws(() => r.u8(), RangeError);
    assert.throws(() => r.peekU8(), RangeError);
    assert.throws(() => new ByteReader(Uint8Array.of(1), 0, 2), RangeError);
  });

  it('reads back what ByteWriter wrote', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ kind: fc.constant('u8' as const), value: fc.integer({ min: 0, max: 0xff }) }),
            fc.record({ kind: fc.constant('u16' as const), value: fc.integer({ min: 0, max: 0xffff }) }),
            fc.record({ kind: fc.constant('u32' as const), value: fc.integer({ min: 0, max: 0xffffffff }) }),
          ),
        ),
        (fields) => {
          const w = new ByteWriter(1);
          for (const f of fields) w[f.kind](f.value);
          const r = new ByteReader(w.finish());
          assert.deepStrictEqual(
            fields.map((f) => r[f.kind]()),
            fields.map((f) => f.value),
          );
          assert.equal(r.remaining, 0);
        },
      ),
    );
  });
});

describe('ByteWriter', () => {
  it('insertGap moves what follows, so a length field can grow after the value is written', () => {
    const w = new ByteWriter(4);
    w.u8(0xaa)
      .u8(0x00)
      .bytes(Uint8Array.of(1, 2, 3));
    w.insertGap(1, 1);
    w.patchU16(1, 3);
    assert.equal(toHex(w.finish()), 'aa0003010203');
    assert.equal(w.byteAt(0), 0xaa);
  });
});
