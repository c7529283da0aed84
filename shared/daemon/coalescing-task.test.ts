import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CoalescingTask } from './coalescing-task.ts';
import { ManualTimers, settle } from './manual-timers.ts';

/** A task whose runs are recorded with their start time; `gate` holds a run open until released. */
function recordedTask(options: { delayMs?: number; retryMs?: number; fail?: () => boolean } = {}) {
  const timers = new ManualTimers();
  const starts: number[] = [];
  const errors: unknown[] = [];
  let release: (() => void) | undefined;
  let hold = false;
  const task = new CoalescingTask({
    delayMs: options.delayMs ?? 100,
    retryMs: options.retryMs ?? 1000,
    timers,
    onError: (error) => errors.push(error),
    run: async () => {
      starts.push(timers.now());
      if (hold) await new Promise<void>((resolve) => (release = resolve));
      if (options.fail?.()) throw new Error('run failed');
    },
  });
  return {
    timers,
    task,
    starts,
    errors,
    holdRuns: (on: boolean) => {
      hold = on;
    },
    finishRun: async () => {
      release?.();
      release = undefined;
      await settle();
    },
  };
}

describe('CoalescingTask', () => {
  it('runs once after the quiet time however many triggers came in it', async () => {
    const { timers, task, starts } = recordedTask();
    for (let i = 0; i < 5; i++) {
      task.schedule();
      await timers.advance(10);
    }
    assert.deepEqual(starts, [], 'nothing before the quiet time');
    await timers.advance(100);
    assert.deepEqual(starts, [100], 'the first trigger set the time; later ones did not push it');
    assert.equal(task.busy, false);
  });

  it('lets an urgent trigger overtake a slower one, and never the other way round', async () => {
    const { timers, task, starts } = recordedTask();
    task.schedule(); // due at 100
    await timers.advance(20);
    task.schedule(0); // due at 20: wins
    await timers.advance(0);
    assert.deepEqual(starts, [20]);
    task.schedule(50); // due at 70
    task.schedule(500); // later: ignored
    await timers.advance(1000);
    assert.deepEqual(starts, [20, 70]);
  });

  it('never runs twice at once; triggers during a run make exactly one more run right after it', async () => {
    const { timers, task, starts, holdRuns, finishRun } = recordedTask();
    holdRuns(true);
    task.schedule(0);
    await timers.advance(0);
    assert.deepEqual(starts, [0]);
    assert.equal(task.busy, true);
    for (let i = 0; i < 3; i++) {
      task.schedule();
      await timers.advance(200);
    }
    assert.deepEqual(starts, [0], 'still the first run');
    holdRuns(false);
    await finishRun();
    await timers.advance(0);
    assert.deepEqual(starts, [0, 600], 'one follow-up run for the three triggers, at once');
    await timers.advance(10_000);
    assert.deepEqual(starts, [0, 600]);
    assert.equal(task.busy, false);
  });

  it('reports a failed run and retries it after retryMs', async () => {
    let failures = 2;
    const { timers, task, starts, errors } = recordedTask({ retryMs: 1000, fail: () => failures-- > 0 });
    task.schedule(0);
    await timers.advance(0);
    assert.equal(errors.length, 1);
    assert.match(String(errors[0]), /run failed/);
    await timers.advance(999);
    assert.deepEqual(starts, [0]);
    await timers.advance(1);
    assert.deepEqual(starts, [0, 1000]);
    await timers.advance(1000);
    assert.deepEqual(starts, [0, 1000, 2000]);
    assert.equal(errors.length, 2, 'the third run succeeded');
    await timers.advance(10_000);
    assert.equal(starts.length, 3, 'no retry after a success');
  });

  it('stop() cancels what is due, waits for the run in progress, and ignores later triggers', async () => {
    const { timers, task, starts, holdRuns, finishRun } = recordedTask();
    holdRuns(true);
    task.schedule(0);
    await timers.advance(0);
    task.schedule(50);
    await timers.advance(50); // falls due during the run: would follow it
    let stopped = false;
    const stopping = task.stop().then(() => {
      stopped = true;
    });
    await settle();
    assert.equal(stopped, false, 'waits for the run in progress');
    await finishRun();
    await stopping;
    task.schedule(0);
    await timers.advance(10_000);
    assert.deepEqual(starts, [0], 'no follow-up and nothing after stop');
    assert.equal(timers.pending, 0);
    assert.equal(task.busy, false);
  });
});
