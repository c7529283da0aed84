/**
 * Names of the MetalBeacon API: group, version, kinds and plurals of the CRDs, the Service
 * annotations and labels. The `metalbeacon.io/` prefix replaces MetalLB's `metallb.io/`; the
 * meanings are MetalLB's (see docs and ../../config/crd).
 */

export const GROUP = 'metalbeacon.io';
export const VERSION = 'v1beta1';
export const API_VERSION = `${GROUP}/${VERSION}` as const;

/** The namespace the controller, the speakers and all MetalBeacon CRs live in. */
export const DEFAULT_NAMESPACE = 'metalbeacon-system';

/** kind -> plural resource name (the URL segment). */
export const PLURALS = {
  IPAddressPool: 'ipaddresspools',
  L2Advertisement: 'l2advertisements',
  BGPAdvertisement: 'bgpadvertisements',
  BGPPeer: 'bgppeers',
  Community: 'communities',
  BFDProfile: 'bfdprofiles',
  ServiceL2Status: 'servicel2statuses',
  ServiceBGPStatus: 'servicebgpstatuses',
  BGPSessionState: 'bgpsessionstates',
} as const;

export type MetalBeaconKind = keyof typeof PLURALS;

/** Service annotations. */
export const Annotations = {
  /** Set by the user: take the IP from this pool. */
  AddressPool: `${GROUP}/address-pool`,
  /** Set by the user: request these IPs (comma-separated, at most one per family). */
  LoadBalancerIPs: `${GROUP}/loadBalancerIPs`,
  /** Set by the user: Services with the same key may share an IP (ports must not clash). */
  AllowSharedIp: `${GROUP}/allow-shared-ip`,
  /** Written by the controller: the pool the Service's IPs came from. Informational. */
  IpAllocatedFromPool: `${GROUP}/ip-allocated-from-pool`,
} as const;

/**
 * Labels on the status objects, for lookups by node, Service and peer: ServiceL2Status and
 * ServiceBGPStatus carry Node, ServiceName and ServiceNamespace; BGPSessionState carries Node
 * and Peer.
 */
export const StatusLabels = {
  Node: `${GROUP}/node`,
  ServiceName: `${GROUP}/service-name`,
  ServiceNamespace: `${GROUP}/service-namespace`,
  /** The BGPPeer name, on BGPSessionState objects. */
  Peer: `${GROUP}/peer`,
} as const;

/** A node with this label (any value) announces nothing, as in Kubernetes' service controller. */
export const NODE_EXCLUSION_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';

/** IPAddressPool condition types written by the controller. */
export const PoolConditionTypes = {
  /** True when the pool is part of the running configuration; False names the error. */
  ConfigValid: 'ConfigValid',
} as const;
