/**
 * Gathers one {@link Observation} of the chaos lab: the API objects (GETs to the embedded API
 * server), who answers ARP/NDP for each L2 IP (asked from an observer namespace on the LAN, not
 * from the client, so the answers never touch the client's neighbour cache) and the router's
 * kernel routes for the BGP range. Thin shell: the rules are in invariants.ts.
 */

import { neighbourResponders, nodeOfMac } from '../../lab/neighbours.ts';
import { LAB_ADDRESSES, type Topology } from '../../lab/topology.ts';
import { API_VERSION, PLURALS, StatusLabels } from '../../shared/api/names.ts';
import type { Observation, ObservedPool, ObservedService } from './invariants.ts';
import { inRange } from './invariants.ts';

/** The observer's namespace (short name) and LAN addresses (documentation range). */
export const OBSERVER = { name: 'watch', ipv4: '192.0.2.20/24', ipv6: '2001:db8:0:1::20/64' } as const;

interface Item {
  metadata?: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    creationTimestamp?: string;
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  type?: string;
  reason?: string;
  involvedObject?: { kind?: string; name?: string; namespace?: string };
}

async function list(topo: Topology, path: string): Promise<Item[]> {
  const res = await fetch(`${topo.api.url}${path}`, { signal: AbortSignal.timeout(5_000) });
  if (!res.ok) throw new Error(`GET ${path}: ${res.status}`);
  return ((await res.json()) as { items: Item[] }).items;
}

const crd = (plural: string) => `/apis/${API_VERSION}/${plural}`;

/** Adds the observer namespace to the LAN (once, before the run). */
export async function addObserver(topo: Topology): Promise<void> {
  await topo.lab.addHost(OBSERVER.name);
  await topo.lab.connect(OBSERVER.name, { ipv4: OBSERVER.ipv4, ipv6: OBSERVER.ipv6 });
}

/** Service key → nodes, from status objects' labels. */
function statusNodes(items: readonly Item[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const item of items) {
    const labels = item.metadata?.labels ?? {};
    const key = `${labels[StatusLabels.ServiceNamespace]}/${labels[StatusLabels.ServiceName]}`;
    const node = labels[StatusLabels.Node] ?? '?';
    out.set(key, [...(out.get(key) ?? []), node]);
  }
  return out;
}

/**
 * One observation. `state` is what the runner knows: whether the system is settled, the fault in
 * progress, the nodes that should announce. Throws when the API server does not answer (it may be
 * the fault in progress); the caller skips that round.
 */
export async function observe(
  topo: Topology,
  state: {
    settled: () => boolean;
    fault: () => string | undefined;
    healthyNodes: () => string[];
    /** See {@link Observation.oneAnswerer}. */
    oneAnswerer?: () => boolean;
  },
): Promise<Observation> {
  const atMs = Date.now();
  const settledAtStart = state.settled();
  const oneAnswererAtStart = state.oneAnswerer?.() ?? false;
  const fault = state.fault();
  const [services, events, pools, l2Ads, bgpAds, l2Status, bgpStatus] = await Promise.all([
    list(topo, '/api/v1/services'),
    list(topo, '/api/v1/events'),
    list(topo, crd(PLURALS.IPAddressPool)),
    list(topo, crd(PLURALS.L2Advertisement)),
    list(topo, crd(PLURALS.BGPAdvertisement)),
    list(topo, crd(PLURALS.ServiceL2Status)),
    list(topo, crd(PLURALS.ServiceBGPStatus)),
  ]);
  const advertised = (ads: Item[], pool: string) =>
    ads.some((a) => ((a.spec?.ipAddressPools as string[] | undefined) ?? []).includes(pool));
  const observedPools: ObservedPool[] = pools.map((p) => {
    const name = p.metadata?.name ?? '';
    return {
      name,
      ranges: (p.spec?.addresses as string[] | undefined) ?? [],
      autoAssign: p.spec?.autoAssign !== false,
      mode: advertised(l2Ads, name) ? 'l2' : advertised(bgpAds, name) ? 'bgp' : 'none',
    };
  });
  const observedServices: ObservedService[] = services
    .filter((s) => s.spec?.type === 'LoadBalancer')
    .map((s) => {
      const ns = s.metadata?.namespace ?? '';
      const name = s.metadata?.name ?? '';
      const ingress = (s.status?.loadBalancer as { ingress?: { ip?: string }[] } | undefined)?.ingress ?? [];
      return {
        key: `${ns}/${name}`,
        ips: ingress.map((i) => i.ip).filter((ip): ip is string => typeof ip === 'string'),
        pool: s.metadata?.annotations?.['metalbeacon.io/address-pool'],
        sharingKey: s.metadata?.annotations?.['metalbeacon.io/allow-shared-ip'],
        warnings: events
          .filter(
            (e) =>
              e.type === 'Warning' &&
              e.involvedObject?.kind === 'Service' &&
              e.involvedObject.name === name &&
              e.involvedObject.namespace === ns,
          )
          .map((e) => e.reason ?? ''),
        createdMs: Date.parse(s.metadata?.creationTimestamp ?? '') || atMs,
      };
    });
  const poolOf = (ip: string) => observedPools.find((p) => p.ranges.some((r) => inRange(ip, r)));
  const l2Ips = observedServices.flatMap((s) => s.ips).filter((ip) => poolOf(ip)?.mode === 'l2');
  const answerers = new Map<string, string[]>();
  await Promise.all(
    [...new Set(l2Ips)].map(async (ip) => {
      const macs = await neighbourResponders(topo.lab, OBSERVER.name, ip);
      answerers.set(ip, [...macs].map((mac) => nodeOfMac(topo, mac)).sort());
    }),
  );
  const nodeByIp = new Map(topo.nodes.flatMap((n) => [[n.ipv4, n.name] as const, [n.ipv6, n.name] as const]));
  const routes = new Map<string, string[]>();
  for (const range of LAB_ADDRESSES.bgpRanges.filter((r) => !r.includes(':'))) {
    for (const r of await topo.kernelRoutes('IPv4', range)) {
      routes.set(r.prefix.replace(/\/32$/, ''), r.nextHops.map((h) => nodeByIp.get(h) ?? h).sort());
    }
  }
  return {
    atMs,
    services: observedServices,
    pools: observedPools,
    l2Status: statusNodes(l2Status),
    bgpStatus: statusNodes(bgpStatus),
    answerers,
    routes,
    healthyNodes: state.healthyNodes(),
    // Settled for the whole round: a fault that began meanwhile makes the round unsettled.
    settled: settledAtStart && state.settled() && state.fault() === undefined,
    oneAnswerer: oneAnswererAtStart && (state.oneAnswerer?.() ?? false) && state.fault() === fault,
    fault,
  };
}
