import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { loadNative, NATIVE_ADDON_PATH } from '../../../native/index.ts';

// The short scheduler slice the packet worker asks for its thread (native/thread-slice.cc):
// the calling thread's, and only its.

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
