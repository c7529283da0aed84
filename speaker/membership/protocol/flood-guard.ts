/**
 * Decides which sources the kernel filter samples (./socket-filter.ts): a source that sent
 * us more than `thresholdPerSecond` datagrams the screen dropped, in the last second, is
 * flooding, and stays sampled for `holdMs` after its last such second. Normally nothing is
 * sampled, so a restarting peer's first heartbeats are heard at once and every drop is
 * counted by reason; under a flood the kernel drops most of it before the thread reads it.
 * Pure: time is a parameter. Keys are what the shell passes: a listed source's address, or
 * {@link OTHER_SOURCES} for every unlisted one, so the table is bounded by the peer list.
 *
 * A sampled source's drops are what the kernel let through, one in that source's `oneIn`:
 * they are scaled back to the source's rate, or a flood below `thresholdPerSecond × oneIn`
 * would look over once sampled, be released after the hold time, and get a full second in
 * again every hold time.
 *
 * The share the kernel passes follows the flood's rate ({@link sampleOneIn}): enough of it
 * reaches the thread to keep the screen's budgeted lane full (a restarted peer's first
 * heartbeat competes with the junk for the same tokens, so that is what bounds how soon it is
 * heard, not the share), and no more: every datagram the thread reads costs it tens of
 * microseconds in which an ARP request waits.
 */
export const OTHER_SOURCES = '*';

/** How much of a flood the kernel lets through to the thread (one in `oneIn`). */
export interface Sampling {
  /** The share when the flood is small; 1 means no kernel filter (nothing is sampled on the wire). */
  readonly minOneIn: number;
  /** The smallest share, for the largest floods. */
  readonly maxOneIn: number;
  /** Datagrams a second of one flooding source the thread should still see (at least this many, under twice as many). */
  readonly targetPerSecond: number;
}

/** No kernel filter: drops are what arrived. */
export const NO_SAMPLING: Sampling = { minOneIn: 1, maxOneIn: 1, targetPerSecond: 1 };

/**
 * The share for a source flooding at `perSecond`: the largest power of two that still leaves
 * `targetPerSecond` of it to the thread, within the bounds. `current`, the source's share
 * now, is kept while the ideal one is within a factor of two of it, so a flood whose rate
 * wobbles around a boundary does not make the filter change every second.
 */
export function sampleOneIn(perSecond: number, sampling: Sampling, current?: number): number {
  const ideal = Math.min(
    sampling.maxOneIn,
    Math.max(sampling.minOneIn, perSecond / sampling.targetPerSecond),
  );
  if (current !== undefined && ideal < current * 2 && ideal > current / 2) return current;
  let oneIn = 1;
  while (oneIn * 2 <= ideal) oneIn *= 2;
  return Math.max(sampling.minOneIn, oneIn);
}

export class FloodGuard {
  readonly #thresholdPerSecond: number;
  readonly #holdMs: number;
  readonly #sampling: Sampling;
  /** source → datagrams dropped since the last flush. */
  #dropped = new Map<string, number>();
  /** source → sampled until (monotonic ms). */
  readonly #sampledUntil = new Map<string, number>();
  /** sampled source → the share the kernel passes of it. */
  readonly #oneIn = new Map<string, number>();
  #lastFlushMs: number | undefined;
  #lastSampled = '';

  /** `sampling`: the share the kernel passes from a sampled source (default: no kernel filter). */
  constructor(thresholdPerSecond: number, holdMs: number, sampling: Sampling = NO_SAMPLING) {
    this.#thresholdPerSecond = thresholdPerSecond;
    this.#holdMs = holdMs;
    this.#sampling = sampling;
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
   * there (of a sampled source, as many as the kernel's sample stands for); `oneIn` the share
   * the kernel is to pass of each sampled source ({@link sampleOneIn}), which `changed` covers too.
   */
  flush(nowMs: number): {
    sampled: readonly string[];
    changed: boolean;
    rates: ReadonlyMap<string, number>;
    oneIn: ReadonlyMap<string, number>;
  } {
    const elapsedMs = Math.max(1, nowMs - (this.#lastFlushMs ?? nowMs - 1000));
    this.#lastFlushMs = nowMs;
    const rates = new Map<string, number>(); // source -> drops per second, the flooding ones
    for (const [source, count] of this.#dropped) {
      const current = this.#oneIn.get(source);
      const scale = current ?? 1;
      const perSecond = (count * scale * 1000) / elapsedMs;
      if (perSecond <= this.#thresholdPerSecond || count * scale <= this.#thresholdPerSecond) continue;
      rates.set(source, Math.round(perSecond));
      this.#sampledUntil.set(source, nowMs + this.#holdMs);
      this.#oneIn.set(source, sampleOneIn(perSecond, this.#sampling, current));
    }
    this.#dropped = new Map();
    for (const [source, until] of this.#sampledUntil) {
      if (until > nowMs) continue;
      this.#sampledUntil.delete(source);
      this.#oneIn.delete(source);
    }
    const sampled = [...this.#sampledUntil.keys()].sort();
    const oneIn = new Map(sampled.map((source) => [source, this.#oneIn.get(source) ?? 1]));
    const signature = [...oneIn].map(([source, n]) => `${source} ${n}`).join('\n');
    const changed = signature !== this.#lastSampled;
    this.#lastSampled = signature;
    return { sampled, changed, rates, oneIn };
  }
}
