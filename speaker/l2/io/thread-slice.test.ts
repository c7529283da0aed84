import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { loadNative, NATIVE_ADDON_PATH } from '../../../native/index.ts';

// The short scheduler slice or the real-time policy the packet worker asks for its thread
// (native/thread-slice.cc): the calling thread's, and only its.

/** The calling thread's slice in ns as the kernel shows it; undefined before Linux 6.6 (no se.slice). */
const sliceOf = (path: string): number | undefined => {
  const line = readFileSync(path, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('se.slice'));
  return line === undefined ? undefined : Number(line.split(':')[1]);
};

test("a thread's slice becomes the one it asked for; other threads keep theirs", async () => {
  const mine = sliceOf('/proc/thread-self/sched');
  const theirs = await new Promise<unknown>((resolve, reject) => {
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
       require(${JSON.stringify(NATIVE_ADDON_PATH)}).setThreadSlice(100);
       const line = require('node:fs').readFileSync('/proc/thread-self/sched', 'utf8').split('\\n').find((l) => l.startsWith('se.slice'));
       parentPort.postMessage(line === undefined ? null : Number(line.split(':')[1]));`,
      { eval: true },
    );
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  if (mine === undefined) {
    assert.equal(theirs, null, 'a kernel without se.slice accepts the call');
    return;
  }
  assert.equal(theirs, 100_000, 'the worker thread: 0.1 ms');
  assert.equal(sliceOf('/proc/thread-self/sched'), mine, 'this thread: unchanged');
});

test('a slice that is no number of microseconds is refused', () => {
  const { setThreadSlice } = loadNative();
  assert.throws(() => setThreadSlice(0), /microseconds >= 1/);
  assert.throws(() => (setThreadSlice as (v: unknown) => void)('100'), /microseconds >= 1/);
});

/** policy (0 SCHED_OTHER, 1 SCHED_FIFO) and rt_priority of a thread, from its stat file's text. */
const policyIn = (stat: string): { policy: number; priority: number } => {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { policy: Number(fields[38]), priority: Number(fields[37]) };
};

test('a thread under SCHED_FIFO runs so; the thread that made it and the threads it makes do not', async () => {
  const seen = await new Promise<{ refused?: string; own: string; child?: string }>((resolve, reject) => {
    const worker = new Worker(
      `const { parentPort, Worker } = require('node:worker_threads');
       const stat = () => require('node:fs').readFileSync('/proc/thread-self/stat', 'utf8');
       let refused;
       try {
         require(${JSON.stringify(NATIVE_ADDON_PATH)}).setThreadRealtime(7);
       } catch (e) {
         refused = e.code;
       }
       const own = stat();
       if (refused !== undefined) parentPort.postMessage({ refused, own });
       else {
         const child = new Worker(
           "require('node:worker_threads').parentPort.postMessage(require('node:fs').readFileSync('/proc/thread-self/stat', 'utf8'))",
           { eval: true },
         );
         child.once('message', (childStat) => parentPort.postMessage({ own, child: childStat }));
       }`,
      { eval: true },
    );
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  if (seen.refused !== undefined) {
    // Without CAP_SYS_NICE (a runner that is not root): refused, and nothing changed.
    assert.equal(seen.refused, 'EPERM');
    assert.deepEqual(policyIn(seen.own), { policy: 0, priority: 0 });
    return;
  }
  assert.deepEqual(policyIn(seen.own), { policy: 1, priority: 7 }, 'the worker thread: SCHED_FIFO 7');
  assert.deepEqual(
    policyIn(seen.child ?? ''),
    { policy: 0, priority: 0 },
    'a thread it started: SCHED_OTHER (reset on fork)',
  );
  assert.deepEqual(
    policyIn(readFileSync('/proc/thread-self/stat', 'utf8')),
    { policy: 0, priority: 0 },
    'this thread: unchanged',
  );
});

test('a real-time priority outside 1-99 or no integer is refused', () => {
  const { setThreadRealtime } = loadNative();
  for (const bad of [0, 100, 1.5, -1, Number.NaN]) {
    assert.throws(() => setThreadRealtime(bad), /integer priority from 1 to 99/, String(bad));
  }
  assert.throws(() => (setThreadRealtime as (v: unknown) => void)('1'), /integer priority from 1 to 99/);
});
