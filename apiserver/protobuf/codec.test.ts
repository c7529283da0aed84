import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  DECODE_FIELD_LIMIT,
  decodeMessage,
  encodeMessage,
  message,
  NotEncodableError,
  ProtobufError,
} from './codec.ts';
import { readFields, readVarint, WireError, WireWriter } from './wire.ts';

/** A small message with every type the descriptors use. */
const Inner = message('test.Inner', { 1: ['name', 'string'], 2: ['count', 'int32', 'ptr'] });
const Sample = message('test.Sample', {
  1: ['text', 'string'],
  2: ['blob', 'bytes'],
  3: ['flag', 'bool'],
  4: ['small', 'int32'],
  5: ['big', 'int64'],
  6: ['at', 'time'],
  7: ['atMicro', 'microTime'],
  8: ['size', 'quantity'],
  9: ['port', 'intOrString'],
  10: ['inner', Inner],
  11: ['items', Inner, 'list'],
  12: ['names', 'string', 'list'],
  13: ['labels', 'string', 'map'],
  14: ['numbers', 'int32', 'list'],
  15: ['kept', 'int32', 'ptr'],
});

const full = {
  text: 'héllo',
  blob: Buffer.from([0, 1, 255]).toString('base64'),
  flag: true,
  small: -5,
  big: 2 ** 40,
  at: '2026-12-07T08:00:01Z',
  atMicro: '2026-12-07T08:00:01.123456Z',
  size: '100Mi',
  port: 'http',
  inner: { name: 'x', count: 0 },
  items: [{ name: 'a' }, {}],
  names: ['', 'b'],
  labels: { app: 'web', '': 'empty key' },
  numbers: [1, -1, 300],
  kept: 0,
};

test('every type survives encode → decode', () => {
  assert.deepEqual(decodeMessage(encodeMessage(full, Sample), Sample), full);
  assert.deepEqual(decodeMessage(encodeMessage({ port: 8080 }, Sample), Sample), { port: 8080 });
});

test('zero values of non-pointer fields are left out, as Go marshals them; pointers keep theirs', () => {
  const w = new WireWriter();
  w.writeBytes(1, Buffer.alloc(0)); // text: ''
  w.writeVarint(3, 0n); // flag: false
  w.writeVarint(4, 0n); // small: 0
  w.writeBytes(6, Buffer.alloc(0)); // at: zero time
  w.writeBytes(10, Buffer.alloc(0)); // inner: {}
  w.writeVarint(15, 0n); // kept: 0 (a pointer)
  assert.deepEqual(decodeMessage(w.finish(), Sample), { kept: 0 });
});

test('a map entry without a value holds the zero value of its type', () => {
  const Maps = message('test.Maps', {
    1: ['text', 'string', 'map'],
    2: ['size', 'quantity', 'map'],
    3: ['inner', Inner, 'map'],
  });
  const entry = (field: number) => Buffer.from([(field << 3) | 2, 0x03, 0x0a, 0x01, 0x6b]); // { key: 'k' }
  assert.deepEqual(decodeMessage(Buffer.concat([entry(1), entry(2), entry(3)]), Maps), {
    text: { k: '' },
    size: { k: '0' },
    inner: { k: {} },
  });
  // A key such as __proto__ is an ordinary entry, never the prototype.
  const proto = Buffer.concat([
    Buffer.from([0x0a, 0x0d, 0x0a, 0x09]),
    Buffer.from('__proto__'),
    Buffer.from([0x12, 0x00]),
  ]);
  const decoded = decodeMessage(proto, Maps) as { text: Record<string, string> };
  assert.deepEqual(Object.keys(decoded.text), ['__proto__']);
  assert.equal(Object.getPrototypeOf(decoded.text), Object.prototype);
});

test('packed and unpacked repeated numbers both decode', () => {
  const packed = new WireWriter();
  packed.writeBytes(14, Buffer.from([7, 0xac, 0x02])); // 7, 300
  assert.deepEqual(decodeMessage(packed.finish(), Sample), { numbers: [7, 300] });
});

test('varints: 10 bytes at most, truncation named with its offset', () => {
  assert.deepEqual(readVarint(Buffer.from([0xac, 0x02]), 0), [300n, 2]);
  assert.deepEqual(readVarint(Buffer.from([...Array(9).fill(0xff), 0x01]), 0), [2n ** 64n - 1n, 10]);
  assert.throws(() => readVarint(Buffer.from([0x80, 0x80]), 0), /truncated varint at byte 0/);
  assert.throws(() => readVarint(Buffer.from(Array(11).fill(0x80)), 0), /longer than 10 bytes/);
});

test('malformed messages are ProtobufErrors naming the field path and the problem', () => {
  const cases: [string, Buffer, RegExp][] = [
    ['length beyond the end', Buffer.from([0x0a, 0x05, 0x61]), /field 1 says 5 bytes but 1 remain at byte 0/],
    ['huge length', Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), /field 1 says 4294967295 bytes/],
    ['wire type 3 (group)', Buffer.from([0x0b]), /unsupported wire type 3/],
    ['field number 0', Buffer.from([0x02, 0x00]), /invalid field number 0/],
    ['string with a varint', Buffer.from([0x08, 0x01]), /^text: wire type 0 where the schema has 2/],
    ['invalid UTF-8', Buffer.from([0x0a, 0x02, 0xc3, 0x28]), /^text: not valid UTF-8/],
    ['nested error path', Buffer.from([0x5a, 0x02, 0x08, 0x01]), /^items\[0\]\.name: wire type 0/],
    [
      'map value path',
      Buffer.from([0x6a, 0x05, 0x0a, 0x01, 0x6b, 0x10, 0x01]),
      /^labels\["k"\]: wire type 0/,
    ],
    [
      'int beyond 2^53',
      Buffer.from([0x28, ...Array(8).fill(0xff), 0x0f]),
      /^big: .* beyond the integers JSON carries/,
    ],
    [
      'time out of range',
      Buffer.from([0x32, 0x09, 0x08, ...Array(7).fill(0x80), 0x02]),
      /^at: 1125899906842624s 0ns is not a representable time/,
    ],
    ['IntOrString type 2', Buffer.from([0x4a, 0x02, 0x08, 0x02]), /^port: IntOrString type 2/],
    ['truncated fixed64', Buffer.from([0x09, 0x01]), /truncated fixed64 field 1/],
  ];
  for (const [what, bytes, pattern] of cases) {
    assert.throws(
      () => decodeMessage(bytes, Sample),
      (e: unknown) => e instanceof ProtobufError && !e.unsupported && pattern.test(e.message),
      what,
    );
  }
});

test('a field the descriptor does not know is refused as unsupported, not dropped', () => {
  assert.throws(
    () => decodeMessage(Buffer.from([0xa0, 0x01, 0x01]), Sample), // field 20
    (e: unknown) =>
      e instanceof ProtobufError &&
      e.unsupported &&
      /field 20 of test\.Sample is not decoded/.test(e.message),
  );
  const WithIgnored = message('test.Ignoring', { 1: ['name', 'string'] }, [17]);
  assert.deepEqual(decodeMessage(Buffer.from([0x8a, 0x01, 0x00, 0x0a, 0x01, 0x61]), WithIgnored), {
    name: 'a',
  });
});

test('a body cannot expand into more than DECODE_FIELD_LIMIT fields', () => {
  // 2-byte empty list elements: well under the 3 MiB body limit, far more fields than allowed.
  const body = Buffer.alloc((DECODE_FIELD_LIMIT + 1) * 2);
  for (let i = 0; i < body.length; i += 2) body[i] = 0x5a; // field 11, length 0
  assert.throws(() => decodeMessage(body, Sample), /more than 200000 fields/);
});

test('JSON the descriptor cannot express is NotEncodable (the server then answers JSON)', () => {
  assert.throws(
    () => encodeMessage({ unknown: 1 }, Sample),
    (e: unknown) => e instanceof NotEncodableError && /^unknown: no field of test.Sample/.test(e.message),
  );
  assert.throws(() => encodeMessage({ small: 1.5 }, Sample), NotEncodableError);
  assert.throws(
    () => encodeMessage({ inner: { extra: true } }, Sample),
    /inner\.extra: no field of test\.Inner/,
  );
  assert.throws(() => encodeMessage({ at: 'yesterday' }, Sample), /RFC 3339/);
});

test('random bytes never escape as anything but ProtobufError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 96 }), (bytes) => {
      try {
        decodeMessage(Buffer.from(bytes), Sample);
      } catch (error) {
        assert.ok(error instanceof ProtobufError, String(error));
      }
    }),
    { numRuns: 5000 },
  );
});

test('readFields reports fields in wire order with their offsets', () => {
  const w = new WireWriter();
  w.writeVarint(2, 1n);
  w.writeBytes(1, Buffer.from('ab'));
  const fields = readFields(w.finish());
  assert.deepEqual(
    fields.map((f) => [f.field, f.wire, f.offset]),
    [
      [2, 0, 0],
      [1, 2, 4],
    ],
  );
  assert.ok(new WireError('x', 3).message.endsWith('at byte 3'));
});
