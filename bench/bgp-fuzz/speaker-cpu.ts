/**
 * Times the speaker's own work, apart from the fuzzer's and the other lanes': every socket
 * event of a BgpSession runs inside its guard() (which turns an exception into a session reset)
 * and every FSM event, timers included, through its dispatch(). Wrapping the two on the
 * prototype gives the CPU time of each unit of the speaker's work; nested calls are timed
 * once, by the outermost. A unit over the limit is a hang unless garbage collection or the
 * whole process being stopped (seen by the canary thread too) explains the excess: neither is
 * the input's doing, and both would show wherever the process happened to be.
 */
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { BgpSession } from '../../speaker/bgp/session.ts';
import { absoluteNow, type Gap, overlapMs } from './canary.ts';
import { cpuNowMs } from './poller.ts';

type Method = (this: unknown, ...args: unknown[]) => unknown;

interface SlowUnit {
  readonly what: string;
  readonly ms: number;
  readonly from: number;
  readonly to: number;
  readonly context: string;
}

/** What the slow units came to, once the collector's and the stopped windows are known. */
export interface SpeakerCpuResult {
  /** Units over the limit after what GC and a stopped process explain. */
  readonly hangs: number;
  /** Units over the limit as measured, explained or not. */
  readonly slow: number;
  readonly maxMs: number;
  readonly details: readonly string[];
}

const KEEP = 1000;

export class SpeakerCpu {
  private maxMs = 0;
  private slowCount = 0;
  private readonly slow: SlowUnit[] = [];
  private depth = 0;
  private readonly restore: (() => void)[] = [];
  private readonly limitMs: number;
  /** What was going on for a session (the lane's message in flight). */
  private readonly describe: (session: unknown) => string;
  /** Garbage collection pauses of 1 ms or more, absolute times. */
  private readonly pauses: Gap[] = [];
  private readonly gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.duration < 1 || this.pauses.length >= 100_000) continue;
      const from = performance.timeOrigin + e.startTime;
      this.pauses.push({ from, to: from + e.duration });
    }
  });

  constructor(limitMs: number, describe: (session: unknown) => string) {
    this.limitMs = limitMs;
    this.describe = describe;
  }

  /** Starts timing every session's guard() and dispatch(); `uninstall` puts them back. */
  install(): void {
    this.gc.observe({ entryTypes: ['gc'] });
    const proto = BgpSession.prototype as unknown as Record<string, Method>;
    for (const name of ['guard', 'dispatch']) {
      const original = proto[name];
      // A rename in the session must not leave the fuzzer timing nothing.
      if (typeof original !== 'function')
        throw new Error(`BgpSession.${name} is gone: update speaker-cpu.ts`);
      const timer = this;
      proto[name] = function (this: unknown, ...args: unknown[]) {
        if (timer.depth > 0) return original.apply(this, args);
        timer.depth++;
        const cpu0 = cpuNowMs();
        const from = absoluteNow();
        try {
          return original.apply(this, args);
        } finally {
          timer.depth--;
          timer.record(this, name, args[0], cpuNowMs() - cpu0, from);
        }
      };
      this.restore.push(() => {
        proto[name] = original;
      });
    }
  }

  /** Forgets what was timed so far (the warm-up: loading code, first connections). */
  reset(): void {
    this.maxMs = 0;
    this.slowCount = 0;
    this.slow.length = 0;
  }

  uninstall(): void {
    this.gc.disconnect();
    for (const r of this.restore.splice(0)) r();
  }

  /** The slow units judged, given the windows in which the whole process was stopped. */
  result(stopped: readonly Gap[]): SpeakerCpuResult {
    let hangs = this.slowCount - this.slow.length; // beyond KEEP: not judged, counted
    const details: string[] = [];
    for (const u of this.slow) {
      const gc = overlapMs(u.from, u.to, this.pauses);
      const away = overlapMs(u.from, u.to, stopped);
      const own = u.ms - gc - away;
      if (own > this.limitMs) hangs++;
      if (details.length < 20) {
        details.push(
          `the speaker's ${u.what} took ${u.ms.toFixed(1)} ms of CPU: ${gc.toFixed(1)} ms garbage collection, ${away.toFixed(1)} ms the process stopped (the canary saw it), ${Math.max(0, own).toFixed(1)} ms its own${own > this.limitMs ? ' (a hang)' : ''}; ${u.context}`,
        );
      }
    }
    return { hangs, slow: this.slowCount, maxMs: this.maxMs, details };
  }

  private record(session: unknown, name: string, first: unknown, ms: number, from: number): void {
    this.maxMs = Math.max(this.maxMs, ms);
    if (ms <= this.limitMs) return;
    this.slowCount++;
    if (this.slow.length >= KEEP) return;
    // guard(what, fn) says what it runs; dispatch(event) the FSM event.
    const what = `${name}(${name === 'guard' ? String(first) : (first as { type?: string }).type})`;
    this.slow.push({ what, ms, from, to: absoluteNow(), context: this.describe(session) });
  }
}
