import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ReleasedQueue } from './released-queue.ts';

describe('ReleasedQueue', () => {
  it('holds a bounded number of slots when addresses are taken from the middle, release after release', () => {
    // A Service that asks for a released address by name, deleted and created again under a new
    // name, over and over: the head of the queue never moves, every release adds a slot.
    const queue = new ReleasedQueue();
    let sequence = 0;
    for (let i = 0; i < 100; i++) queue.push(BigInt(1000 + i), sequence++);
    for (let cycle = 0; cycle < 100_000; cycle++) {
      queue.push(7n, sequence++);
      assert.equal(queue.delete(7n), true);
    }
    assert.equal(queue.size, 100);
    assert.ok(queue.slots <= 2 * 100 + 1024 + 1, `${queue.slots} slots for 100 live addresses`);
    assert.deepEqual(
      [...queue.values()].map(Number),
      Array.from({ length: 100 }, (_, i) => 1000 + i),
      'the release order is kept',
    );
  });

  it('behaves as an insertion-ordered set under push, delete and shift', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('push', 'delete', 'shift'), fc.nat(30)), { maxLength: 3000 }),
        (ops) => {
          const queue = new ReleasedQueue();
          const model: number[] = [];
          let sequence = 0;
          for (const [op, n] of ops) {
            if (op === 'push' && !model.includes(n)) {
              queue.push(BigInt(n), sequence++);
              model.push(n);
            } else if (op === 'delete') {
              const at = model.indexOf(n);
              assert.equal(queue.delete(BigInt(n)), at >= 0);
              if (at >= 0) model.splice(at, 1);
            } else if (op === 'shift') {
              const expected = model.shift();
              assert.equal(queue.shift(), expected === undefined ? undefined : BigInt(expected));
            }
          }
          assert.deepEqual([...queue.values()].map(Number), model);
          assert.deepEqual(
            [...queue.entries()].map(([v]) => Number(v)),
            model,
          );
          assert.equal(queue.size, model.length);
        },
      ),
      { seed: 3, numRuns: 200 },
    );
  });
});
