import { type CoordinationV1Api, type V1Lease, V1MicroTime } from '@kubernetes/client-node';
import type { Logger } from 'pino';

/**
 * Leader election on a coordination.k8s.io/v1 Lease, with client-go's rules: the holder renews
 * every `retryPeriodMs`; a candidate takes the lease over when its record has not changed for
 * `leaseDurationSec` as measured on the candidate's own clock (no cross-node clock
 * comparison); a leader that cannot renew within `renewDeadlineMs` steps down. Every write
 * carries the resourceVersion it read, so two candidates can never both win (409 Conflict).
 */
export interface LeaderElectionOptions {
  readonly api: CoordinationV1Api;
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  readonly leaseDurationSec: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly now: () => number;
  readonly log: Logger;
  readonly onStartedLeading: () => void;
  readonly onStoppedLeading: () => void;
}

export class LeaderElector {
  readonly #o: LeaderElectionOptions;
  #leading = false;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  /** The last record seen and when (our clock) it last changed. */
  #observed: { holder: string; renewTime: string; resourceVersion: string; atMs: number } | undefined;
  #lastRenewMs = 0;

  constructor(options: LeaderElectionOptions) {
    this.#o = options;
  }

  get isLeader(): boolean {
    return this.#leading;
  }

  start(): void {
    void this.#tick();
  }

  /**
   * Stops campaigning; a leader releases the lease (unless `release` is false, which mimics
   * a crash) so a successor takes over at once.
   */
  async stop(release = true): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#leading) {
      this.#setLeading(false);
      if (!release) return;
      try {
        const lease = await this.#o.api.readNamespacedLease({
          name: this.#o.name,
          namespace: this.#o.namespace,
        });
        if (lease.spec?.holderIdentity === this.#o.identity) {
          lease.spec.holderIdentity = undefined;
          lease.spec.leaseDurationSeconds = 1;
          lease.spec.renewTime = new V1MicroTime(this.#o.now());
          await this.#o.api.replaceNamespacedLease({
            name: this.#o.name,
            namespace: this.#o.namespace,
            body: lease,
          });
        }
      } catch (error) {
        this.#o.log.debug({ err: error }, 'could not release the leader lease');
      }
    }
  }

  async #tick(): Promise<void> {
    if (this.#stopped) return;
    try {
      const won = await this.#tryAcquireOrRenew();
      if (won) this.#lastRenewMs = this.#o.now();
      if (won && !this.#leading) this.#setLeading(true);
      if (!won && this.#leading) this.#setLeading(false);
    } catch (error) {
      this.#o.log.warn({ err: describe(error) }, 'leader election: API call failed');
      if (this.#leading && this.#o.now() - this.#lastRenewMs > this.#o.renewDeadlineMs)
        this.#setLeading(false);
    }
    if (!this.#stopped) this.#timer = setTimeout(() => void this.#tick(), this.#o.retryPeriodMs);
  }

  #setLeading(leading: boolean): void {
    if (this.#stopped && leading) return;
    this.#leading = leading;
    this.#o.log.info(
      { identity: this.#o.identity, lease: this.#o.name },
      leading ? 'became leader' : 'stopped leading',
    );
    if (leading) this.#o.onStartedLeading();
    else this.#o.onStoppedLeading();
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const { api, name, namespace, identity, now } = this.#o;
    const nowMs = now();
    let lease: V1Lease;
    try {
      lease = await api.readNamespacedLease({ name, namespace });
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
      await api.createNamespacedLease({
        namespace,
        body: {
          metadata: { name, namespace },
          spec: {
            holderIdentity: identity,
            leaseDurationSeconds: this.#o.leaseDurationSec,
            acquireTime: new V1MicroTime(nowMs),
            renewTime: new V1MicroTime(nowMs),
            leaseTransitions: 0,
          },
        },
      });
      return true;
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const renewTime = spec.renewTime ? new Date(spec.renewTime).toISOString() : '';
    const resourceVersion = lease.metadata?.resourceVersion ?? '';
    if (
      !this.#observed ||
      this.#observed.holder !== holder ||
      this.#observed.renewTime !== renewTime ||
      this.#observed.resourceVersion !== resourceVersion
    ) {
      this.#observed = { holder, renewTime, resourceVersion, atMs: nowMs };
    }
    const durationMs = (spec.leaseDurationSeconds ?? this.#o.leaseDurationSec) * 1000;
    const expired = holder === '' || this.#observed.atMs + durationMs <= nowMs;
    if (holder !== identity && !expired) return false;

    const taking = holder !== identity;
    const body: V1Lease = {
      ...lease,
      spec: {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds: this.#o.leaseDurationSec,
        renewTime: new V1MicroTime(nowMs),
        ...(taking
          ? { acquireTime: new V1MicroTime(nowMs), leaseTransitions: (spec.leaseTransitions ?? 0) + 1 }
          : {}),
      },
    };
    try {
      await api.replaceNamespacedLease({ name, namespace, body });
      return true;
    } catch (error) {
      if (statusOf(error) === 409) return false; // someone else wrote first
      throw error;
    }
  }
}

/** HTTP status of a client-node error, if it carries one. */
export function statusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0]! : String(error);
}
