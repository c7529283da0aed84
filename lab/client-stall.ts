/**
 * How long a client process itself stood still: not scheduled on a loaded machine, in a long
 * garbage collection, stopped. Told by the beats of a periodic timer: a beat that comes more
 * than two periods after the one before means the process did not run meanwhile, and the gap
 * but one period counts as a stall (membership's rule for its own stalls,
 * speaker/membership/protocol/liveness.ts). Any callback may beat too (the probe's deadline
 * does, so that a stall is counted before it judges a request); each gap is counted once.
 * Pure: time is a parameter.
 */
export class StallMeter {
  readonly #periodMs: number;
  #lastBeatMs: number;
  #stalledMs = 0;

  constructor(periodMs: number, nowMs: number) {
    if (!(periodMs > 0)) throw new RangeError(`StallMeter: period must be > 0, got ${periodMs}`);
    this.#periodMs = periodMs;
    this.#lastBeatMs = nowMs;
  }

  /** A beat at `nowMs`; returns the total stall so far (ms). */
  beat(nowMs: number): number {
    const gapMs = nowMs - this.#lastBeatMs;
    if (gapMs > 2 * this.#periodMs) this.#stalledMs += gapMs - this.#periodMs;
    this.#lastBeatMs = Math.max(this.#lastBeatMs, nowMs);
    return this.#stalledMs;
  }
}

/**
 * What a request's deadline does when it fires at `nowMs`: the request may use `timeoutMs` of
 * the time its client ran, so the stall since it started (`stalledMs`: the meter's total now
 * minus its total at the start) moves the deadline later by as much. `extendedMs`: how much it
 * was moved already. `extend` gives how much more to wait; `timeout`, it is lost.
 */
export function deadlineVerdict(
  stalledMs: number,
  extendedMs: number,
): { kind: 'timeout' } | { kind: 'extend'; byMs: number } {
  const byMs = stalledMs - extendedMs;
  return byMs > 0 ? { kind: 'extend', byMs } : { kind: 'timeout' };
}

/**
 * The slot for the request after one sent at `nowMs`, on a schedule of one request every
 * `intervalMs` from `t0Ms`: the next slot after now. Slots missed while the client stood still
 * are skipped, not sent in a burst (a burst of fresh connections is load the client made, not
 * the path it measures).
 */
export function nextSlotMs(t0Ms: number, intervalMs: number, nowMs: number): number {
  return t0Ms + (Math.floor((nowMs - t0Ms) / intervalMs) + 1) * intervalMs;
}
