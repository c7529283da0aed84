import { CoalescingTask } from '../../shared/daemon/coalescing-task.ts';
import { every, systemTimers, type Timers } from '../../shared/daemon/timers.ts';
import type { Logger } from '../../shared/log/logger.ts';
import type { NodePlan } from '../announce/types.ts';
import { desiredStatusObjects, nodeSelector, type SessionReport } from '../status/status-objects.ts';
import { statusPlurals, statusWrites } from '../status/status-sync.ts';
import { type CachedObject, describe, type StatusObjects } from './objects.ts';
import { SessionStates } from './session-states.ts';
import { StatusGarbage } from './status-garbage.ts';
import type { CachedPod } from './trim.ts';

/** This node's objects of one kind as its informer caches them (selected by the node label). */
export interface OwnObjects {
  readonly plural: string;
  readonly cache: {
    list(): readonly CachedObject[];
    get(name: string, namespace?: string): CachedObject | undefined;
  };
}

export interface StatusWriterOptions {
  readonly objects: Pick<StatusObjects, 'put' | 'delete' | 'list'>;
  readonly nodeName: string;
  readonly namespace: string;
  readonly log: Logger;
  /** ServiceL2Status and ServiceBGPStatus, in that order. */
  readonly own: readonly OwnObjects[];
  readonly sessions: Pick<SessionStates, 'load' | 'sync' | 'missing' | 'prefixesMoved'>;
  readonly garbage: Pick<StatusGarbage, 'collect'>;
  /** What the last plan really announced (plan-loop.ts); undefined before the first. */
  readonly plan: () => NodePlan | undefined;
  /** While isolated nothing is written: the API server is not reachable anyway. */
  readonly isolated: () => boolean;
  readonly stopping: () => boolean;
  readonly timers?: Timers;
}

/** What {@link StatusWriter.forNode} makes the writer's two helpers from. */
export interface NodeStatusOptions extends Omit<StatusWriterOptions, 'sessions' | 'garbage'> {
  /** The BGP sessions running now (bgp-manager.ts), for BGPSessionState. */
  readonly reports: () => readonly SessionReport[];
  /** The speaker Pods now: a node without one has its objects collected (status-garbage.ts). */
  readonly pods: () => readonly CachedPod[];
}

/**
 * Writes this node's status objects after the announcers, never before them (a coalescing loop of
 * its own): ServiceL2Status / ServiceBGPStatus as the applied plan says, then BGPSessionState, then
 * the objects of nodes without a speaker. A failed pass is retried; prefix counts are looked at
 * once a second, as they change without any event.
 */
export class StatusWriter {
  readonly #o: StatusWriterOptions;
  readonly #timers: Timers;
  readonly #task: CoalescingTask;
  #stopWatch: (() => void) | undefined;

  constructor(options: StatusWriterOptions) {
    this.#o = options;
    this.#timers = options.timers ?? systemTimers;
    this.#task = new CoalescingTask({
      delayMs: 50,
      retryMs: 2000,
      run: () => this.#sync(),
      onError: (error) => options.log.warn({ err: describe(error) }, 'status write failed; retrying in 2 s'),
      timers: this.#timers,
    });
  }

  /**
   * The writer with its helpers, BGPSessionState (session-states.ts) and the objects of nodes
   * without a speaker (status-garbage.ts): both write through the same objects, and only as a
   * step of its pass, so it is the one that owns them.
   */
  static forNode(options: NodeStatusOptions): StatusWriter {
    const { objects, nodeName, log } = options;
    const sessions = new SessionStates({ objects, nodeName, log, reports: options.reports });
    const garbage = new StatusGarbage({
      ...{ objects, nodeName, pods: options.pods },
      sessionStates: () => !sessions.missing,
    });
    return new StatusWriter({ ...options, sessions, garbage });
  }

  /**
   * Lists the session states a previous run of this node left behind, so that the first pass
   * deletes or rewrites them as it does the other objects; throws on any failure but a missing CRD.
   */
  load(): Promise<void> {
    return this.#o.sessions.load();
  }

  /** Starts watching the prefix counts. */
  start(): void {
    this.#stopWatch ??= every(this.#timers, 1000, () => {
      if (this.#o.sessions.prefixesMoved()) this.schedule();
    });
  }

  /** Writes soon; triggers merge. */
  schedule(): void {
    this.#task.schedule();
  }

  /** A write is due or running. */
  get busy(): boolean {
    return this.#task.busy;
  }

  get running(): Promise<void> | undefined {
    return this.#task.running;
  }

  /** Nothing is written any more; waits for the pass in progress. */
  stop(): Promise<void> {
    this.#stopWatch?.();
    return this.#task.stop();
  }

  /** Deletes every object of this node (graceful stop); failures are logged, not thrown. */
  async deleteOwn(): Promise<void> {
    const { objects, nodeName, log } = this.#o;
    for (const plural of statusPlurals(!this.#o.sessions.missing)) {
      try {
        for (const o of await objects.list(plural, nodeSelector(nodeName)))
          await objects.delete(plural, o.metadata?.name ?? '');
      } catch (error) {
        log.warn({ plural, err: describe(error) }, 'could not delete own status objects');
      }
    }
  }

  async #sync(): Promise<void> {
    const { objects, namespace } = this.#o;
    const plan = this.#o.plan();
    if (this.#o.stopping() || !plan || this.#o.isolated()) return;
    const desired = desiredStatusObjects(plan, this.#o.nodeName);
    for (const { plural, cache } of this.#o.own) {
      // Ours and no longer wanted: also what an earlier run of this node left behind.
      const writes = statusWrites(desired, plural, cache.list());
      for (const name of writes.delete) await objects.delete(plural, name);
      for (const object of writes.put) await objects.put(object, cache.get(object.name, namespace));
    }
    await this.#o.sessions.sync();
    await this.#o.garbage.collect();
  }
}
