import { every, systemTimers, type TimerHandle, type Timers } from '../../shared/daemon/timers.ts';
import type { KubeClient } from '../../shared/k8s/client.ts';
import type { Logger } from '../../shared/log/logger.ts';
import { withdrawnPlan } from '../announce/applied-plan.ts';
import type { NodePlan } from '../announce/types.ts';
import {
  isolationVerdict,
  needsApiProbe,
  REGATHER_MS,
  regathered,
} from '../membership/isolation/split-brain.ts';
import type { SpeakerMetrics } from './metrics.ts';

/** Membership's view of the peers (this node excluded). */
export interface PeerCounts {
  readonly knownPeers: number;
  readonly alivePeers: number;
}

export interface IsolationGuardOptions {
  readonly log: Logger;
  readonly metrics: Pick<SpeakerMetrics, 'isolated' | 'isolations'>;
  /** The peers now (membership). */
  readonly peers: () => PeerCounts;
  /** Asks the API server for a fresh answer; true when it answered (apiAnswers). */
  readonly probe: () => Promise<boolean>;
  /** The verdict would change: plan again now. */
  readonly replan: () => void;
  /** While isolated, how often the API server is asked again. Default 500 ms. */
  readonly probeEveryMs?: number;
  /** Back from isolation, how long to wait for the peers not heard yet. Default REGATHER_MS. */
  readonly regatherMs?: number;
  readonly timers?: Timers;
}

/**
 * The split-brain guard (speaker/membership/isolation/split-brain.ts) in front of the announcers:
 * when every peer looks dead, a node that cannot reach the API server either assumes it is the
 * one cut off and withdraws everything. While the verdict hangs on the API server, it is asked
 * again on a timer and a replan follows when its answer would change the verdict. Back from
 * isolation it goes on withholding until every peer is heard again or a while has passed
 * (regathered in split-brain.ts), and plans again then.
 */
export class IsolationGuard {
  readonly #o: IsolationGuardOptions;
  readonly #timers: Timers;
  #isolated = false;
  /** Isolated, and since then the verdict would let us announce (monotonic ms). */
  #regatherSince: number | undefined;
  #regatherTimer: TimerHandle | undefined;
  #stopProbing: (() => void) | undefined;
  #stopped = false;

  constructor(options: IsolationGuardOptions) {
    this.#o = options;
    this.#timers = options.timers ?? systemTimers;
  }

  /** Everything is withheld: no peer alive and no API server. */
  get isolated(): boolean {
    return this.#isolated;
  }

  /** The plan to apply: `plan` itself, or while isolated everything withdrawn (sessions kept). */
  async check(plan: NodePlan): Promise<NodePlan> {
    const peers = this.#o.peers();
    let apiReachable = true;
    if (needsApiProbe(peers)) {
      apiReachable = await this.#o.probe();
      this.#keepProbing();
    }
    const verdict = isolationVerdict({ ...peers, apiReachable });
    if (verdict.shouldAnnounce && this.#isolated && !this.#regathered(peers)) return withdrawnPlan(plan);
    this.#regatherSince = undefined;
    this.#clearRegatherTimer();
    if (!verdict.shouldAnnounce) {
      if (!this.#isolated) {
        this.#o.log.warn(
          { knownPeers: peers.knownPeers },
          'split-brain guard: no peer alive and the API server unreachable; withdrawing everything',
        );
        this.#o.metrics.isolations.inc();
      }
      this.#isolated = true;
      this.#o.metrics.isolated.set(1);
      return withdrawnPlan(plan);
    }
    if (this.#isolated) {
      this.#isolated = false;
      this.#o.metrics.isolated.set(0);
      this.#o.log.info({ reason: verdict.reason }, 'split-brain guard lifted; announcing again');
    }
    return plan;
  }

  /** Stops probing for good. */
  stop(): void {
    this.#stopped = true;
    this.#stopProbing?.();
    this.#stopProbing = undefined;
    this.#clearRegatherTimer();
  }

  /** Back from isolation: whether the view is whole again; if not, a replan is armed for when it will be. */
  #regathered(peers: PeerCounts): boolean {
    const nowMs = this.#timers.now();
    this.#regatherSince ??= nowMs;
    const regatherMs = this.#o.regatherMs ?? REGATHER_MS;
    if (regathered({ ...peers, sinceMs: this.#regatherSince, nowMs, regatherMs })) {
      this.#clearRegatherTimer();
      return true;
    }
    if (this.#regatherTimer === undefined && !this.#stopped) {
      const waitMs = this.#regatherSince + regatherMs - nowMs;
      this.#regatherTimer = this.#timers.setTimeout(() => {
        this.#regatherTimer = undefined;
        this.#o.replan();
      }, waitMs);
    }
    return false;
  }

  #clearRegatherTimer(): void {
    if (this.#regatherTimer !== undefined) this.#timers.clearTimeout(this.#regatherTimer);
    this.#regatherTimer = undefined;
  }

  #keepProbing(): void {
    if (this.#stopProbing || this.#stopped) return;
    this.#stopProbing = every(this.#timers, this.#o.probeEveryMs ?? 500, () => {
      if (!needsApiProbe(this.#o.peers())) {
        this.#stopProbing?.();
        this.#stopProbing = undefined;
        return;
      }
      void this.#o.probe().then((reachable) => {
        // Replan only when the verdict would change (back from isolation, the regather's timer replans).
        if (reachable === this.#isolated && this.#regatherSince === undefined) this.#o.replan();
      });
    });
  }
}

/**
 * Whether the API server answers `GET /version` within `timeoutMs`. The deadline also frees the
 * connection, so probes during a partition never pile up.
 */
export async function apiAnswers(client: Pick<KubeClient, 'get'>, timeoutMs = 1000): Promise<boolean> {
  try {
    await client.get('/version', undefined, { timeoutMs });
    return true;
  } catch {
    return false;
  }
}
