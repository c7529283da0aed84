/**
 * One lane: a real BgpSession of the speaker (in this process) connecting over loopback TCP to
 * the fuzzer's listener, which plays the peer. The lane takes the session through OpenSent,
 * OpenConfirm and Established again and again, sends one message at a time in each, and reads
 * what the speaker did about it: the NOTIFICATION or close on the wire, or, when the session
 * stays, the session's own counters (update errors by action, refresh outcomes).
 */
import * as net from 'node:net';
import type { Logger } from '../../shared/log/logger.ts';
import { Registry } from '../../shared/metrics/metrics.ts';
import { BgpMetrics } from '../../speaker/bgp/metrics.ts';
import { BgpSession } from '../../speaker/bgp/session.ts';
import { type GeneratedMessage, peerOpen } from './gen-open.ts';
import { nextMessage } from './gen-other.ts';
import { type LaneConfig, laneFacts } from './lanes.ts';
import { expect, expectSecondConnection, type LaneFacts, type LaneState, type Negotiated } from './oracle.ts';
import type { Poller, Waited } from './poller.ts';
import { Random } from './random.ts';
import {
  type ActionCounts,
  describeVerdict,
  type Expectation,
  KEPT_ACTIONS,
  type Verdict,
} from './verdict.ts';
import { OutputReader, type Received } from './wire.ts';

/** The speaker's reconnect backoff in a lane: short, so a reset costs little. */
export const CONNECT_RETRY_MS = 2;
export const CONNECT_RETRY_MAX_MS = 8;

/** Wall time after which a lane gives up waiting for an answer (and counts a hang). */
const GIVE_UP_MS = 10_000;

/** How often, per state, the peer opens a second connection instead of sending a message. */
const SECOND_CONNECTION: Readonly<Record<LaneState, number>> = {
  OpenSent: 0.02,
  OpenConfirm: 0.03,
  Established: 0.01,
};

/** A valid OPEN of the lane's peer (what a collision needs on the second connection). */
function validOpen(rng: Random, config: LaneConfig): GeneratedMessage {
  for (;;) {
    const open = peerOpen(rng, config, false);
    if (open.facts.kind === 'open' && open.facts.faults.length === 0 && open.bytes.length <= 4096)
      return open;
  }
}

/** One message sent (or a second connection opened) and what came of it. */
export interface Outcome {
  readonly lane: number;
  readonly state: LaneState;
  readonly label: string;
  /** What was sent (empty for a second connection with nothing sent on it). */
  readonly bytes: Uint8Array;
  readonly expected: Expectation;
  /** Undefined: no answer within the give-up time. */
  readonly observed: Verdict | undefined;
  readonly cpuMs: number;
  readonly wallMs: number;
}

/** The speaker's session came back (its OPEN on a new connection) after a reset, or did not. */
export interface Reconnect {
  readonly lane: number;
  readonly cpuMs: number;
  readonly wallMs: number;
  readonly ok: boolean;
}

class PeerConnection {
  readonly socket: net.Socket;
  readonly received: Received[] = [];
  closed = false;
  private readonly reader = new OutputReader();

  /** `activity` is told of what arrives and of the close, so waiters look at once. */
  constructor(socket: net.Socket, activity: () => void) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      for (const m of this.reader.push(chunk)) this.received.push(m);
      activity();
    });
    socket.on('close', () => {
      this.closed = true;
      activity();
    });
    socket.on('error', () => {});
  }

  receivedSince(index: number, type: number): Received | undefined {
    for (let i = index; i < this.received.length; i++)
      if (this.received[i]!.type === type) return this.received[i];
    return undefined;
  }
}

/** Counter values before a message, to tell what the message changed. */
interface Snapshot {
  readonly processed: number;
  readonly notifications: number;
  readonly internalErrors: number;
  readonly errors: ActionCounts;
  readonly answered: number;
  readonly ignored: number;
}

export class Lane {
  readonly index: number;
  readonly config: LaneConfig;
  private readonly facts: LaneFacts;
  private readonly rng: Random;
  private readonly poller: Poller;
  private readonly address: string;
  private readonly metrics = new BgpMetrics(new Registry());
  private readonly server: net.Server;
  private readonly incoming: PeerConnection[] = [];
  private session: BgpSession | undefined;
  private conn: PeerConnection | undefined;
  private state: LaneState = 'OpenSent';
  private negotiated: Negotiated | undefined;
  /** The current connection is one the speaker made (not one the peer made to its listener). */
  private speakerConnected = true;
  /** The OPEN the peer sent on the current connection (repeated on a colliding one). */
  private lastOpen: GeneratedMessage | undefined;
  private readonly listenerPort: number;
  private hash = 0x811c9dc5;
  private lastSent: { state: LaneState; message: GeneratedMessage } | undefined;

  constructor(index: number, config: LaneConfig, seed: number, poller: Poller, listenerPort: number) {
    this.index = index;
    this.config = config;
    this.facts = laneFacts(config);
    this.rng = Random.stream(seed, index);
    this.poller = poller;
    this.listenerPort = listenerPort;
    this.address = `127.0.0.${10 + index}`;
    this.server = net.createServer((socket) =>
      this.incoming.push(new PeerConnection(socket, this.poller.kick)),
    );
  }

  /** The speaker's session (the listener routes the lane's second connections to it). */
  get bgpSession(): BgpSession {
    return this.session!;
  }

  /** Listens as the peer and creates the speaker's session toward it; `begin` starts it. */
  async start(logger: Logger, jitterSeed: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, this.address, () => resolve());
    });
    const port = (this.server.address() as net.AddressInfo).port;
    const c = this.config;
    this.session = new BgpSession(
      {
        localAs: c.localAs,
        peerAs: c.peerAs,
        peerAddress: this.address,
        peerPort: port,
        routerId: c.routerId,
        holdTimeSec: c.holdTimeSec,
        extendedMessage: c.extendedMessage,
        ...(c.gracefulRestartTimeSec !== undefined
          ? { gracefulRestartTimeSec: c.gracefulRestartTimeSec }
          : {}),
        connectRetryMs: CONNECT_RETRY_MS,
        connectRetryMaxMs: CONNECT_RETRY_MAX_MS,
        nextHopIpv4: '192.0.2.10',
        nextHopIpv6: '2001:db8::10',
      },
      { logger, metrics: this.metrics, jitterSeed },
    );
    this.session.setRoutes(
      new Map([
        ['198.51.100.0/25', { communities: [0xfde80064] }],
        ['198.51.100.128/25', { med: 10 }],
        ['2001:db8:100::/64', {}],
      ]),
    );
  }

  begin(): void {
    this.session!.start();
  }

  /** Waits for the speaker's next connection (its OPEN on it) and goes on with it in OpenSent. */
  async awaitSession(): Promise<Waited<PeerConnection>> {
    const back = await this.poller.until(() => this.speakerOpen(), GIVE_UP_MS);
    if (back.value) {
      this.conn = back.value;
      this.speakerConnected = true;
      this.state = 'OpenSent';
      this.negotiated = undefined;
    }
    return back;
  }

  /**
   * Sends `quota` messages, reporting each outcome and each reconnection. Returns when they are
   * sent, or when the session did not come back. A lane's messages and verdicts depend on the
   * seed and its index only, whatever the other lanes do meanwhile: `digest` folds them.
   */
  async run(quota: number, report: (o: Outcome) => void, reconnected: (r: Reconnect) => void): Promise<void> {
    for (let left = quota; left > 0; left--) {
      if (!this.conn) {
        const back = await this.awaitSession();
        reconnected({
          lane: this.index,
          cpuMs: back.cpuMs,
          wallMs: back.wallMs,
          ok: back.value !== undefined,
        });
        if (!back.value) return;
      }
      const conn = this.conn!;
      const state = this.state;
      // A collision needs the first connection to be the speaker's (RFC 4271 §6.8 compares
      // one connection in each direction).
      if (this.rng.chance(SECOND_CONNECTION[state]) && (state === 'Established' || this.speakerConnected)) {
        report(this.fold(await this.secondConnection(conn)));
        continue;
      }
      const { message, expected } = this.poller.own(() => {
        const m = nextMessage(this.rng, state, this.config, this.facts, this.negotiated);
        return { message: m, expected: expect(m.header, m.facts, state, this.facts, this.negotiated) };
      });
      const waited = await this.send(conn, message);
      report(
        this.fold({
          lane: this.index,
          state,
          label: message.label,
          bytes: message.bytes,
          expected,
          observed: waited.value,
          ...time(waited),
        }),
      );
      this.follow(waited.value, message);
    }
  }

  /**
   * The peer opens a second connection to the speaker's listener while the session is in
   * OpenSent, OpenConfirm (a collision, RFC 4271 §6.8: the peer sends a valid OPEN on it, the
   * same as on the first once it sent one) or Established (RFC 4724 §5 or §6.8).
   */
  private async secondConnection(main: PeerConnection): Promise<Outcome> {
    const state = this.state;
    const open =
      state === 'OpenConfirm' ? this.lastOpen! : this.poller.own(() => validOpen(this.rng, this.config));
    const expected = expectSecondConnection(state, this.facts, this.negotiated, open.negotiated!.peerBgpId);
    const mainFrom = main.received.length;
    const second = await this.connectToSpeaker();
    const outcome = (observed: Verdict | undefined, w: { cpuMs: number; wallMs: number }): Outcome => ({
      lane: this.index,
      state,
      label: `second connection in ${state}`,
      bytes: state === 'Established' ? new Uint8Array(0) : open.bytes,
      expected,
      observed,
      ...time(w),
    });
    if (state === 'Established') {
      const w = await this.poller.until(() => this.observeRestart(main, second, mainFrom), GIVE_UP_MS);
      this.afterSecond(w.value, main, second, 'OpenSent', undefined);
      return outcome(w.value, w);
    }
    // The speaker answers the connection with its OPEN; the peer's OPEN follows on it.
    const opened = await this.poller.until(
      () => (second.receivedSince(0, 1) || second.closed || main.closed ? true : undefined),
      GIVE_UP_MS,
    );
    if (!second.closed) second.socket.write(open.bytes);
    const w = await this.poller.until(() => this.observeCollision(main, second, mainFrom), GIVE_UP_MS);
    const both = { cpuMs: opened.cpuMs + w.cpuMs, wallMs: opened.wallMs + w.wallMs };
    this.afterSecond(w.value, main, second, 'OpenConfirm', open);
    return outcome(w.value, both);
  }

  private connectToSpeaker(): Promise<PeerConnection> {
    const socket = net.connect({ host: '127.0.0.1', port: this.listenerPort, localAddress: this.address });
    const c = new PeerConnection(socket, this.poller.kick);
    return new Promise((resolve) => {
      socket.once('connect', () => resolve(c));
      socket.once('error', () => resolve(c));
    });
  }

  /** Established: the old connection closed without NOTIFICATION and the new one got an OPEN; or the new one closed. */
  private observeRestart(
    main: PeerConnection,
    second: PeerConnection,
    mainFrom: number,
  ): Verdict | undefined {
    const n = main.receivedSince(mainFrom, 3) ?? second.receivedSince(0, 3);
    if (n) return { kind: 'notification', code: n.code!, subcode: n.subcode! };
    if (second.closed && second.received.length === 0 && !main.closed) {
      return this.session!.state === 'Established' ? { kind: 'refused' } : undefined;
    }
    if (main.closed && second.receivedSince(0, 1)) return { kind: 'replaced' };
    if (second.closed && main.closed) return { kind: 'closed' };
    return undefined;
  }

  /** OpenSent / OpenConfirm: one of the two connections gets Cease 6/7 and the other goes on. */
  private observeCollision(
    main: PeerConnection,
    second: PeerConnection,
    mainFrom: number,
  ): Verdict | undefined {
    const onSecond = second.receivedSince(0, 3);
    const onMain = main.receivedSince(mainFrom, 3);
    const cease = (n: Received) => n.code === 6 && n.subcode === 7;
    if (onSecond) {
      if (!cease(onSecond)) return { kind: 'notification', code: onSecond.code!, subcode: onSecond.subcode! };
      return onMain || main.closed ? { kind: 'closed' } : { kind: 'collision', kept: 'ours' };
    }
    if (onMain) {
      if (!cease(onMain)) return { kind: 'notification', code: onMain.code!, subcode: onMain.subcode! };
      return second.receivedSince(0, 4) ? { kind: 'collision', kept: 'theirs' } : undefined;
    }
    if (second.closed || main.closed) return { kind: 'closed' };
    return undefined;
  }

  /** Goes on with the connection the speaker kept, in the state it is in there. */
  private afterSecond(
    observed: Verdict | undefined,
    main: PeerConnection,
    second: PeerConnection,
    stateOnSecond: LaneState,
    open: GeneratedMessage | undefined,
  ): void {
    const keepSecond =
      observed?.kind === 'replaced' || (observed?.kind === 'collision' && observed.kept === 'theirs');
    const keepMain =
      observed?.kind === 'refused' || (observed?.kind === 'collision' && observed.kept === 'ours');
    if (keepSecond) {
      main.socket.destroy();
      this.conn = second;
      this.speakerConnected = false;
      this.state = stateOnSecond;
      this.negotiated = open?.negotiated;
      if (open) this.lastOpen = open;
      return;
    }
    second.socket.destroy();
    if (keepMain) return;
    main.socket.destroy();
    this.conn = undefined;
  }

  /** The message sent last, for the report of a slow event of the speaker. */
  get inFlight(): string {
    if (!this.lastSent) return 'nothing';
    const { state, message } = this.lastSent;
    const hex = Buffer.from(message.bytes.subarray(0, 256)).toString('hex');
    return `${state} ${message.label}, ${message.bytes.length} octets: ${hex}`;
  }

  /** FNV-1a over what the lane sent and what it observed, in order. */
  private fold(o: Outcome): Outcome {
    const text = `${o.state}|${o.label}|${o.observed ? describeVerdict(o.observed) : 'none'}\n`;
    let h = this.hash;
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    this.hash = h >>> 0;
    return o;
  }

  /** The lane's run so far, as a number: equal for equal seeds. */
  get digest(): number {
    return this.hash;
  }

  /** Stops the session and the peer's side. */
  async stop(): Promise<void> {
    this.session?.abort();
    for (const c of this.incoming) c.socket.destroy();
    this.conn?.socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The oldest connection from the speaker that carries its OPEN; ones closed before it are dropped. */
  private speakerOpen(): PeerConnection | undefined {
    while (this.incoming.length > 0) {
      const c = this.incoming[0]!;
      if (c.receivedSince(0, 1)) {
        this.incoming.shift();
        return c;
      }
      if (!c.closed) return undefined;
      this.incoming.shift();
    }
    return undefined;
  }

  private async send(c: PeerConnection, message: GeneratedMessage) {
    this.lastSent = { state: this.state, message };
    const before = this.snapshot();
    const from = c.received.length;
    if (this.rng.chance(0.05) && message.bytes.length > 1) {
      // In pieces, each its own write on its own turn of the loop: the framer must join them.
      const cuts = [
        ...new Set([this.rng.int(1, message.bytes.length - 1), this.rng.int(1, message.bytes.length - 1)]),
      ];
      cuts.sort((a, b) => a - b);
      let at = 0;
      for (const cut of [...cuts, message.bytes.length]) {
        c.socket.write(message.bytes.subarray(at, cut));
        at = cut;
        await new Promise((resolve) => setImmediate(resolve));
      }
    } else {
      c.socket.write(message.bytes);
    }
    return this.poller.until(() => this.observe(c, from, before), GIVE_UP_MS);
  }

  private snapshot(): Snapshot {
    const m = this.metrics;
    const errors = Object.fromEntries(KEPT_ACTIONS.map((a) => [a, m.updateErrors.total({ action: a })]));
    return {
      processed: m.messagesReceived.total() + m.sessionResets.total({ cause: 'malformed-message' }),
      notifications: m.notificationsSent.total(),
      internalErrors: m.sessionResets.total({ cause: 'internal-error' }),
      errors: errors as unknown as ActionCounts,
      answered:
        m.routeRefreshes.total({ outcome: 'queued' }) + m.routeRefreshes.total({ outcome: 'coalesced' }),
      ignored: m.routeRefreshes.total({ outcome: 'ignored' }),
    };
  }

  /**
   * What the speaker did about the message, once it shows: a NOTIFICATION or a close on the
   * wire; else, once the session has handled the message and is still on this connection, the
   * state it moved to or the counters it moved.
   */
  private observe(c: PeerConnection, from: number, before: Snapshot): Verdict | undefined {
    const n = c.receivedSince(from, 3);
    if (n) return { kind: 'notification', code: n.code!, subcode: n.subcode! };
    if (c.closed) return { kind: 'closed' };
    const now = this.snapshot();
    if (now.processed === before.processed) return undefined;
    // A NOTIFICATION or a close is on its way: wait for it on the wire.
    if (now.notifications > before.notifications || now.internalErrors > before.internalErrors)
      return undefined;
    const session = this.session!;
    switch (this.state) {
      case 'OpenSent':
        return c.receivedSince(from, 4) ? { kind: 'opened' } : undefined;
      case 'OpenConfirm':
        return session.state === 'Established' ? { kind: 'established' } : undefined;
      case 'Established': {
        if (session.state !== 'Established') return undefined;
        if (now.answered > before.answered) return { kind: 'refresh', outcome: 'answered' };
        if (now.ignored > before.ignored) return { kind: 'refresh', outcome: 'ignored' };
        const errors = Object.fromEntries(KEPT_ACTIONS.map((a) => [a, now.errors[a] - before.errors[a]]));
        return { kind: 'kept', errors: errors as unknown as ActionCounts };
      }
    }
  }

  /** Moves the lane on by what happened (not by what was expected). */
  private follow(observed: Verdict | undefined, message: GeneratedMessage): void {
    switch (observed?.kind) {
      case 'opened':
        this.state = 'OpenConfirm';
        this.negotiated = message.negotiated;
        this.lastOpen = message;
        return;
      case 'established':
        this.state = 'Established';
        return;
      case 'kept':
      case 'refresh':
        return;
      default:
        this.conn?.socket.destroy();
        this.conn = undefined;
    }
  }
}

function time(w: { cpuMs: number; wallMs: number }): { cpuMs: number; wallMs: number } {
  return { cpuMs: w.cpuMs, wallMs: w.wallMs };
}
