import { type Counter, Gauge, type Registry } from '../../shared/metrics/metrics.ts';
import type { FsmStateName } from './fsm/index.ts';

/** Numeric session state for the gauge (RFC 4271 order; BGP4-MIB bgpPeerState uses 1..6). */
export const STATE_VALUE: Record<FsmStateName, number> = {
  Idle: 1,
  Connect: 2,
  Active: 3,
  OpenSent: 4,
  OpenConfirm: 5,
  Established: 6,
};

/** Live numbers a session exposes at scrape time. */
export interface SessionGauges {
  readonly state: FsmStateName;
  readonly uptimeSec: number;
  readonly prefixesAnnounced: number;
  readonly prefixesPending: number;
  /** Octets of output waiting for the peer (queued plus in the socket). */
  readonly outputQueuedBytes: number;
}

/**
 * Why a session was reset by our side, not by a NOTIFICATION or the hold timer: a malformed
 * message (its NOTIFICATION was sent), the output budget exceeded (Cease / Out of Resources), a
 * peer acknowledging nothing for the send hold time (RFC 9687), the kernel giving up on an
 * unacknowledged connection (TCP_USER_TIMEOUT or keepalive), the BFD session protecting the peer
 * going Down (Cease / BFD Down, RFC 9384), or an unexpected exception (closed without NOTIFICATION).
 */
export type SessionResetCause =
  | 'bfd-down'
  | 'malformed-message'
  | 'output-budget'
  | 'send-hold-timer'
  | 'tcp-timeout'
  | 'internal-error';

/**
 * Per-peer BGP metrics (`metalbeacon_bgp_*`, label `peer`), registered once in a registry given
 * by the caller; sessions report through it.
 */
export class BgpMetrics {
  readonly messagesSent: Counter<'peer' | 'type'>;
  readonly messagesReceived: Counter<'peer' | 'type'>;
  readonly updatesSent: Counter<'peer'>;
  readonly notificationsSent: Counter<'peer' | 'code' | 'subcode'>;
  readonly notificationsReceived: Counter<'peer' | 'code' | 'subcode'>;
  readonly holdTimerExpiries: Counter<'peer'>;
  readonly connectionAttempts: Counter<'peer'>;
  /** Errors in received UPDATEs that RFC 7606 handles without a session reset. */
  readonly updateErrors: Counter<'peer' | 'action' | 'attribute'>;
  /** Sessions the shell reset itself, by {@link SessionResetCause}. */
  readonly sessionResets: Counter<'peer' | 'cause'>;
  /** ROUTE-REFRESH requests: queued (answered once output is idle), coalesced, or ignored. */
  readonly routeRefreshes: Counter<'peer' | 'outcome'>;
  /** peer → reader of its live gauges. */
  private readonly sessions = new Map<string, () => SessionGauges>();

  constructor(registry: Registry) {
    const registers = [registry];
    this.messagesSent = registry.counter(
      'metalbeacon_bgp_messages_sent_total',
      'BGP messages sent, by type',
      ['peer', 'type'],
    );
    this.messagesReceived = registry.counter(
      'metalbeacon_bgp_messages_received_total',
      'BGP messages received, by type',
      ['peer', 'type'],
    );
    this.updatesSent = registry.counter(
      'metalbeacon_bgp_updates_sent_total',
      'UPDATE messages sent (announcements, withdrawals, End-of-RIB)',
      ['peer'],
    );
    this.notificationsSent = registry.counter(
      'metalbeacon_bgp_notifications_sent_total',
      'NOTIFICATION messages sent, by error code and subcode',
      ['peer', 'code', 'subcode'],
    );
    this.notificationsReceived = registry.counter(
      'metalbeacon_bgp_notifications_received_total',
      'NOTIFICATION messages received, by error code and subcode',
      ['peer', 'code', 'subcode'],
    );
    this.holdTimerExpiries = registry.counter(
      'metalbeacon_bgp_hold_timer_expiries_total',
      'sessions closed because the peer stayed silent for the hold time',
      ['peer'],
    );
    this.connectionAttempts = registry.counter(
      'metalbeacon_bgp_connection_attempts_total',
      'outgoing TCP connection attempts',
      ['peer'],
    );
    this.updateErrors = registry.counter(
      'metalbeacon_bgp_update_errors_total',
      'errors in received UPDATEs handled without a session reset (RFC 7606): action treat-as-withdraw, attribute-discard or value-discard (part of a value dropped: confederation segments in AS4_PATH, a second IPv6 next hop that is not link-local), one per discarded occurrence of a repeated attribute; attribute the path attribute in error ("none" when no single one is)',
      ['peer', 'action', 'attribute'],
    );
    this.sessionResets = registry.counter(
      'metalbeacon_bgp_session_resets_total',
      'sessions reset by our side, by cause: malformed-message, output-budget, send-hold-timer (peer not reading, RFC 9687), tcp-timeout (the kernel gave up), bfd-down (BFD detected a path failure, RFC 9384), internal-error',
      ['peer', 'cause'],
    );
    this.routeRefreshes = registry.counter(
      'metalbeacon_bgp_route_refresh_requests_total',
      'ROUTE-REFRESH requests received, by outcome: queued (answered once earlier output has left), coalesced (one for the family was pending), ignored (family not negotiated)',
      ['peer', 'outcome'],
    );
    const sessions = this.sessions;
    const gauge = (name: string, help: string, read: (g: SessionGauges) => number): void => {
      new Gauge({
        name,
        help,
        labelNames: ['peer'] as const,
        registers,
        collect() {
          this.reset();
          for (const [peer, get] of sessions) this.set({ peer }, read(get()));
        },
      });
    };
    gauge(
      'metalbeacon_bgp_session_state',
      'session state: 1 Idle .. 6 Established',
      (g) => STATE_VALUE[g.state],
    );
    gauge('metalbeacon_bgp_session_established', '1 when the session is Established', (g) =>
      g.state === 'Established' ? 1 : 0,
    );
    gauge(
      'metalbeacon_bgp_session_uptime_seconds',
      'time since the session became Established',
      (g) => g.uptimeSec,
    );
    gauge(
      'metalbeacon_bgp_prefixes_announced',
      'prefixes the peer holds from us',
      (g) => g.prefixesAnnounced,
    );
    gauge('metalbeacon_bgp_prefixes_pending', 'desired prefixes not yet announced', (g) => g.prefixesPending);
    gauge(
      'metalbeacon_bgp_output_queued_bytes',
      'octets of output waiting for the peer (queued and in the socket)',
      (g) => g.outputQueuedBytes,
    );
  }

  /** Makes a session's gauges visible under its peer label. */
  track(peer: string, read: () => SessionGauges): void {
    this.sessions.set(peer, read);
  }

  untrack(peer: string): void {
    this.sessions.delete(peer);
  }
}
