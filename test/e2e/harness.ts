import { fileURLToPath } from 'node:url';
import { announcers } from '../../lab/neighbours.ts';
import { type KernelRouteEvent, parseRouteMonitorLine } from '../../lab/router.ts';
import { startTopology, type Topology } from '../../lab/topology.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';

const LAB_MANIFESTS = fileURLToPath(new URL('../../lab/manifests', import.meta.url));

/**
 * The lab topology with the lab pools (lab-l2, lab-dual, lab-bgp with BIRD as peer), the
 * controller and a speaker on every node, all ready. One per test file (unique `prefix`).
 */
export async function startE2eTopology(
  prefix: string,
  speakerArgs: readonly string[] = [],
): Promise<Topology> {
  const topo = await startTopology({ prefix, manifests: [LAB_MANIFESTS] });
  try {
    await topo.startController();
    await Promise.all(topo.nodes.map((n) => topo.startSpeaker(n.name, speakerArgs, { timeoutMs: 60_000 })));
    return topo;
  } catch (error) {
    await topo.stop();
    throw error;
  }
}

/** `http://IP/` with brackets for IPv6. */
export function urlOf(ip: string): string {
  return ip.includes(':') ? `http://[${ip}]/` : `http://${ip}/`;
}

/** Waits until exactly `expected` (sorted node names) answer ARP/NDP for `ip`; returns the last view. */
export async function waitForAnnouncers(
  topo: Topology,
  ip: string,
  expected: (nodes: string[]) => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<string[]> {
  let last: string[] = [];
  try {
    return await waitFor(
      what,
      async () => {
        last = await announcers(topo, ip);
        return expected(last) ? last : undefined;
      },
      { timeoutMs, intervalMs: 200 },
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; ARP/NDP answers for ${ip} from: [${last.join(', ')}]`);
  }
}

/** BGP next hops BIRD holds for exactly `prefix` (e.g. `198.51.100.64/32`), sorted. */
export async function birdNextHops(topo: Topology, prefix: string): Promise<string[]> {
  const routes = await topo.birdRoutes(prefix);
  const route = routes.find((r) => r.prefix === prefix);
  return (route?.paths ?? []).map((p) => p.via ?? '').sort();
}

/** BIRD's view of its session with `node`: the BGP state and whether the node offered graceful restart. */
export async function birdSession(
  topo: Topology,
  node: string,
): Promise<{ state: string; peerGracefulRestart: boolean }> {
  const text = await topo.birdc(['show', 'protocols', 'all', node.replace('-', '_')]);
  return {
    state: /BGP state:\s+(\S+)/.exec(text)?.[1] ?? 'unknown',
    // Our own capabilities come first; the node's follow "Neighbor capabilities".
    peerGracefulRestart: /Neighbor capabilities[\s\S]*Graceful restart/.test(text),
  };
}

/** JSON merge patch of the object at an API path, through the API server. */
export async function mergePatch(
  topo: Topology,
  path: string,
  patch: Record<string, unknown>,
): Promise<void> {
  const res = await fetch(`${topo.api.url}${path}`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/merge-patch+json' },
    body: JSON.stringify(patch),
  });
  if (!res.ok) throw new Error(`PATCH ${path}: ${res.status} ${await res.text()}`);
}

/** Merge-patches a Node's labels (null removes a label) through the API server. */
export async function patchNodeLabels(topo: Topology, node: string, labels: Record<string, string | null>) {
  await mergePatch(topo, `/api/v1/nodes/${node}`, { metadata: { labels } });
}

/** A running `ip monitor` of one route in the router's kernel table. */
export interface KernelRouteWatch {
  /** Every change of the route since the watch started, in order. */
  events(): KernelRouteEvent[];
  stop(): Promise<void>;
}

/**
 * Follows the router's kernel route for `prefix` (`198.51.100.64/32`) with `ip -ts -o monitor
 * route`: each change with its time and next hops. Resolves once the monitor demonstrably
 * listens (it has seen a probe route of the transit range come and go).
 */
export async function watchKernelRoute(topo: Topology, prefix: string): Promise<KernelRouteWatch> {
  const family = prefix.includes(':') ? 'IPv6' : 'IPv4';
  const monitor = topo.lab.spawn(topo.router, ['ip', '-ts', '-o', 'monitor', 'route'], {
    env: { ...process.env, TZ: 'UTC' },
  });
  const marker = '203.0.113.254';
  await waitFor(
    'ip monitor in the router to report a route change',
    async () => {
      await topo.lab.ip(topo.router, ['route', 'add', 'blackhole', `${marker}/32`]);
      await topo.lab.ip(topo.router, ['route', 'del', 'blackhole', `${marker}/32`]);
      return monitor.output().includes(marker) ? true : undefined;
    },
    { timeoutMs: 5_000, intervalMs: 50 },
  );
  return {
    events: () =>
      monitor
        .output()
        .split('\n')
        .map((line) => parseRouteMonitorLine(line, family))
        .filter((e): e is KernelRouteEvent => e?.prefix === prefix),
    stop: async () => {
      await monitor.stop(1_000);
    },
  };
}

/**
 * Captures, on the router, the single-hop BFD packets (RFC 5881, UDP 3784) from `source` whose
 * state is AdminDown (the top two bits of the payload's second octet are 0, RFC 5880 §4.1).
 * Resolves once tcpdump listens.
 */
export async function watchBfdAdminDown(
  topo: Topology,
  source: string,
): Promise<{ packets(): string[]; stop(): Promise<void> }> {
  const filter = `udp dst port 3784 and src host ${source} and (udp[9] & 0xc0) = 0`;
  const dump = topo.lab.spawn(topo.router, ['tcpdump', '-i', 'any', '-l', '-n', '-v', filter]);
  await waitFor(
    'tcpdump in the router to listen',
    () => (/listening on/.test(dump.output()) ? true : undefined),
    {
      timeoutMs: 5_000,
      intervalMs: 20,
    },
  );
  return {
    packets: () =>
      dump
        .output()
        .split('\n')
        .filter((line) => /BFDv1/.test(line)),
    stop: async () => {
      await dump.stop(1_000);
    },
  };
}

/** The events whose next hops differ from the event before (the first one always counts). */
export function nextHopChanges(events: readonly KernelRouteEvent[]): KernelRouteEvent[] {
  return events.filter((e, i) => i === 0 || e.nextHops.join() !== events[i - 1]?.nextHops.join());
}

/** Lists objects at an API path (e.g. `/apis/metalbeacon.io/v1beta1/servicel2statuses`). */
export async function listObjects(topo: Topology, path: string): Promise<Record<string, unknown>[]> {
  const res = await fetch(`${topo.api.url}${path}`);
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { items: Record<string, unknown>[] }).items;
}

/**
 * Cuts everything between `node` and the other nodes while the node stays on the LAN for
 * clients: blackhole routes to each other's LAN addresses (both directions, both families)
 * and, in the LAN bridge, no frame between its port and theirs (so not the membership LAN
 * path either, speaker/membership). Membership sees it as gone, a client still hears it.
 */
export async function isolateFromPeers(topo: Topology, node: string, undo = false): Promise<void> {
  const self = topo.node(node);
  const verb = undo ? 'del' : 'add';
  for (const peer of topo.nodes) {
    if (peer.name === node) continue;
    for (const [from, to] of [
      [self, peer],
      [peer, self],
    ] as const) {
      await topo.lab.ip(from.short, ['route', verb, 'blackhole', `${to.ipv4}/32`]);
      await topo.lab.ip(from.short, ['-6', 'route', verb, 'blackhole', `${to.ipv6}/128`]);
    }
  }
  const table = `isolate-${node}`;
  if (undo) {
    await topo.lab.exec('lan', ['nft', 'delete', 'table', 'bridge', table]);
    return;
  }
  const port = self.link.portName;
  const others = topo.nodes.filter((n) => n.name !== node).map((n) => n.link.portName);
  const set = `{ ${others.join(', ')} }`;
  await topo.lab.exec('lan', [
    'nft',
    `add table bridge ${table}; ` +
      `add chain bridge ${table} forward { type filter hook forward priority 0 ; } ; ` +
      `add rule bridge ${table} forward iifname ${port} oifname ${set} drop ; ` +
      `add rule bridge ${table} forward iifname ${set} oifname ${port} drop`,
  ]);
}
