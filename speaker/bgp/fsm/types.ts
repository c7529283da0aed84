import type { BgpMessage, CodecContext, NotificationMessage, OpenMessage } from '../codec/index.ts';

/** The six session states of RFC 4271 §8.2.2. */
export type FsmStateName = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';

/** Timers the FSM runs through the shell (RFC 4271 §10). idleHold carries the restart backoff. */
export type TimerName = 'connectRetry' | 'hold' | 'keepalive' | 'idleHold';

/**
 * A TCP connection, named by who made it: `out#N` ids are chosen by the FSM in its connect
 * action, `in#N` ids by the shell when it accepts one. The FSM never sees a socket.
 */
export type ConnectionId = string;

/** What the FSM needs to know about the session it runs (validated before it gets here). */
export interface FsmConfig {
  readonly localAs: number;
  readonly peerAs: number;
  /** Our BGP Identifier, dotted quad. */
  readonly routerId: string;
  /** Hold time we propose: 0, or at least 3 s. */
  readonly holdTimeSec: number;
  /** Configured keepalive interval; default a third of the negotiated hold time. */
  readonly keepaliveSec?: number;
  /** Passive: only accept connections, never connect (RFC 4271 §8.1.1 PassiveTcpEstablishment). */
  readonly passive: boolean;
  /** First ConnectRetry / restart delay, doubled per failed attempt up to connectRetryMaxMs. */
  readonly connectRetryMs: number;
  readonly connectRetryMaxMs: number;
  /** Address families to offer (MP capability, RFC 4760). */
  readonly families: readonly { readonly afi: number; readonly safi: number }[];
  /** Offer extended messages (RFC 8654). */
  readonly extendedMessage: boolean;
  /** Graceful restart capability (RFC 4724): restart time, and whether we are restarting now. */
  readonly gracefulRestart?: { readonly restartTimeSec: number; readonly restarting: boolean };
  /** Seed of the jitter generator (RFC 4271 §10: timers are jittered to 75–100 %). */
  readonly jitterSeed: number;
}

/** What both OPENs agreed on (RFC 4271 §4.2, RFC 5492). */
export interface Negotiated {
  readonly holdTimeSec: number;
  readonly keepaliveMs: number;
  readonly context: CodecContext;
  /** Families both sides offered (IPv4 unicast alone when the peer offered no MP capability). */
  readonly families: readonly { readonly afi: number; readonly safi: number }[];
  readonly peerRouteRefresh: boolean;
  readonly peerGracefulRestart: boolean;
  readonly peerOpen: OpenMessage;
}

/** Per-connection bookkeeping while OPENs are exchanged. */
export interface ConnectionState {
  readonly id: ConnectionId;
  readonly outgoing: boolean;
  /** The peer's OPEN on this connection, once received. */
  readonly peerOpen?: OpenMessage;
}

/** The whole FSM state: a plain value; step() returns a new one. */
export interface FsmState {
  readonly name: FsmStateName;
  readonly config: FsmConfig;
  /** RFC 4271 §8: failed attempts; drives the backoff. */
  readonly connectRetryCounter: number;
  /** Outgoing connection being set up (Connect state). */
  readonly connecting?: ConnectionId;
  /** The connection the session runs on (OpenSent onwards). */
  readonly main?: ConnectionState;
  /** A second connection in OpenSent / OpenConfirm, kept until §6.8 collision resolution. */
  readonly second?: ConnectionState;
  readonly negotiated?: Negotiated;
  /** Number used for the next `out#N` id. */
  readonly nextConnection: number;
  /** Jitter generator state (mulberry32). */
  readonly rng: number;
  /** When the session reached Established, for uptime. */
  readonly establishedAtMs?: number;
  /**
   * BFD went Down and has not come Up since (RFC 5882 §4.3): the session stays Idle, refusing
   * connections, until BfdUp. Never set for a peer without BFD.
   */
  readonly bfdHeld?: boolean;
  /** The restart backoff ran out while held: start as soon as BFD is Up. */
  readonly startWhenBfdUp?: boolean;
}

/** FSM inputs: RFC 4271 §8.1 events (numbers in comments), with the connection they concern. */
export type FsmEvent =
  | { readonly type: 'ManualStart' } // 1 (4 when passive)
  | { readonly type: 'ManualStop'; readonly notification?: NotificationMessage } // 2
  | { readonly type: 'AutomaticStart' } // 3 (5 when passive)
  | { readonly type: 'AutomaticStop'; readonly notification?: NotificationMessage } // 8
  | { readonly type: 'ConnectRetryTimerExpires' } // 9
  | { readonly type: 'HoldTimerExpires' } // 10
  | { readonly type: 'KeepaliveTimerExpires' } // 11
  | { readonly type: 'IdleHoldTimerExpires' } // 13
  /** The BFD session protecting the peer went from Up to Down for a path failure (RFC 5882, RFC 9384). */
  | { readonly type: 'BfdDown' }
  /** The BFD session is Up (again): a session BfdDown held may start. */
  | { readonly type: 'BfdUp' }
  | { readonly type: 'TcpCRAcked'; readonly conn: ConnectionId } // 16: our connect succeeded
  | { readonly type: 'TcpConnectionConfirmed'; readonly conn: ConnectionId } // 17: we accepted one
  | { readonly type: 'TcpConnectionFails'; readonly conn: ConnectionId } // 18
  | { readonly type: 'Message'; readonly conn: ConnectionId; readonly message: BgpMessage } // 19, 25-28
  | {
      // 21, 22, 28: a decode error with its NOTIFICATION (RFC 7606 session reset)
      readonly type: 'MessageError';
      readonly conn: ConnectionId;
      readonly code: number;
      readonly subcode: number;
      readonly data: Uint8Array;
    };

/** FSM outputs, carried out by the shell in order. */
export type FsmAction =
  | { readonly type: 'connect'; readonly conn: ConnectionId }
  | { readonly type: 'send'; readonly conn: ConnectionId; readonly message: BgpMessage }
  | { readonly type: 'close'; readonly conn: ConnectionId }
  | { readonly type: 'startTimer'; readonly timer: TimerName; readonly ms: number }
  | { readonly type: 'stopTimer'; readonly timer: TimerName }
  /** Capabilities are known: decode the following messages with this context. */
  | { readonly type: 'setContext'; readonly conn: ConnectionId; readonly negotiated: Negotiated }
  /** The session is up: send the initial routes, then End-of-RIB. */
  | { readonly type: 'established'; readonly conn: ConnectionId; readonly negotiated: Negotiated }
  /** The session left Established: forget what was sent. */
  | { readonly type: 'down'; readonly reason: string }
  /** The peer asked for our routes again (RFC 2918; subtype of RFC 7313). */
  | { readonly type: 'routeRefresh'; readonly afi: number; readonly safi: number; readonly subtype: number }
  /** A received UPDATE (counted and discarded: we announce, we do not learn). */
  | { readonly type: 'update'; readonly message: BgpMessage };

/** Result of one step. */
export interface StepResult {
  readonly state: FsmState;
  readonly actions: readonly FsmAction[];
}
