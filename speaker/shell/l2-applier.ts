import type { Logger } from '../../shared/log/logger.ts';
import { interfacesKey, l2Changes } from '../announce/l2-changes.ts';
import type { NodePlan } from '../announce/types.ts';
import { L2Announcer } from '../l2/io/announcer.ts';
import { registerL2Metrics, registerLoopMetrics } from '../l2/io/metrics.ts';
import type { SpeakerMetrics } from './metrics.ts';
import { describe } from './objects.ts';

/** What the applier needs of the L2 announcer (speaker/l2/io/announcer.ts L2Announcer). */
export interface L2Port {
  announce(ip: string, interfaces: readonly string[]): Promise<void>;
  withdraw(ip: string): Promise<void>;
  /** A fresh takeover burst for every IP announced. */
  reassert(): Promise<void>;
  /** Whether the LAN interfaces have carrier now; undefined when unknown (announcer.ts lanUp). */
  lanUp?(): Promise<boolean | undefined>;
  /** Withdraws everything and stops. */
  close(): Promise<void>;
}

/**
 * Applies the L2 part of each plan by difference (speaker/announce/l2-changes.ts): withdraws
 * what the plan dropped, announces what is new or moved to other interfaces, leaves the rest.
 * An IP that fails is reported and not remembered, so the next plan tries it again.
 */
export class L2Applier {
  readonly #port: L2Port;
  readonly #log: Logger;
  readonly #metrics: Pick<SpeakerMetrics, 'announceFailures'>;
  /** IP -> interfacesKey of what is announced now */
  readonly #announced = new Map<string, string>();

  constructor(port: L2Port, log: Logger, metrics: Pick<SpeakerMetrics, 'announceFailures'>) {
    this.#port = port;
    this.#log = log;
    this.#metrics = metrics;
  }

  /**
   * Starts the L2 announcer (its packet worker runs on the network thread), registers its metrics
   * and returns an applier over it.
   */
  static async start(options: {
    readonly log: Logger;
    readonly metrics: SpeakerMetrics;
    readonly excludeInterfaces?: RegExp | undefined;
    readonly networkThreadPriority?: number | undefined;
    readonly onFatal: (error: Error) => void;
  }): Promise<L2Applier> {
    const { log, metrics } = options;
    const announcer = await L2Announcer.start({
      logger: log.child({ component: 'l2' }),
      ...(options.excludeInterfaces ? { excludeInterfaces: options.excludeInterfaces } : {}),
      networkThreadPriority: options.networkThreadPriority ?? 0,
      onFatal: options.onFatal,
    });
    registerL2Metrics(metrics.registry, async () => (await announcer.snapshot()).counters);
    registerLoopMetrics(metrics.registry, () => announcer.loopWork());
    return new L2Applier(announcer, log, metrics);
  }

  /**
   * Returns the IPs it could not announce (IP -> why); undefined when `superseded` said, before
   * an announce, that the plan is out of date (what it withdrew stays withdrawn).
   */
  async apply(
    plan: NodePlan,
    superseded: () => boolean = () => false,
  ): Promise<Map<string, string> | undefined> {
    const failed = new Map<string, string>(); // IP -> why
    const changes = l2Changes(this.#announced, plan.l2);
    for (const ip of changes.withdraw) {
      await this.#port.withdraw(ip);
      this.#announced.delete(ip);
      this.#log.info({ ip }, 'L2: withdrawn');
    }
    for (const announcement of changes.announce) {
      const { ip } = announcement;
      const interfaces = interfacesKey(announcement.interfaces);
      if (superseded()) return undefined;
      try {
        await this.#port.announce(ip, announcement.interfaces);
        this.#announced.set(ip, interfaces);
        this.#log.info(
          { ip, interfaces: interfaces || 'all', services: announcement.services },
          'L2: announcing',
        );
      } catch (error) {
        this.#metrics.announceFailures.inc({ protocol: 'layer2' });
        this.#log.warn({ ip, err: describe(error) }, 'L2: cannot announce; retrying in 5 s');
        failed.set(ip, describe(error));
      }
    }
    return failed;
  }

  /** Announces every IP again (a failed peer came back and may have announced ours meanwhile). */
  reassert(): Promise<void> {
    return this.#port.reassert();
  }

  /** Whether the LAN interfaces have carrier now; undefined when unknown. */
  async lanUp(): Promise<boolean | undefined> {
    return this.#port.lanUp?.();
  }

  /** IPs announced now. */
  announced(): string[] {
    return [...this.#announced.keys()];
  }

  /** Withdraws everything and stops the announcer. */
  async close(): Promise<void> {
    await this.#port.close();
    this.#announced.clear();
  }
}
