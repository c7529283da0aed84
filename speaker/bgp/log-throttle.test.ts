import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LogThrottle } from './log-throttle.ts';

describe('LogThrottle', () => {
  it('lets the first occurrence through, holds back the rest of the interval, then reports them', () => {
    const throttle = new LogThrottle(10_000);
    assert.deepStrictEqual(throttle.take(1_000), { suppressed: 0 });
    assert.equal(throttle.take(1_001), undefined);
    assert.equal(throttle.take(10_999), undefined);
    // The interval runs from the last line: 1,000 + 10,000.
    assert.deepStrictEqual(throttle.take(11_000), { suppressed: 2 });
    assert.equal(throttle.take(20_999), undefined);
    assert.deepStrictEqual(throttle.take(21_000), { suppressed: 1 });
    assert.deepStrictEqual(throttle.take(99_000), { suppressed: 0 });
  });
});
