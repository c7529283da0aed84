import { createHash } from 'node:crypto';
import { API_VERSION, StatusLabels } from '../../shared/api/names.ts';
import type { ServiceBGPStatus, ServiceL2Status } from '../../shared/api/resources.ts';
import { compareText } from '../../shared/config/names.ts';
import type { NodePlan, ServiceKey } from './types.ts';

/** The status objects one node should have, as plain data for the shell to create, update or delete. */
export interface DesiredStatuses {
  /** One per Service this node announces in L2 mode, sorted by Service key. */
  readonly l2: readonly ServiceL2Status[];
  /** One per Service this node advertises over BGP to at least one peer, sorted by Service key. */
  readonly bgp: readonly ServiceBGPStatus[];
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** sha256 of the parts, hex, cut to `length` characters. */
function shortHash(parts: readonly string[], length: number): string {
  return createHash('sha256').update(parts.join('\n'), 'utf8').digest('hex').slice(0, length);
}

/**
 * A label value for a name: itself when it is a valid label value (at most 63 characters; every
 * Service name and namespace is), else its first 46 characters and a hash (node names may reach
 * 253). Deterministic, so the shell selects status objects by label with the same function.
 */
export function statusLabelValue(name: string): string {
  if (name.length <= 63 && LABEL_VALUE.test(name)) return name;
  const head = name
    .slice(0, 46)
    .replace(/[^A-Za-z0-9_.-]/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '');
  return `${head}${head ? '-' : ''}${shortHash([name], 16)}`;
}

/**
 * The name of the status object of one (Service, node): `l2-` or `bgp-` and 20 hex digits of
 * sha256(node, namespace, name): a valid object name, the same on every run, and unique per
 * (Service, node) for any practical cluster (80 bits).
 */
export function statusObjectName(kind: 'l2' | 'bgp', nodeName: string, service: ServiceKey): string {
  return `${kind}-${shortHash([nodeName, service], 20)}`;
}

function splitKey(key: ServiceKey): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

function metadata(kind: 'l2' | 'bgp', nodeName: string, key: ServiceKey, namespace: string | undefined) {
  const service = splitKey(key);
  return {
    name: statusObjectName(kind, nodeName, key),
    ...(namespace !== undefined ? { namespace } : {}),
    labels: {
      [StatusLabels.Node]: statusLabelValue(nodeName),
      [StatusLabels.ServiceName]: statusLabelValue(service.name),
      [StatusLabels.ServiceNamespace]: statusLabelValue(service.namespace),
    },
  };
}

/**
 * The ServiceL2Status and ServiceBGPStatus objects `nodeName` should have for its plan
 * (config/crd/metalbeacon.io_servicel2statuses.yaml, _servicebgpstatuses.yaml). L2 interfaces
 * are the union over the Service's IPs, empty (all) when one IP is answered on every interface;
 * BGP peers are those the node advertises any of the Service's prefixes to. `namespace` (the
 * speaker's --namespace) is set on the objects when given.
 */
export function desiredStatuses(plan: NodePlan, nodeName: string, namespace?: string): DesiredStatuses {
  const interfaces = new Map<ServiceKey, Set<string> | 'all'>(); // Service -> interfaces over its IPs
  for (const announcement of plan.l2) {
    for (const key of announcement.services) {
      const have = interfaces.get(key) ?? new Set<string>();
      if (have === 'all' || announcement.interfaces.length === 0) interfaces.set(key, 'all');
      else {
        for (const name of announcement.interfaces) have.add(name);
        interfaces.set(key, have);
      }
    }
  }
  const peers = new Map<ServiceKey, Set<string>>(); // Service -> BGPPeer names
  for (const { peer, routes } of plan.peers) {
    for (const route of routes) {
      for (const key of route.services) {
        const have = peers.get(key) ?? new Set<string>();
        have.add(peer.name);
        peers.set(key, have);
      }
    }
  }
  // What both kinds say of the Service and this node.
  const about = (kind: 'l2' | 'bgp', key: ServiceKey) => {
    const { namespace: serviceNamespace, name: serviceName } = splitKey(key);
    return {
      metadata: metadata(kind, nodeName, key, namespace),
      status: { node: nodeName, serviceName, serviceNamespace },
    };
  };
  const l2: ServiceL2Status[] = [...interfaces.keys()].sort(compareText).map((key) => {
    const names = interfaces.get(key)!;
    const { metadata, status } = about('l2', key);
    return {
      apiVersion: API_VERSION,
      kind: 'ServiceL2Status',
      metadata,
      status: {
        ...status,
        interfaces: names === 'all' ? [] : [...names].sort(compareText).map((name) => ({ name })),
      },
    };
  });
  const bgp: ServiceBGPStatus[] = [...peers.keys()].sort(compareText).map((key) => {
    const { metadata, status } = about('bgp', key);
    return {
      apiVersion: API_VERSION,
      kind: 'ServiceBGPStatus',
      metadata,
      status: { ...status, peers: [...peers.get(key)!].sort(compareText) },
    };
  });
  return { l2, bgp };
}
