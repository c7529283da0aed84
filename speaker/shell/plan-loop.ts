import { CoalescingTask } from '../../shared/daemon/coalescing-task.ts';
import type { Timers } from '../../shared/daemon/timers.ts';
import type { Logger } from '../../shared/log/logger.ts';
import { announcedCounts, announceFailures, appliedPlan } from '../announce/applied-plan.ts';
import { advertisedHoldings } from '../announce/holdings.ts';
import type { NodePlan, PeerPlan, PlanInput } from '../announce/types.ts';
import type { SpeakerMetrics } from './metrics.ts';
import { describe } from './objects.ts';
import type { ServiceEvents } from './service-events.ts';

/** The planner: facts in, this node's plan out (speaker/announce). */
export type Planner = (input: PlanInput) => NodePlan;

export interface PlanLoopOptions {
  readonly nodeName: string;
  readonly log: Logger;
  readonly metrics: Pick<
    SpeakerMetrics,
    'plansApplied' | 'announceFailures' | 'announcedServices' | 'announcedIps'
  >;
  readonly planner: Planner;
  /** The planner's input from the caches now; undefined while no configuration is valid. */
  readonly input: () => PlanInput | undefined;
  /**
   * Membership: plans wait until it settled; a failed peer back asks for the L2 IPs again; a
   * plan whose alive set is no longer `alive()` stops announcing; the L2 IPs announced after
   * each plan are told to the peers (`setHoldings`), so that they keep them here.
   */
  readonly membership: {
    readonly settled: boolean;
    takeRejoin(): boolean;
    alive(): readonly string[];
    setHoldings(holdings: readonly string[]): void;
  };
  /** The split-brain guard (isolation-guard.ts): the plan to apply, everything withheld while isolated. */
  readonly guard: { check(plan: NodePlan): Promise<NodePlan>; readonly isolated: boolean };
  readonly l2: {
    /** Undefined when `superseded` stopped it (l2-applier.ts). */
    apply(plan: NodePlan, superseded: () => boolean): Promise<Map<string, string> | undefined>;
    reassert(): Promise<void>;
    /** IPs announced now. */
    announced(): string[];
  };
  /** BGP sessions (bgp-manager.ts): peer name -> why it does not run. */
  readonly bgp: { apply(peers: readonly PeerPlan[]): Promise<Map<string, string>> };
  readonly events: Pick<ServiceEvents, 'failed' | 'assigned'>;
  /** A plan was applied: its status objects follow (status-writer.ts). */
  readonly onApplied: () => void;
  /** The speaker is stopping: nothing more is applied. */
  readonly stopping: () => boolean;
  /** Quiet time after an API change before the plan is recomputed. */
  readonly debounceMs: number;
  readonly timers?: Timers;
}

/** When announcing something failed, the next plan comes this much later at the latest. */
const FAILED_RETRY_MS = 5000;

/**
 * Plans one at a time and applies each by difference: input from the caches, the planner, the
 * split-brain guard, then L2 and BGP; events, metrics and status objects follow what was really
 * applied, not what was meant. Triggers merge (CoalescingTask): API changes wait `debounceMs`,
 * membership changes plan at once.
 */
export class PlanLoop {
  readonly #o: PlanLoopOptions;
  readonly #task: CoalescingTask;
  #lastPlan: NodePlan | undefined;
  #ready = false;

  constructor(options: PlanLoopOptions) {
    this.#o = options;
    this.#task = new CoalescingTask({
      delayMs: options.debounceMs,
      retryMs: 1000,
      run: () => this.#planOnce(),
      onError: (error) =>
        options.log.error({ err: describe(error) }, 'applying the plan failed; retrying in 1 s'),
      ...(options.timers ? { timers: options.timers } : {}),
    });
  }

  /** Plans again after `delayMs` (default: the debounce) unless a plan is due sooner. */
  schedule(delayMs?: number): void {
    this.#task.schedule(delayMs);
  }

  /** The first plan has been applied. */
  get ready(): boolean {
    return this.#ready;
  }

  /** What the last plan really announced (after the guard, without what failed). */
  get lastPlan(): NodePlan | undefined {
    return this.#lastPlan;
  }

  /** A plan is due or running. */
  get busy(): boolean {
    return this.#task.busy;
  }

  get running(): Promise<void> | undefined {
    return this.#task.running;
  }

  /** Nothing is planned any more; waits for the plan in progress. */
  stop(): Promise<void> {
    return this.#task.stop();
  }

  async #planOnce(): Promise<void> {
    const o = this.#o;
    if (o.stopping() || !o.membership.settled) return;
    const input = o.input();
    if (!input) {
      if (!this.#ready) o.log.info('waiting for a valid configuration');
      return;
    }
    let planned: NodePlan;
    try {
      planned = o.planner(input);
    } catch (error) {
      o.log.error(
        { err: describe(error) },
        'the planner refused the input; keeping the current announcements',
      );
      return;
    }
    const plan = await o.guard.check(planned);
    if (o.stopping()) return;
    // Peers may come back while the guard asks the API server or while we announce (a
    // membership cut healed over the LAN path is within a heartbeat): this plan would take
    // their IPs over after the fact. The next plan, from the alive set now, follows at once.
    const superseded = () => !sameMembers(input.aliveNodes, o.membership.alive());
    const l2Failures = superseded() ? undefined : await o.l2.apply(plan, superseded);
    // What is on the wire now, withdrawals included even when the plan was cut short.
    o.membership.setHoldings(advertisedHoldings(o.l2.announced()));
    if (l2Failures === undefined) {
      o.log.info('the alive speakers changed while planning; planning again');
      this.schedule(0);
      return;
    }
    // Peers we saw fail saw us fail too and may have announced our IPs meanwhile.
    if (!o.guard.isolated && o.membership.takeRejoin()) await o.l2.reassert();
    const problems = await o.bgp.apply(plan.peers);
    for (const [peer, message] of problems) {
      o.log.warn({ peer, problem: message }, 'BGP peer not started; retrying with the next plan');
      o.metrics.announceFailures.inc({ protocol: 'bgp' });
    }
    if (problems.size > 0 || l2Failures.size > 0) this.schedule(FAILED_RETRY_MS);
    const failures = { l2: l2Failures, bgp: problems };
    o.events.failed(announceFailures(plan, failures, o.nodeName));
    const applied = appliedPlan(plan, failures);
    this.#lastPlan = applied;
    o.metrics.plansApplied.inc();
    const counts = announcedCounts(applied);
    o.metrics.announcedServices.set({ protocol: 'layer2' }, counts.l2Services);
    o.metrics.announcedServices.set({ protocol: 'bgp' }, counts.bgpServices);
    o.metrics.announcedIps.set({ protocol: 'layer2' }, counts.l2Ips);
    o.metrics.announcedIps.set({ protocol: 'bgp' }, counts.bgpPrefixes);
    if (!o.guard.isolated) o.events.assigned(applied);
    o.onApplied();
    if (!this.#ready) {
      this.#ready = true;
      o.log.info(
        { l2: plan.l2.length, peers: plan.peers.length, alive: [...input.aliveNodes] },
        'speaker ready',
      );
    }
  }
}

function sameMembers(set: ReadonlySet<string>, list: readonly string[]): boolean {
  return set.size === list.length && list.every((name) => set.has(name));
}
