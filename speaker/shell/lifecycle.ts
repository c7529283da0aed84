import { serveEndpoints } from '../../shared/daemon/endpoints.ts';
import type { HostPort } from '../../shared/daemon/host-port.ts';
import { systemTimers, type Timers } from '../../shared/daemon/timers.ts';
import type { Logger } from '../../shared/log/logger.ts';
import type { Registry } from '../../shared/metrics/metrics.ts';
import type { NodePlan } from '../announce/types.ts';
import type { SpeakerMetrics } from './metrics.ts';
import { describe } from './objects.ts';
import type { SpeakerHandle } from './options.ts';

/** A loop that may be busy (plan-loop.ts, status-writer.ts): stopped first, waited for by idle(). */
export interface Loop {
  readonly busy: boolean;
  readonly running: Promise<void> | undefined;
  stop(): Promise<void>;
}

/** The running parts, in the roles the stop order gives them; each is there once it started. */
export interface RunningParts {
  /** The plan loop: ready once its first plan is applied. */
  readonly plans: { readonly ready: boolean };
  readonly loops: readonly Loop[];
  /** Timers and probes: stopped at once, before anything else. */
  readonly stoppers: readonly (() => void)[];
  readonly membership: {
    leave(): Promise<void>;
    restart(holdMs: number): Promise<void>;
    close(): Promise<void>;
  };
  readonly bgp: { shutdown(drainMs: number, message: string): Promise<void>; abort(): Promise<void> };
  readonly l2: { announced(): string[]; close(): Promise<void> };
  readonly statuses: { deleteOwn(): Promise<void> };
  readonly events: { drained(timeoutMs: number): Promise<void> };
  readonly informers: { stop(): void };
  readonly endpoints: { close(): Promise<void> };
}

export interface LifecycleOptions {
  readonly log: Logger;
  /** After telling the peers we leave, how long we keep answering while the new owner takes over (default 1 s). */
  readonly handoverMs?: number | undefined;
  /**
   * Restart in place (docs/adr/0013-l2-restart-in-place.md): on a graceful stop the peers keep our
   * L2 IPs for us this long instead of taking them over; 0 or undefined: leave and hand over.
   */
  readonly restartHoldMs?: number | undefined;
  /** Seconds between GRACEFUL_SHUTDOWN and Cease for the BGP sessions. */
  readonly bgpShutdownDrainSec: number;
  readonly timers?: Timers;
}

/**
 * The speaker's start-up failures, stop orders and readiness, in one place (docs/adr/0007):
 * - `stop()` (SIGTERM), graceful: membership leave, keep answering `handoverMs` while the new
 *   owners announce, withdraw L2; BGP drains meanwhile; then our objects are deleted. With
 *   `restartHoldMs` (restart in place, docs/adr/0013): BGP drains while L2 still answers, then
 *   the peers are told to keep our L2 IPs for the next speaker, and L2 stops at once.
 * - `kill()`, as a crash looks to the others: no goodbye, no cleanup.
 * - `die()`: a worker died; kill, then `failed` resolves so the program exits non-zero.
 * - `abandon()`: start-up failed; whatever started is killed, the error rethrown.
 */
export class Lifecycle {
  readonly #o: LifecycleOptions;
  readonly #timers: Timers;
  #parts: Partial<RunningParts> = {};
  #stopping = false;
  #stopped: Promise<void> | undefined;
  #fatal: Error | undefined;
  #reportFailure: (error: Error) => void = () => {};
  /** Resolves (after stopping) if a worker dies; the program should then exit non-zero. */
  readonly failed = new Promise<Error>((resolve) => {
    this.#reportFailure = resolve;
  });

  constructor(options: LifecycleOptions) {
    this.#o = options;
    this.#timers = options.timers ?? systemTimers;
  }

  /** Parts that now run, to be stopped in their place in the order. */
  started(parts: Partial<RunningParts>): void {
    this.#parts = { ...this.#parts, ...parts };
  }

  /**
   * Serves /metrics, /healthz and /readyz (readiness: {@link ready}) when `listen` is set; returns
   * the address. Started before the informers: while their first LISTs fail, /healthz says the
   * process lives and /readyz that it is not ready.
   */
  async serveEndpoints(
    listen: string | HostPort | undefined,
    registry: Registry,
  ): Promise<string | undefined> {
    if (listen === undefined) return undefined;
    const { log } = this.#o;
    const endpoints = await serveEndpoints({
      listen,
      registry,
      ready: () => this.ready,
      onError: (error) => log.warn({ err: describe(error) }, 'metrics endpoint error'),
    });
    this.started({ endpoints });
    log.info({ address: endpoints.address }, 'serving /metrics, /healthz, /readyz');
    return endpoints.address;
  }

  /** The running speaker as its caller sees it: readiness, idleness and the stops are this lifecycle's. */
  handle(
    metrics: SpeakerMetrics,
    metricsAddress: string | undefined,
    lastPlan: () => NodePlan | undefined,
  ): SpeakerHandle {
    return {
      metrics,
      metricsAddress,
      ready: () => this.ready,
      failed: this.failed,
      lastPlan,
      idle: () => this.idle(),
      stop: () => this.stop(),
      kill: () => this.kill(),
    };
  }

  /** A stop or kill has begun: nothing new is started, planned or written. */
  get stopping(): boolean {
    return this.#stopping;
  }

  /** The first plan has been applied and the speaker is not stopping (readiness). */
  get ready(): boolean {
    return (this.#parts.plans?.ready ?? false) && !this.#stopping && this.#fatal === undefined;
  }

  /**
   * The network thread died (the L2 packet worker and membership both run on it) or one of them
   * stopped: without heartbeats the peers take our IPs over, and without the L2 worker we answer
   * nothing, so staying up half-working would only hide it. Stop (no goodbye) and report.
   */
  die(what: string, error: Error): void {
    if (this.#fatal) return;
    const fatal = new Error(`${what}: ${describe(error)}`);
    this.#fatal = fatal;
    this.#o.log.fatal({ err: fatal.message }, `${what}; stopping so the speaker is restarted`);
    void this.kill().then(() => this.#reportFailure(fatal));
  }

  /** Start-up failed after something started: stop it (its sockets would keep the process alive), rethrow. */
  async abandon(error: unknown): Promise<never> {
    await this.kill().catch(() => undefined);
    throw error;
  }

  /** Stops without goodbye or cleanup, as a crash would look to the others. */
  kill(): Promise<void> {
    this.#stopped ??= (async () => {
      const p = await this.#halt();
      await p.membership?.close();
      await p.bgp?.abort();
      await p.l2?.close();
      await this.#closeRest(p);
    })();
    return this.#stopped;
  }

  /** Graceful: leave, handover window, BGP drain, withdraw, delete own objects (or restart in place). */
  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      const p = await this.#halt();
      const { log, handoverMs = 1000, bgpShutdownDrainSec: bgpDrainSec, restartHoldMs = 0 } = this.#o;
      if (restartHoldMs > 0) {
        await this.#restartInPlace(p, restartHoldMs);
        return;
      }
      log.info({ handoverMs, bgpDrainSec }, 'leaving: handing over to the other speakers');
      // BGP drains while L2 hands over: both bounded, in parallel.
      const drained = p.bgp?.shutdown(bgpDrainSec * 1000, 'metalbeacon speaker shutting down');
      await p.membership?.leave();
      // The new owners recompute on the leave at once and send gratuitous ARP / NA; we keep
      // answering meanwhile, so no request finds nobody.
      await new Promise<void>((resolve) => this.#timers.setTimeout(resolve, handoverMs));
      log.info({ ips: p.l2?.announced() ?? [] }, 'handover window over; withdrawing L2');
      await p.l2?.close();
      await drained;
      await this.#cleanUp(p);
    })();
    return this.#stopped;
  }

  /** The end of a graceful stop: our objects deleted, the events out, the rest closed. */
  async #cleanUp(p: Partial<RunningParts>): Promise<void> {
    await p.statuses?.deleteOwn();
    await p.events?.drained(2000);
    await this.#closeRest(p);
    this.#o.log.info('speaker stopped');
  }

  /**
   * Restart in place: L2 answers while BGP drains (the process lives that long anyway, and the
   * clients keep being served), then the peers are told to keep our L2 IPs for the next speaker
   * for `holdMs`, from that moment: the gap until it is back is only this process's exit and the
   * next one's start. Nobody answers ARP/NDP for those IPs meanwhile; clients with a cached entry
   * keep sending to this node, whose data path still serves.
   */
  async #restartInPlace(p: Partial<RunningParts>, holdMs: number): Promise<void> {
    const { log, bgpShutdownDrainSec: bgpDrainSec } = this.#o;
    log.info({ restartHoldMs: holdMs, bgpDrainSec }, 'restarting in place: draining BGP, L2 still answers');
    await p.bgp?.shutdown(bgpDrainSec * 1000, 'metalbeacon speaker restarting');
    const ips = p.l2?.announced() ?? [];
    await p.membership?.restart(holdMs);
    log.info({ ips, restartHoldMs: holdMs }, 'the peers keep our L2 IPs for the next speaker; L2 stops');
    await p.l2?.close();
    await this.#cleanUp(p);
  }

  /** Resolves when no loop is busy and the events are out (tests, and a graceful stop's caller). */
  async idle(): Promise<void> {
    const loops = this.#parts.loops ?? [];
    for (let i = 0; i < 1000 && loops.some((l) => l.busy); i++) {
      const running = loops.find((l) => l.running)?.running;
      await (running ?? new Promise<void>((resolve) => this.#timers.setTimeout(resolve, 20)));
    }
    await this.#parts.events?.drained(2000);
  }

  /** Stopping: timers first, then the loops (each finishes the pass it is in). */
  async #halt(): Promise<Partial<RunningParts>> {
    this.#stopping = true;
    const p = this.#parts;
    for (const stop of p.stoppers ?? []) stop();
    await Promise.all((p.loops ?? []).map((l) => l.stop()));
    return p;
  }

  async #closeRest(p: Partial<RunningParts>): Promise<void> {
    p.informers?.stop();
    await p.endpoints?.close();
  }
}
