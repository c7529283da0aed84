import { every, systemTimers, type TimerHandle, type Timers } from '../../shared/daemon/timers.ts';
import type { KubeClient } from '../../shared/k8s/client.ts';
import type { Logger } from '../../shared/log/logger.ts';
import { withdrawnPlan } from '../announce/applied-plan.ts';
import type { NodePlan } from '../announce/types.ts';
import {
  type IsolationVerdict,
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
  /**
   * Whether an interface the L2 announcer uses (or would, with carrier) has carrier now;
   * undefined when unknown. Read only while no peer is alive. Absent: always unknown.
   */
  readonly lanUp?: () => Promise<boolean | undefined>;
  /** The verdict would change: plan again now. */
  readonly replan: () => void;
  /** While isolated, how often the API server is asked again. Default 500 ms. */
  readonly probeEveryMs?: number;
  /** Back from isolation, how long to wait for the peers not heard yet. Default REGATHER_MS. */
  readonly regatherMs?: number;
  readonly timers?: Timers;
}

/** What the guard withholds: everything (isolated) or the L2 IPs only (own LAN link down). */
type Withheld = 'all' | 'l2';

/**
 * The split-brain guard (speaker/membership/isolation/split-brain.ts) in front of the announcers:
 * when every peer looks dead, a node that cannot reach the API server either assumes it is the
 * one cut off and withdraws everything; one that reaches it but whose own LAN link has no carrier
 * is cut off from the LAN and withdraws its L2 IPs (its BGP routes stay). While the verdict hangs
 * on the API server and the link, they are asked again on a timer and a replan follows when
 * their answer would change the verdict. Back from either it goes on withholding the same until
 * every peer is heard again or a while has passed (regathered in split-brain.ts), and plans again
 * then.
 */
export class IsolationGuard {
  readonly #o: IsolationGuardOptions;
  readonly #timers: Timers;
  #withheld: Withheld | undefined;
  /** Withholding, and since then the verdict would let us announce (monotonic ms). */
  #regatherSince: number | undefined;
  #regatherTimer: TimerHandle | undefined;
  #stopProbing: (() => void) | undefined;
  #stopped = false;

  constructor(options: IsolationGuardOptions) {
    this.#o = options;
    this.#timers = options.timers ?? systemTimers;
  }

  /**
   * Everything is withheld: no peer alive and no API server (the metrics count these only, not
   * the L2 IPs withheld while the LAN link is down).
   */
  get isolated(): boolean {
    return this.#withheld === 'all';
  }

  /** The plan to apply: `plan` itself, or while withholding it without L2 IPs or without anything (sessions kept). */
  async check(plan: NodePlan): Promise<NodePlan> {
    const peers = this.#o.peers();
    let apiReachable = true;
    let lanUp: boolean | undefined;
    if (needsApiProbe(peers)) {
      [apiReachable, lanUp] = await Promise.all([this.#o.probe(), this.#lanUp()]);
      this.#keepProbing();
    }
    const verdict = isolationVerdict({ ...peers, apiReachable, ...(lanUp === undefined ? {} : { lanUp }) });
    if (verdict.shouldAnnounce && this.#withheld !== undefined && !this.#regathered(peers)) {
      return withhold(plan, this.#withheld);
    }
    this.#regatherSince = undefined;
    this.#clearRegatherTimer();
    const next = this.#next(verdict);
    if (next === 'all') {
      if (this.#withheld !== 'all') {
        this.#o.log.warn(
          { knownPeers: peers.knownPeers },
          'split-brain guard: no peer alive and the API server unreachable; withdrawing everything',
        );
        this.#o.metrics.isolations.inc();
      }
      this.#withheld = 'all';
      this.#o.metrics.isolated.set(1);
      return withdrawnPlan(plan);
    }
    if (next === 'l2') {
      if (this.#withheld !== 'l2') {
        this.#o.log.warn(
          { knownPeers: peers.knownPeers },
          'split-brain guard: no peer alive and no carrier on the LAN interfaces; withdrawing the L2 IPs',
        );
      }
      this.#withheld = 'l2';
      return withhold(plan, 'l2');
    }
    if (this.#withheld !== undefined) {
      this.#withheld = undefined;
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

  /**
   * What a verdict withholds. Once everything is withheld (the API server away too) it stays so
   * while the LAN link is down: the routes come back once regathered, as from any isolation.
   */
  #next(verdict: IsolationVerdict): Withheld | undefined {
    if (verdict.reason === 'isolated') return 'all';
    if (verdict.reason === 'lan-down') return this.#withheld === 'all' ? 'all' : 'l2';
    return undefined;
  }

  async #lanUp(): Promise<boolean | undefined> {
    try {
      return await this.#o.lanUp?.();
    } catch (error) {
      this.#o.log.warn({ err: error }, 'split-brain guard: cannot read the LAN interfaces; counting them up');
      return undefined;
    }
  }

  /** Back from withholding: whether the view is whole again; if not, a replan is armed for when it will be. */
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
      void Promise.all([this.#o.probe(), this.#lanUp()]).then(([reachable, lanUp]) => {
        // Replan only when the verdict would change (back from withholding, the regather's timer replans).
        if (this.#regatherSince !== undefined) return;
        const verdict = isolationVerdict({
          ...this.#o.peers(),
          apiReachable: reachable,
          ...(lanUp === undefined ? {} : { lanUp }),
        });
        if (this.#next(verdict) !== this.#withheld) this.#o.replan();
      });
    });
  }
}

/** `plan` without what `withheld` says: its L2 IPs, or everything but the sessions. */
function withhold(plan: NodePlan, withheld: Withheld): NodePlan {
  return withheld === 'all' ? withdrawnPlan(plan) : { ...plan, l2: [] };
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
