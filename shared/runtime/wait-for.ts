/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** Give up after this long (default 15 s). */
  timeoutMs?: number;
  /** Pause between two checks (default 50 ms). */
  intervalMs?: number;
  /**
   * Stop waiting when this aborts (a process the wait depends on has exited, Ctrl-C), after
   * one last check, with the signal's reason.
   */
  signal?: AbortSignal;
}

/**
 * Polls `check` until it returns a value other than undefined or false, and resolves with
 * it. A check that throws is tried again (what it waits for may not exist yet); the last
 * error is named when the time is up. The one polling helper of the lab, the tests and the
 * benchmarks, which wait for processes and objects they started; the daemons never poll.
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  options: WaitForOptions = {},
): Promise<T> {
  const { timeoutMs = 15_000, intervalMs = 50, signal } = options;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (signal?.aborted) throw signal.reason;
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${last === undefined ? '' : `: ${String(last)}`}`);
    }
    await pause(intervalMs, signal);
  }
}

/** Resolves after `ms`, or as soon as `signal` aborts. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
