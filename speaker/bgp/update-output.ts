import { networkInterfaces } from 'node:os';
import type { Logger } from '../../shared/log/logger.ts';
import { CeaseSubcode } from './codec/index.ts';
import { type Connections, cease, plainAddress } from './connections.ts';
import { type ConnectionId, type Negotiated, sendHoldMs } from './fsm/index.ts';
import type { BgpMetrics, SessionResetCause } from './metrics.ts';
import type { PeerConfig } from './peer-config.ts';
import {
  localLink,
  PendingOutput,
  RibOut,
  type RouteAttributes,
  refreshFamily,
  ribSessionFor,
} from './rib/index.ts';

/** What the UPDATE output needs from its session. */
export interface UpdateOutputHooks {
  /** The routes the peer should hold now. */
  readonly desired: () => ReadonlyMap<string, RouteAttributes>;
  readonly reset: (cause: SessionResetCause, notification: ReturnType<typeof cease>, details: object) => void;
  readonly guard: (what: string, fn: () => void) => void;
}

/**
 * The UPDATE side of an Established session (shell over the pure RIB-out and pending output):
 * route changes and ROUTE-REFRESH requests wait as pending work, and are turned into UPDATEs only
 * when the connection's output is idle, so at most one generation of UPDATEs (bounded by our
 * table, not by what the peer asked) waits for the peer at a time.
 */
export class UpdateOutput {
  private readonly config: PeerConfig;
  private readonly metrics: BgpMetrics | undefined;
  private readonly log: Logger;
  private readonly connections: Connections;
  private readonly hooks: UpdateOutputHooks;
  private rib: RibOut | undefined;
  private established: { conn: ConnectionId; negotiated: Negotiated } | undefined;
  /** Refreshes and route changes not yet turned into UPDATEs (they wait for idle output). */
  private readonly pending = new PendingOutput();
  /** Wakes the output when a paced refresh becomes due. */
  private refreshWake: NodeJS.Timeout | undefined;

  constructor(
    config: PeerConfig,
    metrics: BgpMetrics | undefined,
    log: Logger,
    connections: Connections,
    hooks: UpdateOutputHooks,
  ) {
    this.config = config;
    this.metrics = metrics;
    this.log = log;
    this.connections = connections;
    this.hooks = hooks;
  }

  /** Number of prefixes the peer holds from us. */
  get announcedCount(): number {
    return this.rib?.announcedCount ?? 0;
  }

  /** The Established connection, if any. */
  get conn(): ConnectionId | undefined {
    return this.established?.conn;
  }

  /** The session became Established on `conn`: the whole table goes out once the output is idle. */
  start(conn: ConnectionId, negotiated: Negotiated): void {
    const c = this.connections.get(conn);
    if (!c) return;
    const local = plainAddress(c.socket.localAddress);
    const { session, withoutNextHop } = ribSessionFor({
      localAs: this.config.localAs,
      peerAs: this.config.peerAs,
      context: negotiated.context,
      negotiated: negotiated.families,
      localAddress: local,
      link: localLink(Object.values(networkInterfaces()), local, this.config.peerAddress),
      ...(this.config.nextHopIpv4 !== undefined ? { nextHopIpv4: this.config.nextHopIpv4 } : {}),
      ...(this.config.nextHopIpv6 !== undefined ? { nextHopIpv6: this.config.nextHopIpv6 } : {}),
    });
    for (const family of withoutNextHop) {
      this.log.warn({ family }, 'no next hop of this family on the session; not announcing it');
    }
    this.rib = new RibOut(session);
    this.established = { conn, negotiated };
    this.log.info(
      {
        holdTimeSec: negotiated.holdTimeSec,
        families: session.families,
        peerRouterId: negotiated.peerOpen.bgpId,
        prefixes: this.hooks.desired().size,
      },
      'BGP session established',
    );
    this.connections.applyLiveness(c.socket, negotiated.holdTimeSec);
    c.writer.setSendHold(sendHoldMs(negotiated.holdTimeSec), this.connections.kernelQueueReader(c.socket));
    this.pending.markRoutesChanged();
    c.writer.kick();
  }

  /** The session left Established (or was reset): nothing more goes out. */
  stop(): void {
    this.rib = undefined;
    this.established = undefined;
    this.pending.clear();
    this.cancelWake();
  }

  /** Stops waking the output for a paced refresh. */
  cancelWake(): void {
    clearTimeout(this.refreshWake);
    this.refreshWake = undefined;
  }

  /** The desired routes changed: the difference goes out as soon as the output is idle. */
  routesChanged(): void {
    if (!this.established) return;
    this.pending.markRoutesChanged();
    this.connections.get(this.established.conn)?.writer.kick();
  }

  /**
   * ROUTE-REFRESH (RFC 2918 §4): the requested family is resent once the output is idle and at
   * most once a second; meanwhile further requests for it coalesce into the pending one. A
   * family the session did not negotiate is ignored.
   */
  routeRefresh(request: { afi: number; safi: number; subtype: number }): void {
    if (!this.established) return;
    const family = refreshFamily(request, this.established.negotiated.families);
    let outcome: 'queued' | 'coalesced' | 'ignored' = 'ignored';
    if (family === undefined) {
      this.log.debug(request, 'ROUTE-REFRESH for a family not negotiated, or of another subtype: ignored');
    } else {
      outcome = this.pending.requestRefresh(family) ? 'queued' : 'coalesced';
    }
    this.metrics?.routeRefreshes.inc({ peer: this.config.peerAddress, outcome });
    if (outcome === 'queued') this.connections.get(this.established.conn)?.writer.kick();
  }

  /** Turns pending work into UPDATEs: called by the writer of `conn` when its output is idle. */
  produce(conn: ConnectionId): void {
    if (!this.rib || this.established?.conn !== conn) return;
    const nowMs = Date.now();
    const work = this.pending.take(nowMs);
    this.wakeForRefresh(conn, nowMs);
    if (!work) return;
    const desired = this.hooks.desired();
    let messages: Uint8Array[] = [];
    for (const family of work.refresh) messages = messages.concat(this.rib.refresh(desired, family));
    if (work.routesChanged) messages = messages.concat(this.rib.update(desired));
    if (messages.length === 0) return;
    const c = this.connections.get(conn);
    if (!c) return;
    const bytes = messages.reduce((n, m) => n + m.length, 0);
    if (!c.writer.enqueue(messages)) {
      this.hooks.reset('output-budget', cease(CeaseSubcode.OutOfResources), {
        outputBytes: bytes + c.writer.outstandingBytes,
        budgetBytes: this.connections.budgetBytes,
      });
      return;
    }
    const peer = this.config.peerAddress;
    this.metrics?.messagesSent.inc({ peer, type: 'update' }, messages.length);
    this.metrics?.updatesSent.inc({ peer }, messages.length);
  }

  /** A refresh waiting for its turn (pacing) is produced when due, once the output is idle. */
  private wakeForRefresh(conn: ConnectionId, nowMs: number): void {
    const due = this.pending.nextDueMs();
    if (due === undefined || this.refreshWake !== undefined) return;
    this.refreshWake = setTimeout(
      () =>
        this.hooks.guard('paced refresh', () => {
          this.refreshWake = undefined;
          this.connections.get(conn)?.writer.kick();
        }),
      Math.max(0, due - nowMs),
    );
  }
}
