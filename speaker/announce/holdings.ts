import { MAX_HOLDINGS } from '../membership/codec/codec.ts';
import { compareIpValues, parseServiceIp, type ServiceIp } from './eligibility.ts';
import type { PlanInput } from './types.ts';

/**
 * The L2 IPs this node tells its peers it answers for (membership Holdings), from what its
 * announcer answers for now: canonical text, in address order, at most MAX_HOLDINGS. The same
 * list is this node's own entry in PlanInput.holdings, so that an IP beyond the cap (which the
 * peers do not hear of) is not sticky on this node either and every speaker still agrees.
 */
export function advertisedHoldings(announced: Iterable<string>): string[] {
  const ips: ServiceIp[] = [];
  for (const text of announced) {
    const ip = parseServiceIp(text);
    if (ip) ips.push(ip);
  }
  ips.sort((a, b) => compareIpValues(a.ip, b.ip));
  return [...new Set(ips.map((ip) => ip.text))].slice(0, MAX_HOLDINGS);
}

/**
 * The IPs this node counts as its own in its plans: what it announces, and what its peers say it
 * held before it restarted in place (membership's Resume) unless a peer holds that IP now — then
 * the peer keeps it, and the restarted node does not flip the clients back
 * (docs/adr/0013-l2-restart-in-place.md).
 */
export function ownHoldings(
  announced: Iterable<string>,
  resumed: readonly string[],
  peers: ReadonlyMap<string, readonly string[]>,
): string[] {
  const heldByPeers = new Set([...peers.values()].flat());
  return advertisedHoldings([...announced, ...resumed.filter((ip) => !heldByPeers.has(ip))]);
}

/**
 * PlanInput.holdings (node name -> IPs it answers for): this node's advertised holdings and
 * what membership last heard from the alive peers (peer name -> IPs).
 */
export function holdingsByNode(
  nodeName: string,
  own: readonly string[],
  peers: ReadonlyMap<string, readonly string[]>,
): Map<string, ReadonlySet<string>> {
  const out = new Map<string, ReadonlySet<string>>();
  for (const [name, ips] of peers) if (name !== nodeName) out.set(name, new Set(ips));
  out.set(nodeName, new Set(own));
  return out;
}

/** What membership knows of the peers' L2 IPs (speaker/shell/membership.ts). */
export interface MembershipHoldings {
  /** Peer name -> the IPs it last said it answers for. */
  holdings(): ReadonlyMap<string, readonly string[]>;
  /** The IPs our peers say we held before we restarted in place. */
  resumed(): readonly string[];
  /** Peers that restart in place now. */
  restarting(): readonly string[];
}

/**
 * PlanInput's holdings (this node's own, from what it announces and what it resumed, and its
 * peers') and, while any restart in place, the restarting nodes.
 */
export function clusterHoldings(
  nodeName: string,
  announced: Iterable<string>,
  membership: MembershipHoldings,
): Pick<PlanInput, 'holdings' | 'restarting'> {
  const peers = membership.holdings();
  const holdings = holdingsByNode(nodeName, ownHoldings(announced, membership.resumed(), peers), peers);
  const restarting = membership.restarting();
  return restarting.length > 0 ? { holdings, restarting: new Set(restarting) } : { holdings };
}
