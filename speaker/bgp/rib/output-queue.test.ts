import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { OutputQueue } from './output-queue.ts';

const bytes = (n: number, fill = n & 0xff) => new Uint8Array(n).fill(fill);

describe('OutputQueue', () => {
  it('refuses, whole, what would take it past its budget, counting what the socket still holds', () => {
    const q = new OutputQueue({ budgetBytes: 100, batchBytes: 64 });
    assert.equal(q.push([bytes(40), bytes(40)]), true);
    assert.equal(q.queuedBytes, 80);
    assert.equal(q.push([bytes(10), bytes(11)]), false, '80 + 21 > 100');
    assert.equal(q.queuedBytes, 80, 'nothing of a refused push is kept');
    assert.equal(q.push([bytes(20)], 1), false, 'the socket still holds 1 octet');
    assert.equal(q.push([bytes(20)]), true);
    assert.equal(q.queuedBytes, 100);
  });

  it('hands out whole messages in order, batched up to batchBytes; a larger one goes alone', () => {
    const q = new OutputQueue({ budgetBytes: 1000, batchBytes: 64 });
    q.push([bytes(30, 1), bytes(30, 2), bytes(30, 3), bytes(100, 4), bytes(10, 5)]);
    const sizes: number[] = [];
    const order: number[] = [];
    for (let b = q.takeBatch(); b; b = q.takeBatch()) {
      sizes.push(b.length);
      for (let i = 0; i < b.length; i++) if (i === 0 || b[i] !== b[i - 1]) order.push(b[i]!);
    }
    assert.deepStrictEqual(sizes, [60, 30, 100, 10]);
    assert.deepStrictEqual(order, [1, 2, 3, 4, 5]);
    assert.equal(q.queuedBytes, 0);
    assert.equal(q.isEmpty, true);
  });

  it('clear() empties it and frees its budget', () => {
    const q = new OutputQueue({ budgetBytes: 50, batchBytes: 64 });
    q.push([bytes(50)]);
    q.clear();
    assert.equal(q.takeBatch(), undefined);
    assert.equal(q.push([bytes(50)]), true);
  });

  it('property: the bytes out equal the bytes accepted, in order, and the queue never exceeds its budget', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(fc.array(fc.integer({ min: 1, max: 300 }), { maxLength: 5 }), fc.constant('take')),
          {
            maxLength: 200,
          },
        ),
        (ops) => {
          const q = new OutputQueue({ budgetBytes: 1000, batchBytes: 256 });
          let counter = 0;
          const accepted: number[] = [];
          const out: number[] = [];
          for (const op of ops) {
            if (op === 'take') {
              const b = q.takeBatch();
              if (b) out.push(...b);
            } else {
              const messages = op.map((n) => bytes(n).map(() => counter++ & 0xff));
              if (q.push(messages)) for (const m of messages) accepted.push(...m);
            }
            assert.ok(q.queuedBytes <= 1000);
          }
          for (let b = q.takeBatch(); b; b = q.takeBatch()) out.push(...b);
          assert.deepStrictEqual(out, accepted);
        },
      ),
    );
  });
});
