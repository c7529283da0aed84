/**
 * The Kubernetes objects the lab stands in for a cluster with: Nodes, the speaker Pods, the
 * membership Secret, ingress Services and their EndpointSlices (the embedded API server has no
 * kubelet, DaemonSet or endpoints controller). Pure builders.
 */

import type { KubeObject } from '../apiserver/types.ts';
import { DEFAULT_NAMESPACE } from '../shared/api/names.ts';

/** A lab node as the object builders need it. */
export interface LabNodeInfo {
  name: string;
  ipv4: string;
  ipv6: string;
}

/** Labels of the speaker Pods, matching the speaker's default `--speaker-selector`. */
export const SPEAKER_POD_LABELS = {
  'app.kubernetes.io/name': 'metalbeacon',
  'app.kubernetes.io/component': 'speaker',
} as const;

/** Name of the membership Secret the speakers share (`--membership-secret` default). */
export const MEMBERSHIP_SECRET = 'metalbeacon-membership';

/** A Ready Node with both LAN addresses. */
export function nodeObject(node: LabNodeInfo, labels: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: node.name,
      labels: {
        'kubernetes.io/hostname': node.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        ...labels,
      },
    },
    spec: {},
    status: {
      addresses: [
        { type: 'InternalIP', address: node.ipv4 },
        { type: 'InternalIP', address: node.ipv6 },
        { type: 'Hostname', address: node.name },
      ],
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'KubeletReady',
          message: 'lab node',
          lastHeartbeatTime: new Date().toISOString(),
          lastTransitionTime: new Date().toISOString(),
        },
        {
          type: 'NetworkUnavailable',
          status: 'False',
          reason: 'RouteCreated',
          message: 'lab node',
          lastTransitionTime: new Date().toISOString(),
        },
      ],
    },
  };
}

/** The speaker Pod of a node: hostNetwork, so its Pod IPs are the node's addresses. */
export function speakerPodObject(node: LabNodeInfo, namespace = DEFAULT_NAMESPACE): KubeObject {
  const now = new Date().toISOString();
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `speaker-${node.name}`, namespace, labels: { ...SPEAKER_POD_LABELS } },
    spec: {
      nodeName: node.name,
      hostNetwork: true,
      serviceAccountName: 'speaker',
      containers: [{ name: 'speaker', image: 'metalbeacon:lab', args: ['speaker'] }],
    },
    status: {
      phase: 'Running',
      hostIP: node.ipv4,
      podIP: node.ipv4,
      podIPs: [{ ip: node.ipv4 }, { ip: node.ipv6 }],
      startTime: now,
      conditions: [
        { type: 'Ready', status: 'True', lastTransitionTime: now },
        { type: 'ContainersReady', status: 'True', lastTransitionTime: now },
      ],
    },
  };
}

/** The membership Secret with a 32-byte `key` (base64, as Secret data is). */
export function membershipSecretObject(key: Buffer, namespace = DEFAULT_NAMESPACE): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: MEMBERSHIP_SECRET, namespace },
    type: 'Opaque',
    data: { key: key.toString('base64') },
  };
}

/** Options of an ingress-like LoadBalancer Service (see {@link ingressServiceObjects}). */
export interface IngressServiceOptions {
  namespace?: string;
  /** IPAddressPool to take the IP from (annotation `metalbeacon.io/address-pool`). */
  pool?: string;
  /** externalTrafficPolicy, default Cluster. */
  etp?: 'Cluster' | 'Local';
  /** IP families, primary first; two means RequireDualStack. Default ['IPv4']. */
  families?: readonly ('IPv4' | 'IPv6')[];
  /** Nodes with a serving endpoint (the ingress "Pod" runs hostNetwork on them). Default: all. */
  endpointNodes?: readonly string[];
  /** Port of the Service and of the endpoints (the lab's ingress listens on 80). */
  port?: number;
  /** Extra Service annotations (e.g. `metalbeacon.io/loadBalancerIPs`). */
  annotations?: Record<string, string>;
  /** Extra Service labels. */
  labels?: Record<string, string>;
  /** spec.loadBalancerClass. */
  loadBalancerClass?: string;
}

/**
 * A LoadBalancer Service in front of the lab's ingress (nginx or the stand-in) and one
 * EndpointSlice per family listing the chosen nodes' addresses as ready, serving endpoints (the
 * endpoints controller's job on a real cluster).
 */
export function ingressServiceObjects(
  name: string,
  nodes: readonly LabNodeInfo[],
  options: IngressServiceOptions = {},
): { service: KubeObject; slices: KubeObject[] } {
  const namespace = options.namespace ?? 'default';
  const families = options.families ?? ['IPv4'];
  const port = options.port ?? 80;
  const annotations: Record<string, string> = { ...options.annotations };
  if (options.pool) annotations['metalbeacon.io/address-pool'] = options.pool;
  const service: KubeObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace, labels: { app: name, ...options.labels }, annotations },
    spec: {
      type: 'LoadBalancer',
      selector: { app: name },
      externalTrafficPolicy: options.etp ?? 'Cluster',
      ipFamilies: [...families],
      ipFamilyPolicy: families.length > 1 ? 'RequireDualStack' : 'SingleStack',
      ports: [{ name: 'http', protocol: 'TCP', port, targetPort: port }],
      ...(options.loadBalancerClass ? { loadBalancerClass: options.loadBalancerClass } : {}),
    },
  };
  const chosen = options.endpointNodes ?? nodes.map((n) => n.name);
  for (const n of chosen) {
    if (!nodes.some((node) => node.name === n)) {
      throw new Error(`ingress Service ${namespace}/${name}: endpoint node "${n}" is not a lab node`);
    }
  }
  const slices = families.map(
    (family): KubeObject => ({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: `${name}-${family === 'IPv4' ? 'v4' : 'v6'}`,
        namespace,
        labels: {
          'kubernetes.io/service-name': name,
          'endpointslice.kubernetes.io/managed-by': 'metalbeacon-lab',
        },
      },
      addressType: family,
      endpoints: nodes
        .filter((n) => chosen.includes(n.name))
        .map((n) => ({
          addresses: [family === 'IPv4' ? n.ipv4 : n.ipv6],
          conditions: { ready: true, serving: true, terminating: false },
          nodeName: n.name,
          targetRef: { kind: 'Pod', namespace, name: `${name}-${n.name}` },
        })),
      ports: [{ name: 'http', protocol: 'TCP', port }],
    }),
  );
  return { service, slices };
}

/**
 * `count` LoadBalancer Services as the controller leaves them (IP in status) with one ready
 * endpoint each on `node`: documentation addresses only, 254 IPv4 ones, then IPv6 (Services
 * beyond 254 share IPs on other ports). For `applyObjects` of the embedded API server
 * (the speaker's footprint benchmark and its REST-requests test).
 */
export function announcedServiceObjects(count: number, node: string): KubeObject[] {
  const objects: KubeObject[] = [];
  for (let i = 0; i < count; i++) {
    const ip = i < 254 ? `198.51.100.${i + 1}` : `2001:db8:100::${((i % 254) + 1).toString(16)}`;
    const name = `svc-${i}`;
    objects.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: 'default' },
      spec: { type: 'LoadBalancer', ports: [{ port: 80 + Math.floor(i / 254), protocol: 'TCP' }] },
      status: { loadBalancer: { ingress: [{ ip }] } },
    });
    objects.push({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${name}-a`, namespace: 'default', labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.244.0.10'], nodeName: node, conditions: { ready: true } }],
    });
  }
  return objects;
}
