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
