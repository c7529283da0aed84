import { createSocket, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  type Destination,
  type LocalSocket,
  type MembershipPeer,
  resolvePeers,
  type SourceTable,
  sourceTable,
} from '../peers/peers.ts';
import { DEFAULT_MEMBERSHIP_PORT, type MembershipConfigInput, membershipConfig } from '../protocol/config.ts';
import { FloodGuard, OTHER_SOURCES, type Sampling } from '../protocol/flood-guard.ts';
import {
  aliveMembers,
  initialState,
  type LanPath,
  type MembershipEvent,
  type MembershipState,
  type Now,
  type PeerHoldings,
  peerHoldings,
  restartingPeers,
  step,
} from '../protocol/protocol.ts';
import { Screen, type Source } from '../protocol/screen.ts';
import {
  filterSources,
  floodKey,
  membershipSocketFilter,
  PASS_EVERYTHING,
} from '../protocol/socket-filter.ts';
import { KernelFilter } from './kernel-filter.ts';
import type { LanPort } from './lan-port.ts';
import { type MembershipMetrics, noMembershipMetrics } from './metrics.ts';
import { NodeProbes } from './node-probes.ts';
import { RejectCounter, type RejectCounts } from './reject-counts.ts';

/** How often dropped-datagram counts go to the metrics (one batch, however many were dropped). */
const REJECT_FLUSH_MS = 1000;
/** At most one warning this often about datagrams from addresses of no peer. */
const UNKNOWN_SOURCE_LOG_MS = 60_000;
/** Room in the kernel for datagrams that arrive while the thread is busy (capped by net.core.rmem_max). */
const RECEIVE_BUFFER_BYTES = 1 << 20;
/**
 * Under a flood, the kernel passes one in so many of a flooding source's other datagrams: at
 * least 64, more for a larger flood, so that 16-64 a second of each flooding source still reach
 * the screen (more than its budgeted lane takes: ../protocol/flood-guard.ts says why that is enough).
 */
const SAMPLING: Sampling = { minOneIn: 64, maxOneIn: 4096, targetPerSecond: 32 };
/** A source the screen drops more than this many datagrams a second from is flooding... */
const FLOOD_THRESHOLD_PER_SECOND = 500;
/** ...and stays sampled this long after its last flooding second. */
const FLOOD_HOLD_MS = 10_000;

export type { MembershipPeer };

export interface UdpMembershipOptions extends MembershipConfigInput {
  /** Default `::` (IPv4 and IPv6 on a dual-stack host); an IPv4 address gives an IPv4-only socket. */
  readonly bindAddress?: string;
  /** Default 7951; 0 picks a free port (tests). */
  readonly port?: number;
  readonly peers: readonly MembershipPeer[];
  readonly metrics?: MembershipMetrics;
  readonly logger?: MembershipLogger;
  /** The LAN path's wire (the L2 worker on the same thread); without it there is no LAN path. */
  readonly lan?: LanPort;
  /** Ours must grow across restarts; default the wall clock in ms at start. */
  readonly incarnation?: bigint;
}

/** What the daemon listens to. `alive` lists node names, sorted, this node included. */
export interface UdpMembershipEvents {
  'alive-changed': [alive: readonly string[]];
  settled: [alive: readonly string[]];
  /**
   * What the alive peers say they answer for in L2 changed, or what is kept for the peers
   * restarting in place (`restarting`, sorted names), before the alive-changed it may go with.
   */
  'holdings-changed': [holdings: PeerHoldings, restarting: readonly string[]];
  /** What the peers say this node held before it restarted in place changed. */
  resumed: [holdings: readonly string[]];
  'peer-restarting': [name: string, holdMs: number];
  'peer-failed': [name: string, silentForMs: number];
  'peer-left': [name: string];
  'peer-joined': [name: string];
  /** Only from WorkerMembership, when its Worker dies; unhandled, it throws (the speaker restarts). */
  error: [error: Error];
}

/** The part of a pino logger membership uses (a pino Logger fits). */
export interface MembershipLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

/** Membership as the speaker uses it, on its own thread or in a Worker (worker-membership.ts). */
export interface Membership extends EventEmitter<UdpMembershipEvents> {
  /** The bound UDP port. */
  readonly port: number;
  /** Whether every peer was heard from or the startup grace passed: before, `alive()` is incomplete. */
  readonly settled: boolean;
  /** Alive node names, sorted, this node included. */
  alive(): readonly string[];
  /**
   * The L2 IPs the alive peers say they answer for, and those kept for the peers restarting in
   * place (peer name -> IPs; peers holding none left out).
   */
  holdings(): PeerHoldings;
  /** Peers restarting in place, sorted: not alive, their IPs kept for them. */
  restarting(): readonly string[];
  /** The L2 IPs this node held before it restarted in place, as its peers say (Resume). */
  resumed(): readonly string[];
  /** The L2 IPs this node answers for now (canonical text, at most MAX_HOLDINGS): told to the peers. */
  setHoldings(holdings: readonly string[]): void;
  /** Replaces the peer list; returns the entries skipped, with the reason. */
  setPeers(peers: readonly MembershipPeer[]): string[];
  /** Datagrams dropped since start, by reason (from the network thread: as of its last report). */
  rejected(): RejectCounts;
  /** Tells the peers this node is leaving (graceful handover), then stops. */
  leave(): Promise<void>;
  /** Tells the peers this node restarts in place (keep its IPs up to `holdMs`), then stops. */
  restart(holdMs: number): Promise<void>;
  /** Stops without a goodbye: to the peers this looks like a crash. */
  close(): Promise<void>;
}

/** Binding the membership socket failed (port in use, address not on this host). */
export class MembershipBindError extends Error {
  /** The errno code, e.g. EADDRINUSE, EADDRNOTAVAIL. */
  readonly code: string;
  readonly address: string;
  readonly port: number;
  constructor(address: string, port: number, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException)?.code ?? String(cause);
    const where = address.includes(':') ? `[${address}]` : address;
    super(`membership: cannot bind UDP ${where}:${port}: ${code}`, { cause });
    this.name = 'MembershipBindError';
    this.code = code;
    this.address = address;
    this.port = port;
  }
}

/**
 * The membership protocol on a UDP socket: feeds datagrams and timer ticks into the pure
 * core (../protocol/protocol.ts), sends what it asks, and turns its actions into events and metrics.
 */
export class UdpMembership extends EventEmitter<UdpMembershipEvents> implements Membership {
  private state: MembershipState;
  private readonly socket: Socket;
  private readonly timer: NodeJS.Timeout;
  private readonly flushTimer: NodeJS.Timeout;
  private readonly screen: Screen;
  private readonly rejects = new RejectCounter();
  /** Counts drops per source for the kernel filter (the screen alone without one). */
  private guard = new FloodGuard(FLOOD_THRESHOLD_PER_SECOND, FLOOD_HOLD_MS);
  /** The kernel's first screen, when the addon and Node allow one (io/kernel-filter.ts). */
  private kernelFilter: KernelFilter | undefined;
  private sources: SourceTable = new Map();
  /** Sources the kernel samples now (flood-guard keys) → the share it passes of each. */
  private sampled: ReadonlyMap<string, number> = new Map();
  /** An address of no peer seen since the last warning about them, and when that was. */
  private unknownSource: string | undefined;
  private unknownSourceLoggedAt = Number.NEGATIVE_INFINITY;
  private destinations = new Map<string, Destination>(); // node name -> where to send
  private readonly metrics: MembershipMetrics;
  private readonly logger: UdpMembershipOptions['logger'];
  private readonly lan: LanPort | undefined;
  /** Read once: `socket.address()` throws after close. */
  private readonly local: LocalSocket;
  /** Heartbeats to restarting peers go out here, so that their nodes' refusals are heard. */
  private readonly probes: NodeProbes;
  private closed = false;

  private constructor(socket: Socket, state: MembershipState, options: UdpMembershipOptions) {
    super();
    this.socket = socket;
    this.state = state;
    this.metrics = options.metrics ?? noMembershipMetrics;
    this.logger = options.logger;
    const bound = socket.address();
    this.local = {
      nodeName: state.config.nodeName,
      port: bound.port,
      family: bound.family === 'IPv4' ? 'IPv4' : 'IPv6',
      dualStack: bound.address === '::',
    };
    this.screen = new Screen(state.config.nodeName, state.config.maxClockSkewMs);
    const filter = KernelFilter.of(socket);
    if (typeof filter === 'string') {
      this.logger?.info({ reason: filter }, 'membership: no kernel filter; floods are dropped on the thread');
    } else {
      this.kernelFilter = filter;
      this.guard = new FloodGuard(FLOOD_THRESHOLD_PER_SECOND, FLOOD_HOLD_MS, SAMPLING);
    }
    this.probes = new NodeProbes((name) => this.handle({ type: 'node-alive', name }));
    this.lan = options.lan;
    this.lan?.listen({
      frame: (iface, mac, payload) => this.receive(payload, { kind: 'lan' }, { interface: iface, mac }),
      conflict: (iface, _ip, mac) => this.handle({ type: 'lan-conflict', interface: iface, mac }),
    });
    socket.on('message', (bytes, from) =>
      this.receive(bytes, { kind: 'udp', address: from.address, port: from.port }),
    );
    socket.on('error', (error) => this.logger?.warn({ err: error }, 'membership socket error'));
    this.timer = setInterval(() => this.handle({ type: 'tick' }), state.config.tickMs);
    this.flushTimer = setInterval(() => this.flushRejects(), REJECT_FLUSH_MS);
    this.flushTimer.unref();
  }

  /** Binds the socket and starts heartbeating. Throws MembershipConfigError or MembershipBindError. */
  static async start(options: UdpMembershipOptions): Promise<UdpMembership> {
    const config = membershipConfig(options);
    const bindAddress = options.bindAddress ?? '::';
    const port = options.port ?? DEFAULT_MEMBERSHIP_PORT;
    const socket = createSocket({
      type: isIP(bindAddress) === 4 ? 'udp4' : 'udp6',
      reuseAddr: false,
      recvBufferSize: RECEIVE_BUFFER_BYTES,
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', (error) => reject(new MembershipBindError(bindAddress, port, error)));
      socket.bind({ address: bindAddress, port, exclusive: true }, () => resolve());
    }).catch((error: unknown) => {
      socket.close();
      throw error;
    });
    socket.removeAllListeners('error');
    const incarnation = options.incarnation ?? BigInt(Date.now());
    const membership = new UdpMembership(socket, initialState(config, incarnation, [], now()), options);
    membership.setPeers(options.peers);
    membership.handle({ type: 'tick' });
    return membership;
  }

  /** The bound port (useful with port 0). */
  get port(): number {
    return this.local.port;
  }

  /** Alive node names, sorted, this node included. */
  alive(): readonly string[] {
    return aliveMembers(this.state);
  }

  /** Whether every peer was heard from or the startup grace passed: before, `alive()` is incomplete. */
  get settled(): boolean {
    return this.state.settled;
  }

  holdings(): PeerHoldings {
    return peerHoldings(this.state);
  }

  setHoldings(holdings: readonly string[]): void {
    this.handle({ type: 'set-holdings', holdings });
  }

  restarting(): readonly string[] {
    return restartingPeers(this.state);
  }

  resumed(): readonly string[] {
    return this.state.resumed;
  }

  /**
   * Replaces the peer list (from the API: the speaker Pods or Nodes). Entries with a bad
   * address or port are skipped and returned, so one broken object cannot stop membership.
   */
  setPeers(peers: readonly MembershipPeer[]): string[] {
    const { destinations, problems } = resolvePeers(peers, this.localSocket());
    for (const problem of problems) this.logger?.warn({ problem }, 'membership: peer skipped');
    this.destinations = destinations;
    this.sources = sourceTable(peers, this.localSocket());
    this.screen.setSources(this.sources);
    this.updateKernelFilter();
    this.handle({ type: 'set-peers', names: [...destinations.keys()] });
    this.probes.follow(restartingPeers(this.state), this.destinations);
    return problems;
  }

  /** What peer resolution needs to know of the bound socket. */
  localSocket(): LocalSocket {
    return this.local;
  }

  /** Tells the peers this node is leaving (graceful handover), then closes. */
  async leave(): Promise<void> {
    if (this.closed) return;
    const sends = this.handle({ type: 'leave' });
    await Promise.all(sends);
    await this.close();
  }

  /** Tells the peers this node restarts in place (they keep its IPs up to `holdMs`), then closes. */
  async restart(holdMs: number): Promise<void> {
    if (this.closed) return;
    await Promise.all(this.handle({ type: 'restart', holdMs }));
    await this.close();
  }

  /** Datagrams dropped since start, by reason. */
  rejected(): RejectCounts {
    return this.rejects.totals();
  }

  /** Stops without a goodbye: to the peers this looks like a crash. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    clearInterval(this.flushTimer);
    this.flushRejects();
    this.lan?.listen(undefined);
    this.lan?.pin([]);
    this.probes.close();
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }

  /** One datagram or LAN frame: screened before any cryptography, counted when dropped. */
  private receive(bytes: Uint8Array, from: Source, lan?: LanPath): void {
    if (this.closed) return;
    const verdict = this.screen.check(bytes, from, this.state.peers, now());
    if (verdict.admit) {
      this.handle(lan ? { type: 'datagram', bytes, lan } : { type: 'datagram', bytes });
      return;
    }
    this.rejects.add(verdict.reason);
    if (from.kind !== 'udp') return;
    if (verdict.reason === 'unknown-source') this.unknownSource = from.address;
    if (this.guard.dropped(floodKey(this.sources, from.address))) this.flushRejects();
  }

  /** The kernel filter for the current sources, incarnations and floods (installed only when it changed). */
  private updateKernelFilter(): void {
    if (!this.kernelFilter) return;
    const { sources, others, othersOneIn } = filterSources(this.sources, this.state.peers, this.sampled);
    const program =
      this.sampled.size === 0 ? undefined : membershipSocketFilter(sources, others, othersOneIn);
    try {
      // Nothing sampled (or too many sources for one program): pass everything to the screen.
      this.kernelFilter.apply(program ?? PASS_EVERYTHING);
    } catch (error) {
      this.logger?.warn(
        { err: error },
        'membership: the kernel refused the filter; floods are dropped on the thread',
      );
      this.kernelFilter = undefined;
      this.guard = new FloodGuard(FLOOD_THRESHOLD_PER_SECOND, FLOOD_HOLD_MS);
    }
  }

  private flushRejects(): void {
    const batch = this.rejects.sinceLastFlush();
    if (batch) this.metrics.messagesRejected(batch);
    const nowMs = performance.now();
    const { sampled, changed, rates, oneIn } = this.guard.flush(nowMs);
    if (changed) {
      const before = this.sampled;
      this.sampled = oneIn;
      this.metrics.floodedSources(sampled.length);
      for (const source of sampled) {
        const share = oneIn.get(source);
        if (before.get(source) === share) continue;
        const where = {
          source: source === OTHER_SOURCES ? 'addresses of no peer' : source,
          droppedPerSecond: rates.get(source),
        };
        if (before.has(source))
          this.logger?.info(
            where,
            `membership: the flood's rate changed; the kernel now passes 1 in ${share}`,
          );
        else
          this.logger?.warn(
            where,
            `membership: flood; the kernel now passes only the current incarnation of its speaker and 1 in ${share} of the rest`,
          );
      }
      for (const source of before.keys()) {
        if (!this.sampled.has(source)) this.logger?.info({ source }, 'membership: flood over');
      }
    }
    this.updateKernelFilter();
    if (this.unknownSource !== undefined && nowMs - this.unknownSourceLoggedAt >= UNKNOWN_SOURCE_LOG_MS) {
      this.logger?.warn(
        { source: this.unknownSource, dropped: this.rejects.totals()['unknown-source'] },
        "membership: dropping datagrams from an address that is no speaker's (a node sending from an address " +
          'not in its Pod or Node status? bind membership to the node address with --membership-bind-address)',
      );
      this.unknownSourceLoggedAt = nowMs;
      this.unknownSource = undefined;
    }
  }

  private handle(event: MembershipEvent): Promise<void>[] {
    if (this.closed) return [];
    const result = step(this.state, event, now());
    this.state = result.state;
    // Before the sends of this step: a peer back from its restart hears us on the port again.
    if (result.actions.some((a) => a.type === 'holdings-changed')) {
      this.probes.follow(restartingPeers(this.state), this.destinations);
    }
    const sends: Promise<void>[] = [];
    for (const action of result.actions) {
      switch (action.type) {
        case 'broadcast':
          for (const [name, to] of this.destinations) {
            if (!this.probes.send(name, action.bytes)) sends.push(this.send(name, to, action.bytes));
          }
          break;
        case 'alive-changed':
          this.metrics.aliveMembers(action.alive.length);
          this.emit('alive-changed', action.alive);
          break;
        case 'settled':
          this.metrics.aliveMembers(action.alive.length);
          this.emit('settled', action.alive);
          break;
        case 'holdings-changed':
          this.emit('holdings-changed', action.holdings, action.restarting);
          break;
        case 'resumed':
          this.logger?.info(
            { ips: action.holdings },
            'membership: the peers say we held these L2 IPs before our restart',
          );
          this.emit('resumed', action.holdings);
          break;
        case 'peer-restarting':
          this.logger?.info(
            { peer: action.name, holdMs: action.holdMs },
            'membership: peer restarts in place; keeping its L2 IPs for it',
          );
          this.emit('peer-restarting', action.name, action.holdMs);
          break;
        case 'peer-failed':
          this.metrics.failureDetected(action.name);
          this.logger?.warn(
            {
              peer: action.name,
              silentForMs: action.silentForMs,
              ...(action.cause ? { cause: action.cause } : {}),
            },
            'membership: peer failed',
          );
          this.emit('peer-failed', action.name, action.silentForMs);
          break;
        case 'peer-left':
          this.logger?.info({ peer: action.name }, 'membership: peer left');
          this.emit('peer-left', action.name);
          break;
        case 'peer-joined':
          this.logger?.info(
            { peer: action.name, incarnation: String(action.incarnation) },
            'membership: peer alive',
          );
          this.emit('peer-joined', action.name);
          break;
        case 'rejected':
          this.rejects.add(action.reason);
          break;
        case 'lan-send':
          this.lan?.send(action.path, action.bytes);
          break;
        case 'lan-broadcast':
          this.lan?.broadcast(action.bytes);
          break;
        case 'lan-interfaces':
          this.lan?.pin(action.interfaces);
          break;
        case 'lan-only':
          this.metrics.lanOnlyPeers(this.state.lanOnly.length);
          if (action.path) {
            this.logger?.warn(
              { peer: action.name, interface: action.path.interface, mac: action.path.mac },
              'membership: peer heard only on the LAN path; membership datagrams between us are dropped ' +
                '(a firewall rule on the membership port, or a wrong interface or address?)',
            );
          } else {
            this.logger?.info({ peer: action.name }, 'membership: peer heard on the membership port again');
          }
          break;
      }
    }
    return sends;
  }

  private send(name: string, to: Destination, bytes: Uint8Array): Promise<void> {
    return new Promise((resolve) => {
      // An unreachable peer (link cut, node gone) is what membership is there to notice:
      // a failed send is logged at debug level, never thrown.
      const done = (error: unknown) => {
        if (error) this.logger?.debug({ peer: name, err: error }, 'membership: send failed');
        resolve();
      };
      try {
        this.socket.send(bytes, to.port, to.address, done);
      } catch (error) {
        done(error);
      }
    });
  }
}

function now(): Now {
  return { monoMs: performance.now(), wallMs: Date.now() };
}
