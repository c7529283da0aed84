import type { IpFamily } from '../../shared/net/ip.ts';

/** What the session owes its peer, produced as UPDATEs once the output is idle. */
export interface OutputWork {
  /** Families to resend in full (ROUTE-REFRESH, RFC 2918 §4), in request order. */
  readonly refresh: readonly IpFamily[];
  /** The desired routes changed since the last UPDATEs were produced. */
  readonly routesChanged: boolean;
}

/**
 * Work the session owes the peer, kept as flags rather than bytes: UPDATEs are produced from it
 * only when the previous output has left (level-triggered), so a peer that asks for refreshes
 * faster than it reads gets one answer per family, and route changes while the peer is slow
 * coalesce into one difference. We offer unicast only (SAFI 1), so a family is one AFI/SAFI:
 * at most one refresh per AFI/SAFI is ever pending. Pure.
 */
export class PendingOutput {
  /** Families with a refresh pending, in request order. */
  private readonly refresh = new Set<IpFamily>();
  private routesChanged = false;

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

  get hasWork(): boolean {
    return this.routesChanged || this.refresh.size > 0;
  }

  /** Takes everything pending (and forgets it); undefined when nothing is. */
  take(): OutputWork | undefined {
    if (!this.hasWork) return undefined;
    const work = { refresh: [...this.refresh], routesChanged: this.routesChanged };
    this.refresh.clear();
    this.routesChanged = false;
    return work;
  }

  /** Forgets everything (the session went down: a new one starts from a full table). */
  clear(): void {
    this.refresh.clear();
    this.routesChanged = false;
  }
}
