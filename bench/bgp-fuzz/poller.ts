/**
 * Waits for answers by polling on every turn of the event loop, and times them in two clocks:
 * wall time, and the CPU time of this thread (where the speaker under test runs too). While
 * something is awaited the loop spins, so this thread's CPU time advances exactly while the
 * process is scheduled: an answer that takes more than 50 ms of it is slow by the speaker's
 * doing (an event-loop stall, or no answer), not because the machine ran other work meanwhile.
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
  private ticking = false;
  private lastTick: { cpu: number; wall: number } | undefined;
  /** Turns of the loop that took more than `stallCpuMs` of CPU (some callback held the loop). */
  stalls = 0;
  maxTurnCpuMs = 0;
  maxTurnWallMs = 0;
  private readonly stallCpuMs: number;

  constructor(stallCpuMs: number) {
    this.stallCpuMs = stallCpuMs;
  }

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
      if (!this.ticking) {
        this.ticking = true;
        this.lastTick = undefined;
        setImmediate(this.tick);
      }
    });
  }

  private readonly tick = (): void => {
    const cpu = cpuNowMs();
    const wall = performance.now();
    if (this.lastTick) {
      const turnCpu = cpu - this.lastTick.cpu;
      this.maxTurnCpuMs = Math.max(this.maxTurnCpuMs, turnCpu);
      this.maxTurnWallMs = Math.max(this.maxTurnWallMs, wall - this.lastTick.wall);
      if (turnCpu > this.stallCpuMs) this.stalls++;
    }
    this.lastTick = { cpu, wall };
    for (const w of this.waiters) {
      const value = w.check();
      if (value !== undefined || wall - w.wall0 > w.giveUpWallMs) {
        this.waiters.delete(w);
        w.resolve({ value, cpuMs: cpu - w.cpu0, wallMs: wall - w.wall0 });
      }
    }
    if (this.waiters.size > 0) setImmediate(this.tick);
    else this.ticking = false;
  };
}
