import type { KubeClient } from '../k8s/client.ts';
import { isNotFound } from '../k8s/client.ts';
import type { Logger } from '../log/logger.ts';
import { systemTimers, type Timers } from './timers.ts';

/** The object an event is about. */
export interface EventTarget {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string | undefined;
}

export interface EventSpec {
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
}

/**
 * How repeats are folded:
 * - `count`: as client-go's recorder, an identical event (same object, type, reason, message)
 *   bumps `count` and `lastTimestamp` of the Event already posted instead of posting another;
 * - `changes`: per object, reason and topic only a changed message is posted at all, so an
 *   outcome computed a thousand times the same way makes one Event (`forget()` re-arms it).
 */
export type EventAggregation = 'count' | 'changes';

export interface EventRecorderOptions {
  /** Where Events go: the API client (its create and patch). */
  readonly client: Pick<KubeClient, 'create' | 'patch'>;
  readonly log: Logger;
  /** `source.component` and `reportingComponent` of every Event. */
  readonly component: string;
  /** Wall-clock milliseconds, for the Events' timestamps and names. */
  readonly now: () => number;
  readonly aggregation: EventAggregation;
  /** Events sent at once (default 8). */
  readonly maxInFlight?: number;
  /** Events waiting beyond this many are dropped and counted (default 20,000). */
  readonly maxBacklog?: number;
  /** Log level of a failed post (default warn). */
  readonly failureLevel?: 'warn' | 'debug';
  /** For `drained()`'s time limit. */
  readonly timers?: Timers;
}

/** A core/v1 Event as sent: plain JSON, so its times are RFC 3339 strings, not Dates. */
interface EventBody {
  metadata: { name: string; namespace: string };
  involvedObject: { apiVersion: string; kind: string; namespace: string; name: string; uid?: string };
  type: string;
  reason: string;
  message: string;
  source: { component: string };
  reportingComponent: string;
  firstTimestamp: string;
  lastTimestamp: string;
  count: number;
}

/** The Events `count` aggregation remembers; beyond it the oldest is forgotten. */
const MAX_REMEMBERED = 10_000;

/**
 * Posts core/v1 Events, best effort: failures are logged, never thrown, and status writes are
 * never held up (a bounded backlog, a few requests at a time). One recorder per program, with the
 * aggregation that suits it (EventAggregation).
 */
export class EventRecorder {
  readonly #o: EventRecorderOptions;
  readonly #timers: Timers;
  readonly #maxInFlight: number;
  readonly #maxBacklog: number;
  /** `changes`: `kind|ns/name|reason|topic` -> the last message posted */
  readonly #lastMessage = new Map<string, string>();
  /** `count`: identity of an event -> the Event object holding it and its count */
  readonly #posted = new Map<string, { name: string; namespace: string; count: number }>();
  readonly #backlog: { target: EventTarget; event: EventSpec }[] = [];
  #inFlight = 0;
  #dropped = 0;
  #sequence = 0;
  /** Callers of `drained()` waiting for the backlog to empty. */
  #drainWaiters: (() => void)[] = [];

  constructor(options: EventRecorderOptions) {
    this.#o = options;
    this.#timers = options.timers ?? systemTimers;
    this.#maxInFlight = options.maxInFlight ?? 8;
    this.#maxBacklog = options.maxBacklog ?? 20_000;
  }

  /**
   * Queues an event. With `changes` aggregation, `topic` keeps separate memories for one reason
   * (a failure per IP or per peer: one cause clearing does not make another, lasting one, post
   * again); an event that says what was said last is not posted.
   */
  post(target: EventTarget, event: EventSpec, topic = ''): void {
    if (this.#o.aggregation === 'changes') {
      const key = memoryKey(target, event.reason, topic);
      if (this.#lastMessage.get(key) === event.message) return;
      this.#lastMessage.set(key, event.message);
    }
    if (this.#backlog.length >= this.#maxBacklog) {
      if (this.#dropped++ % 1000 === 0)
        this.#o.log.warn({ dropped: this.#dropped }, 'event backlog full; dropping');
      return;
    }
    this.#backlog.push({ target, event });
    this.#pump();
  }

  /** `changes` aggregation: the next event of this reason and topic on the object is posted. */
  forget(target: Pick<EventTarget, 'kind' | 'namespace' | 'name'>, reason: string, topic = ''): void {
    this.#lastMessage.delete(memoryKey(target, reason, topic));
  }

  /** Events waiting or in flight. */
  get pending(): number {
    return this.#backlog.length + this.#inFlight;
  }

  /** Drops every waiting event (those in flight finish). */
  discard(): void {
    this.#backlog.length = 0;
    this.#notifyIfDrained();
  }

  /** Resolves when no event waits or is in flight, or after `timeoutMs`. */
  drained(timeoutMs = 10_000): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.#timers.clearTimeout(timer);
        this.#drainWaiters = this.#drainWaiters.filter((w) => w !== done);
        resolve();
      };
      const timer = this.#timers.setTimeout(done, timeoutMs);
      this.#drainWaiters.push(done);
    });
  }

  #notifyIfDrained(): void {
    if (this.pending > 0) return;
    for (const waiter of [...this.#drainWaiters]) waiter();
  }

  #pump(): void {
    while (this.#inFlight < this.#maxInFlight && this.#backlog.length > 0) {
      const next = this.#backlog.shift()!;
      this.#inFlight++;
      void this.#send(next.target, next.event).finally(() => {
        this.#inFlight--;
        this.#pump();
        this.#notifyIfDrained();
      });
    }
  }

  async #send(target: EventTarget, event: EventSpec): Promise<void> {
    const time = new Date(this.#o.now());
    const identity = `${target.kind}|${target.namespace}|${target.name}|${target.uid ?? ''}|${event.type}|${event.reason}|${event.message}`;
    if (this.#o.aggregation === 'count') {
      const posted = this.#posted.get(identity);
      if (posted && (await this.#bump(posted, time, event))) return;
    }
    const name = `${target.name}.${time.getTime().toString(16)}${(this.#sequence++).toString(16).padStart(4, '0')}`;
    const body: EventBody = {
      metadata: { name, namespace: target.namespace },
      involvedObject: {
        apiVersion: target.apiVersion,
        kind: target.kind,
        namespace: target.namespace,
        name: target.name,
        ...(target.uid ? { uid: target.uid } : {}),
      },
      type: event.type,
      reason: event.reason,
      message: event.message,
      source: { component: this.#o.component },
      reportingComponent: this.#o.component,
      // What client-node wrote for a Date: toISOString(), milliseconds included.
      firstTimestamp: time.toISOString(),
      lastTimestamp: time.toISOString(),
      count: 1,
    };
    try {
      await this.#o.client.create(`/api/v1/namespaces/${encodeURIComponent(target.namespace)}/events`, body);
    } catch (error) {
      this.#logFailure(error, event, 'could not post event');
      return;
    }
    if (this.#o.aggregation === 'count') {
      this.#posted.set(identity, { name, namespace: target.namespace, count: 1 });
      if (this.#posted.size > MAX_REMEMBERED) this.#posted.delete(this.#posted.keys().next().value as string);
    }
  }

  /** Counts a repeat on the Event already posted; false when that Event is gone (post anew). */
  async #bump(
    posted: { name: string; namespace: string; count: number },
    time: Date,
    event: EventSpec,
  ): Promise<boolean> {
    posted.count++;
    try {
      await this.#o.client.patch(
        `/api/v1/namespaces/${encodeURIComponent(posted.namespace)}/events/${encodeURIComponent(posted.name)}`,
        { count: posted.count, lastTimestamp: time.toISOString() },
      );
    } catch (error) {
      if (isNotFound(error)) return false;
      this.#logFailure(error, event, 'could not update event');
    }
    return true;
  }

  #logFailure(error: unknown, event: EventSpec, what: string): void {
    const text = error instanceof Error ? (error.message.split('\n')[0] ?? error.name) : String(error);
    this.#o.log[this.#o.failureLevel ?? 'warn']({ err: text, reason: event.reason }, what);
  }
}

function memoryKey(target: Pick<EventTarget, 'kind' | 'namespace' | 'name'>, reason: string, topic: string) {
  return `${target.kind}|${target.namespace}/${target.name}|${reason}|${topic}`;
}
