import { systemTimers, type TimerHandle, type Timers } from '../../shared/daemon/timers.ts';
import { type CallOptions, isConflict, isNotFound, type KubeClient } from '../../shared/k8s/client.ts';
import type { Logger } from '../../shared/log/logger.ts';
import {
  callDeadlineMs,
  checkTiming,
  decide,
  type ElectionState,
  type ElectionTiming,
  expire,
  INITIAL_STATE,
  isLeading,
  type LeaseObject,
  microTime,
  nextAttemptMs,
  observe,
  readLease,
  releasedSpec,
  resign,
  specFor,
  writeDeadlineMs,
  wrote,
} from '../election/lease-election.ts';
import { NotLeadingError, type WriteGate } from './leader-gate.ts';

export interface LeaderElectionOptions {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  readonly timing: ElectionTiming;
  /** Monotonic time and timers (default: the process's). */
  readonly timers?: Timers;
  /** Wall-clock milliseconds, only for the Lease's MicroTime fields. */
  readonly wallNow: () => number;
  readonly log: Logger;
  readonly onStartedLeading: () => void;
  readonly onStoppedLeading: () => void;
}

/**
 * Runs leader election on a coordination.k8s.io/v1 Lease (rules: election/lease-election.ts).
 * It is also the gate of the leader's writes. Three timers, each on its own: the next attempt,
 * the step-down at the end of leadership (never behind a call), and each call's own deadline.
 */
export class LeaderElector implements WriteGate {
  readonly #o: LeaderElectionOptions;
  readonly #timers: Timers;
  #state: ElectionState = INITIAL_STATE;
  /** What the callbacks were last told. */
  #reportedLeading = false;
  /** Aborted when leadership ends: the leader's writes in flight end with it. */
  #term: AbortController | undefined;
  /** Aborted by stop(): the Lease calls in flight end. */
  readonly #stopping = new AbortController();
  /** The Lease as our last write stored it: a leader renews it without reading it first. */
  #lastWritten: LeaseObject | undefined;
  #attemptTimer: TimerHandle | undefined;
  #stepDownTimer: TimerHandle | undefined;

  constructor(options: LeaderElectionOptions) {
    this.#o = { ...options, timing: checkTiming(options.timing) };
    this.#timers = options.timers ?? systemTimers;
  }

  get isLeader(): boolean {
    return isLeading(this.#state, this.#timers.now());
  }

  start(): void {
    void this.#attempt();
  }

  /**
   * Limits for a write sent now: the term's signal, which the step-down aborts. Not a timeout at
   * today's end of leadership: a renewal moves that end, and a slow write cut off while its
   * replica still leads may have been applied all the same. Throws NotLeadingError.
   */
  callOptions(): CallOptions {
    if (writeDeadlineMs(this.#state, this.#timers.now()) === undefined || !this.#term)
      throw new NotLeadingError(this.#o.identity);
    return { signal: this.#term.signal };
  }

  /**
   * Stops campaigning; a leader then releases the Lease (unless `release` is false, which mimics
   * a crash) so that a successor takes over at once. Writes end before the release is sent.
   */
  async stop(release = true): Promise<void> {
    if (this.#stopping.signal.aborted) return;
    const wasLeading = this.isLeader;
    this.#stopping.abort(new Error('the controller is stopping'));
    this.#clearTimer('attempt');
    this.#state = resign(this.#state);
    this.#report('stopping');
    if (release && wasLeading) await this.#release();
  }

  async #attempt(): Promise<void> {
    this.#attemptTimer = undefined;
    if (this.#stopping.signal.aborted) return;
    const startMs = this.#timers.now();
    const deadlineMs = callDeadlineMs(this.#state, startMs, this.#o.timing);
    try {
      await this.#tryAcquireOrRenew(startMs, deadlineMs);
    } catch (error) {
      if (!this.#stopping.signal.aborted)
        this.#o.log.warn(
          { err: describe(error), leading: this.isLeader },
          'leader election: Lease call failed',
        );
    }
    this.#report('not renewed within the renew deadline');
    if (this.#stopping.signal.aborted) return;
    const nowMs = this.#timers.now();
    this.#attemptTimer = this.#timers.setTimeout(
      () => void this.#attempt(),
      nextAttemptMs(nowMs, this.#o.timing) - nowMs,
    );
  }

  async #tryAcquireOrRenew(startMs: number, deadlineMs: number): Promise<void> {
    const { client, identity, timing, wallNow } = this.#o;
    const options = (): CallOptions => ({
      timeoutMs: deadlineMs - this.#timers.now(),
      signal: this.#stopping.signal,
    });
    const path = this.#path();
    const last = this.#lastWritten;
    if (last && isLeading(this.#state, startMs)) {
      // client-go's fast path: renew the copy we wrote; a conflict means it changed: read it.
      const spec = specFor('renew', last.spec, readLease(last), identity, timing, microTime(wallNow()));
      try {
        this.#wrote(await client.replace<LeaseObject>(path, { ...last, spec }, options()), startMs);
        return;
      } catch (error) {
        if (!isConflict(error)) throw error;
      }
    }
    let lease: LeaseObject | undefined;
    try {
      lease = await client.get<LeaseObject>(path, undefined, options());
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    const record = lease && readLease(lease);
    this.#state = observe(this.#state, record, this.#timers.now());
    const decision = decide(this.#state, identity, this.#timers.now(), timing);
    if (decision.kind === 'wait') {
      this.#lastWritten = undefined;
      this.#state = resign(this.#state);
      this.#report(`the Lease is held by ${decision.holder}`);
      return;
    }
    const spec = specFor(decision.kind, lease?.spec, record, identity, timing, microTime(wallNow()));
    if (decision.kind === 'create') {
      const body = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: this.#meta(), spec };
      this.#wrote(await client.create<LeaseObject>(this.#collection(), body, options()), startMs);
      return;
    }
    try {
      this.#wrote(await client.replace<LeaseObject>(path, { ...lease, spec }, options()), startMs);
    } catch (error) {
      // Another replica wrote between our read and our write; a leader keeps its term's end.
      if (!isConflict(error)) throw error;
      this.#lastWritten = undefined;
    }
  }

  #wrote(stored: LeaseObject, startMs: number): void {
    this.#lastWritten = stored;
    const nowMs = this.#timers.now();
    this.#state = wrote(readLease(stored), startMs, nowMs, this.#o.timing);
    if (this.#stopping.signal.aborted) this.#state = resign(this.#state);
    this.#report('renewed too late');
  }

  /** The step-down timer: leadership ends at its end, whatever a call in flight is doing. */
  #stepDown(): void {
    this.#stepDownTimer = undefined;
    this.#state = expire(this.#state, this.#timers.now());
    this.#report('not renewed within the renew deadline');
  }

  /** Tells the callbacks what changed and (re)arms the step-down timer. */
  #report(whyStopped: string): void {
    const nowMs = this.#timers.now();
    const leading = isLeading(this.#state, nowMs) && !this.#stopping.signal.aborted;
    this.#clearTimer('stepDown');
    if (leading) {
      // At least 1 ms: a timer may fire a fraction early, and then re-arms for the rest.
      const inMs = Math.max(1, this.#state.leaderUntilMs! - nowMs);
      this.#stepDownTimer = this.#timers.setTimeout(() => this.#stepDown(), inMs);
    }
    if (leading === this.#reportedLeading) return;
    this.#reportedLeading = leading;
    const { identity, name, log } = this.#o;
    if (leading) {
      this.#term = new AbortController();
      log.info({ identity, lease: name }, 'became leader');
      this.#o.onStartedLeading();
      return;
    }
    // Writes in flight end first, then the controller stops deciding new ones.
    this.#term?.abort(new NotLeadingError(identity));
    this.#term = undefined;
    log.info({ identity, lease: name, why: whyStopped }, 'stopped leading');
    this.#o.onStoppedLeading();
  }

  async #release(): Promise<void> {
    const { client, identity, timing, wallNow } = this.#o;
    const path = this.#path();
    // Bounded by the renew deadline: a hung API server must not hold up the shutdown.
    const deadlineMs = this.#timers.now() + timing.renewDeadlineMs;
    const options = (): CallOptions => ({ timeoutMs: deadlineMs - this.#timers.now() });
    try {
      const lease = await client.get<LeaseObject>(path, undefined, options());
      if (readLease(lease).holder !== identity) return;
      const spec = releasedSpec(lease.spec, microTime(wallNow()));
      // Conditional on what we read: a late renewal of ours can no longer land after this.
      await client.replace(path, { ...lease, spec }, options());
    } catch (error) {
      this.#o.log.debug({ err: describe(error) }, 'could not release the leader lease');
    }
  }

  #clearTimer(which: 'attempt' | 'stepDown'): void {
    const handle = which === 'attempt' ? this.#attemptTimer : this.#stepDownTimer;
    if (handle) this.#timers.clearTimeout(handle);
    if (which === 'attempt') this.#attemptTimer = undefined;
    else this.#stepDownTimer = undefined;
  }

  #meta(): { name: string; namespace: string } {
    return { name: this.#o.name, namespace: this.#o.namespace };
  }

  #collection(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${this.#o.namespace}/leases`;
  }

  #path(): string {
    return `${this.#collection()}/${this.#o.name}`;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0]! : String(error);
}
