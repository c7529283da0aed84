import { Annotations, API_VERSION, StatusLabels } from '../api/names.ts';
import type {
  BGPSessionState,
  BgpSessionStateName,
  IPAddressPool,
  ServiceBGPStatus,
  ServiceL2Status,
} from '../api/resources.ts';
import type { EventInput, ServiceInput, StatusInput } from './report.ts';

/** Object builders shared by the unit tests of shared/status (and the CLI integration test). */

export const NS = 'metalbeacon-system';

/** A cluster with none of the objects the report reads. */
export function emptyCluster(): StatusInput {
  return {
    namespace: NS,
    services: [],
    events: [],
    pools: [],
    l2Statuses: [],
    bgpStatuses: [],
    sessions: [],
  };
}

export function lbService(
  namespace: string,
  name: string,
  options: { ips?: string[]; pool?: string; uid?: string; lbClass?: string; type?: string } = {},
): ServiceInput & { apiVersion: string; kind: string } {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace,
      uid: options.uid ?? `uid-${namespace}-${name}`,
      ...(options.pool ? { annotations: { [Annotations.IpAllocatedFromPool]: options.pool } } : {}),
    },
    spec: {
      type: options.type ?? 'LoadBalancer',
      ...(options.lbClass ? { loadBalancerClass: options.lbClass } : {}),
    },
    status: { loadBalancer: options.ips ? { ingress: options.ips.map((ip) => ({ ip })) } : {} },
  };
}

/** Metadata and the Service/node fields of a status object, as a speaker writes them. */
function statusParts(prefix: 'l2' | 'bgp', service: string, node: string) {
  const [namespace, name] = service.split('/') as [string, string];
  return {
    metadata: {
      name: `${prefix}-${name}-${node}`,
      namespace: NS,
      labels: {
        [StatusLabels.Node]: node,
        [StatusLabels.ServiceName]: name,
        [StatusLabels.ServiceNamespace]: namespace,
      },
    },
    status: { node, serviceName: name, serviceNamespace: namespace },
  };
}

export function l2Status(service: string, node: string, interfaces: string[] = []): ServiceL2Status {
  const { metadata, status } = statusParts('l2', service, node);
  return {
    apiVersion: API_VERSION,
    kind: 'ServiceL2Status',
    metadata,
    status: {
      ...status,
      ...(interfaces.length ? { interfaces: interfaces.map((i) => ({ name: i })) } : {}),
    },
  };
}

export function bgpStatus(service: string, node: string, peers: string[]): ServiceBGPStatus {
  const { metadata, status } = statusParts('bgp', service, node);
  return { apiVersion: API_VERSION, kind: 'ServiceBGPStatus', metadata, status: { ...status, peers } };
}

export function session(
  node: string,
  peer: string,
  state: BgpSessionStateName,
  extra: {
    peerAddress?: string;
    since?: string;
    prefixesAdvertised?: number;
    lastError?: string;
    bfd?: { state: string; since?: string; diagnostic: string };
  } = {},
): BGPSessionState {
  return {
    apiVersion: API_VERSION,
    kind: 'BGPSessionState',
    metadata: {
      name: `${node}.${peer}`,
      namespace: NS,
      labels: { [StatusLabels.Node]: node, [StatusLabels.Peer]: peer },
    },
    status: { node, peer, state, ...extra },
  };
}

export function pool(
  name: string,
  addresses: string[],
  status?: {
    assignedIPv4?: string;
    availableIPv4?: string;
    assignedIPv6?: string;
    availableIPv6?: string;
    valid?: { status: 'True' | 'False'; reason: string; message: string };
  },
): IPAddressPool {
  const { valid, ...counts } = status ?? {};
  return {
    apiVersion: API_VERSION,
    kind: 'IPAddressPool',
    metadata: { name, namespace: NS },
    spec: { addresses, autoAssign: true, avoidBuggyIPs: false },
    ...(status
      ? {
          status: {
            ...counts,
            ...(valid
              ? {
                  conditions: [{ type: 'ConfigValid', ...valid, lastTransitionTime: '2026-11-22T08:00:00Z' }],
                }
              : {}),
          },
        }
      : {}),
  };
}

export function failureEvent(
  service: string,
  message: string,
  lastTimestamp: string,
  options: { uid?: string; reason?: string; type?: string } = {},
): EventInput & { apiVersion: string; kind: string; metadata: { name: string; namespace: string } } {
  const [namespace, name] = service.split('/') as [string, string];
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${name}.${Date.parse(lastTimestamp).toString(16)}`, namespace },
    involvedObject: {
      kind: 'Service',
      namespace,
      name,
      uid: options.uid ?? `uid-${namespace}-${name}`,
    },
    type: options.type ?? 'Warning',
    reason: options.reason ?? 'AllocationFailed',
    message,
    firstTimestamp: lastTimestamp,
    lastTimestamp,
  };
}

const TIB = '18446744073709551616';

/**
 * A cluster with one of everything: an L2 Service, a dual-stack BGP Service on two nodes, a
 * pending Service (with an older and a newer failure event and one of an earlier incarnation),
 * an assigned but unannounced Service, a Service of another class, a ClusterIP Service, an
 * Established and an Active session, a valid IPv4 pool, a /64 pool with exact 2^64 counts, and
 * an invalid pool.
 */
export function sampleCluster(): StatusInput {
  return {
    namespace: NS,
    services: [
      lbService('default', 'web', { ips: ['198.51.100.10'], pool: 'lan' }),
      lbService('shop', 'api', { ips: ['198.51.100.20', '2001:db8:100::20'], pool: 'lan' }),
      lbService('default', 'db', {}),
      lbService('default', 'orphan', { ips: ['198.51.100.30'], pool: 'lan' }),
      lbService('default', 'theirs', { ips: ['198.51.100.40'], lbClass: 'example.com/other' }),
      lbService('default', 'internal', { type: 'ClusterIP' }),
    ],
    events: [
      failureEvent('default/db', 'no IP available: pool lan: no free address', '2026-11-22T09:00:00Z'),
      failureEvent(
        'default/db',
        'no IP available: pool lan: no free address; pool v6: wrong family',
        '2026-11-22T09:05:00Z',
      ),
      failureEvent('default/db', 'from a deleted Service of the same name', '2026-11-22T09:09:00Z', {
        uid: 'old-uid',
      }),
      failureEvent('default/web', 'IP allocated later', '2026-11-22T08:00:00Z'),
      failureEvent('default/db', 'not a failure', '2026-11-22T09:10:00Z', {
        reason: 'IPAllocated',
        type: 'Normal',
      }),
    ],
    pools: [
      pool('lan', ['198.51.100.0/24', '2001:db8:100::/120'], {
        assignedIPv4: '3',
        availableIPv4: '253',
        assignedIPv6: '1',
        availableIPv6: '255',
        valid: { status: 'True', reason: 'Loaded', message: 'the pool is in force' },
      }),
      pool('v6', ['2001:db8:200::/64'], {
        assignedIPv4: '0',
        availableIPv4: '0',
        assignedIPv6: '0',
        availableIPv6: TIB,
        valid: { status: 'True', reason: 'Loaded', message: 'the pool is in force' },
      }),
      pool('broken', ['198.51.100.300/32'], {
        valid: {
          status: 'False',
          reason: 'ConfigurationError',
          message: 'IPAddressPool metalbeacon-system/broken spec.addresses[0]: invalid address',
        },
      }),
    ],
    l2Statuses: [l2Status('default/web', 'node-a', ['eth0'])],
    bgpStatuses: [bgpStatus('shop/api', 'node-b', ['r2', 'r1']), bgpStatus('shop/api', 'node-a', ['r1'])],
    sessions: [
      session('node-a', 'r1', 'Established', {
        peerAddress: '192.0.2.1',
        since: '2026-11-22T09:00:00Z',
        prefixesAdvertised: 2,
        bfd: { state: 'Up', since: '2026-11-22T09:00:00Z', diagnostic: 'NoDiagnostic' },
      }),
      session('node-b', 'r1', 'Established', {
        peerAddress: '192.0.2.1',
        since: '2026-11-22T08:00:00Z',
        prefixesAdvertised: 2,
      }),
      session('node-b', 'r2', 'Active', {
        peerAddress: '2001:db8:0:1::2',
        since: '2026-11-22T09:08:00Z',
        prefixesAdvertised: 0,
        lastError: 'connect ECONNREFUSED',
        bfd: { state: 'Down', since: '2026-11-22T09:08:00Z', diagnostic: 'ControlDetectionTimeExpired' },
      }),
    ],
  };
}
