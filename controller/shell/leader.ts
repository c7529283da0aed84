import { isConflict, isNotFound, type KubeClient } from '../../shared/k8s/client.ts';

/** The coordination.k8s.io/v1 Lease fields the elector reads and writes (times as MicroTime text). */
interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
  spec?: {
    holderIdentity?: string | undefined;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

/** A MicroTime: RFC 3339 with six fractional digits, as client-go writes it. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '000Z');
}

import type { Logger } from 'pino';

/**
 * Leader election on a coordination.k8s.io/v1 Lease, with client-go's rules: the holder renews
 * every `retryPeriodMs`; a candidate takes the lease over when its record has not changed for
 * `leaseDurationSec` as measured on the candidate's own clock (no cross-node clock
 * comparison); a leader that cannot renew within `renewDeadlineMs` steps down. Every write
 * carries the resourceVersion it read, so two candidates can never both win (409 Conflict).
 */
export interface LeaderElectionOptions {
  readonly client: KubeClient;
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
        const path = this.#path();
        const lease = await this.#o.client.get<Lease>(path);
        if (lease.spec?.holderIdentity === this.#o.identity) {
          lease.spec.holderIdentity = undefined;
          lease.spec.leaseDurationSeconds = 1;
          lease.spec.renewTime = microTime(this.#o.now());
          await this.#o.client.replace(path, lease);
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

  #path(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${this.#o.namespace}/leases/${this.#o.name}`;
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const { client, name, namespace, identity, now } = this.#o;
    const nowMs = now();
    const path = this.#path();
    let lease: Lease;
    try {
      lease = await client.get<Lease>(path);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      await client.create(path.slice(0, path.lastIndexOf('/')), {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name, namespace },
        spec: {
          holderIdentity: identity,
          leaseDurationSeconds: this.#o.leaseDurationSec,
          acquireTime: microTime(nowMs),
          renewTime: microTime(nowMs),
          leaseTransitions: 0,
        },
      } satisfies Lease);
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
    const body: Lease = {
      ...lease,
      spec: {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds: this.#o.leaseDurationSec,
        renewTime: microTime(nowMs),
        ...(taking
          ? { acquireTime: microTime(nowMs), leaseTransitions: (spec.leaseTransitions ?? 0) + 1 }
          : {}),
      },
    };
    try {
      await client.replace(path, body);
      return true;
    } catch (error) {
      if (isConflict(error)) return false; // someone else wrote first
      throw error;
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0]! : String(error);
}
