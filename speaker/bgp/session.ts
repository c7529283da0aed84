import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { Logger } from '../../shared/log/logger.ts';
import { CeaseSubcode, type NotificationMessage, shutdownNotification } from './codec/index.ts';
import { Connections } from './connections.ts';
import {
  backoffMs,
  type FsmAction,
  type FsmEvent,
  type FsmState,
  type FsmStateName,
  initialState,
  step,
} from './fsm/index.ts';
import { FsmTimers } from './fsm-timers.ts';
import type { SessionResetCause } from './metrics.ts';
import { fsmConfigFor, type PeerConfig, type SessionDeps } from './peer-config.ts';
import { ReceivedUpdates } from './received-updates.ts';
import { drainingRoutes, type RouteAttributes } from './rib/index.ts';
import { UpdateOutput } from './update-output.ts';

/**
 * One BGP session (the shell around the pure FSM and RIB-out): feeds socket data and timer
 * expiries to `step` one event at a time and carries out its actions through its parts (the
 * connections, the FSM's timers, the UPDATE output); keeps a fault inside one session; drains,
 * stops or restarts it as its owner asks. Emits `state` (name) on every state change.
 */
export class BgpSession extends EventEmitter<{ state: [FsmStateName] }> {
  readonly config: PeerConfig;
  readonly peer: string;
  private fsm: FsmState;
  private readonly deps: SessionDeps;
  private readonly log: Logger;
  private readonly connections: Connections;
  private readonly timers = new FsmTimers((event) => this.dispatch(event));
  private readonly output: UpdateOutput;
  private readonly receivedUpdates: ReceivedUpdates;
  private readonly queue: FsmEvent[] = [];
  private dispatching = false;
  /** prefix → attributes we want the peer to hold. */
  private desired: ReadonlyMap<string, RouteAttributes> = new Map();
  /** Stopped by the owner: a fault must not bring it back. */
  private isStopped = false;
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
    const reset = this.resetSession.bind(this);
    const guard = this.guard.bind(this);
    this.connections = new Connections(config, deps, this.log, {
      dispatch: (event) => this.dispatch(event),
      guard,
      onIdle: (conn) => this.output.produce(conn),
      reset,
      isEstablished: (conn) => this.output.conn === conn,
      proposedHoldTimeSec: () => this.fsm.config.holdTimeSec,
    });
    this.output = new UpdateOutput(config, deps.metrics, this.log, this.connections, {
      desired: () => this.desired,
      reset,
      guard,
    });
    this.receivedUpdates = new ReceivedUpdates(this.peer, deps.metrics, this.log);
    deps.metrics?.track(this.peer, () => ({
      state: this.fsm.name,
      uptimeSec: this.fsm.establishedAtMs === undefined ? 0 : (Date.now() - this.fsm.establishedAtMs) / 1000,
      prefixesAnnounced: this.output.announcedCount,
      prefixesPending: Math.max(0, this.desired.size - this.output.announcedCount),
      outputQueuedBytes: this.outputQueuedBytes,
    }));
  }

  /** Stopped by its owner (stop, graceful shutdown, restart or abort) and not started again. */
  get stopped(): boolean {
    return this.isStopped;
  }

  /** Current FSM state name. */
  get state(): FsmStateName {
    return this.fsm.name;
  }

  /** Number of prefixes the peer holds from us. */
  get announcedCount(): number {
    return this.output.announcedCount;
  }

  /** Octets of output waiting for the peer on the Established connection. */
  get outputQueuedBytes(): number {
    const conn = this.output.conn;
    const c = conn === undefined ? undefined : this.connections.get(conn);
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
    if (this.isStopped) return;
    if (this.fsm.name !== 'Idle') {
      this.deps.metrics?.sessionResets.inc({ peer: this.peer, cause: 'bfd-down' });
      this.log.warn({ cause: 'bfd-down', ...details }, 'BGP session reset');
      this.resetCause = 'bfd-down';
    }
    this.dispatch({ type: 'BfdDown' });
  }

  /** The BFD session is Up: a session held by {@link bfdDown} may start again. */
  bfdUp(): void {
    if (this.isStopped) return;
    this.dispatch({ type: 'BfdUp' });
  }

  /** Starts the session (ManualStart). */
  start(): void {
    this.isStopped = false;
    this.dispatch({ type: 'ManualStart' });
  }

  /**
   * Sets what the peer should hold; when Established, the difference goes out as soon as the
   * output is idle (at once unless the peer is behind on reading).
   */
  setRoutes(desired: ReadonlyMap<string, RouteAttributes>): void {
    this.desired = desired;
    this.guard('route change', () => this.output.routesChanged());
  }

  /** Hands an accepted TCP connection from this peer to the session. */
  accept(socket: Socket): void {
    const conn = this.connections.accept(socket);
    this.dispatch({ type: 'TcpConnectionConfirmed', conn });
  }

  /**
   * Stops the session: NOTIFICATION Cease (the given one, e.g. with an RFC 9003 message), then
   * close. Resolves when every socket is closed.
   */
  async stop(notification?: NotificationMessage): Promise<void> {
    this.isStopped = true;
    const closed = this.connections.closed();
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
      const draining = drainingRoutes(this.desired, this.config.localAs === this.config.peerAs);
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
    this.isStopped = true;
    const closed = this.connections.closed();
    this.timers.clear();
    this.output.cancelWake();
    // Forgotten first, so their close feeds the FSM nothing (it would reconnect or send Cease).
    this.connections.finishAll();
    await closed;
    this.deps.metrics?.untrack(this.peer);
  }

  /**
   * Drops every connection without a NOTIFICATION, as a crash would: with graceful restart
   * negotiated the peer keeps our routes until we are back with End-of-RIB (RFC 4724 §4.2).
   */
  abort(): void {
    this.isStopped = true;
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
      this.output.stop();
      const failures = before.connectRetryCounter + 1;
      this.fsm = {
        ...initialState(before.config),
        connectRetryCounter: failures,
        nextConnection: before.nextConnection,
        rng: before.rng,
      };
      if (!this.isStopped) {
        this.timers.start('idleHold', backoffMs(before.config, failures - 1, (before.rng >>> 0) / 2 ** 32));
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

  /** Destroys every connection and clears every timer. */
  private dropEverything(): void {
    this.timers.clear();
    this.output.cancelWake();
    this.connections.destroyAll();
  }

  private perform(action: FsmAction): void {
    switch (action.type) {
      case 'connect':
        this.connections.connect(action.conn);
        return;
      case 'send':
        this.connections.send(action.conn, action.message);
        return;
      case 'close':
        this.connections.close(action.conn);
        return;
      case 'startTimer':
        this.timers.start(action.timer, action.ms);
        return;
      case 'stopTimer':
        this.timers.stop(action.timer);
        return;
      case 'setContext':
        this.connections.setContext(action.conn, action.negotiated.context);
        return;
      case 'established':
        this.output.start(action.conn, action.negotiated);
        return;
      case 'down':
        this.log.warn(
          { reason: action.reason, ...(this.resetCause ? { cause: this.resetCause } : {}) },
          'BGP session down',
        );
        this.output.stop();
        return;
      case 'routeRefresh':
        this.output.routeRefresh(action);
        return;
      case 'update':
        if (action.message.type === 'update') this.receivedUpdates.received(action.message, Date.now());
        return;
    }
  }
}
