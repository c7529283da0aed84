import type { CoreV1Event } from '@kubernetes/client-node';
import { GROUP, PLURALS, VERSION } from '../api/names.ts';
import type { BGPSessionState, IPAddressPool, ServiceBGPStatus, ServiceL2Status } from '../api/resources.ts';
import { InformerSet } from '../daemon/informer-set.ts';
import type { Logger } from '../log/logger.ts';
import type { EventInput, ServiceInput, StatusInput } from '../status/report.ts';
import type { KubeClient } from './client.ts';
import { Informer, type KubeObject } from './informer.ts';
import { eventInput, SERVICE_WARNINGS } from './status-objects.ts';

/** What the watch needs to know of every Service in the cluster (most are not LoadBalancers). */
function trimService(s: ServiceInput & KubeObject): ServiceInput & KubeObject {
  return {
    metadata: {
      name: s.metadata?.name,
      namespace: s.metadata?.namespace,
      uid: s.metadata?.uid,
      resourceVersion: s.metadata?.resourceVersion,
      annotations: s.metadata?.annotations,
    },
    spec: { type: s.spec?.type, loadBalancerClass: s.spec?.loadBalancerClass },
    status: s.status,
  };
}

type CachedEvent = EventInput & KubeObject;

function trimEvent(e: CachedEvent): CachedEvent {
  const input = eventInput(e as unknown as CoreV1Event);
  return {
    ...input,
    metadata: { ...input.metadata, name: e.metadata?.name, namespace: e.metadata?.namespace },
  };
}

export interface StatusWatchOptions {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly lbClass: string | undefined;
  readonly log: Logger;
  /** Any add, update or delete once every cache has listed. */
  readonly onChange: () => void;
  /** A list or watch failed; the set lists again after `restartDelayMs`. */
  readonly onError: (what: string, error: unknown) => void;
  readonly restartDelayMs?: number;
}

/**
 * What `metalbeacon status --watch` shows, kept current by informers (list, then watch;
 * relisted after a failure or 410): Services everywhere (trimmed, as most are not
 * LoadBalancers), Warning events on Services, and the MetalBeacon objects in `namespace`.
 */
export class StatusWatch {
  readonly #options: StatusWatchOptions;
  readonly #set: InformerSet;
  readonly #services: Informer<ServiceInput & KubeObject>;
  readonly #events: Informer<CachedEvent>;
  readonly #pools: Informer<IPAddressPool & KubeObject>;
  readonly #l2: Informer<ServiceL2Status & KubeObject>;
  readonly #bgp: Informer<ServiceBGPStatus & KubeObject>;
  readonly #sessions: Informer<BGPSessionState & KubeObject>;

  constructor(options: StatusWatchOptions) {
    this.#options = options;
    const { client, namespace } = options;
    this.#set = new InformerSet({
      log: options.log,
      ...(options.restartDelayMs === undefined ? {} : { restartDelayMs: options.restartDelayMs }),
    });
    const ours = (plural: string) => `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${plural}`;
    this.#services = this.#add('services', new Informer(client, '/api/v1/services', { trim: trimService }));
    this.#events = this.#add(
      'events',
      new Informer<CachedEvent>(client, '/api/v1/events', {
        fieldSelector: SERVICE_WARNINGS,
        trim: trimEvent,
      }),
    );
    this.#pools = this.#add(PLURALS.IPAddressPool, new Informer(client, ours(PLURALS.IPAddressPool)));
    this.#l2 = this.#add(PLURALS.ServiceL2Status, new Informer(client, ours(PLURALS.ServiceL2Status)));
    this.#bgp = this.#add(PLURALS.ServiceBGPStatus, new Informer(client, ours(PLURALS.ServiceBGPStatus)));
    this.#sessions = this.#add(PLURALS.BGPSessionState, new Informer(client, ours(PLURALS.BGPSessionState)));
  }

  #add<T extends KubeObject>(name: string, informer: Informer<T>): Informer<T> {
    this.#set.add(name, informer);
    this.#set.onChange(informer, () => this.#options.onChange());
    informer.on('error', (error) => this.#options.onError(name, error));
    return informer;
  }

  /** Resolves once every cache has listed (failed lists are retried meanwhile). */
  start(): Promise<void> {
    return this.#set.start();
  }

  stop(): void {
    this.#set.stop();
  }

  /** The report's input from the caches. */
  input(): StatusInput {
    return {
      namespace: this.#options.namespace,
      lbClass: this.#options.lbClass,
      services: this.#services.list().filter((s) => s.spec?.type === 'LoadBalancer'),
      events: this.#events.list(),
      pools: this.#pools.list(),
      l2Statuses: this.#l2.list(),
      bgpStatuses: this.#bgp.list(),
      sessions: this.#sessions.list(),
    };
  }
}
