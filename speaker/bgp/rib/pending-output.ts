import type { IpFamily } from '../../../shared/net/ip.ts';

/** What the session owes its peer, produced as UPDATEs once the output is idle. */
export interface OutputWork {
  /** Families to resend in full (ROUTE-REFRESH, RFC 2918 §4), in request order. */
  readonly refresh: readonly IpFamily[];
  /** The desired routes changed since the last UPDATEs were produced. */
  readonly routesChanged: boolean;
}

/**
 * A family's table is resent at most this often. An honest peer asks after a policy change, a
 * few times a day; a peer asking faster gets one answer a second per family, so what it can make
 * us spend (CPU and garbage: a full table per answer) is bounded whatever its request rate.
 */
export const REFRESH_MIN_INTERVAL_MS = 1000;

/**
 * Work the session owes the peer, kept as flags rather than bytes: UPDATEs are produced from it
 * only when the previous output has left (level-triggered), so a peer that asks for refreshes
 * faster than it reads gets one answer per family, and route changes while the peer is slow
 * coalesce into one difference. We offer unicast only (SAFI 1), so a family is one AFI/SAFI:
 * at most one refresh per AFI/SAFI is ever pending, and it is answered no sooner than
 * `minRefreshIntervalMs` after the family's previous answer. Pure: the caller passes the time.
 */
export class PendingOutput {
  private readonly minRefreshIntervalMs: number;
  /** Families with a refresh pending, in request order. */
  private readonly refresh = new Set<IpFamily>();
  /** family → when its table was last resent. */
  private readonly answeredAtMs = new Map<IpFamily, number>();
  private routesChanged = false;

  constructor(minRefreshIntervalMs: number = REFRESH_MIN_INTERVAL_MS) {
    this.minRefreshIntervalMs = minRefreshIntervalMs;
  }

  /** Records a ROUTE-REFRESH; false when one for the family was already pending (coalesced). */
  requestRefresh(family: IpFamily): boolean {
    if (this.refresh.has(family)) return false;
    this.refresh.add(family);
    return true;
  }

  /** Records that the desired routes changed. */
  markRoutesChanged(): void {
    this.routesChanged = true;
  }

  /**
   * Takes what is due at `nowMs` (and forgets it): the route changes, and the refreshes whose
   * family was not resent within the interval. Undefined when nothing is due.
   */
  take(nowMs: number): OutputWork | undefined {
    const refresh = [...this.refresh].filter((f) => this.dueAtMs(f) <= nowMs);
    if (refresh.length === 0 && !this.routesChanged) return undefined;
    for (const f of refresh) {
      this.refresh.delete(f);
      this.answeredAtMs.set(f, nowMs);
    }
    const work = { refresh, routesChanged: this.routesChanged };
    this.routesChanged = false;
    return work;
  }

  /** When the earliest pending refresh not yet due becomes due; undefined when none waits. */
  nextDueMs(): number | undefined {
    let next: number | undefined;
    for (const f of this.refresh) {
      const due = this.dueAtMs(f);
      if (next === undefined || due < next) next = due;
    }
    return next;
  }

  /** Forgets everything (the session went down: a new one starts from a full table). */
  clear(): void {
    this.refresh.clear();
    this.answeredAtMs.clear();
    this.routesChanged = false;
  }

  private dueAtMs(family: IpFamily): number {
    const last = this.answeredAtMs.get(family);
    return last === undefined ? Number.NEGATIVE_INFINITY : last + this.minRefreshIntervalMs;
  }
}
