import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import { isIPv4, isIPv6, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { Logger } from '../../shared/log/logger.ts';
import { parseCidr, parseIp, rangeContains } from '../../shared/net/ip.ts';
import {
  Afi,
  attributeName,
  BgpFramer,
  type BgpMessage,
  BgpMessageError,
  CeaseSubcode,
  type CodecContext,
  DEFAULT_CONTEXT,
  ErrorCode,
  encodeMessage,
  isTreatAsWithdraw,
  Limits,
  maxMessageLength,
  type NotificationMessage,
  shutdownMessage,
  shutdownNotification,
  type UpdateMessage,
  WellKnownCommunity,
} from './codec/index.ts';
import { ConnectionWriter } from './connection-writer.ts';
import {
  backoffMs,
  type ConnectionId,
  type FsmAction,
  type FsmConfig,
  type FsmEvent,
  type FsmState,
  type FsmStateName,
  initialState,
  type Negotiated,
  sendHoldMs,
  step,
  type TimerName,
  tcpLivenessFor,
  validateFsmConfig,
} from './fsm/index.ts';
import { LogThrottle } from './log-throttle.ts';
import type { BgpMetrics, SessionResetCause } from './metrics.ts';
import {
  mapRouteValues,
  PendingOutput,
  RibOut,
  type RibSession,
  type RouteAttributes,
  refreshFamily,
  sessionFamilies,
} from './rib/index.ts';
import { type SocketOptions, socketFd } from './socket-options.ts';

/** One peer as the operator configures it (MetalLB's BGPPeer fields). */
export interface PeerConfig {
  readonly localAs: number;
  readonly peerAs: number;
  readonly peerAddress: string;
  readonly peerPort?: number;
  /** Local address to connect from (and to use as next hop). */
  readonly sourceAddress?: string;
  readonly routerId: string;
  readonly holdTimeSec?: number;
  readonly keepaliveSec?: number;
  /** TCP connect timeout. */
  readonly connectTimeMs?: number;
  /** eBGP multihop: TTL of our packets; direct eBGP uses 1, iBGP 255. */
  readonly ebgpMultiHop?: number;
  readonly passive?: boolean;
  /** TCP MD5 signature key (RFC 2385). */
  readonly password?: string;
  /** Offer graceful restart (RFC 4724) with this restart time. */
  readonly gracefulRestartTimeSec?: number;
  readonly extendedMessage?: boolean;
  /** Next hop overrides; default the session's local address. */
  readonly nextHopIpv4?: string;
  readonly nextHopIpv6?: string;
  readonly connectRetryMs?: number;
  readonly connectRetryMaxMs?: number;
  /**
   * Octets of output the session may hold for the peer (queued plus in the socket) before it is
   * reset with Cease / Out of Resources; default {@link DEFAULT_OUTPUT_BUDGET_BYTES}.
   */
  readonly outputBudgetBytes?: number;
}

/** Dependencies handed in by the program (no singletons). */
export interface SessionDeps {
  readonly logger: Logger;
  readonly metrics?: BgpMetrics;
  /** TCP MD5 and TTL on sockets (native addon); required when a password is set. */
  readonly socketOptions?: SocketOptions;
  readonly jitterSeed?: number;
  /** Whether this process has just started (RFC 4724 Restart State bit). */
  readonly restarting?: boolean;
}

/**
 * Output a session may hold for its peer. UPDATEs are produced only once the previous ones have
 * left, so this is never reached by what a peer asks for (refreshes coalesce); it bounds one
 * full table (roughly 1.5 million IPv6 prefixes) and stops a bug from growing without end.
 */
export const DEFAULT_OUTPUT_BUDGET_BYTES = 16 * 1024 * 1024;

/** RFC 9687 §3: NOTIFICATION error code Send Hold Timer Expired. */
const SEND_HOLD_TIMER_EXPIRED = 8;

/** At most one log line per peer this often about UPDATEs kept despite errors (RFC 7606). */
const UPDATE_ERROR_LOG_INTERVAL_MS = 60_000;

interface Connection {
  readonly socket: Socket;
  readonly framer: BgpFramer;
  readonly writer: ConnectionWriter;
  context: CodecContext;
}

/** The TTL our packets carry: 1 for direct eBGP, N with multihop, 255 on iBGP (RFC 4271 §5.1.3 practice). */
export function ttlFor(config: PeerConfig): number {
  if (config.localAs === config.peerAs) return 255;
  return config.ebgpMultiHop ?? 1;
}

/** Strips the IPv4-mapped prefix Node reports on dual-stack sockets. */
export function plainAddress(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
}

/**
 * The interface holding `address`: its other addresses (next hop of the other family,
 * link-local) and whether `peer` is on one of its subnets (a shared link, RFC 2545 §3).
 */
function interfaceAddresses(
  address: string,
  peer: string,
): { ipv4?: string; ipv6Global?: string; ipv6LinkLocal?: string; sharedLink: boolean } {
  for (const entries of Object.values(networkInterfaces())) {
    if (!entries?.some((e) => e.address === address)) continue;
    const ipv4 = entries.find((e) => e.family === 'IPv4')?.address;
    const ipv6Global = entries.find((e) => e.family === 'IPv6' && !e.address.startsWith('fe80'))?.address;
    const ipv6LinkLocal = entries.find((e) => e.family === 'IPv6' && e.address.startsWith('fe80'))?.address;
    const peerIp = parseIp(peer);
    const sharedLink = entries.some((e) => {
      const cidr = e.cidr ? parseCidr(e.cidr) : undefined;
      if (!cidr?.ok || !peerIp) return false;
      return rangeContains(cidr.value, peerIp);
    });
    return { ipv4, ipv6Global, ipv6LinkLocal, sharedLink };
  }
  return { sharedLink: false };
}

/** FSM configuration for a peer; throws with every problem named. */
export function fsmConfigFor(
  config: PeerConfig,
  deps: Pick<SessionDeps, 'jitterSeed' | 'restarting'>,
): FsmConfig {
  const fsm: FsmConfig = {
    localAs: config.localAs,
    peerAs: config.peerAs,
    routerId: config.routerId,
    holdTimeSec: config.holdTimeSec ?? 90,
    ...(config.keepaliveSec !== undefined ? { keepaliveSec: config.keepaliveSec } : {}),
    passive: config.passive ?? false,
    connectRetryMs: config.connectRetryMs ?? 5_000,
    connectRetryMaxMs: config.connectRetryMaxMs ?? 120_000,
    families: [
      { afi: Afi.Ipv4, safi: 1 },
      { afi: Afi.Ipv6, safi: 1 },
    ],
    extendedMessage: config.extendedMessage ?? true,
    ...(config.gracefulRestartTimeSec !== undefined
      ? {
          gracefulRestart: {
            restartTimeSec: config.gracefulRestartTimeSec,
            restarting: deps.restarting ?? true,
          },
        }
      : {}),
    jitterSeed: deps.jitterSeed ?? 1,
  };
  const problems = validateFsmConfig(fsm);
  if (!isIPv4(config.peerAddress) && !isIPv6(config.peerAddress)) {
    problems.push(`peerAddress "${config.peerAddress}" is not an IP address`);
  }
  if (problems.length > 0) throw new Error(`BGP peer ${config.peerAddress}: ${problems.join('; ')}`);
  return fsm;
}

/**
 * One BGP session (the shell around the pure FSM and RIB-out): owns the sockets and timers,
 * feeds socket data and timer expiries to `step`, and carries out its actions. Emits
 * `state` (name) on every state change.
 */
export class BgpSession extends EventEmitter<{ state: [FsmStateName] }> {
  readonly config: PeerConfig;
  readonly peer: string;
  private fsm: FsmState;
  private readonly deps: SessionDeps;
  private readonly log: Logger;
  /** connection id → socket. */
  private readonly connections = new Map<ConnectionId, Connection>();
  /** timer → its Node timeout and the delay it was started with. */
  private readonly timers = new Map<TimerName, { readonly timeout: NodeJS.Timeout; readonly ms: number }>();
  private readonly queue: FsmEvent[] = [];
  private dispatching = false;
  private incomingCount = 0;
  private rib: RibOut | undefined;
  private established: { conn: ConnectionId; negotiated: Negotiated } | undefined;
  /** prefix → attributes we want the peer to hold. */
  private desired: ReadonlyMap<string, RouteAttributes> = new Map();
  private readonly updateErrorLog = new LogThrottle(UPDATE_ERROR_LOG_INTERVAL_MS);
  /** Refreshes and route changes not yet turned into UPDATEs (they wait for idle output). */
  private readonly pending = new PendingOutput();
  /** Wakes the output when a paced refresh becomes due. */
  private refreshWake: NodeJS.Timeout | undefined;
  /** Stopped by the owner: a fault must not bring it back. */
  private stopped = false;
  private livenessWarned = false;
  /** Why the shell is resetting the session, for the 'down' log line (the FSM says "stopped"). */
  private resetCause: SessionResetCause | undefined;

  constructor(config: PeerConfig, deps: SessionDeps) {
    super();
    this.config = config;
    this.deps = deps;
    this.peer = config.peerAddress;
    this.log = deps.logger.child({ peer: config.peerAddress });
    this.fsm = initialState(fsmConfigFor(config, deps));
    if (config.password !== undefined && !deps.socketOptions) {
      throw new Error(`BGP peer ${config.peerAddress}: a password needs TCP MD5 support (the native addon)`);
    }
    deps.metrics?.track(this.peer, () => ({
      state: this.fsm.name,
      uptimeSec: this.fsm.establishedAtMs === undefined ? 0 : (Date.now() - this.fsm.establishedAtMs) / 1000,
      prefixesAnnounced: this.rib?.announcedCount ?? 0,
      prefixesPending: Math.max(0, this.desired.size - (this.rib?.announcedCount ?? 0)),
      outputQueuedBytes: this.outputQueuedBytes,
    }));
  }

  /** Current FSM state name. */
  get state(): FsmStateName {
    return this.fsm.name;
  }

  /** Number of prefixes the peer holds from us. */
  get announcedCount(): number {
    return this.rib?.announcedCount ?? 0;
  }

  /** Octets of output waiting for the peer on the Established connection. */
  get outputQueuedBytes(): number {
    const c = this.established && this.connections.get(this.established.conn);
    return c ? c.writer.outstandingBytes : 0;
  }

  /** BFD went Down and is not Up again: the session waits Idle for it (RFC 5882 §4.3). */
  get waitingForBfd(): boolean {
    return this.fsm.bfdHeld === true;
  }

  /**
   * The BFD session protecting this peer went Down for a path failure (RFC 5882): the session
   * is reset at once with Cease / BFD Down (RFC 9384), its routes count as gone, and it starts
   * again after the usual backoff once BFD is Up ({@link bfdUp}). `details` go to the log line.
   */
  bfdDown(details: object = {}): void {
    if (this.stopped) return;
    if (this.fsm.name !== 'Idle') {
      this.deps.metrics?.sessionResets.inc({ peer: this.peer, cause: 'bfd-down' });
      this.log.warn({ cause: 'bfd-down', ...details }, 'BGP session reset');
      this.resetCause = 'bfd-down';
    }
    this.dispatch({ type: 'BfdDown' });
  }

  /** The BFD session is Up: a session held by {@link bfdDown} may start again. */
  bfdUp(): void {
    if (this.stopped) return;
    this.dispatch({ type: 'BfdUp' });
  }

  /** Starts the session (ManualStart). */
  start(): void {
    this.stopped = false;
    this.dispatch({ type: 'ManualStart' });
  }

  /**
   * Sets what the peer should hold; when Established, the difference goes out as soon as the
   * output is idle (at once unless the peer is behind on reading).
   */
  setRoutes(desired: ReadonlyMap<string, RouteAttributes>): void {
    this.desired = desired;
    this.guard('route change', () => {
      if (!this.established) return;
      this.pending.markRoutesChanged();
      this.connections.get(this.established.conn)?.writer.kick();
    });
  }

  /** Hands an accepted TCP connection from this peer to the session. */
  accept(socket: Socket): void {
    const conn = `in#${++this.incomingCount}`;
    this.attach(conn, socket);
    this.guard('accepted connection', () => this.applyLiveness(socket, this.fsm.config.holdTimeSec));
    this.dispatch({ type: 'TcpConnectionConfirmed', conn });
  }

  /**
   * Stops the session: NOTIFICATION Cease (the given one, e.g. with an RFC 9003 message), then
   * close. Resolves when every socket is closed.
   */
  async stop(notification?: NotificationMessage): Promise<void> {
    this.stopped = true;
    const closed = this.socketsClosed();
    this.dispatch(notification ? { type: 'ManualStop', notification } : { type: 'ManualStop' });
    await closed;
    this.deps.metrics?.untrack(this.peer);
  }

  /**
   * Graceful shutdown (RFC 8326): re-advertise everything with GRACEFUL_SHUTDOWN (and LOCAL_PREF 0
   * on iBGP) so the peer moves traffic away, wait `drainMs`, then close with Cease /
   * Administrative Shutdown carrying `message` (RFC 9003).
   */
  async gracefulShutdown(drainMs: number, message: string): Promise<void> {
    if (this.state === 'Established') {
      const ibgp = this.config.localAs === this.config.peerAs;
      const draining = mapRouteValues(this.desired, (attrs) => ({
        ...attrs,
        communities: [...(attrs.communities ?? []), WellKnownCommunity.GracefulShutdown],
        ...(ibgp ? { localPref: 0 } : {}),
      }));
      this.log.info({ drainMs, prefixes: draining.size }, 'graceful shutdown: advertising GRACEFUL_SHUTDOWN');
      this.setRoutes(draining);
      await new Promise((resolve) => setTimeout(resolve, drainMs));
    }
    await this.stop(shutdownNotification(CeaseSubcode.AdministrativeShutdown, message));
  }

  /**
   * True when the Established session negotiated graceful restart (RFC 4724): we offered it
   * (the BGPPeer's enableGracefulRestart) and so did the peer. Such a peer keeps our routes,
   * marked stale, when the connection ends without a NOTIFICATION.
   */
  get gracefulRestartNegotiated(): boolean {
    return (
      this.fsm.name === 'Established' &&
      this.fsm.config.gracefulRestart !== undefined &&
      this.fsm.negotiated?.peerGracefulRestart === true
    );
  }

  /**
   * Ends the session as a restarting speaker (RFC 4724 §4.2): the connection closes without a
   * NOTIFICATION, which would end graceful restart (RFC 8538 §1; we do not offer its N bit),
   * and without withdrawing anything. The peer keeps forwarding to our routes until we are
   * back with End-of-RIB or its restart timer runs out, so a speaker restart changes nothing on
   * the router. Resolves when every socket is closed.
   */
  async stopForRestart(): Promise<void> {
    this.log.info(
      { prefixes: this.desired.size, restartTimeSec: this.config.gracefulRestartTimeSec },
      'graceful restart: closing without NOTIFICATION; the peer keeps our routes until we are back',
    );
    this.stopped = true;
    const closed = this.socketsClosed();
    for (const timer of this.timers.values()) clearTimeout(timer.timeout);
    this.timers.clear();
    clearTimeout(this.refreshWake);
    this.refreshWake = undefined;
    const connections = [...this.connections.values()];
    // Forgotten first, so their close feeds the FSM nothing (it would reconnect or send Cease).
    this.connections.clear();
    for (const c of connections) c.writer.finish();
    await closed;
    this.deps.metrics?.untrack(this.peer);
  }

  /**
   * Drops every connection without a NOTIFICATION, as a crash would: with graceful restart
   * negotiated the peer keeps our routes until we are back with End-of-RIB (RFC 4724 §4.2).
   */
  abort(): void {
    this.stopped = true;
    this.dropEverything();
    this.deps.metrics?.untrack(this.peer);
  }

  // -------------------------------------------------------------------------------------------

  /**
   * Feeds events to the FSM one at a time (events raised while one is handled wait their turn).
   * Whatever one of them throws resets this session only: see {@link resetAfterFault}.
   */
  private dispatch(event: FsmEvent): void {
    this.queue.push(event);
    if (this.dispatching) return;
    this.dispatching = true;
    try {
      for (let e = this.queue.shift(); e; e = this.queue.shift()) {
        try {
          this.handle(e);
        } catch (error) {
          this.queue.length = 0;
          this.resetAfterFault(error, e.type);
        }
      }
    } finally {
      this.dispatching = false;
    }
  }

  private handle(e: FsmEvent): void {
    const before = this.fsm.name;
    const { state, actions } = step(this.fsm, e, Date.now());
    this.fsm = state;
    if (e.type === 'HoldTimerExpires') this.deps.metrics?.holdTimerExpiries.inc({ peer: this.peer });
    for (const action of actions) this.perform(action);
    if (e.type === 'AutomaticStop' || e.type === 'BfdDown') this.resetCause = undefined;
    if (state.name !== before) {
      this.log.info({ from: before, to: state.name, event: e.type }, 'BGP state change');
      this.emit('state', state.name);
    }
  }

  /** Runs a callback of a socket, timer or caller; a throw resets this session only. */
  private guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      if (this.dispatching) throw error; // dispatch() resets once the current event unwinds
      this.resetAfterFault(error, what);
    }
  }

  /**
   * Ends the session for a cause the shell detects (output budget, send hold timer, malformed
   * input): one log line with the cause, one count, then AutomaticStop with its NOTIFICATION
   * (RFC 4271 event 8), which closes and comes back after the normal backoff.
   */
  private resetSession(cause: SessionResetCause, notification: NotificationMessage, details: object): void {
    this.deps.metrics?.sessionResets.inc({ peer: this.peer, cause });
    this.log.warn(
      { cause, code: notification.code, subcode: notification.subcode, ...details },
      'BGP session reset',
    );
    this.resetCause = cause;
    this.dispatch({ type: 'AutomaticStop', notification });
  }

  /**
   * An unexpected exception inside the session (a bug, in us or in what a peer made us do) ends
   * this session and nothing else: every socket and timer goes without a NOTIFICATION (no RFC
   * one applies; with graceful restart the peer keeps our routes meanwhile), the error is logged
   * once with its stack and counted, and the session starts again from Idle after the backoff
   * its failures so far earned. The FSM state is rebuilt rather than stepped, since the fault may
   * have left the last step's actions half done.
   */
  private resetAfterFault(error: unknown, during: string): void {
    try {
      this.deps.metrics?.sessionResets.inc({ peer: this.peer, cause: 'internal-error' });
      this.log.error({ err: error, during }, 'BGP session reset after an internal error');
      const wasEstablished = this.fsm.name === 'Established';
      const before = this.fsm;
      this.dropEverything();
      this.rib = undefined;
      this.established = undefined;
      this.pending.clear();
      const failures = before.connectRetryCounter + 1;
      this.fsm = {
        ...initialState(before.config),
        connectRetryCounter: failures,
        nextConnection: before.nextConnection,
        rng: before.rng,
      };
      if (!this.stopped) {
        this.startTimer('idleHold', backoffMs(before.config, failures - 1, (before.rng >>> 0) / 2 ** 32));
      }
      if (before.name !== 'Idle') {
        this.log.info({ from: before.name, to: 'Idle', wasEstablished }, 'BGP state change');
        this.emit('state', 'Idle');
      }
    } catch (second) {
      // Only a listener of 'state' or the logger can get here; the session is already reset.
      this.log.error({ err: second }, 'error while resetting the BGP session');
    }
  }

  /** Resolves when every socket open now has closed. */
  private socketsClosed(): Promise<unknown> {
    return Promise.all(
      [...this.connections.values()].map(
        (c) =>
          new Promise<void>((resolve) =>
            c.socket.closed ? resolve() : c.socket.once('close', () => resolve()),
          ),
      ),
    );
  }

  /** Destroys every connection and clears every timer. */
  private dropEverything(): void {
    for (const timer of this.timers.values()) clearTimeout(timer.timeout);
    this.timers.clear();
    clearTimeout(this.refreshWake);
    this.refreshWake = undefined;
    for (const c of this.connections.values()) {
      c.writer.dispose();
      c.socket.destroy();
    }
    this.connections.clear();
  }

  private perform(action: FsmAction): void {
    switch (action.type) {
      case 'connect':
        this.connect(action.conn);
        return;
      case 'send':
        this.send(action.conn, action.message);
        return;
      case 'close':
        this.close(action.conn);
        return;
      case 'startTimer':
        this.startTimer(action.timer, action.ms);
        return;
      case 'stopTimer':
        clearTimeout(this.timers.get(action.timer)?.timeout);
        this.timers.delete(action.timer);
        return;
      case 'setContext': {
        const c = this.connections.get(action.conn);
        if (c) {
          c.context = action.negotiated.context;
          c.framer.setContext(action.negotiated.context);
        }
        return;
      }
      case 'established':
        this.onEstablished(action.conn, action.negotiated);
        return;
      case 'down':
        this.log.warn(
          { reason: action.reason, ...(this.resetCause ? { cause: this.resetCause } : {}) },
          'BGP session down',
        );
        this.rib = undefined;
        this.established = undefined;
        this.pending.clear();
        clearTimeout(this.refreshWake);
        this.refreshWake = undefined;
        return;
      case 'routeRefresh':
        this.onRouteRefresh(action);
        return;
      case 'update':
        // We announce and do not learn: a received UPDATE is validated, counted and dropped.
        if (action.message.type === 'update') this.onUpdateReceived(action.message);
        return;
    }
  }

  /** (Re)starts an FSM timer; its expiry becomes the FSM event. */
  private startTimer(timer: TimerName, ms: number): void {
    const running = this.timers.get(timer);
    if (running?.ms === ms) {
      // The hold timer restarts on every message: re-arming the same timeout allocates nothing.
      running.timeout.refresh();
      return;
    }
    if (running) clearTimeout(running.timeout);
    const event = TIMER_EVENTS[timer];
    const timeout = setTimeout(() => {
      this.timers.delete(timer);
      this.dispatch({ type: event });
    }, ms);
    this.timers.set(timer, { timeout, ms });
  }

  /**
   * Makes RFC 7606 outcomes that keep the session visible: each error is counted by action and
   * attribute, and a throttled warning names them.
   */
  private onUpdateReceived(message: UpdateMessage): void {
    const errors = message.errors ?? [];
    if (errors.length === 0) return;
    for (const error of errors) {
      // An error about a repeated attribute stands for every occurrence discarded (RFC 7606 §3 g).
      this.deps.metrics?.updateErrors.inc(
        {
          peer: this.peer,
          action: error.action,
          attribute: error.attribute === undefined ? 'none' : attributeName(error.attribute),
        },
        error.occurrences,
      );
    }
    const line = this.updateErrorLog.take(Date.now());
    if (!line) return;
    const withdraw = isTreatAsWithdraw(message);
    this.log.warn(
      {
        action: withdraw ? 'treat-as-withdraw' : 'attribute-discard',
        errors: errors.map((e) => ({
          code: e.code,
          subcode: e.subcode,
          action: e.action,
          ...(e.attribute !== undefined ? { attribute: attributeName(e.attribute) } : {}),
          error: e.message,
        })),
        prefixes: message.nlri.length + (message.attributes.mpReach?.nlri.length ?? 0),
        ...(line.suppressed > 0 ? { suppressedSinceLastLine: line.suppressed } : {}),
      },
      withdraw
        ? 'UPDATE received with errors: treated as withdraw (RFC 7606)'
        : 'UPDATE received with errors: attributes discarded (RFC 7606)',
    );
  }

  /**
   * ROUTE-REFRESH (RFC 2918 §4): the requested family is resent once the output is idle and at
   * most once a second; meanwhile further requests for it coalesce into the pending one. A
   * family the session did not negotiate is ignored.
   */
  private onRouteRefresh(request: { afi: number; safi: number; subtype: number }): void {
    if (!this.established) return;
    const family = refreshFamily(request, this.established.negotiated.families);
    let outcome: 'queued' | 'coalesced' | 'ignored' = 'ignored';
    if (family === undefined) {
      this.log.debug(request, 'ROUTE-REFRESH for a family not negotiated, or of another subtype: ignored');
    } else {
      outcome = this.pending.requestRefresh(family) ? 'queued' : 'coalesced';
    }
    this.deps.metrics?.routeRefreshes.inc({ peer: this.peer, outcome });
    if (outcome === 'queued') this.connections.get(this.established.conn)?.writer.kick();
  }

  /**
   * Turns pending work into UPDATEs: called by the writer of `conn` when its output is idle, so
   * at most one generation of UPDATEs (bounded by our table, not by what the peer asked) waits
   * for the peer at a time.
   */
  private produce(conn: ConnectionId): void {
    if (!this.rib || this.established?.conn !== conn) return;
    const nowMs = Date.now();
    const work = this.pending.take(nowMs);
    this.wakeForRefresh(conn, nowMs);
    if (!work) return;
    let messages: Uint8Array[] = [];
    for (const family of work.refresh) messages = messages.concat(this.rib.refresh(this.desired, family));
    if (work.routesChanged) messages = messages.concat(this.rib.update(this.desired));
    if (messages.length === 0) return;
    const c = this.connections.get(conn);
    if (!c) return;
    const bytes = messages.reduce((n, m) => n + m.length, 0);
    if (!c.writer.enqueue(messages)) {
      this.resetSession('output-budget', cease(CeaseSubcode.OutOfResources), {
        outputBytes: bytes + c.writer.outstandingBytes,
        budgetBytes: this.budgetBytes,
      });
      return;
    }
    this.deps.metrics?.messagesSent.inc({ peer: this.peer, type: 'update' }, messages.length);
    this.deps.metrics?.updatesSent.inc({ peer: this.peer }, messages.length);
  }

  /** A refresh waiting for its turn (pacing) is produced when due, once the output is idle. */
  private wakeForRefresh(conn: ConnectionId, nowMs: number): void {
    const due = this.pending.nextDueMs();
    if (due === undefined || this.refreshWake !== undefined) return;
    this.refreshWake = setTimeout(
      () =>
        this.guard('paced refresh', () => {
          this.refreshWake = undefined;
          this.connections.get(conn)?.writer.kick();
        }),
      Math.max(0, due - nowMs),
    );
  }

  private get budgetBytes(): number {
    return this.config.outputBudgetBytes ?? DEFAULT_OUTPUT_BUDGET_BYTES;
  }

  /**
   * TCP keepalive and TCP_USER_TIMEOUT from the hold time (proposed before OPEN, negotiated
   * after): through the native addon when built, else the keepalive alone as node:net sets it.
   */
  private applyLiveness(socket: Socket, holdTimeSec: number): void {
    const liveness = tcpLivenessFor(holdTimeSec);
    const fd = socketFd(socket);
    const options = this.deps.socketOptions;
    if (options && fd !== undefined) {
      try {
        options.setLiveness(fd, liveness);
        return;
      } catch (error) {
        if (!this.livenessWarned) this.log.warn({ err: error }, 'cannot set TCP keepalive / user timeout');
        this.livenessWarned = true;
      }
    }
    socket.setKeepAlive(true, liveness.keepaliveIdleSec * 1000);
  }

  /** Reads the kernel's unacknowledged octets of a socket (native addon), if it can. */
  private kernelQueueReader(socket: Socket): (() => number) | undefined {
    const options = this.deps.socketOptions;
    const fd = socketFd(socket);
    if (!options || fd === undefined) return undefined;
    return () => (socket.destroyed ? 0 : options.queuedBytes(fd));
  }

  private onEstablished(conn: ConnectionId, negotiated: Negotiated): void {
    const c = this.connections.get(conn);
    if (!c) return;
    const local = plainAddress(c.socket.localAddress);
    const onLink = interfaceAddresses(local, this.config.peerAddress);
    const v4 = this.config.nextHopIpv4 ?? (isIPv4(local) ? local : onLink.ipv4);
    const v6 =
      this.config.nextHopIpv6 ?? (isIPv6(local) && !local.startsWith('fe80') ? local : onLink.ipv6Global);
    const families = sessionFamilies(negotiated.families, { IPv4: v4 !== undefined, IPv6: v6 !== undefined });
    for (const family of families.withoutNextHop) {
      this.log.warn({ family }, 'no next hop of this family on the session; not announcing it');
    }
    const session: RibSession = {
      localAs: this.config.localAs,
      peerAs: this.config.peerAs,
      context: negotiated.context,
      families: families.announce,
      endOfRibFamilies: families.endOfRib,
      ...(v4 ? { nextHopIpv4: v4 } : {}),
      ...(v6
        ? {
            nextHopIpv6:
              onLink.sharedLink && onLink.ipv6LinkLocal
                ? { global: v6, linkLocal: onLink.ipv6LinkLocal }
                : { global: v6 },
          }
        : {}),
    };
    this.rib = new RibOut(session);
    this.established = { conn, negotiated };
    this.log.info(
      {
        holdTimeSec: negotiated.holdTimeSec,
        families: families.announce,
        peerRouterId: negotiated.peerOpen.bgpId,
        prefixes: this.desired.size,
      },
      'BGP session established',
    );
    this.applyLiveness(c.socket, negotiated.holdTimeSec);
    c.writer.setSendHold(sendHoldMs(negotiated.holdTimeSec), this.kernelQueueReader(c.socket));
    this.pending.markRoutesChanged();
    c.writer.kick();
  }

  private connect(conn: ConnectionId): void {
    this.deps.metrics?.connectionAttempts.inc({ peer: this.peer });
    const { peerAddress, sourceAddress } = this.config;
    const family = isIPv6(peerAddress) ? 6 : 4;
    const port = this.config.peerPort ?? 179;
    let socket: Socket;
    try {
      const opts = this.deps.socketOptions;
      if (opts) {
        // The native addon makes the socket so MD5 and TTL are set before the SYN.
        socket = opts.connect({
          family,
          host: peerAddress,
          port,
          ...(sourceAddress ? { localAddress: sourceAddress } : {}),
          ...(this.config.password !== undefined ? { password: this.config.password } : {}),
          ttl: ttlFor(this.config),
        });
      } else {
        socket = net.connect({
          host: peerAddress,
          port,
          family,
          ...(sourceAddress ? { localAddress: sourceAddress } : {}),
        });
      }
    } catch (error) {
      this.log.warn({ err: error }, 'cannot open a connection');
      setImmediate(() => this.dispatch({ type: 'TcpConnectionFails', conn }));
      return;
    }
    this.attach(conn, socket);
    const timeout = setTimeout(() => {
      this.log.debug('connect timed out');
      socket.destroy();
    }, this.config.connectTimeMs ?? 5_000);
    socket.once('connect', () => {
      clearTimeout(timeout);
      this.guard('connected', () => {
        socket.setNoDelay(true);
        this.applyLiveness(socket, this.fsm.config.holdTimeSec);
      });
      this.dispatch({ type: 'TcpCRAcked', conn });
    });
    socket.once('close', () => clearTimeout(timeout));
  }

  private attach(conn: ConnectionId, socket: Socket): void {
    const framer = new BgpFramer(DEFAULT_CONTEXT);
    const writer = new ConnectionWriter(socket, {
      budgetBytes: this.budgetBytes,
      onIdle: () => this.produce(conn),
      onSendHoldExpired: () =>
        this.resetSession(
          'send-hold-timer',
          { type: 'notification', code: SEND_HOLD_TIMER_EXPIRED, subcode: 0, data: new Uint8Array(0) },
          { outputBytes: writer.outstandingBytes },
        ),
      guard: (what, fn) => this.guard(what, fn),
    });
    this.connections.set(conn, { socket, framer, writer, context: DEFAULT_CONTEXT });
    socket.on('data', (chunk: Buffer) => this.guard('received data', () => this.onData(conn, framer, chunk)));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ETIMEDOUT' && this.established?.conn === conn) {
        // The kernel gave up (TCP_USER_TIMEOUT or keepalive): the peer acknowledged nothing.
        this.deps.metrics?.sessionResets.inc({ peer: this.peer, cause: 'tcp-timeout' });
        this.log.warn({ cause: 'tcp-timeout', err: error }, 'BGP connection timed out in the kernel');
      } else {
        this.log.debug({ err: error, conn }, 'socket error');
      }
    });
    socket.on('close', () =>
      this.guard('connection closed', () => {
        writer.dispose();
        if (this.connections.delete(conn)) this.dispatch({ type: 'TcpConnectionFails', conn });
      }),
    );
  }

  /** Frames and decodes a chunk; a malformed message gets its NOTIFICATION (RFC 4271 §6). */
  private onData(conn: ConnectionId, framer: BgpFramer, chunk: Uint8Array): void {
    if (!this.connections.has(conn)) return;
    try {
      for (const message of framer.push(chunk)) {
        this.countReceived(message);
        this.dispatch({ type: 'Message', conn, message });
        if (!this.connections.has(conn)) break;
      }
    } catch (error) {
      if (!(error instanceof BgpMessageError)) throw error;
      this.deps.metrics?.sessionResets.inc({ peer: this.peer, cause: 'malformed-message' });
      this.log.warn({ code: error.code, subcode: error.subcode, error: error.message }, 'malformed message');
      this.dispatch({
        type: 'MessageError',
        conn,
        code: error.code,
        subcode: error.subcode,
        data: error.data,
      });
    }
  }

  private countReceived(message: BgpMessage): void {
    const m = this.deps.metrics;
    if (!m) return;
    m.messagesReceived.inc({ peer: this.peer, type: message.type });
    if (message.type === 'notification') {
      m.notificationsReceived.inc({ peer: this.peer, code: message.code, subcode: message.subcode });
      const text = shutdownMessage(message);
      this.log.warn(
        { code: message.code, subcode: message.subcode, ...(text ? { message: text } : {}) },
        'NOTIFICATION received',
      );
    }
  }

  /**
   * Sends an FSM message. A NOTIFICATION goes past what is queued (the connection closes next),
   * its data cut by the codec to the connection's maximum (RFC 7313 §5 and RFC 4271 §6 copy whole
   * messages into it); a KEEPALIVE is skipped while output is waiting (it would only queue
   * behind it); the rest is queued within the output budget.
   */
  private send(conn: ConnectionId, message: BgpMessage): void {
    const c = this.connections.get(conn);
    if (!c || c.socket.destroyed) return;
    if (message.type === 'keepalive' && c.writer.busy) return;
    const m = this.deps.metrics;
    if (message.type === 'notification') {
      const room = maxMessageLength(c.context) - Limits.MinNotificationLength;
      m?.messagesSent.inc({ peer: this.peer, type: message.type });
      m?.notificationsSent.inc({ peer: this.peer, code: message.code, subcode: message.subcode });
      this.log.warn(
        {
          code: message.code,
          subcode: message.subcode,
          ...(message.data.length > room ? { dataCutFrom: message.data.length, dataCutTo: room } : {}),
        },
        'NOTIFICATION sent',
      );
      c.writer.finish(encodeMessage(message, c.context));
      return;
    }
    m?.messagesSent.inc({ peer: this.peer, type: message.type });
    if (!c.writer.enqueue([encodeMessage(message, c.context)])) {
      this.resetSession('output-budget', cease(CeaseSubcode.OutOfResources), {
        outputBytes: c.writer.outstandingBytes,
        budgetBytes: this.budgetBytes,
      });
    }
  }

  private close(conn: ConnectionId): void {
    const c = this.connections.get(conn);
    if (!c) return;
    this.connections.delete(conn);
    c.writer.finish();
  }
}

function cease(subcode: number): NotificationMessage {
  return { type: 'notification', code: ErrorCode.Cease, subcode, data: new Uint8Array(0) };
}

const TIMER_EVENTS = {
  connectRetry: 'ConnectRetryTimerExpires',
  hold: 'HoldTimerExpires',
  keepalive: 'KeepaliveTimerExpires',
  idleHold: 'IdleHoldTimerExpires',
} as const;

/** The notification a Cease with a shutdown message carries, for logs. */
export function describeNotification(n: NotificationMessage): string {
  const text = shutdownMessage(n);
  return `${n.code}/${n.subcode}${n.code === ErrorCode.Cease && text ? ` "${text}"` : ''}`;
}
