import { systemTimers, type TimerHandle, type Timers } from './timers.ts';

export interface CoalescingTaskOptions {
  /** The work. It reads the current state itself: runs carry no arguments, so triggers merge. */
  readonly run: () => Promise<void>;
  /** Quiet time between a trigger and the run, when `schedule()` names none. */
  readonly delayMs: number;
  /** A run that throws is reported to `onError` and tried again after this long. */
  readonly retryMs: number;
  readonly onError: (error: unknown) => void;
  readonly timers?: Timers;
}

/**
 * Level-triggered work that many events ask for, done once for all of them: `schedule()` asks
 * for a run after a quiet time (the earliest time asked for wins, so a trigger that is urgent is
 * not held back by a slower one); at most one run at a time; a run that falls due while another
 * is running follows right after it, once (every trigger meanwhile is folded into it); a run that
 * fails is retried. After `stop()` nothing runs again.
 */
export class CoalescingTask {
  readonly #options: CoalescingTaskOptions;
  readonly #timers: Timers;
  #timer: TimerHandle | undefined;
  #dueMs = Number.POSITIVE_INFINITY;
  #running: Promise<void> | undefined;
  /** A run fell due while one was running. */
  #again = false;
  #stopped = false;

  constructor(options: CoalescingTaskOptions) {
    this.#options = options;
    this.#timers = options.timers ?? systemTimers;
  }

  /** Asks for a run in `delayMs` (default: the task's quiet time) unless one is due sooner. */
  schedule(delayMs = this.#options.delayMs): void {
    if (this.#stopped) return;
    const dueMs = this.#timers.now() + delayMs;
    if (this.#timer !== undefined) {
      if (dueMs >= this.#dueMs) return;
      this.#timers.clearTimeout(this.#timer);
    }
    this.#dueMs = dueMs;
    this.#timer = this.#timers.setTimeout(() => {
      this.#timer = undefined;
      this.#dueMs = Number.POSITIVE_INFINITY;
      this.#fire();
    }, delayMs);
  }

  /** A run is due or running. */
  get busy(): boolean {
    return this.#timer !== undefined || this.#running !== undefined;
  }

  /** The run in progress, if any. */
  get running(): Promise<void> | undefined {
    return this.#running;
  }

  /** Cancels what is due and waits for the run in progress; nothing runs afterwards. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  #fire(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#runOnce();
  }

  async #runOnce(): Promise<void> {
    try {
      await this.#options.run();
    } catch (error) {
      this.#options.onError(error);
      this.schedule(this.#options.retryMs);
    }
    this.#running = undefined;
    if (this.#again) {
      this.#again = false;
      this.schedule(0);
    }
  }
}
