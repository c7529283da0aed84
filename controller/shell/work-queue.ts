/**
 * A work queue by key, in the manner of client-go's: a key queued several times before it is
 * processed is processed once; a key is never processed by two workers at once (a key added
 * while it is being processed runs again afterwards); failures are retried with a backoff.
 */
export interface WorkQueueOptions {
  /** Keys processed in parallel. */
  readonly concurrency: number;
  /** The work for one key; a thrown error means "retry later". */
  readonly process: (key: string) => Promise<void>;
  /** Called with a key's error before its retry is scheduled. */
  readonly onError?: (key: string, error: unknown, attempt: number) => void;
  /** Backoff for the nth retry (ms); default 50 ms doubling up to 10 s. */
  readonly backoffMs?: (attempt: number) => number;
  /** Timer, injectable for tests. */
  readonly schedule?: (fn: () => void, ms: number) => { cancel(): void };
}

export class WorkQueue {
  readonly #options: WorkQueueOptions;
  /** Keys waiting, in order (a Set keeps insertion order and dedupes). */
  readonly #pending = new Set<string>();
  readonly #active = new Set<string>();
  /** Keys added again while active: re-queued when their run ends. */
  readonly #dirty = new Set<string>();
  /** key -> failed attempts so far */
  readonly #attempts = new Map<string, number>();
  readonly #timers = new Set<{ cancel(): void }>();
  #paused = true;
  #stopped = false;
  #idleWaiters: (() => void)[] = [];

  constructor(options: WorkQueueOptions) {
    this.#options = options;
  }

  /** Queues a key (no-op when already queued). */
  add(key: string): void {
    if (this.#stopped) return;
    if (this.#active.has(key)) this.#dirty.add(key);
    else this.#pending.add(key);
    this.#pump();
  }

  /** Starts handing out keys. */
  resume(): void {
    this.#paused = false;
    this.#pump();
  }

  /** Stops handing out new keys (running ones finish). */
  pause(): void {
    this.#paused = true;
  }

  /** Drops every queued key and pending retry. */
  clear(): void {
    this.#pending.clear();
    this.#dirty.clear();
    this.#attempts.clear();
    for (const timer of this.#timers) timer.cancel();
    this.#timers.clear();
    this.#checkIdle();
  }

  stop(): void {
    this.#stopped = true;
    this.clear();
  }

  /** Queued + running keys. */
  get depth(): number {
    return this.#pending.size + this.#active.size;
  }

  /** Resolves when nothing is queued or running (retries waiting on a timer do not count). */
  idle(): Promise<void> {
    if (this.depth === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #pump(): void {
    while (!this.#paused && !this.#stopped && this.#active.size < this.#options.concurrency) {
      const next = this.#pending.values().next();
      if (next.done) break;
      const key = next.value;
      this.#pending.delete(key);
      this.#active.add(key);
      void this.#run(key);
    }
    this.#checkIdle();
  }

  async #run(key: string): Promise<void> {
    try {
      await this.#options.process(key);
      this.#attempts.delete(key);
    } catch (error) {
      const attempt = (this.#attempts.get(key) ?? 0) + 1;
      this.#attempts.set(key, attempt);
      this.#options.onError?.(key, error, attempt);
      const delay = (this.#options.backoffMs ?? defaultBackoff)(attempt);
      const schedule = this.#options.schedule ?? defaultSchedule;
      const timer = schedule(() => {
        this.#timers.delete(timer);
        this.add(key);
      }, delay);
      this.#timers.add(timer);
    } finally {
      this.#active.delete(key);
      if (this.#dirty.delete(key)) this.#pending.add(key);
      this.#pump();
    }
  }

  #checkIdle(): void {
    if (this.depth > 0 || this.#idleWaiters.length === 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

function defaultBackoff(attempt: number): number {
  return Math.min(50 * 2 ** (attempt - 1), 10_000);
}

function defaultSchedule(fn: () => void, ms: number): { cancel(): void } {
  const handle = setTimeout(fn, ms);
  handle.unref?.();
  return { cancel: () => clearTimeout(handle) };
}
