/**
 * Decides which sources the kernel filter samples (./socket-filter.ts): a source that sent
 * us more than `thresholdPerSecond` datagrams the screen dropped, in the last second, is
 * flooding, and stays sampled for `holdMs` after its last such second. Normally nothing is
 * sampled, so a restarting peer's first heartbeats are heard at once and every drop is
 * counted by reason; under a flood the kernel drops most of it before the thread reads it.
 * Pure: time is a parameter. Keys are what the shell passes: a listed source's address, or
 * {@link OTHER_SOURCES} for every unlisted one, so the table is bounded by the peer list.
 *
 * A sampled source's drops are what the kernel let through, one in `sampleOneIn`: they are
 * scaled back to the source's rate, or a flood below `thresholdPerSecond × sampleOneIn` would
 * look over once sampled, be released after the hold time, and get a full second in again
 * every hold time.
 */
export const OTHER_SOURCES = '*';

export class FloodGuard {
  readonly #thresholdPerSecond: number;
  readonly #holdMs: number;
  readonly #sampleOneIn: number;
  /** source → datagrams dropped since the last flush. */
  #dropped = new Map<string, number>();
  /** source → sampled until (monotonic ms). */
  readonly #sampledUntil = new Map<string, number>();
  #lastFlushMs: number | undefined;
  #lastSampled = '';

  /** `sampleOneIn`: the share the kernel passes from a sampled source (1: no kernel filter). */
  constructor(thresholdPerSecond: number, holdMs: number, sampleOneIn = 1) {
    this.#thresholdPerSecond = thresholdPerSecond;
    this.#holdMs = holdMs;
    this.#sampleOneIn = sampleOneIn;
  }

  /**
   * The screen dropped a datagram from `source`. True when a source not sampled yet has just
   * passed the threshold since the last flush: flush now, not at the end of the second, and a
   * flood gets a few hundred datagrams to the thread before the kernel samples it instead of
   * up to a second's worth (which fill the socket buffer, heartbeats included).
   */
  dropped(source: string): boolean {
    const count = (this.#dropped.get(source) ?? 0) + 1;
    this.#dropped.set(source, count);
    return count === this.#thresholdPerSecond + 1 && !this.#sampledUntil.has(source);
  }

  /**
   * Called about once a second, and when {@link dropped} says: the sources to sample from now
   * on (sorted), and whether that changed since the last call. A source floods when it was
   * dropped more than the threshold both per second and in all since the last flush (an early
   * flush's short interval makes no rate of a few drops). `rates` are the drops per second that put or kept a source
   * there (of a sampled source, as many as the kernel's sample stands for).
   */
  flush(nowMs: number): { sampled: readonly string[]; changed: boolean; rates: ReadonlyMap<string, number> } {
    const elapsedMs = Math.max(1, nowMs - (this.#lastFlushMs ?? nowMs - 1000));
    this.#lastFlushMs = nowMs;
    const rates = new Map<string, number>(); // source -> drops per second, the flooding ones
    for (const [source, count] of this.#dropped) {
      const scale = this.#sampledUntil.has(source) ? this.#sampleOneIn : 1;
      const perSecond = (count * scale * 1000) / elapsedMs;
      if (perSecond <= this.#thresholdPerSecond || count * scale <= this.#thresholdPerSecond) continue;
      rates.set(source, Math.round(perSecond));
      this.#sampledUntil.set(source, nowMs + this.#holdMs);
    }
    this.#dropped = new Map();
    for (const [source, until] of this.#sampledUntil) if (until <= nowMs) this.#sampledUntil.delete(source);
    const sampled = [...this.#sampledUntil.keys()].sort();
    const signature = sampled.join('\n');
    const changed = signature !== this.#lastSampled;
    this.#lastSampled = signature;
    return { sampled, changed, rates };
  }
}
