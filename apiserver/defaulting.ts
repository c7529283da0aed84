import {
  formatIpValue,
  type IpFamily,
  type IpRange,
  parseCidr,
  parseIp,
  rangeContains,
} from '../shared/net/ip.ts';
import { badRequest, invalid, type StatusCause } from './errors.ts';
import type { KubeObject } from './types.ts';

/**
 * Service defaulting and allocation as kube-apiserver does it (pkg/registry/core/service):
 * the controller relies on these fields (ipFamilies, clusterIPs, nodePorts,
 * externalTrafficPolicy), so they must be filled exactly when a real server fills them.
 * These addresses live only in the server's memory; nothing is sent to them.
 */
export interface ServiceNetwork {
  /** Cluster families, primary first: ['IPv4'] (default) or ['IPv4', 'IPv6'] for dual-stack. */
  families: IpFamily[];
  /** Service CIDR per family. */
  serviceCidrs: Record<IpFamily, IpRange>;
  nodePortFirst: number;
  nodePortLast: number;
}

/** The service network for the cluster's families (primary first); memory-only CIDRs. */
export function defaultServiceNetwork(families: IpFamily[]): ServiceNetwork {
  const v4 = parseCidr('10.96.0.0/12');
  const v6 = parseCidr('fd00:10:96::/112');
  if (!v4.ok || !v6.ok) throw new Error('bad built-in service CIDR');
  return {
    families,
    serviceCidrs: { IPv4: v4.value, IPv6: v6.value },
    nodePortFirst: 30000,
    nodePortLast: 32767,
  };
}

/** What other Services hold, and where the next search for a free value starts. */
export interface Allocated {
  ipTaken(ip: string): boolean;
  portTaken(port: number): boolean;
  /**
   * Offsets into the service CIDRs / node port range after the last allocation: the search
   * rotates from there (like the real allocator's random start), so allocating is O(1)
   * amortised instead of a scan from the start of the range.
   */
  cursor: { IPv4: bigint; IPv6: bigint; port: number };
}

/**
 * Who holds which clusterIP and node port (ip/port → Service uid), maintained from committed
 * writes so admission does not scan every Service.
 */
export class AllocationIndex {
  /** ip → owner uid */
  private readonly ips = new Map<string, string>();
  /** node port → owner uid */
  private readonly ports = new Map<number, string>();
  /** owner uid → what it holds */
  private readonly held = new Map<string, { ips: string[]; ports: number[] }>();
  private readonly cursor = { IPv4: 0n, IPv6: 0n, port: 0 };

  /** Records what a stored Service holds (replacing what it held before). */
  record(uid: string, spec: ServiceSpec | undefined): void {
    this.release(uid);
    const ips = (spec?.clusterIPs ?? []).filter((ip) => ip !== 'None');
    const ports = [
      ...(spec?.ports ?? []).map((p) => p.nodePort).filter((p): p is number => p !== undefined),
      ...(spec?.healthCheckNodePort ? [spec.healthCheckNodePort] : []),
    ];
    for (const ip of ips) this.ips.set(ip, uid);
    for (const port of ports) this.ports.set(port, uid);
    this.held.set(uid, { ips, ports });
  }

  release(uid: string): void {
    const held = this.held.get(uid);
    if (!held) return;
    for (const ip of held.ips) if (this.ips.get(ip) === uid) this.ips.delete(ip);
    for (const port of held.ports) if (this.ports.get(port) === uid) this.ports.delete(port);
    this.held.delete(uid);
  }

  /** The view admission uses for one Service: its own holdings do not count as taken. */
  viewFor(uid: string | undefined): Allocated {
    return {
      ipTaken: (ip) => {
        const owner = this.ips.get(ip);
        return owner !== undefined && owner !== uid;
      },
      portTaken: (port) => {
        const owner = this.ports.get(port);
        return owner !== undefined && owner !== uid;
      },
      cursor: this.cursor,
    };
  }
}

type Port = { port?: number; protocol?: string; targetPort?: unknown; nodePort?: number; name?: string };

/** The core/v1 ServiceSpec fields the server defaults (others pass through untouched). */
export interface ServiceSpec {
  type?: string;
  clusterIP?: string;
  clusterIPs?: string[];
  ipFamilies?: IpFamily[];
  ipFamilyPolicy?: string;
  ports?: Port[];
  sessionAffinity?: string;
  externalTrafficPolicy?: string;
  internalTrafficPolicy?: string;
  allocateLoadBalancerNodePorts?: boolean;
  healthCheckNodePort?: number;
  externalName?: string;
  [field: string]: unknown;
}

type Svc = KubeObject & { spec?: ServiceSpec; status?: { loadBalancer?: object; [field: string]: unknown } };

function allocateIp(net: ServiceNetwork, family: IpFamily, allocated: Allocated): string | undefined {
  const range = net.serviceCidrs[family];
  // Usable offsets skip the network address and the first host (".1" is the kubernetes
  // Service in real clusters) and the last address.
  const first = 2n;
  const size = range.last - range.first - first;
  for (let i = 0n; i < size; i++) {
    const offset = first + ((allocated.cursor[family] + i) % size);
    const text = formatIpValue(family, range.first + offset);
    if (!allocated.ipTaken(text)) {
      allocated.cursor[family] = offset - first + 1n;
      return text;
    }
  }
  return undefined;
}

function allocatePort(net: ServiceNetwork, allocated: Allocated, mine: Set<number>): number | undefined {
  const size = net.nodePortLast - net.nodePortFirst + 1;
  for (let i = 0; i < size; i++) {
    const port = net.nodePortFirst + ((allocated.cursor.port + i) % size);
    if (!allocated.portTaken(port) && !mine.has(port)) {
      allocated.cursor.port = port - net.nodePortFirst + 1;
      return port;
    }
  }
  return undefined;
}

const kindOf = (v: unknown) => (Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v);

/**
 * The JSON decoding the real server does before any defaulting: a wrong type for a field is a
 * 400 BadRequest ("cannot unmarshal"), never a crash further down.
 */
function checkServiceShape(svc: KubeObject): void {
  const fail = (field: string, want: string, got: unknown) =>
    badRequest(
      `Service in version "v1" cannot be handled as a Service: json: cannot unmarshal ${kindOf(got)} into Go struct field ${field} of type ${want}`,
    );
  const spec = svc.spec as Record<string, unknown> | undefined | null;
  if (spec === undefined || spec === null) return;
  if (kindOf(spec) !== 'object') throw fail('Service.spec', 'v1.ServiceSpec', spec);
  const strings = [
    'type',
    'clusterIP',
    'ipFamilyPolicy',
    'sessionAffinity',
    'externalTrafficPolicy',
    'internalTrafficPolicy',
    'externalName',
    'loadBalancerIP',
  ];
  for (const f of strings)
    if (spec[f] != null && typeof spec[f] !== 'string')
      throw fail(`ServiceSpec.spec.${f}`, 'string', spec[f]);
  for (const f of ['clusterIPs', 'ipFamilies', 'externalIPs', 'loadBalancerSourceRanges']) {
    const v = spec[f];
    if (v != null && (!Array.isArray(v) || v.some((x) => typeof x !== 'string')))
      throw fail(`ServiceSpec.spec.${f}`, '[]string', v);
  }
  if (spec.healthCheckNodePort != null && typeof spec.healthCheckNodePort !== 'number') {
    throw fail('ServiceSpec.spec.healthCheckNodePort', 'int32', spec.healthCheckNodePort);
  }
  if (spec.allocateLoadBalancerNodePorts != null && typeof spec.allocateLoadBalancerNodePorts !== 'boolean') {
    throw fail('ServiceSpec.spec.allocateLoadBalancerNodePorts', 'bool', spec.allocateLoadBalancerNodePorts);
  }
  if (
    spec.selector != null &&
    (kindOf(spec.selector) !== 'object' || Object.values(spec.selector).some((v) => typeof v !== 'string'))
  ) {
    throw fail('ServiceSpec.spec.selector', 'map[string]string', spec.selector);
  }
  if (spec.ports != null) {
    if (!Array.isArray(spec.ports)) throw fail('ServiceSpec.spec.ports', '[]v1.ServicePort', spec.ports);
    for (const p of spec.ports as unknown[]) {
      if (kindOf(p) !== 'object') throw fail('ServiceSpec.spec.ports', 'v1.ServicePort', p);
      const port = p as Record<string, unknown>;
      for (const f of ['port', 'nodePort'])
        if (port[f] != null && typeof port[f] !== 'number')
          throw fail(`ServicePort.spec.ports.${f}`, 'int32', port[f]);
      for (const f of ['name', 'protocol', 'appProtocol'])
        if (port[f] != null && typeof port[f] !== 'string')
          throw fail(`ServicePort.spec.ports.${f}`, 'string', port[f]);
      if (
        port.targetPort != null &&
        typeof port.targetPort !== 'number' &&
        typeof port.targetPort !== 'string'
      ) {
        throw fail('ServicePort.spec.ports.targetPort', 'intstr.IntOrString', port.targetPort);
      }
    }
  }
  if (svc.status != null && kindOf(svc.status) !== 'object')
    throw fail('Service.status', 'v1.ServiceStatus', svc.status);
}

/**
 * Fills a Service's defaults and allocations in place, given the stored version on update.
 * Throws 422 Invalid for what the real server rejects (unknown family, RequireDualStack on a
 * single-stack cluster, an address outside the service CIDR or already taken, bad ports).
 */
export function defaultService(
  svc: Svc,
  old: Svc | undefined,
  net: ServiceNetwork,
  allocated: Allocated,
): void {
  const name = svc.metadata.name ?? '';
  const fail = (causes: StatusCause[]) => invalid('', 'Service', name, causes);
  checkServiceShape(svc);
  svc.spec ??= {};
  const spec = svc.spec;
  const oldSpec = old?.spec;
  spec.type ??= 'ClusterIP';
  const types = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'];
  if (!types.includes(spec.type)) {
    throw fail([
      {
        field: 'spec.type',
        message: `Unsupported value: "${spec.type}": supported values: ${types.map((t) => `"${t}"`).join(', ')}`,
        reason: 'FieldValueNotSupported',
      },
    ]);
  }
  spec.sessionAffinity ??= 'None';
  const ports: Port[] = spec.ports ?? [];
  const portCauses: StatusCause[] = [];
  ports.forEach((p, i) => {
    p.protocol ??= 'TCP';
    if (typeof p.port !== 'number' || p.port < 1 || p.port > 65535) {
      portCauses.push({
        field: `spec.ports[${i}].port`,
        message:
          p.port === undefined
            ? 'Required value'
            : `Invalid value: ${p.port}: must be between 1 and 65535, inclusive`,
      });
    }
    if (spec.type !== 'ExternalName') p.targetPort ??= p.port;
    if (ports.length > 1 && !p.name)
      portCauses.push({ field: `spec.ports[${i}].name`, message: 'Required value' });
  });
  if (ports.length === 0 && spec.type !== 'ExternalName' && spec.clusterIP !== 'None') {
    portCauses.push({ field: 'spec.ports', message: 'Required value' });
  }
  if (portCauses.length > 0) throw fail(portCauses);

  if (spec.type === 'ExternalName') {
    for (const f of ['clusterIP', 'clusterIPs', 'ipFamilies', 'ipFamilyPolicy']) delete spec[f];
  } else {
    spec.internalTrafficPolicy ??= 'Cluster';
    // On update an omitted clusterIP keeps the allocated one (patchAllocatedValues).
    if (oldSpec && oldSpec.type !== 'ExternalName' && !spec.clusterIP && !spec.clusterIPs) {
      spec.clusterIP = oldSpec.clusterIP;
      spec.clusterIPs = oldSpec.clusterIPs;
      spec.ipFamilies ??= oldSpec.ipFamilies;
      spec.ipFamilyPolicy ??= oldSpec.ipFamilyPolicy;
    }
    if (oldSpec?.clusterIP && spec.clusterIP !== oldSpec.clusterIP && oldSpec.type !== 'ExternalName') {
      throw fail([
        {
          field: 'spec.clusterIPs[0]',
          message: `Invalid value: "${spec.clusterIP}": may not change once set`,
        },
      ]);
    }
    assignClusterIps(spec, net, allocated, fail);
  }
  checkLoadBalancerClass(spec, oldSpec, fail);

  const wantsNodePorts =
    spec.type === 'NodePort' ||
    (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts !== false);
  if (spec.type === 'LoadBalancer') spec.allocateLoadBalancerNodePorts ??= true;
  else delete spec.allocateLoadBalancerNodePorts;
  if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') {
    spec.externalTrafficPolicy ??= 'Cluster';
  } else {
    delete spec.externalTrafficPolicy;
  }
  const mine = new Set<number>();
  const oldPorts: Port[] = oldSpec?.ports ?? [];
  for (const [i, p] of ports.entries()) {
    if (!wantsNodePorts) {
      if (spec.type === 'ClusterIP' || spec.type === 'ExternalName') delete p.nodePort;
      continue;
    }
    // Keep a port's node port across updates when the user omitted it.
    p.nodePort ??= oldPorts.find((o) => o.port === p.port && (o.protocol ?? 'TCP') === p.protocol)?.nodePort;
    if (p.nodePort !== undefined) {
      if (p.nodePort < net.nodePortFirst || p.nodePort > net.nodePortLast) {
        throw fail([
          {
            field: `spec.ports[${i}].nodePort`,
            message: `Invalid value: ${p.nodePort}: provided port is not in the valid range. The range of valid ports is ${net.nodePortFirst}-${net.nodePortLast}`,
          },
        ]);
      }
      if (allocated.portTaken(p.nodePort) || mine.has(p.nodePort)) {
        throw fail([
          {
            field: `spec.ports[${i}].nodePort`,
            message: `Invalid value: ${p.nodePort}: provided port is already allocated`,
          },
        ]);
      }
    } else {
      const port = allocatePort(net, allocated, mine);
      if (port === undefined)
        throw fail([{ field: `spec.ports[${i}].nodePort`, message: 'Internal error: range is full' }]);
      p.nodePort = port;
    }
    mine.add(p.nodePort);
  }
  if (spec.type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local') {
    spec.healthCheckNodePort ??= oldSpec?.healthCheckNodePort ?? allocatePort(net, allocated, mine);
  } else delete spec.healthCheckNodePort;
  svc.status ??= {};
  svc.status.loadBalancer ??= {};
  checkAddresses(svc, fail);
}

/**
 * spec.loadBalancerClass (MetalLB-style implementations filter on it): only for type
 * LoadBalancer, immutable while the type stays LoadBalancer, dropped with the type.
 */
function checkLoadBalancerClass(
  spec: ServiceSpec,
  oldSpec: ServiceSpec | undefined,
  fail: (c: StatusCause[]) => Error,
) {
  const cls = spec.loadBalancerClass;
  if (oldSpec?.type === 'LoadBalancer' && spec.type !== 'LoadBalancer' && cls === oldSpec.loadBalancerClass) {
    delete spec.loadBalancerClass; // dropTypeDependentFields
    return;
  }
  if (cls === undefined || cls === null) return;
  if (spec.type !== 'LoadBalancer') {
    throw fail([
      {
        field: 'spec.loadBalancerClass',
        message: "Forbidden: may only be used when `type` is 'LoadBalancer'",
      },
    ]);
  }
  if (oldSpec?.type === 'LoadBalancer' && oldSpec.loadBalancerClass !== cls) {
    throw fail([
      {
        field: 'spec.loadBalancerClass',
        message: `Invalid value: ${JSON.stringify(cls)}: may not change once set`,
      },
    ]);
  }
}

/** The address fields the real validation checks (ValidateService / ValidateServiceStatus). */
function checkAddresses(svc: Svc, fail: (causes: StatusCause[]) => Error): void {
  const causes: StatusCause[] = [];
  const mustBeIp = (field: string, value: unknown) => {
    if (typeof value !== 'string' || !parseIp(value)) {
      causes.push({ field, message: `Invalid value: ${JSON.stringify(value)}: must be a valid IP address` });
    }
  };
  const spec = svc.spec ?? {};
  if (spec.loadBalancerIP) mustBeIp('spec.loadBalancerIP', spec.loadBalancerIP);
  for (const [i, ip] of ((spec.externalIPs as unknown[] | undefined) ?? []).entries())
    mustBeIp(`spec.externalIPs[${i}]`, ip);
  const ingress = (svc.status?.loadBalancer as { ingress?: unknown } | undefined)?.ingress;
  if (ingress !== undefined && !Array.isArray(ingress)) {
    causes.push({ field: 'status.loadBalancer.ingress', message: 'Invalid value: must be a list' });
  }
  for (const [i, entry] of (Array.isArray(ingress) ? ingress : []).entries()) {
    const e = entry as { ip?: unknown; hostname?: unknown; ipMode?: unknown } | null;
    if (e === null || typeof e !== 'object') {
      causes.push({
        field: `status.loadBalancer.ingress[${i}]`,
        message: 'Invalid value: must be an object',
      });
      continue;
    }
    if (e.ip !== undefined) mustBeIp(`status.loadBalancer.ingress[${i}].ip`, e.ip);
    if (e.ipMode !== undefined && e.ipMode !== 'VIP' && e.ipMode !== 'Proxy') {
      causes.push({
        field: `status.loadBalancer.ingress[${i}].ipMode`,
        message: `Unsupported value: ${JSON.stringify(e.ipMode)}: supported values: "Proxy", "VIP"`,
      });
    }
    if (e.ipMode !== undefined && e.ip === undefined) {
      causes.push({
        field: `status.loadBalancer.ingress[${i}].ipMode`,
        message: 'Forbidden: may not be specified when `ip` is not',
      });
    }
  }
  if (causes.length > 0) throw fail(causes);
}

function assignClusterIps(
  spec: ServiceSpec,
  net: ServiceNetwork,
  allocated: Allocated,
  fail: (c: StatusCause[]) => Error,
): void {
  const headless = spec.clusterIP === 'None' || spec.clusterIPs?.[0] === 'None';
  const given: string[] = spec.clusterIPs ?? (spec.clusterIP ? [spec.clusterIP] : []);
  const policies = ['SingleStack', 'PreferDualStack', 'RequireDualStack'];
  if (spec.ipFamilyPolicy !== undefined && !policies.includes(spec.ipFamilyPolicy)) {
    throw fail([
      {
        field: 'spec.ipFamilyPolicy',
        message: `Unsupported value: "${spec.ipFamilyPolicy}": supported values: ${policies.map((p) => `"${p}"`).join(', ')}`,
      },
    ]);
  }
  let families: IpFamily[] = spec.ipFamilies ?? [];
  for (const [i, f] of families.entries()) {
    if (!net.families.includes(f)) {
      throw fail([
        { field: `spec.ipFamilies[${i}]`, message: `Invalid value: "${f}": not configured on this cluster` },
      ]);
    }
  }
  if (families.length === 0 && !headless) {
    families = given.map((ip) => parseIp(ip)?.family).filter((f): f is IpFamily => f !== undefined);
  }
  spec.ipFamilyPolicy ??= families.length > 1 ? 'RequireDualStack' : 'SingleStack';
  if (spec.ipFamilyPolicy === 'RequireDualStack' && net.families.length < 2) {
    throw fail([
      {
        field: 'spec.ipFamilyPolicy',
        message: 'Invalid value: "RequireDualStack": this cluster is not configured for dual-stack services',
      },
    ]);
  }
  if (families.length === 0) families = [net.families[0]!];
  if (spec.ipFamilyPolicy !== 'SingleStack' && families.length === 1 && net.families.length > 1) {
    families = [families[0]!, net.families.find((f) => f !== families[0])!];
  }
  if (spec.ipFamilyPolicy === 'SingleStack') families = families.slice(0, 1);
  spec.ipFamilies = families;
  if (headless) {
    spec.clusterIP = 'None';
    spec.clusterIPs = ['None'];
    return;
  }
  const ips: string[] = [];
  for (const [i, family] of families.entries()) {
    const want = given[i];
    if (want) {
      const ip = parseIp(want);
      if (!ip || ip.family !== family || !rangeContains(net.serviceCidrs[family], ip)) {
        throw fail([
          {
            field: `spec.clusterIPs[${i}]`,
            message: `Invalid value: "${want}": failed to allocate IP ${want}: the provided IP (${want}) is not in the valid range`,
          },
        ]);
      }
      if (allocated.ipTaken(want)) {
        throw fail([
          {
            field: `spec.clusterIPs[${i}]`,
            message: `Invalid value: "${want}": failed to allocate IP ${want}: provided IP is already allocated`,
          },
        ]);
      }
      ips.push(want);
    } else {
      const ip = allocateIp(net, family, allocated);
      if (!ip) throw fail([{ field: `spec.clusterIPs[${i}]`, message: 'Internal error: range is full' }]);
      ips.push(ip);
    }
  }
  spec.clusterIP = ips[0];
  spec.clusterIPs = ips;
}
