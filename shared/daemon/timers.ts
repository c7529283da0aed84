/**
 * The clock and timers the daemon glue runs on, passed in so that tests step time by hand
 * (manual-timers.ts) instead of waiting for it.
 */
export interface Timers {
  /** Monotonic milliseconds (not wall-clock time: a clock step must not fire or stall a timer). */
  now(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** What setTimeout returned, handed back to clearTimeout. */
export type TimerHandle = { readonly timer: unknown };

/**
 * The process's own timers. They keep the process alive (a program waiting to retry its first
 * LIST has nothing else that does), so their owners clear them when stopping.
 */
export const systemTimers: Timers = {
  now: () => performance.now(),
  setTimeout: (callback, ms) => ({ timer: setTimeout(callback, ms) }),
  clearTimeout: (handle) => clearTimeout(handle.timer as NodeJS.Timeout),
};

/**
 * Calls `callback` every `ms` until the returned function is called, as a chain of timeouts on
 * `timers` (so manual timers drive it in tests). The next call is armed before `callback` runs,
 * so a callback that stops the repetition stops it for good.
 */
export function every(timers: Timers, ms: number, callback: () => void): () => void {
  let handle: TimerHandle | undefined;
  let stopped = false;
  const arm = (): void => {
    handle = timers.setTimeout(() => {
      if (stopped) return;
      arm();
      callback();
    }, ms);
  };
  arm();
  return () => {
    stopped = true;
    if (handle !== undefined) timers.clearTimeout(handle);
  };
}
