import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { formatIpValue, parseRangeOrCidr } from '../net/ip.ts';
import { longestPrefix, rangeToCidrs } from './cidrs.ts';

function range(text: string) {
  const r = parseRangeOrCidr(text);
  assert.ok(r.ok);
  return r.value;
}

describe('rangeToCidrs', () => {
  it('splits a range into the fewest covering CIDRs', () => {
    const cidrs = rangeToCidrs(range('198.51.100.10-198.51.100.20'));
    assert.deepEqual(
      cidrs.map((c) => `${formatIpValue(c.family, c.first)}/${c.prefixLength}`),
      ['198.51.100.10/31', '198.51.100.12/30', '198.51.100.16/30', '198.51.100.20/32'],
    );
  });

  it('returns a CIDR unchanged, including 0.0.0.0/0 and a /64', () => {
    assert.deepEqual(
      rangeToCidrs(range('0.0.0.0/0')).map((c) => c.prefixLength),
      [0],
    );
    assert.equal(longestPrefix(range('2001:db8::/64')), 64);
  });

  it('covers exactly the range, with aligned non-overlapping blocks (property)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }),
        fc.bigInt({ min: 0n, max: 5000n }),
        (first, span) => {
          const last = first + span > (1n << 32n) - 1n ? (1n << 32n) - 1n : first + span;
          const cidrs = rangeToCidrs({ family: 'IPv4', first, last });
          let next = first;
          for (const c of cidrs) {
            const size = 1n << BigInt(32 - c.prefixLength);
            assert.equal(c.first, next);
            assert.equal(c.first % size, 0n);
            next = c.first + size;
          }
          assert.equal(next, last + 1n);
        },
      ),
    );
  });
});
