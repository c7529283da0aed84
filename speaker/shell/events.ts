import type { CoreV1Event } from '@kubernetes/client-node';
import type { KubeClient } from '../../shared/k8s/client.ts';
import type { Logger } from '../../shared/log/logger.ts';
import { describe } from './objects.ts';

/** The Service an event is about. */
export interface ServiceRef {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string | undefined;
}

/** A core/v1 Event as sent: plain JSON, so its times are RFC 3339 strings, not Dates. */
type EventBody = Omit<CoreV1Event, 'metadata' | 'firstTimestamp' | 'lastTimestamp'> & {
  metadata: { name: string; namespace: string };
  firstTimestamp: string;
  lastTimestamp: string;
};

/**
 * Events on Services, aggregated: for each (Service, reason) only a changed message is posted,
 * so a plan recomputed a thousand times with the same outcome posts one Event, not a thousand.
 * Best effort: failures are logged. At most 4 in flight; a backlog beyond 5,000 is dropped.
 */
export class ServiceEvents {
  readonly #client: KubeClient;
  readonly #log: Logger;
  readonly #component: string;
  readonly #now: () => number;
  /** `ns/name|reason|topic` -> last message posted */
  readonly #last = new Map<string, string>();
  readonly #backlog: EventBody[] = [];
  #inFlight = 0;
  #sequence = 0;

  constructor(client: KubeClient, log: Logger, component: string, now: () => number) {
    this.#client = client;
    this.#log = log;
    this.#component = component;
    this.#now = now;
  }

  /**
   * Posts unless the last event of this reason on this Service said the same. `topic` keeps
   * separate memories for one reason (announceFailed per IP or peer: one cause clearing does
   * not make another, still lasting, post again).
   */
  post(service: ServiceRef, type: 'Normal' | 'Warning', reason: string, message: string, topic = ''): void {
    const key = `${service.namespace}/${service.name}|${reason}|${topic}`;
    if (this.#last.get(key) === message) return;
    this.#last.set(key, message);
    if (this.#backlog.length >= 5000) return;
    const time = new Date(this.#now());
    // What client-node wrote for a Date: toISOString(), milliseconds included.
    const timestamp = time.toISOString();
    this.#backlog.push({
      metadata: {
        name: `${service.name}.${time.getTime().toString(16)}${(this.#sequence++).toString(16).padStart(4, '0')}`,
        namespace: service.namespace,
      },
      involvedObject: {
        apiVersion: 'v1',
        kind: 'Service',
        namespace: service.namespace,
        name: service.name,
        ...(service.uid ? { uid: service.uid } : {}),
      },
      type,
      reason,
      message,
      source: { component: this.#component },
      reportingComponent: this.#component,
      firstTimestamp: timestamp,
      lastTimestamp: timestamp,
      count: 1,
    });
    this.#pump();
  }

  /** Forgets a reason for a Service, so the same message is posted again the next time it happens. */
  forget(serviceKey: string, reason: string, topic = ''): void {
    this.#last.delete(`${serviceKey}|${reason}|${topic}`);
  }

  /** Resolves when nothing waits (or after `timeoutMs`). */
  async drained(timeoutMs = 2000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (this.#backlog.length + this.#inFlight > 0 && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  #pump(): void {
    while (this.#inFlight < 4 && this.#backlog.length > 0) {
      const body = this.#backlog.shift()!;
      this.#inFlight++;
      this.#client
        .create(`/api/v1/namespaces/${encodeURIComponent(body.metadata.namespace)}/events`, body)
        .catch((error: unknown) =>
          this.#log.debug({ err: describe(error), reason: body.reason }, 'could not post event'),
        )
        .finally(() => {
          this.#inFlight--;
          this.#pump();
        });
    }
  }
}
