import type { CoreV1Event } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { KubeClient } from '../../shared/k8s/client.ts';
import { statusOf } from './leader.ts';

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
 * Posts core/v1 Events the way client-go's recorder does: an identical event (same object,
 * type, reason and message) bumps `count` and `lastTimestamp` of the existing Event instead of
 * creating a new one. Failures are logged, never thrown: events are best effort.
 */
export class EventRecorder {
  readonly #client: KubeClient;
  readonly #log: Logger;
  readonly #component: string;
  readonly #now: () => number;
  /** aggregation key -> the Event object's name, namespace and count */
  readonly #seen = new Map<string, { name: string; namespace: string; count: number }>();
  #sequence = 0;
  /** Events waiting to be sent: status writes come first, events must not starve them. */
  readonly #backlog: { target: EventTarget; event: EventSpec }[] = [];
  #inFlight = 0;
  #dropped = 0;

  constructor(client: KubeClient, log: Logger, component: string, now: () => number) {
    this.#client = client;
    this.#log = log;
    this.#component = component;
    this.#now = now;
  }

  /**
   * Queues an event; at most 8 are sent at once and at most 20,000 wait (beyond that they are
   * dropped and counted, as client-go's broadcaster does under pressure).
   */
  post(target: EventTarget, event: EventSpec): void {
    if (this.#backlog.length >= 20_000) {
      if (this.#dropped++ % 1000 === 0)
        this.#log.warn({ dropped: this.#dropped }, 'event backlog full; dropping');
      return;
    }
    this.#backlog.push({ target, event });
    this.#pump();
  }

  /** Resolves when no event waits or is in flight (or after `timeoutMs`). */
  async drained(timeoutMs = 10_000): Promise<void> {
    // Real elapsed time, not the injected clock (which stamps events and may be frozen in tests).
    const deadline = performance.now() + timeoutMs;
    while (this.pending > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  }

  /** Drops every waiting event (in-flight ones finish). */
  discard(): void {
    this.#backlog.length = 0;
  }

  /** Events waiting or in flight. */
  get pending(): number {
    return this.#backlog.length + this.#inFlight;
  }

  #pump(): void {
    while (this.#inFlight < 8 && this.#backlog.length > 0) {
      const next = this.#backlog.shift()!;
      this.#inFlight++;
      void this.#send(next.target, next.event).finally(() => {
        this.#inFlight--;
        this.#pump();
      });
    }
  }

  async #send(target: EventTarget, event: EventSpec): Promise<void> {
    const key = `${target.kind}|${target.namespace}|${target.name}|${target.uid ?? ''}|${event.type}|${event.reason}|${event.message}`;
    const time = new Date(this.#now());
    const seen = this.#seen.get(key);
    try {
      if (seen) {
        seen.count++;
        await this.#client.patch(`/api/v1/namespaces/${seen.namespace}/events/${seen.name}`, {
          count: seen.count,
          lastTimestamp: time.toISOString(),
        });
        return;
      }
    } catch (error) {
      if (statusOf(error) !== 404) {
        this.#log.warn({ err: String(error), reason: event.reason }, 'could not update event');
        return;
      }
    }
    const name = `${target.name}.${time.getTime().toString(16)}${(this.#sequence++).toString(16).padStart(4, '0')}`;
    // Times as RFC 3339 text: this body goes out as JSON, not through client-node's serializer.
    const body: Omit<CoreV1Event, 'firstTimestamp' | 'lastTimestamp'> & Record<string, unknown> = {
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
      source: { component: this.#component },
      reportingComponent: this.#component,
      firstTimestamp: time.toISOString(),
      lastTimestamp: time.toISOString(),
      count: 1,
    };
    try {
      await this.#client.create(`/api/v1/namespaces/${target.namespace}/events`, body);
      this.#seen.set(key, { name, namespace: target.namespace, count: 1 });
      if (this.#seen.size > 10_000) this.#seen.delete(this.#seen.keys().next().value as string);
    } catch (error) {
      this.#log.warn({ err: String(error), reason: event.reason }, 'could not post event');
    }
  }
}
