/**
 * Waits for answers and times them in two clocks: wall time, and the CPU time of this thread
 * (where the speaker under test runs too). Checks run when the peer's sockets see something
 * (`kick`) and on a 1 ms heartbeat (for what shows only in the session's counters); between
 * them the loop sleeps, so this thread's CPU time advances only with work done, not while the
 * machine runs other processes or while nothing happens. The heartbeat also measures turns of
 * the event loop: CPU time between two beats. The fuzzer's own work of building messages is
 * left out of both (`own`).
 */
import { performance } from 'node:perf_hooks';
import { absoluteNow, type Gap } from './canary.ts';

/** This thread's CPU time in milliseconds. */
export function cpuNowMs(): number {
  const usage = process.threadCpuUsage();
  return (usage.user + usage.system) / 1000;
}

export interface Waited<T> {
  /** What `check` returned, or undefined when it gave nothing before the wall-time limit. */
  readonly value: T | undefined;
  readonly cpuMs: number;
  readonly wallMs: number;
}

interface Waiter {
  readonly check: () => unknown;
  readonly giveUpWallMs: number;
  readonly cpu0: number;
  /** The fuzzer's own CPU time when the wait began. */
  readonly own0: number;
  readonly wall0: number;
  readonly resolve: (w: Waited<unknown>) => void;
}

export class Poller {
  private readonly waiters = new Set<Waiter>();
  private heartbeat: NodeJS.Timeout | undefined;
  private kicked = false;
  private lastCpu = 0;
  /** CPU time the fuzzer spent building messages (`own`), left out of every figure. */
  private ownCpu = 0;
  private lastOwn = 0;
  /** Turns of the loop over `stallCpuMs` of CPU (everything in the process counted). */
  stalls = 0;
  /** When the first of them happened (absolute times, to hold against the canary's gaps). */
  readonly stallWindows: Gap[] = [];
  private lastAbs = 0;
  maxTurnCpuMs = 0;
  private readonly stallCpuMs: number;

  constructor(stallCpuMs: number) {
    this.stallCpuMs = stallCpuMs;
  }

  start(): void {
    this.heartbeat = setInterval(this.tick, 1);
    this.restart();
  }

  /** Forgets the turns so far (the warm-up: loading code, first connections). */
  restart(): void {
    this.lastCpu = cpuNowMs();
    this.lastOwn = this.ownCpu;
    this.stalls = 0;
    this.stallWindows.length = 0;
    this.lastAbs = absoluteNow();
    this.maxTurnCpuMs = 0;
  }

  stop(): void {
    clearInterval(this.heartbeat);
  }

  /** Runs `work` of the fuzzer's own (building a message and its verdict) outside the figures. */
  own<T>(work: () => T): T {
    const cpu0 = cpuNowMs();
    try {
      return work();
    } finally {
      this.ownCpu += cpuNowMs() - cpu0;
    }
  }

  /** Something happened on a socket: check the waiters on this turn of the loop. */
  readonly kick = (): void => {
    if (this.kicked) return;
    this.kicked = true;
    setImmediate(this.tick);
  };

  /** Resolves once `check` returns something, or after `giveUpWallMs` of wall time with undefined. */
  until<T>(check: () => T | undefined, giveUpWallMs: number): Promise<Waited<T>> {
    return new Promise((resolve) => {
      this.waiters.add({
        check,
        giveUpWallMs,
        cpu0: cpuNowMs(),
        own0: this.ownCpu,
        wall0: performance.now(),
        resolve: resolve as (w: Waited<unknown>) => void,
      });
      this.kick();
    });
  }

  private readonly tick = (): void => {
    this.kicked = false;
    const cpu = cpuNowMs();
    const wall = performance.now();
    const turn = cpu - this.lastCpu - (this.ownCpu - this.lastOwn);
    this.lastCpu = cpu;
    this.lastOwn = this.ownCpu;
    this.maxTurnCpuMs = Math.max(this.maxTurnCpuMs, turn);
    const abs = absoluteNow();
    if (turn > this.stallCpuMs) {
      this.stalls++;
      if (this.stallWindows.length < 1000) this.stallWindows.push({ from: this.lastAbs, to: abs });
    }
    this.lastAbs = abs;
    for (const w of this.waiters) {
      const value = w.check();
      if (value !== undefined || wall - w.wall0 > w.giveUpWallMs) {
        this.waiters.delete(w);
        w.resolve({ value, cpuMs: cpu - w.cpu0 - (this.ownCpu - w.own0), wallMs: wall - w.wall0 });
      }
    }
  };
}
