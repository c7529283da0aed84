/**
 * How long a peer may stay silent or stop reading before its session is reset, from the
 * negotiated hold time. Pure.
 *
 * - The send hold time (RFC 9687): our output has not moved for this long, the peer is not
 *   reading; OpenBGPD uses the hold time itself, and so do we.
 * - TCP liveness (tcp(7)): keepalive probes once the connection has been idle for a third of it
 *   (a router that rebooted without FIN answers the first probe with RST), and TCP_USER_TIMEOUT
 *   so that data or probes unacknowledged for twice the hold time end the connection in the
 *   kernel (a router that is gone). Twice, so that the BGP timers, which send the NOTIFICATION
 *   and say why, act first wherever they run; the kernel's is the bound that remains when hold
 *   time 0 was negotiated and no KEEPALIVE flows.
 */

/** RFC 4271 §10's suggested hold time: the liveness bound when the session negotiated 0. */
export const HOLD_TIME_ZERO_BOUND_SEC = 90;

/** TCP keepalive and user timeout for a BGP socket. */
export interface TcpLiveness {
  /** TCP_KEEPIDLE: idle time before the first probe. */
  readonly keepaliveIdleSec: number;
  /** TCP_KEEPINTVL: time between probes. */
  readonly keepaliveIntervalSec: number;
  /** TCP_KEEPCNT: unanswered probes before the connection is dropped. */
  readonly keepaliveCount: number;
  /** TCP_USER_TIMEOUT: how long sent data (or keepalive probes) may stay unacknowledged. */
  readonly userTimeoutMs: number;
}

function boundSec(holdTimeSec: number): number {
  return holdTimeSec > 0 ? holdTimeSec : HOLD_TIME_ZERO_BOUND_SEC;
}

/** Keepalive and user timeout for a session with this hold time (proposed, then negotiated). */
export function tcpLivenessFor(holdTimeSec: number): TcpLiveness {
  const bound = boundSec(holdTimeSec);
  return {
    keepaliveIdleSec: Math.max(1, Math.floor(bound / 3)),
    keepaliveIntervalSec: Math.max(1, Math.floor(bound / 9)),
    keepaliveCount: 3,
    userTimeoutMs: 2 * bound * 1000,
  };
}

/** RFC 9687 send hold time: how long our output may stay blocked before the session is reset. */
export function sendHoldMs(holdTimeSec: number): number {
  return boundSec(holdTimeSec) * 1000;
}
