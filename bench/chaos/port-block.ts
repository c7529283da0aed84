/**
 * The chaos fault "membership port blocked between two nodes": the nftables script each of the
 * two nodes loads, dropping the membership datagrams that come from the other, so neither hears
 * the other on the port while the LAN (ARP/NDP, HTTP, BGP, the membership's LAN path) stays
 * intact and both still hear the third node. Input rules on both sides, because the speakers
 * send to each peer's address and a rule on the sender's output would depend on which
 * address that is. Pure: the shell (faults.ts) runs `nft` with it in the nodes' namespaces.
 */
import { parseIp } from '../../shared/net/ip.ts';

/** The nftables table the fault adds to a node (and deletes to undo it). */
export const PORT_BLOCK_TABLE = 'chaosblock';

/** The other node of the pair: its LAN addresses. */
export interface BlockedPeer {
  readonly ipv4: string;
  readonly ipv6: string;
}

/** The nft script (one `nft` argument) dropping UDP to `port` from `peer`'s addresses. */
export function portBlockScript(peer: BlockedPeer, port: number): string {
  if (!Number.isInteger(port) || port < 1 || port > 65_535)
    throw new Error(`port block: port ${port} is not 1-65535`);
  const v4 = parseIp(peer.ipv4);
  const v6 = parseIp(peer.ipv6);
  if (v4?.family !== 'IPv4') throw new Error(`port block: peer ipv4 "${peer.ipv4}" is not an IPv4 address`);
  if (v6?.family !== 'IPv6') throw new Error(`port block: peer ipv6 "${peer.ipv6}" is not an IPv6 address`);
  const t = `inet ${PORT_BLOCK_TABLE}`;
  return [
    `add table ${t}`,
    `add chain ${t} input { type filter hook input priority 0 ; }`,
    `add rule ${t} input ip saddr ${peer.ipv4} udp dport ${port} drop`,
    `add rule ${t} input ip6 saddr ${peer.ipv6} udp dport ${port} drop`,
  ].join(' ; ');
}

/** The nft arguments that undo {@link portBlockScript}. */
export const PORT_UNBLOCK_ARGS = ['delete', 'table', 'inet', PORT_BLOCK_TABLE] as const;

/**
 * The peer of a membership block: of the nodes other than `target`, sorted by name, the one
 * at `index` (modulo their number). Undefined when `target` has no other node.
 */
export function blockPeer(target: string, nodes: readonly string[], index: number): string | undefined {
  const others = nodes.filter((n) => n !== target).sort();
  if (others.length === 0) return undefined;
  return others[((index % others.length) + others.length) % others.length];
}
