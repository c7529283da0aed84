import {
  type DropReason,
  diagName,
  encodeControlPacket,
  type HopPolicy,
  receiveControlPacket,
} from '../codec/index.ts';
import {
  type BfdAction,
  type BfdEvent,
  type BfdState,
  detectionTimeUs,
  startSession,
  step,
  transmitIntervalUs,
} from '../fsm/index.ts';
import { type BfdTransition, clientSignal } from './client.ts';
import { capPeerIntervals, timerDelayMs } from './limits.ts';
import {
  type BfdSessionSpec,
  type CheckedSpec,
  checkSpec,
  hopPolicy,
  sameSession,
  timersChanged,
} from './spec.ts';
import {
  type BfdSessionStatus,
  type BfdSnapshot,
  countDrop,
  type DropCounts,
  type EngineDropReason,
} from './status.ts';
import { allocateDiscriminator, SessionTable } from './table.ts';

/** A session's sending socket: source port in 49152-65535, TTL 255, connected to the peer. */
export interface BfdSender {
  send(bytes: Uint8Array): void;
  close(): void;
}

/** A receiving socket on one local address and port (3784 or 4784). */
export interface BfdReceiver {
  close(): void;
}

/** A received datagram: its payload, TTL / hop limit, and sender address. */
export type OnDatagram = (payload: Uint8Array, ttl: number, from: string) => void;

/** What the engine does through the world: sockets, clock, timers, randomness (speaker/bfd/io). */
export interface BfdEngineIo {
  /**
   * Opens the sending socket of a session; returns it with the local address the route to the
   * peer chose (or the session's own). Throws an error with a `code` (ENETUNREACH, ...).
   */
  openSender(spec: CheckedSpec): { readonly sender: BfdSender; readonly localAddress: string };
  /** Opens a receiving socket on `localAddress` at the port of the kind. Throws like openSender. */
  openReceiver(family: 4 | 6, localAddress: string, multihop: boolean, onDatagram: OnDatagram): BfdReceiver;
  /** Monotonic ms. */
  nowMs(): number;
  /** Wall clock ms since the epoch (status only). */
  wallMs(): number;
  /** [0, 1) */
  random(): number;
  setTimer(callback: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

/** The part of a logger the engine uses (pino's Logger fits). */
export interface BfdLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface BfdEngineOptions {
  readonly io: BfdEngineIo;
  readonly logger?: BfdLogger;
  /** Every state change of every session, in order. */
  readonly onTransition?: (transition: BfdTransition) => void;
}

/** A session while it runs: its table entry, FSM state, sockets, timers and counters. */
interface Running {
  spec: CheckedSpec;
  readonly localDiscriminator: number;
  readonly peerAddress: string;
  localAddress: string | undefined;
  hop: HopPolicy;
  state: BfdState;
  sender: BfdSender | undefined;
  /** Key of the shared receiver it holds, once open. */
  receiver: string | undefined;
  /** The session's armed timers: handles of io.setTimer */
  readonly timers: { tx?: unknown; detect?: unknown; retry?: unknown };
  problem: string | undefined;
  sinceMs: number;
  transitions: number;
  downs: number;
  sent: number;
  received: number;
  readonly dropped: DropCounts;
  sendErrors: number;
}

/** How long a session waits before it tries again to open a socket it could not. */
export const REOPEN_DELAY_MS = 1000;

/** At most one log line about internal errors this often (a bug hit by every packet must not flood the log). */
const ERROR_LOG_INTERVAL_MS = 10_000;

/**
 * BFD sessions (RFC 5880 asynchronous mode over RFC 5881 single hop and RFC 5883 multihop) on
 * whatever thread creates it: the speaker runs it on its network thread (speaker/bfd/io), so a
 * busy main thread delays neither our packets nor the detection of a silent peer. The engine
 * keeps the rules that join the pure parts to the sockets:
 * - sessions exist only as setSessions() asks; a packet never creates one, so the state held is
 *   bounded by the configuration whatever arrives;
 * - a received datagram passes the §6.8.6 checks, must come from the session's peer to our
 *   address of it on the session's port, and must carry its TTL (GTSM: 255 single hop, at least
 *   minimumTtl multihop); otherwise it is counted by reason and dropped;
 * - the peer's intervals are capped (limits.ts) and timers are armed in whole ms, rounded up;
 * - a session that cannot open its sockets (no route yet, address not configured) keeps its
 *   state machine running and tries again every second;
 * - a removed session goes AdminDown and says so in one last packet (§6.8.16), so the peer does
 *   not take it for a failure;
 * - a fault while handling a datagram or timer drops that input and is counted; nothing a
 *   peer sends can end the thread.
 */
export class BfdEngine {
  readonly #io: BfdEngineIo;
  readonly #log: BfdLogger | undefined;
  readonly #onTransition: ((t: BfdTransition) => void) | undefined;
  /** key → session */
  readonly #sessions = new Map<string, Running>();
  readonly #table = new SessionTable<Running>();
  /** `family|address|kind` → shared receiving socket and its number of sessions */
  readonly #receivers = new Map<string, { readonly receiver: BfdReceiver; users: number }>();
  /** Drops no session can be charged with. */
  readonly #dropped: DropCounts = {};
  #lastErrorLogMs = Number.NEGATIVE_INFINITY;
  #closed = false;

  constructor(options: BfdEngineOptions) {
    this.#io = options.io;
    this.#log = options.logger;
    this.#onTransition = options.onTransition;
  }

  /**
   * Makes the running sessions those of `specs`: new keys start, removed keys go AdminDown and
   * end, a key whose peer, local address or kind changed starts over, and a key whose timers or
   * role changed takes them through a Poll Sequence (RFC 5880 §6.5) without going down. Invalid
   * specs are skipped; returns their problems.
   */
  setSessions(specs: readonly BfdSessionSpec[]): string[] {
    const problems: string[] = [];
    const desired = new Map<string, CheckedSpec>(); // key -> checked spec
    for (const spec of specs) {
      const checked = checkSpec(spec);
      if ('problems' in checked) problems.push(...checked.problems);
      else if (desired.has(checked.spec.key)) problems.push(`BFD session "${spec.key}": key given twice`);
      else desired.set(checked.spec.key, checked.spec);
    }
    if (this.#closed) return problems;
    for (const [key, running] of this.#sessions) {
      const next = desired.get(key);
      if (!next || !sameSession(running.spec, next)) this.#remove(running);
    }
    for (const spec of desired.values()) {
      const running = this.#sessions.get(spec.key);
      if (!running) this.#start(spec);
      else this.#reconfigure(running, spec);
    }
    return problems;
  }

  /** The sessions and the drops no session is charged with. */
  snapshot(): BfdSnapshot {
    const sessions = [...this.#sessions.values()]
      .sort((a, b) => (a.spec.key < b.spec.key ? -1 : a.spec.key > b.spec.key ? 1 : 0))
      .map((s) => status(s));
    return { sessions, dropped: { ...this.#dropped } };
  }

  /** Every session goes AdminDown (one last packet each) and every socket closes. */
  close(): void {
    if (this.#closed) return;
    for (const running of [...this.#sessions.values()]) this.#remove(running);
    this.#closed = true;
  }

  // ---------------------------------------------------------------------------------------------

  #start(spec: CheckedSpec): void {
    const io = this.#io;
    const localDiscriminator = allocateDiscriminator((d) => this.#table.has(d), io.random);
    const jitterSeed = Math.floor(io.random() * 0xffffffff) >>> 0;
    const { state, actions } = startSession({ ...spec.timers, localDiscriminator, jitterSeed }, io.nowMs());
    const s: Running = {
      spec,
      localDiscriminator,
      peerAddress: spec.peerAddress,
      localAddress: spec.localAddress,
      hop: hopPolicy(spec),
      state,
      sender: undefined,
      receiver: undefined,
      timers: {},
      problem: undefined,
      sinceMs: io.wallMs(),
      transitions: 0,
      downs: 0,
      sent: 0,
      received: 0,
      dropped: {},
      sendErrors: 0,
    };
    this.#sessions.set(spec.key, s);
    this.#table.add(s);
    this.#open(s);
    this.#log?.info(
      {
        bfdSession: spec.key,
        peer: spec.peerAddress,
        local: s.localAddress,
        multihop: spec.multihop,
        discriminator: localDiscriminator,
      },
      'BFD session started',
    );
    this.#perform(s, actions);
  }

  #reconfigure(s: Running, spec: CheckedSpec): void {
    const before = s.spec;
    s.spec = spec;
    s.hop = hopPolicy(spec);
    if (timersChanged(before.timers, spec.timers)) {
      this.#log?.info({ bfdSession: spec.key, timers: spec.timers }, 'BFD session timers changed');
      this.#run(s, { type: 'Reconfigure', timers: spec.timers });
    }
  }

  #remove(s: Running): void {
    const sentBefore = s.sent;
    this.#run(s, { type: 'AdminDown' });
    // The last word is AdminDown, at once (§6.8.16): the peer then does not count it a failure.
    if (s.sent === sentBefore && s.state.nextTxMs !== undefined) this.#run(s, { type: 'TxTimerExpired' });
    for (const timer of ['tx', 'detect', 'retry'] as const) this.#arm(s, timer, undefined);
    s.sender?.close();
    s.sender = undefined;
    this.#releaseReceiver(s);
    this.#table.delete(s);
    this.#sessions.delete(s.spec.key);
    this.#log?.info({ bfdSession: s.spec.key, peer: s.peerAddress }, 'BFD session removed');
  }

  /** Opens what is not open yet; on failure, says why once and tries again later. */
  #open(s: Running): void {
    s.timers.retry = undefined;
    try {
      if (!s.sender) {
        const { sender, localAddress } = this.#io.openSender(s.spec);
        s.sender = sender;
        if (localAddress !== s.localAddress) {
          this.#table.delete(s);
          s.localAddress = localAddress;
          this.#table.add(s);
        }
      }
      if (s.receiver === undefined && s.localAddress !== undefined) {
        s.receiver = this.#acquireReceiver(s.spec.family, s.localAddress, s.spec.multihop);
      }
      if (s.problem !== undefined) this.#log?.info({ bfdSession: s.spec.key }, 'BFD session sockets open');
      s.problem = undefined;
    } catch (error) {
      const problem = describeError(error);
      if (problem !== s.problem) {
        this.#log?.warn(
          { bfdSession: s.spec.key, peer: s.peerAddress, problem },
          'BFD session cannot open its sockets; trying again every second',
        );
      }
      s.problem = problem;
      this.#arm(s, 'retry', REOPEN_DELAY_MS);
    }
  }

  #acquireReceiver(family: 4 | 6, localAddress: string, multihop: boolean): string {
    const key = `${family}|${localAddress}|${multihop ? 'multihop' : 'single-hop'}`;
    const shared = this.#receivers.get(key);
    if (shared) {
      shared.users++;
      return key;
    }
    const arrival = { to: localAddress, multihop };
    const receiver = this.#io.openReceiver(family, localAddress, multihop, (payload, ttl, from) =>
      this.#receive(payload, ttl, from, arrival),
    );
    this.#receivers.set(key, { receiver, users: 1 });
    return key;
  }

  #releaseReceiver(s: Running): void {
    if (s.receiver === undefined) return;
    const shared = this.#receivers.get(s.receiver);
    s.receiver = undefined;
    if (!shared || --shared.users > 0) return;
    for (const [key, value] of this.#receivers) if (value === shared) this.#receivers.delete(key);
    shared.receiver.close();
  }

  #receive(payload: Uint8Array, ttl: number, from: string, arrival: { to: string; multihop: boolean }): void {
    let found: Running | undefined;
    try {
      const r = receiveControlPacket(
        payload,
        ttl,
        this.#table.finder({ from, ...arrival }, (entry) => {
          found = entry;
        }),
      );
      if (!r.ok) {
        this.#drop(found, r.reason);
        return;
      }
      r.session.received++;
      this.#run(r.session, { type: 'PacketReceived', packet: capPeerIntervals(r.packet) });
    } catch (error) {
      this.#drop(found, 'internal-error');
      this.#logFault(error, 'received datagram');
    }
  }

  #drop(s: Running | undefined, reason: DropReason | EngineDropReason): void {
    countDrop(s ? s.dropped : this.#dropped, reason);
  }

  /** Feeds one event to a session's state machine and carries out what it asks. */
  #run(s: Running, event: BfdEvent): void {
    const { state, actions } = step(s.state, event, this.#io.nowMs());
    s.state = state;
    this.#perform(s, actions);
  }

  #perform(s: Running, actions: readonly BfdAction[]): void {
    for (const a of actions) {
      switch (a.type) {
        case 'sendPacket':
          if (!s.sender) break;
          try {
            s.sender.send(encodeControlPacket(a.packet));
            s.sent++;
          } catch {
            // No route, link down, ICMP unreachable from an earlier packet: the peer will
            // miss it, which is what the Detection Time is for.
            s.sendErrors++;
          }
          break;
        case 'startTxTimer':
          this.#arm(s, 'tx', a.ms);
          break;
        case 'stopTxTimer':
          this.#arm(s, 'tx', undefined);
          break;
        case 'startDetectTimer':
          this.#arm(s, 'detect', a.ms);
          break;
        case 'stateChanged':
          this.#changed(s, a);
          break;
      }
    }
  }

  /** (Re)arms one of a session's timers for `ms` (rounded up), or stops it when undefined. */
  #arm(s: Running, timer: keyof Running['timers'], ms: number | undefined): void {
    const io = this.#io;
    if (s.timers[timer] !== undefined) io.clearTimer(s.timers[timer]);
    s.timers[timer] = undefined;
    if (ms === undefined) return;
    const fire =
      timer === 'retry'
        ? () => this.#open(s)
        : () => this.#timer(s, timer === 'tx' ? 'TxTimerExpired' : 'DetectTimerExpired');
    s.timers[timer] = io.setTimer(fire, timerDelayMs(ms));
  }

  #timer(s: Running, type: 'TxTimerExpired' | 'DetectTimerExpired'): void {
    s.timers[type === 'TxTimerExpired' ? 'tx' : 'detect'] = undefined;
    if (this.#sessions.get(s.spec.key) !== s) return;
    try {
      this.#run(s, { type });
    } catch (error) {
      this.#logFault(error, type);
    }
  }

  #changed(s: Running, a: Extract<BfdAction, { type: 'stateChanged' }>): void {
    const transition: BfdTransition = {
      key: s.spec.key,
      peerAddress: s.peerAddress,
      from: a.from,
      to: a.to,
      diag: a.diag,
      diagName: diagName(a.diag),
      remoteState: a.remoteState,
      atMs: this.#io.wallMs(),
    };
    s.sinceMs = transition.atMs;
    s.transitions++;
    if (clientSignal(transition) === 'down') s.downs++;
    const line = {
      bfdSession: s.spec.key,
      peer: s.peerAddress,
      from: a.from,
      to: a.to,
      diag: transition.diagName,
    };
    if (a.from === 'Up' && a.to === 'Down')
      this.#log?.warn({ ...line, remoteState: a.remoteState }, 'BFD session down');
    else this.#log?.info(line, 'BFD state change');
    this.#onTransition?.(transition);
  }

  #logFault(error: unknown, during: string): void {
    const now = this.#io.nowMs();
    if (now - this.#lastErrorLogMs < ERROR_LOG_INTERVAL_MS) return;
    this.#lastErrorLogMs = now;
    this.#log?.error({ err: error, during }, 'BFD internal error; the input was dropped');
  }
}

function status(s: Running): BfdSessionStatus {
  const st = s.state;
  return {
    key: s.spec.key,
    peerAddress: s.peerAddress,
    localAddress: s.localAddress,
    multihop: s.spec.multihop,
    state: st.sessionState,
    remoteState: st.remoteState,
    localDiag: st.localDiag,
    localDiagName: diagName(st.localDiag),
    remoteDiag: st.remoteDiag,
    localDiscriminator: s.localDiscriminator,
    remoteDiscriminator: st.remoteDiscriminator,
    transmitIntervalMs: st.nextTxMs === undefined ? 0 : transmitIntervalUs(st) / 1000,
    detectionTimeMs: detectionTimeUs(st) / 1000,
    sinceMs: s.sinceMs,
    transitions: s.transitions,
    downs: s.downs,
    packetsSent: s.sent,
    packetsReceived: s.received,
    packetsDropped: { ...s.dropped },
    sendErrors: s.sendErrors,
    problem: s.problem,
  };
}

function describeError(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown };
  return typeof e?.message === 'string' ? e.message : String(error);
}
