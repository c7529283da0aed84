import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ReleasedQueue } from './released-queue.ts';

describe('ReleasedQueue', () => {
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
