import { Annotations } from '../../shared/api/names.ts';
import { compareText } from '../../shared/config/names.ts';
import type { Config } from '../../shared/config/types.ts';
import { formatIp, parseIp } from '../../shared/net/ip.ts';
import type { NodeFacts, PlanInput, ServiceFacts } from '../announce/types.ts';
import type { CachedEndpointSlice, CachedNode, CachedPod, CachedService } from './trim.ts';

/** The label EndpointSlices carry to name their Service (discovery.k8s.io/v1). */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/**
 * Whether this speaker handles the Service: type LoadBalancer and the load balancer class we
 * own (`lbClass` undefined: only Services without a class, as MetalLB and the controller).
 */
export function handlesService(service: CachedService, lbClass: string | undefined): boolean {
  if (service.spec?.type !== 'LoadBalancer') return false;
  return (service.spec.loadBalancerClass ?? undefined) === lbClass;
}

/**
 * Nodes with an endpoint that serves traffic: `ready` (nil counts as ready, as the API
 * documents), or `serving` while `terminating` (so a draining Pod keeps its node announced
 * until it stops serving, KEP-1672). Endpoints without nodeName cannot be placed; sorted.
 */
export function endpointNodes(slices: readonly CachedEndpointSlice[]): string[] {
  const nodes = new Set<string>();
  for (const slice of slices) {
    for (const endpoint of slice.endpoints ?? []) {
      if (!endpoint.nodeName) continue;
      const c = endpoint.conditions ?? {};
      const ready = c.ready ?? true;
      const serving = c.serving ?? ready;
      if (ready || (serving && c.terminating === true)) nodes.add(endpoint.nodeName);
    }
  }
  return [...nodes].sort();
}

/**
 * A Service as the planner sees it: only IPs the controller wrote to
 * status.loadBalancer.ingress, in canonical text (hostnames and junk ignored).
 */
export function serviceFacts(service: CachedService, slices: readonly CachedEndpointSlice[]): ServiceFacts {
  const namespace = service.metadata?.namespace ?? '';
  const name = service.metadata?.name ?? '';
  const ips: string[] = [];
  for (const ingress of service.status?.loadBalancer?.ingress ?? []) {
    const parsed = ingress.ip === undefined ? undefined : parseIp(ingress.ip);
    if (parsed) {
      const text = formatIp(parsed);
      if (!ips.includes(text)) ips.push(text);
    }
  }
  return {
    key: `${namespace}/${name}`,
    namespace,
    name,
    labels: service.metadata?.labels ?? {},
    ips,
    pool: service.metadata?.annotations?.[Annotations.IpAllocatedFromPool],
    externalTrafficPolicy: service.spec?.externalTrafficPolicy === 'Local' ? 'Local' : 'Cluster',
    endpointNodes: endpointNodes(slices),
  };
}

/** A Node as the planner sees it. */
export function nodeFacts(node: CachedNode): NodeFacts {
  return {
    name: node.metadata?.name ?? '',
    labels: node.metadata?.labels ?? {},
    networkUnavailable:
      node.status?.conditions?.some((c) => c.type === 'NetworkUnavailable' && c.status === 'True') ?? false,
  };
}

/** What the planner's input is made of: the caches as they are, the config in force, who is alive. */
export interface PlanSources {
  readonly nodeName: string;
  readonly config: Config;
  /** The load balancer class this speaker handles (handlesService). */
  readonly lbClass: string | undefined;
  readonly services: readonly CachedService[];
  readonly slices: readonly CachedEndpointSlice[];
  readonly nodes: readonly CachedNode[];
  /** Alive speakers' node names (membership), this node included. */
  readonly alive: readonly string[];
}

/** The planner's input: the Services this speaker handles, each with its endpoints, sorted by key. */
export function planInput(sources: PlanSources): PlanInput {
  const slicesByService = new Map<string, CachedEndpointSlice[]>(); // `ns/service-name` -> its EndpointSlices
  for (const slice of sources.slices) {
    const service = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
    if (!service) continue;
    const key = `${slice.metadata?.namespace ?? ''}/${service}`;
    const list = slicesByService.get(key);
    if (list) list.push(slice);
    else slicesByService.set(key, [slice]);
  }
  const services = sources.services
    .filter((s) => handlesService(s, sources.lbClass))
    .map((s) =>
      serviceFacts(s, slicesByService.get(`${s.metadata?.namespace ?? ''}/${s.metadata?.name ?? ''}`) ?? []),
    )
    .sort((a, b) => compareText(a.key, b.key));
  return {
    nodeName: sources.nodeName,
    config: sources.config,
    services,
    nodes: sources.nodes.map(nodeFacts),
    aliveNodes: new Set(sources.alive),
  };
}

/**
 * This node's addresses, for a BGP router ID when a BGPPeer sets none: the Node's InternalIP
 * and ExternalIP, then the IPs of the speaker Pods on it (hostNetwork: the node's).
 */
export function nodeAddresses(
  nodeName: string,
  node: CachedNode | undefined,
  pods: readonly CachedPod[],
): string[] {
  const fromNode = (node?.status?.addresses ?? [])
    .filter((a) => a.type === 'InternalIP' || a.type === 'ExternalIP')
    .map((a) => a.address);
  const fromPods = pods
    .filter((p) => p.spec?.nodeName === nodeName)
    .flatMap((p) => (p.status?.podIPs ?? []).map((i) => i.ip));
  return [...fromNode, ...fromPods];
}
