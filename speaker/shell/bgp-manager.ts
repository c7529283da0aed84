import { compareText } from '../../shared/config/names.ts';
import type { Logger } from '../../shared/log/logger.ts';
import type { Registry } from '../../shared/metrics/metrics.ts';
import { peerChanges } from '../announce/peer-changes.ts';
import type { PeerPlan } from '../announce/types.ts';
import type { PeerBfd } from '../bfd/io/peer-bfd.ts';
import { CeaseSubcode, shutdownNotification } from '../bgp/codec/index.ts';
import { BgpListener } from '../bgp/listener.ts';
import { BgpMetrics } from '../bgp/metrics.ts';
import { BgpSession } from '../bgp/session.ts';
import type { SocketOptions } from '../bgp/socket-options.ts';
import type { SessionReport } from '../status/status-objects.ts';
import { routerIdFor, routesFor, sessionPeerConfig } from './bgp-peers.ts';

interface Running {
  readonly session: BgpSession;
  sinceMs: number;
  lastError: string;
}

export interface BgpManagerOptions {
  /** The speaker's log; the manager's lines carry `component: bgp`. */
  readonly log: Logger;
  /** Where the sessions' metrics (speaker/bgp/metrics.ts) register. */
  readonly registry: Registry;
  /** TCP MD5 / TTL support from the native addon, when built. */
  readonly socketOptions: SocketOptions | undefined;
  /** Listen for incoming sessions on this port, default 179 (BGP's); 0: active only. */
  readonly listenPort?: number | undefined;
  /** Listen on this address only; every address when unset. */
  readonly listenHost?: string;
  /** IPv4 addresses of this node, for the router ID when a peer sets none. */
  readonly nodeAddresses: () => readonly string[];
  /** Called on every session state change and peer set change. */
  readonly onChange: () => void;
  readonly now: () => number;
  /** BFD for the peers whose BGPPeer names a BFDProfile (speaker/bfd/io/peer-bfd.ts). */
  readonly bfd?: PeerBfd;
}

/**
 * Runs the BGP sessions the plan asks for: starts new peers, restarts only the session whose
 * BGPPeer changed, stops removed ones (Cease / Peer De-configured, RFC 4486), and hands each
 * session its desired routes (the RIB-out sends only differences).
 */
export class BgpManager {
  readonly #o: BgpManagerOptions;
  readonly #log: Logger;
  readonly #metrics: BgpMetrics;
  readonly #listenPort: number;
  /** BGPPeer name -> its running session */
  readonly #sessions = new Map<string, Running>();
  #listener: BgpListener | undefined;
  #listening: Promise<void> | undefined;
  /** The peers of the last plan applied (those running). */
  #previous: readonly PeerPlan[] | undefined;
  readonly #startedAtMs: number;

  constructor(options: BgpManagerOptions) {
    this.#o = options;
    this.#log = options.log.child({ component: 'bgp' });
    this.#metrics = new BgpMetrics(options.registry);
    this.#listenPort = options.listenPort ?? 179;
    this.#startedAtMs = options.now();
  }

  /** Sessions as they are now, with the BFD session of each that runs one, sorted by peer name. */
  reports(): SessionReport[] {
    return [...this.#sessions.entries()]
      .sort(([a], [b]) => compareText(a, b))
      .map(([peer, r]) => {
        const bfd = this.#o.bfd?.state(peer);
        return {
          peer,
          peerAddress: r.session.peer,
          state: r.session.state,
          sinceMs: r.sinceMs,
          prefixesAdvertised: r.session.announcedCount,
          lastError: r.lastError,
          ...(bfd ? { bfd } : {}),
        };
      });
  }

  /** The peer addresses the listener hands incoming connections to, sorted (none without one). */
  get acceptingFrom(): string[] {
    return this.#listener?.peerAddresses ?? [];
  }

  /**
   * Applies the plan's peers through peerChanges (speaker/announce): new peers start, a changed
   * peer restarts only its own session, removed peers close, and a peer whose routes alone
   * changed gets the difference as UPDATEs. Returns problems (peer name -> message) for peers
   * it cannot run; they are tried again on the next plan.
   */
  async apply(peers: readonly PeerPlan[]): Promise<Map<string, string>> {
    const problems = new Map<string, string>(); // peer name -> why it does not run
    const changes = peerChanges(this.#previous, peers);
    for (const plan of changes.stop) {
      const running = this.#sessions.get(plan.peer.name);
      this.#forget(plan.peer.name, running);
      this.#log.info(
        { peer: plan.peer.name },
        'BGP peer no longer selected for this node; closing its session',
      );
      if (running) await closeSession(running.session, CeaseSubcode.PeerDeconfigured, 'peer removed');
    }
    for (const plan of changes.restart) {
      const running = this.#sessions.get(plan.peer.name);
      this.#forget(plan.peer.name, running);
      this.#log.info({ peer: plan.peer.name }, 'BGPPeer changed; restarting only its session');
      if (running) {
        await closeSession(
          running.session,
          CeaseSubcode.OtherConfigurationChange,
          'peer configuration changed',
        );
      }
    }
    for (const plan of [...changes.start, ...changes.restart]) {
      const problem = await this.#start(plan);
      if (problem) problems.set(plan.peer.name, problem);
    }
    for (const plan of changes.update)
      this.#sessions.get(plan.peer.name)?.session.setRoutes(routesFor(plan.routes));
    // Peers that could not start stay out, so the next plan starts them again.
    this.#previous = peers.filter((p) => this.#sessions.has(p.peer.name));
    this.#o.bfd?.sync();
    return problems;
  }

  /**
   * Takes a session out of every map before it is closed, so that a connection from its address
   * arriving while it closes, or any time after, is refused as from an unknown peer rather than
   * handed to a stopped session (which a removed peer's address would otherwise keep forever).
   */
  #forget(name: string, running: Running | undefined): void {
    this.#sessions.delete(name);
    this.#o.bfd?.detach(name);
    if (running) this.#listener?.remove(running.session);
  }

  async #start(plan: PeerPlan): Promise<string | undefined> {
    const routerId = routerIdFor(plan.peer, this.#o.nodeAddresses());
    if (routerId === undefined)
      return 'no IPv4 address on this node for the BGP router ID; set spec.routerID';
    let session: BgpSession;
    try {
      session = new BgpSession(sessionPeerConfig(plan.peer, routerId), {
        logger: this.#log.child({ bgpPeer: plan.peer.name }),
        metrics: this.#metrics,
        ...(this.#o.socketOptions ? { socketOptions: this.#o.socketOptions } : {}),
        // RFC 4724: a speaker up for less than a minute is restarting (its routes were kept).
        restarting: this.#o.now() - this.#startedAtMs < 60_000,
      });
    } catch (error) {
      return (error as Error).message;
    }
    const entry: Running = { session, sinceMs: this.#o.now(), lastError: '' };
    let errorsSeen = this.#errorCounts(session.peer);
    session.on('state', (state) => {
      entry.sinceMs = this.#o.now();
      if (state === 'Established') entry.lastError = '';
      // Which error counter moved since the last change names the cause (the session itself
      // reports it only in its logs and metrics).
      void this.#errorCounts(session.peer)
        .then(async (now) => {
          const before = await errorsSeen;
          errorsSeen = Promise.resolve(now);
          const cause = describeChange(before, now);
          if (cause && state !== 'Established') {
            entry.lastError = cause;
            this.#o.onChange();
          }
        })
        .catch((error: unknown) =>
          this.#log.error({ peer: plan.peer.name, err: error }, 'cannot report the BGP session error'),
        );
      this.#o.onChange();
    });
    this.#sessions.set(plan.peer.name, entry);
    this.#o.bfd?.attach(plan.peer, session);
    await this.#ensureListener(session);
    session.setRoutes(routesFor(plan.routes));
    session.start();
    this.#o.onChange();
    return undefined;
  }

  /**
   * NOTIFICATIONs sent/received (by code/subcode), hold-timer expiries and the session's own
   * resets (by cause) of one peer, as text -> count.
   */
  async #errorCounts(peer: string): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    const m = this.#metrics;
    for (const [counter, verb] of [
      [m.notificationsReceived, 'NOTIFICATION received'],
      [m.notificationsSent, 'NOTIFICATION sent'],
      [m.holdTimerExpiries, 'hold timer expired'],
      [m.sessionResets, 'session reset'],
    ] as const) {
      for (const v of (await counter.get()).values) {
        const labels = v.labels as Partial<Record<'peer' | 'code' | 'subcode' | 'cause', string | number>>;
        if (labels.peer !== peer) continue;
        const code = labels.code === undefined ? '' : ` ${labels.code}/${labels.subcode}`;
        const cause = labels.cause === undefined ? '' : ` (${labels.cause})`;
        counts.set(`${verb}${code}${cause}`, v.value);
      }
    }
    return counts;
  }

  async #ensureListener(session: BgpSession): Promise<void> {
    if (this.#listenPort === 0) return;
    if (this.#listener && session.config.password === undefined) {
      this.#listener.add(session);
      return;
    }
    // First session, or one with a TCP MD5 key: the listener sets every key when it starts
    // listening, so it is (re)opened with all sessions. The old one stops listening at once;
    // its close completes only when its accepted connections end, so it is not awaited.
    await this.#listening;
    void this.#listener?.close().catch(() => undefined);
    const listener = new BgpListener({
      logger: this.#log,
      ...(this.#o.socketOptions ? { socketOptions: this.#o.socketOptions } : {}),
    });
    this.#listener = listener;
    for (const running of this.#sessions.values()) listener.add(running.session);
    listener.add(session);
    this.#listening = listener.listen(this.#listenPort, this.#o.listenHost).catch((error: unknown) => {
      this.#log.warn(
        { port: this.#listenPort, err: String(error) },
        'cannot listen for BGP connections; sessions connect actively only',
      );
    });
    await this.#listening;
  }

  /**
   * Ends every session as the speaker stops. A session that negotiated graceful restart
   * (RFC 4724) closes without NOTIFICATION: the router keeps our routes until the next speaker
   * on this node sends them again, so its ECMP next-hop set never changes during a restart (a
   * change rehashes flows, and connections in flight can land on a node that resets them).
   * The others shut down gracefully (RFC 8326 then RFC 9003): GRACEFUL_SHUTDOWN community,
   * `drainMs` for the routers to move traffic, then Cease / Administrative Shutdown.
   */
  async shutdown(drainMs: number, message: string): Promise<void> {
    const all = [...this.#sessions.values()];
    this.#sessions.clear();
    this.#previous = undefined;
    await Promise.all(
      all.map(async (r) => {
        if (r.session.gracefulRestartNegotiated) await r.session.stopForRestart();
        else await r.session.gracefulShutdown(drainMs, message);
        // A session stopped while Idle keeps its idle-hold timer in the FSM: abort clears every timer.
        r.session.abort();
      }),
    );
    await this.#o.bfd?.close();
    await this.#closeListener();
  }

  /** Drops every session without a NOTIFICATION (as a crash; graceful restart keeps routes). */
  async abort(): Promise<void> {
    for (const r of this.#sessions.values()) r.session.abort();
    this.#sessions.clear();
    await this.#o.bfd?.close();
    await this.#closeListener();
  }

  async #closeListener(): Promise<void> {
    await this.#listening;
    if (this.#listener) await this.#listener.close().catch(() => undefined);
    this.#listener = undefined;
  }
}

/** Cease with an RFC 9003 message, then drop whatever timer the FSM left running. */
async function closeSession(session: BgpSession, subcode: number, message: string): Promise<void> {
  await session.stop(shutdownNotification(subcode, message));
  session.abort();
}

/** The error that happened between two counter snapshots, e.g. `NOTIFICATION received 6/2`. */
function describeChange(before: Map<string, number>, after: Map<string, number>): string | undefined {
  for (const [text, count] of after) if (count > (before.get(text) ?? 0)) return text;
  return undefined;
}
