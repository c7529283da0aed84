import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parsePrefix } from './address.ts';
import { MAX_PREFIX_NLRI_OCTETS, writePrefixNlri } from './prefix-nlri.ts';
import { toHex } from './test-helpers.ts';

/** The fast writer's octets for a whole text, or -1. */
function fast(text: string): string | -1 {
  const out = new Uint8Array(MAX_PREFIX_NLRI_OCTETS);
  const n = writePrefixNlri(text, 0, text.length, out, 0);
  return n < 0 ? -1 : toHex(out.subarray(0, n));
}

/** The reference parser's octets, or the error it names. */
function reference(text: string): string | { error: string } {
  try {
    return toHex(parsePrefix(text).nlri);
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/** What the contract says: the fast path refuses, or gives exactly what the reference gives. */
function agrees(text: string): void {
  const got = fast(text);
  if (got !== -1) assert.equal(got, reference(text), `fast path on "${text}"`);
}

/** An address of `octets` random octets with the bits past `length` cleared. */
const network = (octets: number) =>
  fc
    .tuple(fc.uint8Array({ minLength: octets, maxLength: octets }), fc.integer({ min: 0, max: octets * 8 }))
    .map(([bytes, length]) => {
      for (let i = 0; i < octets; i++) {
        const keep = Math.max(0, Math.min(8, length - 8 * i));
        bytes[i]! &= (0xff << (8 - keep)) & 0xff;
      }
      return { bytes, length };
    });

/** One hex group spelled with up to three leading zeros and either case. */
const group = (word: number) =>
  fc.tuple(fc.integer({ min: 0, max: 3 }), fc.boolean()).map(([zeros, upper]) => {
    const text = word.toString(16).padStart(Math.min(4, word.toString(16).length + zeros), '0');
    return upper ? text.toUpperCase() : text;
  });

/** An IPv6 prefix in any hex spelling: groups padded or not, any run of zero groups as "::". */
const ipv6Spelling = network(16).chain(({ bytes, length }) => {
  const words = Array.from({ length: 8 }, (_, i) => (bytes[2 * i]! << 8) | bytes[2 * i + 1]!);
  const runs: [number, number][] = [[-1, -1]];
  for (let i = 0; i < 8; i++) for (let j = i; j < 8 && words[j] === 0; j++) runs.push([i, j + 1]);
  return fc.tuple(fc.tuple(...words.map(group)), fc.constantFrom(...runs)).map(([groups, [from, to]]) => {
    const address =
      from < 0 ? groups.join(':') : `${groups.slice(0, from).join(':')}::${groups.slice(to).join(':')}`;
    return { text: `${address}/${length}`, bytes, length };
  });
});

const ipv4Spelling = network(4).map(({ bytes, length }) => ({
  text: `${[...bytes].join('.')}/${length}`,
  bytes,
  length,
}));

/** Valid texts with random edits: characters of prefixes (and a few others) inserted, removed, replaced. */
const edited = fc
  .tuple(
    fc.oneof(ipv6Spelling, ipv4Spelling).map((s) => s.text),
    fc.array(
      fc.tuple(
        fc.constantFrom('insert', 'delete', 'replace'),
        fc.nat(),
        fc.constantFrom(...'0123456789abcdefABCDEFgG:./ -\u0130\u0660'),
      ),
      { minLength: 1, maxLength: 3 },
    ),
  )
  .map(([text, edits]) => {
    let t = text;
    for (const [kind, position, char] of edits) {
      const at = position % (t.length + 1);
      if (kind === 'insert') t = t.slice(0, at) + char + t.slice(at);
      else if (kind === 'delete') t = t.slice(0, at) + t.slice(at + 1);
      else t = t.slice(0, at) + char + t.slice(at + 1);
    }
    return t;
  });

describe('writePrefixNlri (fast path) against parsePrefix (reference)', () => {
  it('writes the NLRI of the usual spellings', () => {
    for (const [text, nlri] of [
      ['2001:db8:1:2::/64', '4020010db800010002'],
      ['2001:DB8:0:1::10/128', '8020010db8000000010000000000000010'],
      ['::/0', '00'],
      ['::1/128', '8000000000000000000000000000000001'],
      ['fe80::/10', '0afe80'],
      ['2001:db8::1:0:0:0/80', '5020010db8000000000001'],
      ['2001:0db8:0000:0000:0000:0000:0000:0000/32', '2020010db8'],
      ['198.51.100.0/24', '18c63364'],
      ['0.0.0.0/0', '00'],
      ['203.0.113.7/32', '20cb007107'],
      ['192.0.2.128/25', '19c0000280'],
    ] as const) {
      assert.equal(fast(text), nlri, text);
      assert.equal(reference(text), nlri, text);
    }
  });

  it('refuses what is not a prefix, and the spellings it leaves to the reference', () => {
    for (const text of [
      '',
      '/64',
      '2001:db8::',
      '2001:db8::/129',
      '2001:db8::/0064',
      '2001:db8::/6a',
      '2001:db8::1/64', // host bits
      '2001:db8:1::/32', // host bits inside the last group written
      '1:2:3:4:5:6:7:8:9/128',
      '1:2:3:4:5:6:7::8/128', // "::" standing for nothing
      '1:2:3:4:5:6:7:8::/128',
      '1::2::/64',
      ':::/0',
      ':1::/64',
      '1:/64',
      '12345::/16',
      '::ffff:192.0.2.1/128', // valid, left to the reference
      '198.51.100.0/33',
      '198.51.100.1/24',
      '198.51.100/24',
      '198.51.100.0.0/24',
      '198.051.100.0/24',
      '256.0.0.0/8',
      '198.51.100.0:1/24',
      '198.51.100.0/24 ',
      ' 198.51.100.0/24',
    ]) {
      assert.equal(fast(text), -1, `"${text}"`);
    }
    assert.equal(reference('::ffff:192.0.2.1/128'), '8000000000000000000000ffffc0000201');
  });

  it('property: every hex spelling of an IPv6 prefix takes the fast path, with the reference octets', () => {
    fc.assert(
      fc.property(ipv6Spelling, ({ text, bytes, length }) => {
        const octets = (length + 7) >> 3;
        const expected = toHex(Uint8Array.of(length, ...bytes.subarray(0, octets)));
        assert.equal(fast(text), expected, text);
        assert.equal(reference(text), expected, text);
      }),
      { numRuns: 3000 },
    );
  });

  it('property: every IPv4 prefix takes the fast path, with the reference octets', () => {
    fc.assert(
      fc.property(ipv4Spelling, ({ text }) => {
        assert.notEqual(fast(text), -1, text);
        agrees(text);
      }),
      { numRuns: 2000 },
    );
  });

  it('property: on edited texts the fast path refuses or agrees with the reference', () => {
    fc.assert(fc.property(edited, agrees), { numRuns: 20_000 });
  });

  it('property: reads only text[start, end) and writes only from out[at]', () => {
    fc.assert(
      fc.property(
        fc.oneof(ipv6Spelling, ipv4Spelling),
        fc.string({ maxLength: 5 }),
        fc.string({ maxLength: 5 }),
        fc.nat({ max: 40 }),
        ({ text }, before, after, at) => {
          const out = new Uint8Array(at + MAX_PREFIX_NLRI_OCTETS + 8).fill(0xaa);
          const n = writePrefixNlri(
            before + text + after,
            before.length,
            before.length + text.length,
            out,
            at,
          );
          assert.equal(toHex(out.subarray(at, at + n)), fast(text));
          assert.ok(
            out.subarray(0, at).every((b) => b === 0xaa),
            'nothing before `at`',
          );
          assert.ok(
            out.subarray(at + MAX_PREFIX_NLRI_OCTETS).every((b) => b === 0xaa),
            'nothing past 17',
          );
        },
      ),
      { numRuns: 2000 },
    );
  });
});
