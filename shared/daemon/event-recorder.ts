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
  /**
   * Repeats remembered (default {@link MAX_REMEMBERED}); beyond it the object posted to longest
   * ago is forgotten whole.
   */
  readonly maxRemembered?: number;
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

/**
 * The repeats either aggregation remembers by default: as client-go's event cache (its LRU
 * holds 4096). A bound, not a working set: the memory of an object goes with `forgetObject()`
 * when it is deleted, so this only caps live objects that keep producing distinct events.
 */
export const MAX_REMEMBERED = 4096;

/** One object's memory: `count`: `uid|type|reason|message` -> the Event holding it; `changes`: `reason|topic` -> last message. */
type Memory<V> = Map<string, Map<string, V>>;
interface Posted {
  readonly name: string;
  readonly namespace: string;
  count: number;
}

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
  readonly #maxRemembered: number;
  /** `changes`: `kind|ns/name` -> `reason|topic` -> the last message posted */
  readonly #lastMessage: Memory<string> = new Map();
  /** `count`: `kind|ns/name` -> `uid|type|reason|message` -> the Event holding it and its count */
  readonly #posted: Memory<Posted> = new Map();
  /** Entries in both memories together. */
  #remembered = 0;
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
    this.#maxRemembered = options.maxRemembered ?? MAX_REMEMBERED;
  }

  /** Repeats remembered, over every object (what `forgetObject()` and the bound keep small). */
  get remembered(): number {
    return this.#remembered;
  }

  /**
   * Queues an event. With `changes` aggregation, `topic` keeps separate memories for one reason
   * (a failure per IP or per peer: one cause clearing does not make another, lasting one, post
   * again); an event that says what was said last is not posted.
   */
  post(target: EventTarget, event: EventSpec, topic = ''): void {
    if (this.#o.aggregation === 'changes') {
      const key = `${event.reason}|${topic}`;
      if (this.#lastMessage.get(objectKey(target))?.get(key) === event.message) return;
      this.#remember(this.#lastMessage, target, key, event.message);
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
  forget(target: ObjectRef, reason: string, topic = ''): void {
    const object = objectKey(target);
    const memory = this.#lastMessage.get(object);
    if (!memory?.delete(`${reason}|${topic}`)) return;
    this.#remembered--;
    if (memory.size === 0) this.#lastMessage.delete(object);
  }

  /**
   * Forgets everything remembered about an object (every uid it had): for its owner to call when
   * the object is deleted, so that objects created and deleted by the thousand leave nothing here.
   */
  forgetObject(target: ObjectRef): void {
    const key = objectKey(target);
    for (const memory of [this.#lastMessage, this.#posted] as Memory<unknown>[]) {
      this.#remembered -= memory.get(key)?.size ?? 0;
      memory.delete(key);
    }
  }

  /** Sets one entry of an object's memory; beyond the bound, forgets whole the object touched longest ago. */
  #remember<V>(memory: Memory<V>, target: ObjectRef, key: string, value: V): void {
    const object = objectKey(target);
    const entries = memory.get(object) ?? new Map<string, V>();
    // Re-inserted, so the object last posted to is the last one forgotten.
    memory.delete(object);
    memory.set(object, entries);
    if (!entries.has(key)) this.#remembered++;
    entries.set(key, value);
    while (this.#remembered > this.#maxRemembered && memory.size > 0) {
      const [oldest, held] = memory.entries().next().value as [string, Map<string, V>];
      this.#remembered -= held.size;
      memory.delete(oldest);
    }
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
    const identity = `${target.uid ?? ''}|${event.type}|${event.reason}|${event.message}`;
    if (this.#o.aggregation === 'count') {
      const posted = this.#posted.get(objectKey(target))?.get(identity);
      if (posted && (await this.#bump(posted, time, event))) {
        this.#remember(this.#posted, target, identity, posted); // now the object touched last
        return;
      }
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
    if (this.#o.aggregation === 'count')
      this.#remember(this.#posted, target, identity, { name, namespace: target.namespace, count: 1 });
  }

  /** Counts a repeat on the Event already posted; false when that Event is gone (post anew). */
  async #bump(posted: Posted, time: Date, event: EventSpec): Promise<boolean> {
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

/** What names an object to the recorder's memories. */
type ObjectRef = Pick<EventTarget, 'kind' | 'namespace' | 'name'>;

function objectKey(target: ObjectRef): string {
  return `${target.kind}|${target.namespace}/${target.name}`;
}
