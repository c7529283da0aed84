import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadNative } from '../../../native/index.ts';

// The loop meter (native/loop-meter.cc) the packet worker reports the network thread's
// iterations with: measured here on the test's own thread, whose iterations we make.

/** Spins this thread until it has used `ms` of CPU time (wall time may be longer on a busy machine). */
function spin(ms: number): void {
  const start = process.threadCpuUsage();
  while (true) {
    const used = process.threadCpuUsage(start);
    if ((used.user + used.system) / 1000 >= ms) return;
  }
}

const turn = () => new Promise((resolve) => setTimeout(resolve, 5));

test("an iteration's CPU time is counted and the longest is kept until taken", async () => {
  const meter = new (loadNative().LoopMeter)();
  try {
    await turn();
    const before = meter.take();
    setTimeout(() => spin(3), 0);
    await turn();
    await turn();
    const busy = meter.take();
    assert.ok(busy.longestUs >= 3000, `longest ${busy.longestUs} µs`);
    assert.ok(busy.iterations > before.iterations);
    for (const over of ['over500us', 'over1ms', 'over2ms'] as const) {
      assert.ok(busy[over] >= before[over] + 1, `${over}: ${before[over]} then ${busy[over]}`);
    }
    // Taken: the next longest is of the idle iterations since, and the counts stay.
    await turn();
    const idle = meter.take();
    assert.ok(idle.longestUs < 2000, `idle longest ${idle.longestUs} µs`);
    assert.equal(idle.over2ms, busy.over2ms);
  } finally {
    meter.close();
    meter.close();
  }
});

test('a closed meter counts no more', async () => {
  const meter = new (loadNative().LoopMeter)();
  meter.close();
  const { iterations } = meter.take();
  await turn();
  await turn();
  assert.equal(meter.take().iterations, iterations);
});
