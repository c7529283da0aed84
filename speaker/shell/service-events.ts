import {
  EventRecorder,
  type EventRecorderOptions,
  type EventTarget,
} from '../../shared/daemon/event-recorder.ts';
import { type AnnounceFailure, assignedMessages } from '../announce/applied-plan.ts';
import type { NodePlan, ServiceKey } from '../announce/types.ts';

export interface ServiceEventsOptions {
  /** The program's recorder, aggregating by changes: a message repeated is posted once. */
  readonly recorder: Pick<EventRecorder, 'post' | 'forget'>;
  /** A Service as the cache has it now (for its uid); undefined when it is gone. */
  readonly service: (namespace: string, name: string) => { metadata?: { uid?: string } } | undefined;
  readonly nodeName: string;
}

/**
 * The Events a speaker posts on Services: `nodeAssigned` (what this node announces for it) and
 * `announceFailed` (once per Service and cause while the cause lasts). What stopped is forgotten
 * by the recorder, so its coming back posts again.
 */
export class ServiceEvents {
  readonly #o: ServiceEventsOptions;
  /** `service|topic` -> the announce failures of the last plan */
  #failing = new Map<string, AnnounceFailure>();
  /** Services this node announced at the last plan */
  #assigned = new Set<ServiceKey>();

  constructor(options: ServiceEventsOptions) {
    this.#o = options;
  }

  /** The announce failures of a plan; a cause that cleared (the IP announced, the peer up) is forgotten. */
  failed(failures: readonly AnnounceFailure[]): void {
    const next = new Map(failures.map((f) => [`${f.service}|${f.topic}`, f]));
    for (const f of failures) {
      const ref = this.#serviceRef(f.service);
      if (ref)
        this.#o.recorder.post(
          ref,
          { type: 'Warning', reason: 'announceFailed', message: f.message },
          f.topic,
        );
    }
    for (const [id, f] of this.#failing)
      if (!next.has(id)) this.#o.recorder.forget(serviceAt(f.service), 'announceFailed', f.topic);
    this.#failing = next;
  }

  /** What this node announces now (the applied plan): one nodeAssigned per Service whose message changed. */
  assigned(plan: NodePlan): void {
    const messages = assignedMessages(plan, this.#o.nodeName);
    for (const [key, message] of messages) {
      const ref = this.#serviceRef(key);
      if (ref) this.#o.recorder.post(ref, { type: 'Normal', reason: 'nodeAssigned', message });
    }
    // A Service this node stopped announcing gets a fresh event if it comes back.
    for (const key of this.#assigned)
      if (!messages.has(key)) this.#o.recorder.forget(serviceAt(key), 'nodeAssigned');
    this.#assigned = new Set(messages.keys());
  }

  /** The Service of a `ns/name` key as the cache has it; undefined when it is gone. */
  #serviceRef(key: ServiceKey): EventTarget | undefined {
    const target = serviceAt(key);
    const service = this.#o.service(target.namespace, target.name);
    return service ? { ...target, uid: service.metadata?.uid } : undefined;
  }
}

/** The Service of a `ns/name` key, as an event target (without uid). */
function serviceAt(key: ServiceKey): EventTarget {
  const slash = key.indexOf('/');
  return { apiVersion: 'v1', kind: 'Service', namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/**
 * The speaker's recorder: a message repeated is posted once (aggregation by changes), few at a
 * time and a bounded backlog, so that a thousand Services' events never hold up announcing; a
 * failed post is logged at debug level only (events are best effort).
 */
export function speakerRecorder(
  options: Pick<EventRecorderOptions, 'client' | 'log' | 'now' | 'timers'>,
): EventRecorder {
  return new EventRecorder({
    ...options,
    component: 'metalbeacon-speaker',
    aggregation: 'changes',
    maxInFlight: 4,
    maxBacklog: 5000,
    failureLevel: 'debug',
  });
}
