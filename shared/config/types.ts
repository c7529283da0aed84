import type { IpFamily, IpRange, IpValue } from '../net/ip.ts';

/**
 * The validated, immutable configuration both programs run on: built by `buildConfig`
 * (./build-config.ts) from the CRs, Nodes, Namespaces and Secrets. Everything here has been
 * checked; consumers never re-validate.
 */

/** A Kubernetes label selector (metav1.LabelSelector). An empty selector matches everything. */
export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly LabelSelectorRequirement[];
}

export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  readonly values?: readonly string[];
}

/** IPAddressPool.spec.serviceAllocation: which Services may take IPs from a pool, and its priority. */
export interface ServiceAllocation {
  /** Lower value = higher priority (MetalLB semantics); undefined = lowest priority. */
  readonly priority: number | undefined;
  readonly namespaces: readonly string[];
  readonly namespaceSelectors: readonly LabelSelector[];
  readonly serviceSelectors: readonly LabelSelector[];
}

/** A validated IPAddressPool. */
export interface Pool {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** As parsed from spec.addresses: sorted by family then first address, non-overlapping. */
  readonly ranges: readonly IpRange[];
  readonly autoAssign: boolean;
  /** Skip .0 and .255 addresses of IPv4 ranges (old equipment drops them). */
  readonly avoidBuggyIPs: boolean;
  readonly serviceAllocation: ServiceAllocation | undefined;
  /** Exact number of addresses per family (before avoidBuggyIPs). */
  readonly size: Readonly<Record<IpFamily, bigint>>;
}

/** Where an error was found: the object and the field path inside it. */
export interface ConfigErrorLocation {
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  /** Field path in the object, e.g. `spec.addresses[1]`. */
  readonly field: string;
}

/**
 * A configuration error. `transient` errors (a referenced object that may appear later, such
 * as an unknown community alias) keep the last good config without counting it as invalid.
 */
export interface ConfigError extends ConfigErrorLocation {
  readonly message: string;
  readonly transient?: boolean;
}

/** `kind namespace/name field: message`, the form every log line, event and condition uses. */
export function formatConfigError(error: ConfigError): string {
  const object = error.namespace ? `${error.namespace}/${error.name}` : error.name;
  return `${error.kind} ${object} ${error.field}: ${error.message}`;
}

/** A BGP community: standard (RFC 1997, 32-bit value AA<<16|NN) or large (RFC 8092). `text` is canonical. */
export type BgpCommunity =
  | { readonly kind: 'standard'; readonly value: number; readonly text: string }
  | {
      readonly kind: 'large';
      readonly globalAdmin: number;
      readonly localData1: number;
      readonly localData2: number;
      readonly text: string;
    };

/** What a validated advertisement (L2 or BGP) covers, its pools and nodes resolved. */
export interface AdvertisementScope {
  /** Names of the pools it covers (named, selected, or all when neither is given), sorted. */
  readonly pools: readonly string[];
  /** Names of the known nodes its nodeSelectors allow (all nodes when none), sorted. */
  readonly nodes: readonly string[];
  readonly nodeSelectors: readonly LabelSelector[];
  /** Empty: every Service. */
  readonly serviceSelectors: readonly LabelSelector[];
}

/** A validated L2Advertisement. */
export interface L2AdvertisementConfig extends AdvertisementScope {
  readonly name: string;
  /** Empty: every suitable interface. */
  readonly interfaces: readonly string[];
}

/** A validated BGPAdvertisement, with its communities resolved. */
export interface BgpAdvertisementConfig extends AdvertisementScope {
  readonly name: string;
  /** BGPPeer names; empty: every peer. */
  readonly peers: readonly string[];
  readonly aggregationLength: number;
  readonly aggregationLengthV6: number;
  /** LOCAL_PREF for iBGP sessions; undefined: not sent. */
  readonly localPref: number | undefined;
  /** Aliases already replaced by their values; no duplicates. */
  readonly communities: readonly BgpCommunity[];
}

/** A validated BGPPeer: timers in seconds, password resolved from its Secret. */
export interface PeerConfig {
  readonly name: string;
  readonly myAsn: number;
  readonly peerAsn: number;
  /** peerAsn === myAsn */
  readonly ibgp: boolean;
  readonly peerAddress: IpValue;
  readonly peerPort: number;
  readonly sourceAddress: IpValue | undefined;
  /** BGP identifier as an IPv4 address; undefined: the speaker derives one per node. */
  readonly routerId: IpValue | undefined;
  /** 0 or >= 3 (RFC 4271 §4.2); default 90. */
  readonly holdTimeSec: number;
  /** <= holdTimeSec; default holdTimeSec / 3 rounded down. */
  readonly keepaliveTimeSec: number;
  /** Time between connection attempts; undefined: the speaker's default. */
  readonly connectTimeSec: number | undefined;
  readonly ebgpMultiHop: boolean;
  readonly nodes: readonly string[];
  readonly nodeSelectors: readonly LabelSelector[];
  /** TCP MD5 key (RFC 2385), from spec.password or the Secret; undefined: none. */
  readonly password: string | undefined;
  readonly bfdProfile: string | undefined;
  readonly enableGracefulRestart: boolean;
  readonly dualStackAddressFamily: boolean;
}

/** A validated BFDProfile with MetalLB's documented defaults filled in (RFC 5880 timers). */
export interface BfdProfileConfig {
  readonly name: string;
  readonly receiveIntervalMs: number;
  readonly transmitIntervalMs: number;
  readonly detectMultiplier: number;
  /** Validated for MetalLB compatibility; unused, as echo mode is refused (RFC 5880 §6.4). */
  readonly echoIntervalMs: number;
  readonly passiveMode: boolean;
  readonly minimumTtl: number;
}

/** The whole validated configuration, deeply frozen. Lists are sorted by name. */
export interface Config {
  readonly pools: readonly Pool[];
  readonly l2Advertisements: readonly L2AdvertisementConfig[];
  readonly bgpAdvertisements: readonly BgpAdvertisementConfig[];
  readonly peers: readonly PeerConfig[];
  readonly bfdProfiles: readonly BfdProfileConfig[];
  /** Community alias -> value. */
  readonly communities: Readonly<Record<string, BgpCommunity>>;
  /** Node name -> labels, as seen when the config was built. */
  readonly nodeLabels: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Namespace name -> labels, for serviceAllocation.namespaceSelectors. */
  readonly namespaceLabels: Readonly<Record<string, Readonly<Record<string, string>>>>;
}
