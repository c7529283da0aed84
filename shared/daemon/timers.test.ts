import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualTimers } from './manual-timers.ts';
import { every } from './timers.ts';

describe('every', () => {
  it('calls back once per period, at the period, until stopped', async () => {
    const timers = new ManualTimers();
    const calls: number[] = [];
    const stop = every(timers, 500, () => calls.push(timers.now()));
    await timers.advance(499);
    assert.deepEqual(calls, []);
    await timers.advance(1001);
    assert.deepEqual(calls, [500, 1000, 1500]);
    stop();
    assert.equal(timers.pending, 0);
    await timers.advance(5000);
    assert.deepEqual(calls, [500, 1000, 1500]);
  });

  it('a callback that stops the repetition leaves no timer behind', async () => {
    const timers = new ManualTimers();
    let calls = 0;
    const stop = every(timers, 100, () => {
      calls++;
      if (calls === 2) stop();
    });
    await timers.advance(1000);
    assert.equal(calls, 2);
    assert.equal(timers.pending, 0);
  });
});
