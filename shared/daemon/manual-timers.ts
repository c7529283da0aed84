import type { TimerHandle, Timers } from './timers.ts';

/**
 * Timers that move only when a test says so (shared by the shared/daemon tests). `advance(ms)`
 * fires what falls due in time order, letting promise callbacks run between timers, so that
 * async work started by one timer has happened before the next one fires.
 */
export class ManualTimers implements Timers {
  #nowMs = 0;
  #sequence = 0;
  /** Pending timers, by sequence number (insertion order breaks ties between equal due times). */
  readonly #pending = new Map<number, { dueMs: number; callback: () => void }>();

  now(): number {
    return this.#nowMs;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const id = this.#sequence++;
    this.#pending.set(id, { dueMs: this.#nowMs + Math.max(0, ms), callback });
    return { timer: id };
  }

  clearTimeout(handle: TimerHandle): void {
    this.#pending.delete(handle.timer as number);
  }

  /** Timers not yet fired. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Moves the clock `ms` forward, firing every timer due by then. */
  async advance(ms: number): Promise<void> {
    const end = this.#nowMs + ms;
    await settle();
    for (;;) {
      let next: [number, { dueMs: number; callback: () => void }] | undefined;
      for (const entry of this.#pending) if (!next || entry[1].dueMs < next[1].dueMs) next = entry;
      if (!next || next[1].dueMs > end) break;
      this.#pending.delete(next[0]);
      this.#nowMs = next[1].dueMs;
      next[1].callback();
      await settle();
    }
    this.#nowMs = end;
  }
}

/** Lets every queued promise callback run (a few macrotask turns, for chains of awaits). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
