import type { Condition, LabelSelectorSpec, Resource } from './meta.ts';

/**
 * The metalbeacon.io/v1beta1 kinds as stored by the API server (after CRD defaulting), field
 * for field compatible with MetalLB's metallb.io CRDs. Optional fields may be absent; values
 * are not validated beyond the CRD schema (see shared/config for that).
 */

/** IPAddressPool.spec */
export interface IPAddressPoolSpec {
  /** CIDRs and `START-END` ranges, IPv4 and IPv6. */
  readonly addresses: readonly string[];
  /** Default true. */
  readonly autoAssign?: boolean;
  /** Default false. */
  readonly avoidBuggyIPs?: boolean;
  readonly serviceAllocation?: {
    readonly priority?: number;
    readonly namespaces?: readonly string[];
    readonly namespaceSelectors?: readonly LabelSelectorSpec[];
    readonly serviceSelectors?: readonly LabelSelectorSpec[];
  };
}

/**
 * IPAddressPool.status. Counts are exact base-10 strings, not int64 like MetalLB's: a single
 * IPv6 /64 holds 18446744073709551616 addresses, more than 2^63-1 (MetalLB saturates there and
 * its totals go negative, metallb#466), and JSON numbers lose precision past 2^53.
 */
export interface IPAddressPoolStatus {
  readonly assignedIPv4?: string;
  readonly assignedIPv6?: string;
  readonly availableIPv4?: string;
  readonly availableIPv6?: string;
  readonly observedGeneration?: number;
  /** Type `ConfigValid` (PoolConditionTypes) says whether the pool is in the running config. */
  readonly conditions?: readonly Condition[];
}

export type IPAddressPool = Resource<'IPAddressPool', IPAddressPoolSpec, IPAddressPoolStatus>;

/**
 * What an advertisement (L2 or BGP) covers: pools named or selected (with neither, every pool),
 * the nodes that announce (no selector: all) and the Services (no selector: all).
 */
export interface AdvertisementScopeSpec {
  readonly ipAddressPools?: readonly string[];
  readonly ipAddressPoolSelectors?: readonly LabelSelectorSpec[];
  readonly nodeSelectors?: readonly LabelSelectorSpec[];
  readonly serviceSelectors?: readonly LabelSelectorSpec[];
}

/** L2Advertisement.spec */
export interface L2AdvertisementSpec extends AdvertisementScopeSpec {
  /** Empty: every suitable interface. */
  readonly interfaces?: readonly string[];
}

export type L2Advertisement = Resource<'L2Advertisement', L2AdvertisementSpec>;

/** BGPAdvertisement.spec */
export interface BGPAdvertisementSpec extends AdvertisementScopeSpec {
  /** 1..32, default 32. */
  readonly aggregationLength?: number;
  /** 1..128, default 128. */
  readonly aggregationLengthV6?: number;
  /** LOCAL_PREF, iBGP only. */
  readonly localPref?: number;
  /** `AA:NN`, `large:G:L1:L2`, or a Community alias name. */
  readonly communities?: readonly string[];
  /** BGPPeer names; empty: every peer. */
  readonly peers?: readonly string[];
}

export type BGPAdvertisement = Resource<'BGPAdvertisement', BGPAdvertisementSpec>;

/** BGPPeer.spec (MetalLB v1beta2 fields). Durations are Go duration strings such as `90s`. */
export interface BGPPeerSpec {
  readonly myASN: number;
  readonly peerASN?: number;
  /** MetalLB FRR-only; rejected as unsupported. */
  readonly dynamicASN?: 'internal' | 'external';
  /** MetalLB FRR-only; rejected as unsupported. */
  readonly localASN?: number;
  readonly peerAddress?: string;
  /** MetalLB FRR-only (unnumbered); rejected as unsupported. */
  readonly interface?: string;
  /** Default 179. */
  readonly peerPort?: number;
  readonly sourceAddress?: string;
  readonly routerID?: string;
  readonly holdTime?: string;
  readonly keepaliveTime?: string;
  readonly connectTime?: string;
  readonly ebgpMultiHop?: boolean;
  readonly nodeSelectors?: readonly LabelSelectorSpec[];
  readonly password?: string;
  readonly passwordSecret?: { readonly name?: string; readonly namespace?: string };
  readonly bfdProfile?: string;
  readonly enableGracefulRestart?: boolean;
  /** MetalLB FRR-only; rejected as unsupported. */
  readonly vrf?: string;
  /** Deprecated in MetalLB, no effect. */
  readonly disableMP?: boolean;
  readonly dualStackAddressFamily?: boolean;
}

export type BGPPeer = Resource<'BGPPeer', BGPPeerSpec>;

/** Community.spec: aliases usable by name in BGPAdvertisement.spec.communities. */
export interface CommunitySpec {
  readonly communities?: readonly { readonly name: string; readonly value: string }[];
}

export type Community = Resource<'Community', CommunitySpec>;

/** BFDProfile.spec: intervals in milliseconds (RFC 5880). */
export interface BFDProfileSpec {
  readonly receiveInterval?: number;
  readonly transmitInterval?: number;
  readonly detectMultiplier?: number;
  readonly echoInterval?: number;
  readonly echoMode?: boolean;
  readonly passiveMode?: boolean;
  readonly minimumTtl?: number;
}

export type BFDProfile = Resource<'BFDProfile', BFDProfileSpec>;

/** ServiceL2Status.status: the node answering ARP/NDP for one Service. */
export interface ServiceL2StatusStatus {
  readonly node?: string;
  readonly serviceName?: string;
  readonly serviceNamespace?: string;
  /** Empty: all interfaces. */
  readonly interfaces?: readonly { readonly name: string }[];
}

export type ServiceL2Status = Resource<'ServiceL2Status', Record<string, never>, ServiceL2StatusStatus>;

/** ServiceBGPStatus.status: the peers one node advertises one Service to (configured, not session state). */
export interface ServiceBGPStatusStatus {
  readonly node?: string;
  readonly serviceName?: string;
  readonly serviceNamespace?: string;
  readonly peers?: readonly string[];
}

export type ServiceBGPStatus = Resource<'ServiceBGPStatus', Record<string, never>, ServiceBGPStatusStatus>;

/** BGP session states of RFC 4271 §8.2.2, as BGPSessionState.status.state spells them. */
export const BgpSessionStates = [
  'Idle',
  'Connect',
  'Active',
  'OpenSent',
  'OpenConfirm',
  'Established',
] as const;

export type BgpSessionStateName = (typeof BgpSessionStates)[number];

/**
 * BGPSessionState.status: one node's session with one BGPPeer, written by that node's speaker
 * (object name `<node>.<peer>`, labels StatusLabels.Node and StatusLabels.Peer).
 */
export interface BGPSessionStateStatus {
  readonly node?: string;
  /** The BGPPeer's name. */
  readonly peer?: string;
  readonly peerAddress?: string;
  readonly state?: BgpSessionStateName;
  /** RFC 3339 time of the last state change. */
  readonly since?: string;
  readonly prefixesAdvertised?: number;
  /** The last error described, e.g. a NOTIFICATION sent or received. */
  readonly lastError?: string;
  /** The BFD session protecting it; absent when the BGPPeer names no BFDProfile. */
  readonly bfd?: BgpSessionBfdStatus;
}

/** BGPSessionState.status.bfd: the RFC 5880 session of the same peer. */
export interface BgpSessionBfdStatus {
  /** AdminDown, Down, Init or Up. */
  readonly state?: string;
  /** RFC 3339 time of the last state change; absent before the first. */
  readonly since?: string;
  /** RFC 5880 §4.1 diagnostic of that change, e.g. ControlDetectionTimeExpired. */
  readonly diagnostic?: string;
}

export type BGPSessionState = Resource<'BGPSessionState', Record<string, never>, BGPSessionStateStatus>;

/** The core/v1 objects the configuration reads besides our CRs. */
export interface NodeLike {
  readonly metadata: { readonly name: string; readonly labels?: Readonly<Record<string, string>> };
}

export interface NamespaceLike {
  readonly metadata: { readonly name: string; readonly labels?: Readonly<Record<string, string>> };
}

/** A core/v1 Secret; `data` values are base64 as the API returns them. */
export interface SecretLike {
  readonly metadata: { readonly name: string; readonly namespace?: string };
  readonly type?: string;
  readonly data?: Readonly<Record<string, string>>;
  readonly stringData?: Readonly<Record<string, string>>;
}
