import { compareText } from '../../../shared/config/names.ts';
import { parseIp } from '../../../shared/net/ip.ts';
import type { MembershipPeer } from './peers.ts';

/** The fields of a core/v1 Pod read here (a V1Pod is one). */
export interface PodLike {
  readonly metadata?: { readonly name?: string; readonly namespace?: string };
  readonly spec?: { readonly nodeName?: string };
  readonly status?: {
    readonly phase?: string;
    readonly podIP?: string;
    readonly podIPs?: readonly { readonly ip: string }[];
  };
}

/** The fields of a core/v1 Node read here (a V1Node is one). */
export interface NodeLike {
  readonly metadata?: { readonly name?: string };
  readonly status?: { readonly addresses?: readonly { readonly type: string; readonly address: string }[] };
}

/** Node name → its InternalIP and ExternalIP addresses: where its speaker may send from too. */
export function nodeAddresses(nodes: readonly NodeLike[]): Map<string, string[]> {
  const byName = new Map<string, string[]>(); // node name -> addresses
  for (const node of nodes) {
    const name = node.metadata?.name;
    if (!name) continue;
    const addresses = (node.status?.addresses ?? [])
      .filter((a) => a.type === 'InternalIP' || a.type === 'ExternalIP')
      .map((a) => a.address);
    byName.set(name, addresses);
  }
  return byName;
}

/**
 * The membership peer list from the speaker DaemonSet's Pods (hostNetwork, so a Pod's IPs
 * are its node's). The identity is the Node name (`spec.nodeName`), which is also what the
 * L2 owner election ranks. A terminating Pod stays a peer: it still heartbeats during the
 * graceful handover and says when it leaves. Pods that cannot be peers are returned in
 * `skipped` with the reason.
 *
 * `family` picks the address family when a Pod has both (the socket's family; a
 * dual-stack socket takes the first listed). A peer's `addresses` are every IP of its Pods
 * and the node's own from `byNode` ({@link nodeAddresses}): the sources its datagrams may
 * come from.
 */
export function peersFromPods(
  pods: readonly PodLike[],
  family: 'IPv4' | 'IPv6' | 'any' = 'any',
  byNode: ReadonlyMap<string, readonly string[]> = new Map(),
): { peers: MembershipPeer[]; skipped: string[] } {
  const peers = new Map<string, MembershipPeer>(); // node name -> peer
  const sources = new Map<string, Set<string>>(); // node name -> every address of its Pods
  const skipped: string[] = [];
  const sorted = [...pods].sort((a, b) => compareText(podKey(a), podKey(b)));
  for (const pod of sorted) {
    const key = podKey(pod);
    const nodeName = pod.spec?.nodeName;
    const phase = pod.status?.phase;
    if (!nodeName) {
      skipped.push(`pod ${key}: not scheduled to a node yet`);
      continue;
    }
    if (phase === 'Succeeded' || phase === 'Failed') {
      skipped.push(`pod ${key}: ${phase}`);
      continue;
    }
    const ips = (pod.status?.podIPs?.map((p) => p.ip) ?? [pod.status?.podIP]).filter(
      (ip): ip is string => typeof ip === 'string' && parseIp(ip) !== undefined,
    );
    const seen = sources.get(nodeName) ?? new Set<string>();
    for (const ip of ips) seen.add(ip);
    sources.set(nodeName, seen);
    const wanted = family === 'any' ? ips : ips.filter((ip) => parseIp(ip)?.family === family);
    const address = wanted[0];
    if (address === undefined) {
      skipped.push(`pod ${key}: no ${family === 'any' ? '' : `${family} `}address yet`);
      continue;
    }
    // During a rolling update two Pods may sit on one node: with hostNetwork they share
    // its address, so one entry per node is the truth.
    if (!peers.has(nodeName)) peers.set(nodeName, { name: nodeName, address });
  }
  const withSources = [...peers.values()].map((peer) => {
    const all = new Set([...(sources.get(peer.name) ?? []), ...(byNode.get(peer.name) ?? [])]);
    all.delete(peer.address);
    return all.size > 0 ? { ...peer, addresses: [...all].sort(compareText) } : peer;
  });
  return { peers: withSources, skipped };
}

function podKey(pod: PodLike): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}
