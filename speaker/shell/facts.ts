import { Annotations } from '../../shared/api/names.ts';
import { formatIp, parseIp } from '../../shared/net/ip.ts';
import type { NodeFacts, ServiceFacts } from '../announce/types.ts';
import type { CachedEndpointSlice, CachedNode, CachedService } from './trim.ts';

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
