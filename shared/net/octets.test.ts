import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { formatIp } from './ip.ts';
import { formatIpv4, formatIpv6, parseIpv4Into } from './octets.ts';

const v6 = (...words: number[]) => {
  const bytes = new Uint8Array(16);
  words.forEach((word, i) => {
    bytes[2 * i] = word >> 8;
    bytes[2 * i + 1] = word & 0xff;
  });
  return bytes;
};

test('formatIpv6: RFC 5952 §4.2 (the longest zero run, the first of equal ones, never a single group)', () => {
  const cases: [Uint8Array, string][] = [
    [v6(0, 0, 0, 0, 0, 0, 0, 0), '::'],
    [v6(0, 0, 0, 0, 0, 0, 0, 1), '::1'],
    [v6(1, 0, 0, 0, 0, 0, 0, 0), '1::'],
    [v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1), '2001:db8::1'],
    [v6(0x2001, 0xdb8, 0, 1, 1, 1, 1, 1), '2001:db8:0:1:1:1:1:1'],
    [v6(0x2001, 0, 0, 1, 0, 0, 1, 1), '2001::1:0:0:1:1'],
    [v6(0x2001, 0, 0, 1, 0, 0, 0, 1), '2001:0:0:1::1'],
    [v6(0x2001, 0xdb8, 0x100, 0, 0, 0, 0, 0xabcd), '2001:db8:100::abcd'],
  ];
  for (const [bytes, text] of cases) assert.equal(formatIpv6(bytes), text);
});

test('formatIpv6 reads at an offset; formatIpv4 too', () => {
  const frame = new Uint8Array(24);
  frame.set(v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 5), 4);
  frame.set([198, 51, 100, 7], 20);
  assert.equal(formatIpv6(frame, 4), '2001:db8::5');
  assert.equal(formatIpv4(frame, 20), '198.51.100.7');
});

test('property: formatIpv6 writes what the integer form (ip.ts) calls canonical', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 16, maxLength: 16 }),
      fc.integer({ min: 0, max: 3 }),
      (bytes, zeros) => {
        // Zero runs are the interesting part: blank a few groups.
        for (let i = 0; i < zeros; i++) bytes.fill(0, 2 * ((i * 3) % 8), 2 * ((i * 3) % 8) + 4);
        let value = 0n;
        for (const byte of bytes) value = (value << 8n) | BigInt(byte);
        assert.equal(formatIpv6(bytes), formatIp({ family: 'IPv6', value }));
      },
    ),
    { seed: 5952 },
  );
});

test('parseIpv4Into: dotted quads only, no leading zeros, no octet above 255', () => {
  const out = new Uint8Array(6);
  assert.equal(parseIpv4Into('192.0.2.255', out, 2), true);
  assert.deepEqual([...out], [0, 0, 192, 0, 2, 255]);
  for (const bad of [
    '192.0.2',
    '192.0.2.1.5',
    '192.0.02.1',
    '192.0.2.256',
    '192.0.2.-1',
    '192.0.2.',
    'a.b.c.d',
    '',
  ])
    assert.equal(parseIpv4Into(bad, new Uint8Array(4), 0), false, bad);
  assert.equal(parseIpv4Into('0.0.0.0', new Uint8Array(4), 0), true);
});
