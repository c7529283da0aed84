import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkQueue } from './work-queue.ts';

describe('WorkQueue', () => {
  it('dedupes keys queued before processing and never runs one key twice at once', async () => {
    const runs: string[] = [];
    let running = 0;
    let maxSameKey = 0;
    const active = new Map<string, number>();
    let releaseFirst: () => void = () => {};
    const firstGate = new Promise<void>((r) => {
      releaseFirst = r;
    });
    const queue = new WorkQueue({
      concurrency: 4,
      process: async (key) => {
        active.set(key, (active.get(key) ?? 0) + 1);
        maxSameKey = Math.max(maxSameKey, active.get(key)!);
        running++;
        runs.push(key);
        if (key === 'a' && runs.filter((k) => k === 'a').length === 1) await firstGate;
        running--;
        active.set(key, active.get(key)! - 1);
      },
    });
    queue.add('a');
    queue.add('b');
    queue.add('b');
    queue.add('c');
    queue.resume();
    queue.add('a'); // while 'a' runs: it runs again afterwards, once
    queue.add('a');
    await new Promise((r) => setImmediate(r));
    releaseFirst();
    await queue.idle();
    assert.deepEqual(runs.sort(), ['a', 'a', 'b', 'c']);
    assert.equal(maxSameKey, 1);
    assert.equal(running, 0);
  });

  it('retries a failing key with backoff until it succeeds', async () => {
    let calls = 0;
    const errors: number[] = [];
    const queue = new WorkQueue({
      concurrency: 1,
      backoffMs: () => 1,
      onError: (_key, _error, attempt) => errors.push(attempt),
      process: async () => {
        calls++;
        if (calls < 3) throw new Error('conflict');
      },
    });
    queue.resume();
    queue.add('x');
    while (calls < 3) await new Promise((r) => setTimeout(r, 2));
    await queue.idle();
    assert.equal(calls, 3);
    assert.deepEqual(errors, [1, 2]);
  });

  it('holds keys while paused and drops them on clear', async () => {
    const runs: string[] = [];
    const queue = new WorkQueue({ concurrency: 2, process: async (k) => void runs.push(k) });
    queue.add('a');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(runs, []);
    assert.equal(queue.depth, 1);
    queue.clear();
    queue.resume();
    queue.add('b');
    await queue.idle();
    assert.deepEqual(runs, ['b']);
  });
});
