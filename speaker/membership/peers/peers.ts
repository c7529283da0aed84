import { formatIp, parseIp } from '../../../shared/net/ip.ts';

/** A speaker to exchange heartbeats with. */
export interface MembershipPeer {
  /** Its Kubernetes Node name (what it signs its messages with). */
  readonly name: string;
  /** IPv4 or IPv6 address of its node: where we send. */
  readonly address: string;
  /**
   * Every other address of its node its datagrams may come from (a multi-homed node's kernel
   * picks the source by route). Datagrams from an address of no peer are dropped unread.
   */
  readonly addresses?: readonly string[];
  /** Defaults to our own port: every speaker of a DaemonSet listens on the same one. */
  readonly port?: number;
}

/**
 * Where a peer's datagrams may come from: source address as the socket reports it → node
 * name → the port its speaker sends from (its bound port). An IPv4 address is there in both
 * forms a socket reports it in: dotted, and IPv4-mapped on a dual-stack socket.
 */
export type SourceTable = ReadonlyMap<string, ReadonlyMap<string, number>>;

/** Where datagrams for one peer go, in the form the socket needs. */
export interface Destination {
  readonly address: string;
  readonly port: number;
}

/** What of our socket decides how a peer is reached. */
export interface LocalSocket {
  readonly nodeName: string;
  readonly port: number;
  /** Family of the bound address. */
  readonly family: 'IPv4' | 'IPv6';
  /** Bound to `::`: IPv4 peers are reached as IPv4-mapped IPv6 addresses. */
  readonly dualStack: boolean;
}

/**
 * Turns a peer list into destinations (node name → address and port). Entries with a bad
 * address or port are skipped and reported, so one broken object cannot stop membership;
 * this node's own entry is skipped silently (the list may hold every speaker).
 */
export function resolvePeers(
  peers: readonly MembershipPeer[],
  local: LocalSocket,
): { destinations: Map<string, Destination>; problems: string[] } {
  const problems: string[] = [];
  const destinations = new Map<string, Destination>(); // node name -> where to send
  for (const peer of peers) {
    if (peer.name === local.nodeName) continue;
    const family = parseIp(peer.address)?.family;
    const port = peer.port ?? local.port;
    if (family === undefined)
      problems.push(`peer ${peer.name}: address "${peer.address}" is not an IP address`);
    else if (!Number.isInteger(port) || port < 1 || port > 65535) {
      problems.push(`peer ${peer.name}: port ${port} is invalid`);
    } else if (family === 'IPv6' && local.family === 'IPv4') {
      problems.push(`peer ${peer.name}: IPv6 address on an IPv4 socket`);
    } else {
      const address = family === 'IPv4' && local.dualStack ? `::ffff:${peer.address}` : peer.address;
      destinations.set(peer.name, { address, port });
    }
  }
  return { destinations, problems };
}

/**
 * The source table of a peer list (see {@link SourceTable}); entries {@link resolvePeers}
 * skips are left out, and so are addresses that are not IP addresses.
 */
export function sourceTable(peers: readonly MembershipPeer[], local: LocalSocket): SourceTable {
  const table = new Map<string, Map<string, number>>(); // source text -> node name -> port
  const { destinations } = resolvePeers(peers, local);
  for (const peer of peers) {
    const port = destinations.get(peer.name)?.port;
    if (port === undefined) continue;
    for (const address of [peer.address, ...(peer.addresses ?? [])]) {
      for (const text of sourceTexts(address)) {
        const names = table.get(text) ?? new Map<string, number>();
        names.set(peer.name, port);
        table.set(text, names);
      }
    }
  }
  return table;
}

/** The texts a socket reports `address` as (Node's rinfo.address: RFC 5952-like, lower case). */
function sourceTexts(address: string): string[] {
  const ip = parseIp(address);
  if (!ip) return [];
  const text = formatIp(ip);
  return ip.family === 'IPv4' ? [text, `::ffff:${text}`] : [text];
}
