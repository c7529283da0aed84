/**
 * A thread beside the speaker's that only wakes every millisecond and notes when it could not:
 * a gap it sees too is the whole process stopped (the virtual machine not scheduled, the
 * kernel busy with it), not the speaker computing, which holds its own thread only. A VM
 * whose guest reports no steal time (this one's /proc/stat) counts time the host takes from it
 * as CPU time of whatever thread was running; the canary tells such windows apart.
 */
import { Worker } from 'node:worker_threads';

/** A window in absolute milliseconds (time origin plus now, comparable across threads). */
export interface Gap {
  readonly from: number;
  readonly to: number;
}

const CODE = `
const { parentPort, workerData } = require('node:worker_threads');
const now = () => performance.timeOrigin + performance.now();
let last = now();
const beat = setInterval(() => {
  const t = now();
  if (t - last > workerData.gapMs) parentPort.postMessage({ from: last, to: t });
  last = t;
}, 1);
parentPort.on('message', (m) => {
  if (m === 'stop') {
    clearInterval(beat);
    parentPort.postMessage('stopped');
  }
});
`;

export class Canary {
  private readonly worker: Worker;
  private readonly gaps: Gap[] = [];

  /** Notes gaps over `gapMs`. */
  constructor(gapMs: number) {
    this.worker = new Worker(CODE, { eval: true, workerData: { gapMs } });
    this.worker.on('message', (m: Gap | 'stopped') => {
      if (m !== 'stopped' && this.gaps.length < 10_000) this.gaps.push(m);
    });
  }

  /** Stops the thread; the gaps it saw, all of them delivered. */
  async stop(): Promise<readonly Gap[]> {
    await new Promise<void>((resolve) => {
      this.worker.on('message', (m) => m === 'stopped' && resolve());
      this.worker.postMessage('stop');
    });
    await this.worker.terminate();
    return this.gaps;
  }
}

/** Milliseconds of `[from, to]` inside any of `windows`. */
export function overlapMs(from: number, to: number, windows: readonly Gap[]): number {
  let sum = 0;
  for (const w of windows) {
    if (w.from < to && w.to > from) sum += Math.min(to, w.to) - Math.max(from, w.from);
  }
  return sum;
}

/** Absolute milliseconds, comparable with a Gap. */
export function absoluteNow(): number {
  return performance.timeOrigin + performance.now();
}
