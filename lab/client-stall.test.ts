import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deadlineVerdict, nextSlotMs, StallMeter } from './client-stall.ts';

describe('StallMeter', () => {
  it('counts nothing while the beats come on time or a little late', () => {
    const meter = new StallMeter(10, 0);
    for (const t of [10, 21, 30, 45, 60]) assert.equal(meter.beat(t), 0);
  });

  it('counts a gap over two periods, less one period, once', () => {
    const meter = new StallMeter(10, 0);
    assert.equal(meter.beat(10), 0);
    // Stopped from 10 to 710: the beat at 710 sees it.
    assert.equal(meter.beat(710), 690);
    // A second caller in the same wake-up (the deadline after the periodic beat) adds nothing.
    assert.equal(meter.beat(710.5), 690);
    assert.equal(meter.beat(720), 690);
    assert.equal(meter.beat(800), 760);
  });

  it('counts a stall the first caller after it sees, whoever that is', () => {
    // The deadline's beat comes first after the stall; the periodic beat then sees no gap.
    const meter = new StallMeter(10, 0);
    assert.equal(meter.beat(600), 590);
    assert.equal(meter.beat(601), 590);
  });

  it('ignores a beat from the past', () => {
    const meter = new StallMeter(10, 100);
    assert.equal(meter.beat(50), 0);
    assert.equal(meter.beat(110), 0);
  });

  it('refuses a period that is not positive', () => {
    assert.throws(() => new StallMeter(0, 0), RangeError);
  });
});

describe('deadlineVerdict', () => {
  it('times out a request whose client ran the whole bound', () => {
    assert.deepEqual(deadlineVerdict(0, 0), { kind: 'timeout' });
  });

  it('waits as long again as the client stood still since the request started', () => {
    assert.deepEqual(deadlineVerdict(593, 0), { kind: 'extend', byMs: 593 });
    // After the extension, only a stall beyond what was granted extends it again.
    assert.deepEqual(deadlineVerdict(593, 593), { kind: 'timeout' });
    assert.deepEqual(deadlineVerdict(640, 593), { kind: 'extend', byMs: 47 });
  });
});

describe('nextSlotMs', () => {
  it('keeps the schedule when on time', () => {
    assert.equal(nextSlotMs(1000, 20, 1000), 1020);
    assert.equal(nextSlotMs(1000, 20, 1020.4), 1040);
    assert.equal(nextSlotMs(1000, 20, 1039.9), 1040);
  });

  it('skips the slots missed during a stall instead of sending them in a burst', () => {
    // Woken 700 ms late: the next request is at the next slot, not 35 at once.
    assert.equal(nextSlotMs(1000, 20, 1_735), 1_740);
  });
});
