/**
 * Times the speaker's own work, apart from the fuzzer's, the other lanes' and the runtime's:
 * every socket event of a BgpSession runs inside its guard() (which turns an exception into a
 * session reset) and every FSM event, timers included, through its dispatch(). Wrapping the
 * two on the prototype gives the CPU time of each unit of the speaker's work; nested calls are
 * timed once, by the outermost. What is measured this way does not grow with the number of
 * lanes side by side, as an answer's wait does.
 */
import { BgpSession } from '../../speaker/bgp/session.ts';
import { cpuNowMs } from './poller.ts';

type Method = (this: unknown, ...args: unknown[]) => unknown;

export class SpeakerCpu {
  /** Units of work over `limitMs`, and the longest. */
  over = 0;
  maxMs = 0;
  readonly slowest: string[] = [];
  private depth = 0;
  private readonly restore: (() => void)[] = [];
  private readonly limitMs: number;

  constructor(limitMs: number) {
    this.limitMs = limitMs;
  }

  /** Starts timing every session's guard() and dispatch(); `uninstall` puts them back. */
  install(): void {
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
        try {
          return original.apply(this, args);
        } finally {
          timer.depth--;
          timer.record(name, args[0], cpuNowMs() - cpu0);
        }
      };
      this.restore.push(() => {
        proto[name] = original;
      });
    }
  }

  /** Forgets what was timed so far (the warm-up: loading code, first connections). */
  reset(): void {
    this.over = 0;
    this.maxMs = 0;
    this.slowest.length = 0;
  }

  uninstall(): void {
    for (const r of this.restore.splice(0)) r();
  }

  private record(name: string, first: unknown, ms: number): void {
    this.maxMs = Math.max(this.maxMs, ms);
    if (ms <= this.limitMs) return;
    this.over++;
    if (this.slowest.length < 20) {
      // guard(what, fn) says what it runs; dispatch(event) the FSM event.
      const what = name === 'guard' ? String(first) : (first as { type?: string }).type;
      this.slowest.push(`the speaker's ${name}(${what}) took ${ms.toFixed(1)} ms of CPU`);
    }
  }
}
