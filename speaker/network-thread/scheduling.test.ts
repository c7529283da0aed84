import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type SchedulingCalls,
  type SchedulingWarning,
  SHORT_SLICE_US,
  scheduleNetworkThread,
} from './scheduling.ts';

// The network thread's scheduling and its fallbacks, with the addon's two calls recorded
// (the real calls, granted and refused, run in speaker/l2/io/thread-slice.test.ts and
// test/deploy/speaker-privileges.test.ts).

const refusal = (code: string) => Object.assign(new Error(`sched_setattr: ${code}`), { code });

function calls(refuse: { realtime?: string; slice?: string } = {}) {
  const made: string[] = [];
  const c: SchedulingCalls = {
    setThreadRealtime(priority) {
      made.push(`realtime ${priority}`);
      if (refuse.realtime) throw refusal(refuse.realtime);
    },
    setThreadSlice(us) {
      made.push(`slice ${us}`);
      if (refuse.slice) throw refusal(refuse.slice);
    },
  };
  return { calls: c, made };
}

function schedule(priority: number, c: SchedulingCalls | undefined) {
  const warnings: SchedulingWarning[] = [];
  const outcome = scheduleNetworkThread(priority, c, (w) => warnings.push(w));
  return { outcome, warnings };
}

test('a priority: SCHED_FIFO at it, no slice asked, no warning', () => {
  const { calls: c, made } = calls();
  const { outcome, warnings } = schedule(5, c);
  assert.deepEqual(outcome, { policy: 'fifo', priority: 5 });
  assert.deepEqual(made, ['realtime 5']);
  assert.deepEqual(warnings, []);
});

test('priority 0: only the short slice', () => {
  const { calls: c, made } = calls();
  const { outcome, warnings } = schedule(0, c);
  assert.deepEqual(outcome, { policy: 'other', shortSlice: true });
  assert.deepEqual(made, [`slice ${SHORT_SLICE_US}`]);
  assert.deepEqual(warnings, []);
});

test('refused (EPERM): a warning naming CAP_SYS_NICE and the fallback, then the short slice', () => {
  const { calls: c, made } = calls({ realtime: 'EPERM' });
  const { outcome, warnings } = schedule(1, c);
  assert.deepEqual(outcome, { policy: 'other', shortSlice: true });
  assert.deepEqual(made, ['realtime 1', `slice ${SHORT_SLICE_US}`]);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]?.message ?? '', /SCHED_FIFO priority 1/);
  assert.match(warnings[0]?.message ?? '', /CAP_SYS_NICE/);
  assert.match(warnings[0]?.message ?? '', /Falling back to a short scheduler slice/);
  assert.deepEqual(warnings[0]?.fields, { error: 'sched_setattr: EPERM', code: 'EPERM' });
});

test('both refused: two warnings, the kernel defaults, no throw', () => {
  const { calls: c } = calls({ realtime: 'EPERM', slice: 'EINVAL' });
  const { outcome, warnings } = schedule(1, c);
  assert.deepEqual(outcome, { policy: 'other', shortSlice: false });
  assert.equal(warnings.length, 2);
  assert.match(warnings[1]?.message ?? '', /refused a short scheduler slice/);
});

test('no addon: one warning, the kernel defaults', () => {
  const { outcome, warnings } = schedule(1, undefined);
  assert.deepEqual(outcome, { policy: 'other', shortSlice: false });
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]?.message ?? '', /no native addon/);
});
