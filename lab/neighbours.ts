import type { Lab } from './netns.ts';
import type { Topology } from './topology.ts';

/**
 * MAC addresses (lower-case) that answer an ARP request for `ip`, asked from the `client`
 * namespace with arping (two requests, up to `waitS` seconds). Empty when nobody answers.
 */
export async function arpResponders(lab: Lab, client: string, ip: string, ifName = 'eth0', waitS = 2) {
  const { stdout, code } = await lab.exec(
    client,
    ['arping', '-c', '2', '-w', String(waitS), '-I', ifName, ip],
    { allowFailure: true, timeoutMs: (waitS + 5) * 1000 },
  );
  const macs = new Set<string>();
  for (const m of stdout.matchAll(/bytes from ([0-9a-f:]{17}) \(/gi))
    macs.add((m[1] as string).toLowerCase());
  if (code !== 0 && code !== 1) throw new Error(`arping ${ip} failed (${code}): ${stdout}`);
  return macs;
}

/**
 * MAC addresses (lower-case) that answer an IPv6 neighbour solicitation for `ip` from the
 * `client` namespace (ndisc6, every answer, two tries of `waitMs`). Empty when nobody answers.
 */
export async function ndpResponders(lab: Lab, client: string, ip: string, ifName = 'eth0', waitMs = 700) {
  const { stdout, code } = await lab.exec(
    client,
    ['ndisc6', '-m', '-n', '-r', '2', '-w', String(waitMs), ip, ifName],
    { allowFailure: true, timeoutMs: 10_000 },
  );
  const macs = new Set<string>();
  for (const m of stdout.matchAll(/Target link-layer address: ([0-9A-F:]{17})/gi)) {
    macs.add((m[1] as string).toLowerCase());
  }
  if (code !== 0 && code !== 2) throw new Error(`ndisc6 ${ip} failed (${code}): ${stdout}`);
  return macs;
}

/** Responders of either family, by the address's syntax. */
export function neighbourResponders(lab: Lab, client: string, ip: string, ifName = 'eth0') {
  return ip.includes(':') ? ndpResponders(lab, client, ip, ifName) : arpResponders(lab, client, ip, ifName);
}

/** The node whose LAN MAC this is, or the MAC itself when it is no node's. */
export function nodeOfMac(topo: Topology, mac: string): string {
  return topo.nodes.find((n) => n.link.mac === mac)?.name ?? mac;
}

/** Node names answering ARP/NDP for `ip` on the LAN, as seen from the client, sorted. */
export async function announcers(topo: Topology, ip: string): Promise<string[]> {
  const macs = await neighbourResponders(topo.lab, topo.client, ip);
  return [...macs].map((mac) => nodeOfMac(topo, mac)).sort();
}
