/**
 * Waits for answers and times them in two clocks: wall time, and the CPU time of this thread
 * (where the speaker under test runs too). Checks run when the peer's sockets see something
 * (`kick`) and on a 1 ms heartbeat (for what shows only in the session's counters); between
 * them the loop sleeps, so this thread's CPU time advances only with work done (the speaker's
 * and the fuzzer's), not while the machine runs other processes or while nothing happens.
 * The heartbeat also finds stalls: CPU time between two beats beyond `stallCpuMs` means some
 * callback held the loop that long.
 */
import { performance } from 'node:perf_hooks';

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
  readonly wall0: number;
  readonly resolve: (w: Waited<unknown>) => void;
}

export class Poller {
  private readonly waiters = new Set<Waiter>();
  private heartbeat: NodeJS.Timeout | undefined;
  private kicked = false;
  private lastCpu = 0;
  /** Gaps between beats over `stallCpuMs` of CPU (some callback held the loop). */
  stalls = 0;
  maxTurnCpuMs = 0;
  private readonly stallCpuMs: number;

  constructor(stallCpuMs: number) {
    this.stallCpuMs = stallCpuMs;
  }

  start(): void {
    this.lastCpu = cpuNowMs();
    this.heartbeat = setInterval(this.tick, 1);
  }

  stop(): void {
    clearInterval(this.heartbeat);
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
    const turn = cpu - this.lastCpu;
    this.lastCpu = cpu;
    this.maxTurnCpuMs = Math.max(this.maxTurnCpuMs, turn);
    if (turn > this.stallCpuMs) this.stalls++;
    for (const w of this.waiters) {
      const value = w.check();
      if (value !== undefined || wall - w.wall0 > w.giveUpWallMs) {
        this.waiters.delete(w);
        w.resolve({ value, cpuMs: cpu - w.cpu0, wallMs: wall - w.wall0 });
      }
    }
  };
}
