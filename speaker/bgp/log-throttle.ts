/**
 * At most one log line per interval for a recurring event (a peer that keeps sending a bad
 * attribute must not flood the log); the occurrences held back are reported with the next line.
 * Pure: the caller passes the time.
 */
export class LogThrottle {
  private readonly intervalMs: number;
  private nextLineAtMs = Number.NEGATIVE_INFINITY;
  private held = 0;

  constructor(intervalMs: number) {
    this.intervalMs = intervalMs;
  }

  /**
   * Records one occurrence at `nowMs`. Returns undefined when it is to be held back, else how
   * many occurrences were held back since the last line.
   */
  take(nowMs: number): { readonly suppressed: number } | undefined {
    if (nowMs < this.nextLineAtMs) {
      this.held++;
      return undefined;
    }
    const suppressed = this.held;
    this.held = 0;
    this.nextLineAtMs = nowMs + this.intervalMs;
    return { suppressed };
  }
}
