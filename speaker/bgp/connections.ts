import * as net from 'node:net';
import { isIPv4, isIPv6, type Socket } from 'node:net';
import type { Logger } from '../../shared/log/logger.ts';
import {
  BgpFramer,
  type BgpMessage,
  BgpMessageError,
  CeaseSubcode,
  type CodecContext,
  DEFAULT_CONTEXT,
  ErrorCode,
  encodeMessage,
  Limits,
  maxMessageLength,
  type NotificationMessage,
  shutdownMessage,
} from './codec/index.ts';
import { ConnectionWriter } from './connection-writer.ts';
import { type ConnectionId, type FsmEvent, tcpLivenessFor } from './fsm/index.ts';
import type { SessionResetCause } from './metrics.ts';
import { DEFAULT_OUTPUT_BUDGET_BYTES, type PeerConfig, type SessionDeps, ttlFor } from './peer-config.ts';
import { socketFd } from './socket-options.ts';

/** RFC 9687 §3: NOTIFICATION error code Send Hold Timer Expired. */
const SEND_HOLD_TIMER_EXPIRED = 8;

/** One TCP connection of a session: its socket, the framer of its input, the writer of its output. */
export interface Connection {
  readonly socket: Socket;
  readonly framer: BgpFramer;
  readonly writer: ConnectionWriter;
  context: CodecContext;
}

/** What the connections need from their session. */
export interface ConnectionHooks {
  /** Feeds an event to the FSM. */
  readonly dispatch: (event: FsmEvent) => void;
  /** Runs a socket or timer callback so that a throw resets the session instead of escaping. */
  readonly guard: (what: string, fn: () => void) => void;
  /** The output of `conn` is idle: pending UPDATEs may be produced. */
  readonly onIdle: (conn: ConnectionId) => void;
  /** Ends the session for a cause the shell detected, with its NOTIFICATION. */
  readonly reset: (cause: SessionResetCause, notification: NotificationMessage, details: object) => void;
  /** Whether `conn` is the Established connection. */
  readonly isEstablished: (conn: ConnectionId) => boolean;
  /** The hold time proposed in our OPEN (TCP liveness before negotiation). */
  readonly proposedHoldTimeSec: () => number;
}

/** Strips the IPv4-mapped prefix Node reports on dual-stack sockets. */
export function plainAddress(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
}

/** Cease with a subcode and no data. */
export function cease(subcode: number): NotificationMessage {
  return { type: 'notification', code: ErrorCode.Cease, subcode, data: new Uint8Array(0) };
}

/**
 * The transport of one session (the I/O shell): opens and accepts TCP connections, frames and
 * decodes what arrives into FSM events, encodes and writes what the FSM sends within the output
 * budget, and sets the sockets' MD5, TTL and liveness options.
 */
export class Connections {
  private readonly config: PeerConfig;
  private readonly deps: SessionDeps;
  private readonly log: Logger;
  private readonly hooks: ConnectionHooks;
  private readonly open = new Map<ConnectionId, Connection>();
  private incomingCount = 0;
  private livenessWarned = false;

  constructor(config: PeerConfig, deps: SessionDeps, log: Logger, hooks: ConnectionHooks) {
    this.config = config;
    this.deps = deps;
    this.log = log;
    this.hooks = hooks;
  }

  get(conn: ConnectionId): Connection | undefined {
    return this.open.get(conn);
  }

  has(conn: ConnectionId): boolean {
    return this.open.has(conn);
  }

  /** Octets of output the session may hold for the peer. */
  get budgetBytes(): number {
    return this.config.outputBudgetBytes ?? DEFAULT_OUTPUT_BUDGET_BYTES;
  }

  /** Takes an accepted TCP connection from the peer; returns its id. */
  accept(socket: Socket): ConnectionId {
    const conn = `in#${++this.incomingCount}`;
    this.attach(conn, socket);
    this.hooks.guard('accepted connection', () =>
      this.applyLiveness(socket, this.hooks.proposedHoldTimeSec()),
    );
    return conn;
  }

  /** Opens a connection to the peer (through the native addon when it is there, for MD5 and TTL). */
  connect(conn: ConnectionId): void {
    this.deps.metrics?.connectionAttempts.inc({ peer: this.config.peerAddress });
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
      setImmediate(() => this.hooks.dispatch({ type: 'TcpConnectionFails', conn }));
      return;
    }
    this.attach(conn, socket);
    const timeout = setTimeout(() => {
      this.log.debug('connect timed out');
      socket.destroy();
    }, this.config.connectTimeMs ?? 5_000);
    socket.once('connect', () => {
      clearTimeout(timeout);
      this.hooks.guard('connected', () => {
        socket.setNoDelay(true);
        this.applyLiveness(socket, this.hooks.proposedHoldTimeSec());
      });
      this.hooks.dispatch({ type: 'TcpCRAcked', conn });
    });
    socket.once('close', () => clearTimeout(timeout));
  }

  /**
   * Sends an FSM message. A NOTIFICATION goes past what is queued (the connection closes next),
   * its data cut by the codec to the connection's maximum (RFC 7313 §5 and RFC 4271 §6 copy whole
   * messages into it); a KEEPALIVE is skipped while output is waiting (it would only queue
   * behind it); the rest is queued within the output budget.
   */
  send(conn: ConnectionId, message: BgpMessage): void {
    const c = this.open.get(conn);
    if (!c || c.socket.destroyed) return;
    if (message.type === 'keepalive' && c.writer.busy) return;
    const m = this.deps.metrics;
    const peer = this.config.peerAddress;
    m?.messagesSent.inc({ peer, type: message.type });
    if (message.type === 'notification') {
      const room = maxMessageLength(c.context) - Limits.MinNotificationLength;
      m?.notificationsSent.inc({ peer, code: message.code, subcode: message.subcode });
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
    if (!c.writer.enqueue([encodeMessage(message, c.context)])) {
      this.hooks.reset('output-budget', cease(CeaseSubcode.OutOfResources), {
        outputBytes: c.writer.outstandingBytes,
        budgetBytes: this.budgetBytes,
      });
    }
  }

  /** The codec context negotiated on `conn` (capabilities of both OPENs). */
  setContext(conn: ConnectionId, context: CodecContext): void {
    const c = this.open.get(conn);
    if (c) {
      c.context = context;
      c.framer.setContext(context);
    }
  }

  /** Closes a connection once its output is written; its close feeds the FSM nothing. */
  close(conn: ConnectionId): void {
    const c = this.open.get(conn);
    if (!c) return;
    this.open.delete(conn);
    c.writer.finish();
  }

  /** Closes every connection once its output is written, forgotten first so nothing reaches the FSM. */
  finishAll(): void {
    const connections = [...this.open.values()];
    this.open.clear();
    for (const c of connections) c.writer.finish();
  }

  /** Destroys every connection at once. */
  destroyAll(): void {
    for (const c of this.open.values()) {
      c.writer.dispose();
      c.socket.destroy();
    }
    this.open.clear();
  }

  /** Resolves when every socket open now has closed. */
  closed(): Promise<unknown> {
    return Promise.all(
      [...this.open.values()].map(
        (c) =>
          new Promise<void>((resolve) =>
            c.socket.closed ? resolve() : c.socket.once('close', () => resolve()),
          ),
      ),
    );
  }

  /**
   * TCP keepalive and TCP_USER_TIMEOUT from the hold time (proposed before OPEN, negotiated
   * after): through the native addon when built, else the keepalive alone as node:net sets it.
   */
  applyLiveness(socket: Socket, holdTimeSec: number): void {
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
  kernelQueueReader(socket: Socket): (() => number) | undefined {
    const options = this.deps.socketOptions;
    const fd = socketFd(socket);
    if (!options || fd === undefined) return undefined;
    return () => (socket.destroyed ? 0 : options.queuedBytes(fd));
  }

  private attach(conn: ConnectionId, socket: Socket): void {
    const { hooks } = this;
    const framer = new BgpFramer(DEFAULT_CONTEXT);
    const writer = new ConnectionWriter(socket, {
      budgetBytes: this.budgetBytes,
      onIdle: () => hooks.onIdle(conn),
      onSendHoldExpired: () =>
        hooks.reset(
          'send-hold-timer',
          { type: 'notification', code: SEND_HOLD_TIMER_EXPIRED, subcode: 0, data: new Uint8Array(0) },
          { outputBytes: writer.outstandingBytes },
        ),
      guard: hooks.guard,
    });
    this.open.set(conn, { socket, framer, writer, context: DEFAULT_CONTEXT });
    socket.on('data', (chunk: Buffer) =>
      hooks.guard('received data', () => this.onData(conn, framer, chunk)),
    );
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ETIMEDOUT' && hooks.isEstablished(conn)) {
        // The kernel gave up (TCP_USER_TIMEOUT or keepalive): the peer acknowledged nothing.
        this.deps.metrics?.sessionResets.inc({ peer: this.config.peerAddress, cause: 'tcp-timeout' });
        this.log.warn({ cause: 'tcp-timeout', err: error }, 'BGP connection timed out in the kernel');
      } else {
        this.log.debug({ err: error, conn }, 'socket error');
      }
    });
    socket.on('close', () =>
      hooks.guard('connection closed', () => {
        writer.dispose();
        if (this.open.delete(conn)) hooks.dispatch({ type: 'TcpConnectionFails', conn });
      }),
    );
  }

  /** Frames and decodes a chunk; a malformed message gets its NOTIFICATION (RFC 4271 §6). */
  private onData(conn: ConnectionId, framer: BgpFramer, chunk: Uint8Array): void {
    if (!this.open.has(conn)) return;
    try {
      for (const message of framer.push(chunk)) {
        this.countReceived(message);
        this.hooks.dispatch({ type: 'Message', conn, message });
        if (!this.open.has(conn)) break;
      }
    } catch (error) {
      if (!(error instanceof BgpMessageError)) throw error;
      this.deps.metrics?.sessionResets.inc({ peer: this.config.peerAddress, cause: 'malformed-message' });
      this.log.warn({ code: error.code, subcode: error.subcode, error: error.message }, 'malformed message');
      this.hooks.dispatch({
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
    const peer = this.config.peerAddress;
    m.messagesReceived.inc({ peer, type: message.type });
    if (message.type === 'notification') {
      m.notificationsReceived.inc({ peer, code: message.code, subcode: message.subcode });
      const text = shutdownMessage(message);
      this.log.warn(
        { code: message.code, subcode: message.subcode, ...(text ? { message: text } : {}) },
        'NOTIFICATION received',
      );
    }
  }
}
