import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { IntervalSet } from './interval-set.ts';
import { OrderedMap } from './ordered-map.ts';

describe('OrderedMap', () => {
  it('agrees with a sorted model under random inserts and deletes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 60 })), { maxLength: 200 }),
        fc.integer({ min: 0, max: 61 }),
        (ops, probe) => {
          const map = new OrderedMap<number>();
          const model = new Map<number, number>();
          for (const [insert, key] of ops) {
            if (insert) {
              map.set(BigInt(key), key * 2);
              model.set(key, key * 2);
            } else assert.equal(map.delete(BigInt(key)), model.delete(key));
          }
          const keys = [...model.keys()].sort((a, b) => a - b);
          assert.deepEqual(
            [...map.entries()].map((e) => Number(e.key)),
            keys,
          );
          assert.equal(map.size, keys.length);
          const floor = keys.filter((k) => k <= probe).at(-1);
          const ceiling = keys.find((k) => k >= probe);
          assert.equal(map.floor(BigInt(probe))?.key, floor === undefined ? undefined : BigInt(floor));
          assert.equal(map.ceiling(BigInt(probe))?.key, ceiling === undefined ? undefined : BigInt(ceiling));
          assert.equal(map.get(BigInt(probe)), model.get(probe));
          assert.equal(map.first()?.key, keys[0] === undefined ? undefined : BigInt(keys[0]));
        },
      ),
      { seed: 42, numRuns: 300 },
    );
  });

  it('stays shallow with sorted inserts (100k keys well within the stack)', () => {
    const map = new OrderedMap<true>();
    for (let i = 0; i < 100_000; i++) map.set(BigInt(i), true);
    for (let i = 0; i < 100_000; i += 2) map.delete(BigInt(i));
    assert.equal(map.size, 50_000);
    assert.equal(map.first()?.key, 1n);
  });
});

describe('IntervalSet', () => {
  it('agrees with a plain set and keeps fragments maximal', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant('add' as const), a: fc.nat(80), len: fc.nat(6) }),
            fc.record({ op: fc.constant('remove' as const), a: fc.nat(86), len: fc.constant(0) }),
          ),
          { maxLength: 120 },
        ),
        fc.nat(90),
        (ops, probe) => {
          const set = new IntervalSet();
          const model = new Set<number>();
          for (const { op, a, len } of ops) {
            if (op === 'add') {
              set.addRange(BigInt(a), BigInt(a + len));
              for (let x = a; x <= a + len; x++) model.add(x);
            } else assert.equal(set.remove(BigInt(a)), model.delete(a));
          }
          const members: number[] = [];
          let previousEnd: bigint | undefined;
          for (const { first, last } of set.ranges()) {
            assert.ok(first <= last);
            if (previousEnd !== undefined) assert.ok(first > previousEnd + 1n, 'fragments must not touch');
            previousEnd = last;
            for (let x = first; x <= last; x++) members.push(Number(x));
          }
          assert.deepEqual(
            members,
            [...model].sort((x, y) => x - y),
          );
          assert.equal(set.has(BigInt(probe)), model.has(probe));
          const next = members.find((x) => x >= probe);
          assert.equal(
            set.firstAtOrAfter(BigInt(probe))?.value,
            next === undefined ? undefined : BigInt(next),
          );
        },
      ),
      { seed: 7, numRuns: 300 },
    );
  });

  it('holds a whole IPv6 address space in one fragment', () => {
    const set = new IntervalSet();
    set.addRange(0n, (1n << 128n) - 1n);
    set.remove(1n << 64n);
    assert.equal(set.fragments, 2);
    assert.equal(set.firstAtOrAfter(1n << 64n)?.value, (1n << 64n) + 1n);
  });
});
