/**
 * The contract between the speaker's pure planner (speaker/announce) and its shell
 * (speaker/shell): what the shell knows of the cluster, and what this node must announce.
 * Pure data only; the shell turns Kubernetes objects into these facts, the planner never
 * sees a Kubernetes object.
 */
import type { BgpCommunity, Config, PeerConfig } from '../../shared/config/types.ts';

/** `namespace/name` of a Service. */
export type ServiceKey = string;

/** One LoadBalancer Service as the speaker sees it, already filtered by load balancer class. */
export interface ServiceFacts {
  readonly key: ServiceKey;
  readonly namespace: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** IPs from status.loadBalancer.ingress: only what the controller assigned, canonical text. */
  readonly ips: readonly string[];
  /** The `metalbeacon.io/ip-allocated-from-pool` annotation; undefined: the pool containing the IP. */
  readonly pool: string | undefined;
  readonly externalTrafficPolicy: 'Cluster' | 'Local';
  /**
   * Nodes with at least one endpoint of this Service that is ready, or serving while
   * terminating (EndpointSlice conditions). Empty: no serving endpoint, nothing announced.
   */
  readonly endpointNodes: readonly string[];
}

/** One Node as the speaker sees it. */
export interface NodeFacts {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Node condition NetworkUnavailable is True. */
  readonly networkUnavailable: boolean;
}

/** Everything the planner needs; a snapshot, never mutated. */
export interface PlanInput {
  /** This speaker's node. */
  readonly nodeName: string;
  readonly config: Config;
  readonly services: readonly ServiceFacts[];
  readonly nodes: readonly NodeFacts[];
  /** Nodes whose speakers membership currently sees alive, this node included. */
  readonly aliveNodes: ReadonlySet<string>;
  /**
   * Node name -> the L2 IPs (canonical text) it answers for now: this node's from its own
   * announcer, the peers' as membership last heard them. An IP stays with a live, eligible
   * holder (see ./l2.ts). Absent: nobody holds anything (every owner from the ranking).
   */
  readonly holdings?: ReadonlyMap<string, ReadonlySet<string>>;
  /**
   * Nodes whose speakers restart in place (docs/adr/0013-l2-restart-in-place.md): not alive, but
   * each keeps the IPs it holds (in `holdings`) until it is back or its hold runs out, and is a
   * candidate for no other IP. Absent: none.
   */
  readonly restarting?: ReadonlySet<string>;
}

/** One IP this node answers ARP/NDP for. Services sharing the IP share the entry. */
export interface L2Announcement {
  readonly ip: string;
  /** Interface names from the matching L2Advertisements; empty: every suitable interface. */
  readonly interfaces: readonly string[];
  /** Services using this IP, sorted. */
  readonly services: readonly ServiceKey[];
  /** L2Advertisement names that matched, sorted. */
  readonly advertisements: readonly string[];
}

/** One prefix this node advertises to one peer, attributes merged over all matching BGPAdvertisements. */
export interface BgpRoute {
  /** CIDR text, after aggregationLength(V6): `198.51.100.0/24` or `198.51.100.7/32`. */
  readonly prefix: string;
  /** Highest LOCAL_PREF among the matching advertisements (iBGP only); undefined: none. */
  readonly localPref: number | undefined;
  /** Union of the matching advertisements' communities, sorted by text, no duplicates. */
  readonly communities: readonly BgpCommunity[];
  readonly services: readonly ServiceKey[];
  readonly advertisements: readonly string[];
}

/** A BGP session this node runs, with everything it must advertise on it. */
export interface PeerPlan {
  readonly peer: PeerConfig;
  /** Sorted by prefix. */
  readonly routes: readonly BgpRoute[];
}

/**
 * Stable codes of Skipped.reason, for metrics and event reasons (MetalLB's reasons where it has one).
 * - noEndpoints: no ready or serving endpoint anywhere.
 * - invalidIp: an ingress IP that is not an address.
 * - noPool: the IP is in no IPAddressPool (pool deleted or shrunk).
 * - noAdvertisement: no L2Advertisement nor BGPAdvertisement covers the IP's pool and the Service.
 * - nodeUnknown: this node has no Node object in the snapshot.
 * - nodeExcluded: this node carries NODE_EXCLUSION_LABEL.
 * - nodeNetworkUnavailable: this node's NetworkUnavailable condition is True.
 * - notSelected: the advertisements' nodeSelectors leave this node out.
 * - noLocalEndpoints: externalTrafficPolicy Local and no serving endpoint on this node.
 * - notOwner: L2, another node was elected for the IP.
 * - noCandidate: L2, no node is eligible and alive for the IP.
 * - noPeers: BGP, the advertisements name no BGPPeer this node has a session with (or none of its family).
 */
export type SkipCode =
  | 'noEndpoints'
  | 'invalidIp'
  | 'noPool'
  | 'noAdvertisement'
  | 'nodeUnknown'
  | 'nodeExcluded'
  | 'nodeNetworkUnavailable'
  | 'notSelected'
  | 'noLocalEndpoints'
  | 'notOwner'
  | 'noCandidate'
  | 'noPeers';

/** Why a Service (or one of its IPs) is not announced from this node; for logs, events and status. */
export interface Skipped {
  readonly service: ServiceKey;
  readonly ip: string | undefined;
  readonly reason: string;
  /** Added after the first version (optional so existing literals still compile); always set by planNode. */
  readonly code?: SkipCode;
  /** The mode the entry is about; undefined: both (e.g. no endpoints). Always set by planNode when it applies. */
  readonly protocol?: 'L2' | 'BGP';
}

/** What this node announces, and nothing else. Deterministic for a given input. */
export interface NodePlan {
  /** Sorted by IP. */
  readonly l2: readonly L2Announcement[];
  /** One entry per BGPPeer selected for this node, even with no routes; sorted by peer name. */
  readonly peers: readonly PeerPlan[];
  readonly skipped: readonly Skipped[];
}
