import { GROUP, PLURALS, VERSION } from '../../shared/api/names.ts';
import type * as Api from '../../shared/api/resources.ts';
import type { ConfigInputs } from '../../shared/config/build-config.ts';
import { passwordSecretNames } from '../../shared/config/peers.ts';
import type { Config } from '../../shared/config/types.ts';
import { InformerSet } from '../../shared/daemon/informer-set.ts';
import { every, type Timers } from '../../shared/daemon/timers.ts';
import type { KubeClient } from '../../shared/k8s/client.ts';
import { Informer, type InformerOptions, type KubeObject } from '../../shared/k8s/informer.ts';
import type { Logger } from '../../shared/log/logger.ts';
import type { PlanInput } from '../announce/types.ts';
import { nodeSelector } from '../status/status-objects.ts';
import { nodeAddresses, planInput } from './facts.ts';
import type { CachedObject } from './objects.ts';
import { PeerSecrets } from './peer-secrets.ts';
import type { CachedEndpointSlice, CachedNode, CachedPod, CachedService } from './trim.ts';
import {
  trimConfigResource,
  trimEndpointSlice,
  trimNode,
  trimPod,
  trimService,
  trimStatusObject,
} from './trim.ts';

/** What a change of each cache asks for. */
export interface CacheReactions {
  /**
   * The configuration may have changed (CRs, Nodes, the BGP password Secrets): rebuild it, then
   * plan. After a BGPPeer change the Secrets it names are read first.
   */
  readonly reconfigure: () => void;
  /** The facts changed (Services, EndpointSlices): plan after the debounce. */
  readonly replan: () => void;
  /** This node's status objects changed under us: write them again. */
  readonly restatus: () => void;
  /** The speaker Pods changed: membership peers, plan and garbage collection. */
  readonly speakersChanged: () => void;
  /** A Node changed (besides `reconfigure`): its addresses are membership sources of its speaker. */
  readonly nodesChanged: () => void;
}

export interface SpeakerCachesOptions {
  readonly client: KubeClient;
  /** Namespace of the CRs, the speaker Pods and the status objects. */
  readonly namespace: string;
  readonly nodeName: string;
  /** Label selector of the speaker Pods (the membership peers). */
  readonly speakerSelector: string;
  readonly log: Logger;
  /** The speaker is stopping: no change is passed on, no informer restarts. */
  readonly stopping: () => boolean;
}

/**
 * What the speaker watches, in one informer set (started, restarted and synced together). Each
 * cache keeps only what the speaker reads (trim.ts): a Node's images, a Pod's containers and every
 * object's managedFields would otherwise make most of the speaker's memory. No Secret is watched:
 * the speaker may not list or watch them; the BGPPeers' password Secrets are read by name
 * (peer-secrets.ts, docs/adr/0008-speaker-secrets-by-name.md).
 */
export class SpeakerCaches {
  readonly informers: InformerSet;
  readonly services: Informer<CachedService>;
  readonly slices: Informer<CachedEndpointSlice>;
  readonly nodes: Informer<CachedNode>;
  readonly pods: Informer<CachedPod>;
  /** Our configuration CRs, in our namespace. */
  readonly crs: {
    readonly pools: Informer<Api.IPAddressPool>;
    readonly l2: Informer<Api.L2Advertisement>;
    readonly bgp: Informer<Api.BGPAdvertisement>;
    readonly peers: Informer<Api.BGPPeer>;
    readonly communities: Informer<Api.Community>;
    readonly bfd: Informer<Api.BFDProfile>;
  };
  /**
   * This node's ServiceL2Status and ServiceBGPStatus objects only: every speaker watching every
   * node's would cost O(nodes²).
   */
  readonly own: readonly { readonly plural: string; readonly cache: Informer<CachedObject> }[];
  readonly #o: SpeakerCachesOptions;
  readonly #passwords: PeerSecrets;
  /** Who hears that a password Secret changed; nobody until react(). */
  #passwordsChanged: () => void = () => {};

  constructor(options: SpeakerCachesOptions) {
    const { client, namespace } = options;
    this.#o = options;
    const informers = new InformerSet({ log: options.log, stopping: options.stopping });
    this.informers = informers;
    const watch = <T extends KubeObject>(name: string, path: string, o: InformerOptions<T>) =>
      informers.add(name, new Informer<T>(client, path, o));
    const crPath = (plural: string) => `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${plural}`;
    const cr = <T extends KubeObject>(plural: string) =>
      watch<T>(plural, crPath(plural), { trim: trimConfigResource });
    const own = (plural: string) => ({
      plural,
      cache: watch<CachedObject>(plural, crPath(plural), {
        labelSelector: nodeSelector(options.nodeName),
        trim: trimStatusObject,
      }),
    });
    this.services = watch<CachedService>('services', '/api/v1/services', { trim: trimService });
    this.slices = watch<CachedEndpointSlice>('endpointslices', '/apis/discovery.k8s.io/v1/endpointslices', {
      trim: trimEndpointSlice,
    });
    this.nodes = watch<CachedNode>('nodes', '/api/v1/nodes', { trim: trimNode });
    this.pods = watch<CachedPod>('pods', `/api/v1/namespaces/${namespace}/pods`, {
      labelSelector: options.speakerSelector,
      trim: trimPod,
    });
    this.crs = {
      pools: cr<Api.IPAddressPool>(PLURALS.IPAddressPool),
      l2: cr<Api.L2Advertisement>(PLURALS.L2Advertisement),
      bgp: cr<Api.BGPAdvertisement>(PLURALS.BGPAdvertisement),
      peers: cr<Api.BGPPeer>(PLURALS.BGPPeer),
      communities: cr<Api.Community>(PLURALS.Community),
      bfd: cr<Api.BFDProfile>(PLURALS.BFDProfile),
    };
    this.own = [own(PLURALS.ServiceL2Status), own(PLURALS.ServiceBGPStatus)];
    this.#passwords = new PeerSecrets({
      client,
      namespace,
      log: options.log,
      onChange: () => this.#passwordsChanged(),
    });
  }

  /**
   * Starts the informers and, once they are synced, reads the password Secrets the BGPPeers name,
   * so that the first configuration is built with them.
   */
  async sync(): Promise<void> {
    await this.informers.start();
    await this.readPasswords();
  }

  /**
   * Reads the password Secrets again every `everyMs` (no watch tells of a change: the speaker
   * may not watch Secrets); returns the stopper.
   */
  refreshPasswordsEvery(timers: Timers, everyMs: number): () => void {
    return every(timers, everyMs, () => this.refreshPasswords());
  }

  /** Reads the password Secrets the BGPPeers name now (after the first sync, and on a change). */
  readPasswords(): Promise<void> {
    return this.#passwords.refresh(passwordSecretNames(this.crs.peers.list(), this.#o.namespace));
  }

  /** Reads them again: a rotated password, or a Secret the Role came to name, with no BGPPeer change. */
  refreshPasswords(): void {
    void this.#passwords.refresh();
  }

  /** Passes each cache's changes on to what they ask for (once the set is synced). */
  react(reactions: CacheReactions): void {
    const { informers } = this;
    informers.onChange(this.services, reactions.replan);
    informers.onChange(this.slices, reactions.replan);
    informers.onChange(this.nodes, () => {
      reactions.nodesChanged();
      reactions.reconfigure();
    });
    for (const informer of Object.values(this.crs)) {
      if (informer === this.crs.peers) continue;
      informers.onChange(informer as Informer<KubeObject>, reactions.reconfigure);
    }
    this.#passwordsChanged = () => {
      if (!this.#o.stopping()) reactions.reconfigure();
    };
    // A BGPPeer may name another password Secret: read the Secrets, then build with them.
    informers.onChange(this.crs.peers, () => void this.readPasswords().then(this.#passwordsChanged));
    for (const { cache } of this.own) informers.onChange(cache, reactions.restatus);
    informers.onChange(this.pods, reactions.speakersChanged);
  }

  /** The planner's input from the caches now; undefined while no configuration is valid. */
  planInput(
    config: Config | undefined,
    alive: readonly string[],
    lbClass: string | undefined,
    holdings?: Pick<PlanInput, 'holdings' | 'restarting'>,
  ): PlanInput | undefined {
    if (!config) return undefined;
    const { nodeName } = this.#o;
    const [services, slices, nodes] = [this.services.list(), this.slices.list(), this.nodes.list()];
    const input = planInput({ nodeName, config, lbClass, services, slices, nodes, alive });
    return holdings ? { ...input, ...holdings } : input;
  }

  /** This node's addresses (BGP router ID when a BGPPeer sets none). */
  nodeAddresses(): string[] {
    const { nodeName } = this.#o;
    return nodeAddresses(nodeName, this.nodes.get(nodeName), this.pods.list());
  }

  /** How many Services, Nodes and speakers are cached (for the log). */
  counts(): { services: number; nodes: number; speakers: number } {
    return {
      services: this.services.list().length,
      nodes: this.nodes.list().length,
      speakers: this.pods.list().length,
    };
  }

  /** What shared/config builds the configuration from, as cached and read now. */
  configInputs(): ConfigInputs {
    const { crs } = this;
    return {
      pools: crs.pools.list(),
      l2Advertisements: crs.l2.list(),
      bgpAdvertisements: crs.bgp.list(),
      peers: crs.peers.list(),
      communities: crs.communities.list(),
      bfdProfiles: crs.bfd.list(),
      nodes: this.nodes.list().map(
        (n): Api.NodeLike => ({
          metadata: { name: n.metadata?.name ?? '', labels: n.metadata?.labels ?? {} },
        }),
      ),
      secrets: this.#passwords.secrets(),
      unreadableSecrets: this.#passwords.unreadable(),
    };
  }
}
