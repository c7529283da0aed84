/** What the split-brain guard looks at. */
export interface IsolationInput {
  /** Peers in the list (this node excluded): 0 in a one-node cluster. */
  readonly knownPeers: number;
  /** Peers membership sees alive (this node excluded). */
  readonly alivePeers: number;
  /** Whether this speaker reached the API server recently (the caller decides what recently means). */
  readonly apiReachable: boolean;
  /**
   * Whether an interface this node announces L2 IPs on has carrier now (operstate up); omitted
   * when unknown (no such interface, sysfs unreadable), and then counted as up.
   */
  readonly lanUp?: boolean;
}

export type IsolationVerdict =
  | { readonly shouldAnnounce: true; readonly reason: 'peers-alive' | 'api-reachable' | 'single-node' }
  /** Everything withheld, L2 IPs and BGP routes. */
  | { readonly shouldAnnounce: false; readonly reason: 'isolated' }
  /** The L2 IPs withheld; BGP routes stay (BGP has its own liveness: BFD, hold time). */
  | { readonly shouldAnnounce: false; readonly reason: 'lan-down' };

/**
 * Split-brain guard. When every peer looks dead, either they all died or this node lost
 * its network. Announcing in the second case puts two owners on the LAN (the split brain
 * MetalLB and keepalived both show), so a node that sees no peer AND cannot reach the API
 * server assumes it is the isolated one and stops announcing. Reaching the API server is
 * the tie-breaker: a node that still does is connected, so the peers really are gone —
 * unless its own LAN link has no carrier: then the API server answers over another way (a
 * management network, a local API server) and says nothing about the LAN, and this node is
 * the one cut off from it (a link flap, a pulled cable, a switch port down). Its L2 answers
 * reach nobody anyway, so it withholds them ('lan-down'), and on the link's return it is back
 * from isolation: it announces again only once regathered (below), having claimed nothing
 * meanwhile, so the node that took its IPs over keeps them (docs/adr/0012-l2-sticky-owner.md,
 * Link flaps).
 */
export function isolationVerdict(input: IsolationInput): IsolationVerdict {
  if (input.knownPeers === 0) return { shouldAnnounce: true, reason: 'single-node' };
  if (input.alivePeers > 0) return { shouldAnnounce: true, reason: 'peers-alive' };
  if (!input.apiReachable) return { shouldAnnounce: false, reason: 'isolated' };
  if (input.lanUp === false) return { shouldAnnounce: false, reason: 'lan-down' };
  return { shouldAnnounce: true, reason: 'api-reachable' };
}

/**
 * Whether the verdict hangs on the API server (and the LAN link's carrier): peers exist and none
 * looks alive. Only then is it asked (a fresh answer; watch events from before a cut prove
 * nothing), and asked again until a peer is back, so a speaker at rest sends the API server
 * nothing for this.
 */
export function needsApiProbe(input: Omit<IsolationInput, 'apiReachable' | 'lanUp'>): boolean {
  return input.knownPeers > 0 && input.alivePeers === 0;
}

/** What decides whether a node back from isolation may announce again. */
export interface RegatherInput {
  /** Peers in the list (this node excluded). */
  readonly knownPeers: number;
  /** Peers membership sees alive again (this node excluded). */
  readonly alivePeers: number;
  /** When the guard first could have lifted (monotonic ms). */
  readonly sinceMs: number;
  readonly nowMs: number;
  /** How long a peer may take to be heard again; see REGATHER_MS. */
  readonly regatherMs: number;
}

/**
 * How long a node back from isolation waits for the peers it does not hear yet. After a cut
 * cable each side re-resolves the other's address on its own, and a resolution under way
 * retransmits once a second (Linux's default for ARP and NDP): the peers come back up to a
 * second apart, then a heartbeat later; the rest is margin.
 */
export const REGATHER_MS = 1500;

/**
 * Whether a node back from isolation has its view back. While it was the one cut off it took
 * every peer for dead, and the others moved its IPs among themselves; it hears them again one by
 * one, and the API server may answer before any of them. Planning from that partial view takes
 * the IPs of the peers not heard yet (the ranking prefers this node for some), and once they are
 * heard the ranking between two holders gives them to this node: one more flip of the clients,
 * the requests in flight reset. So it announces again only once every known peer is heard, or
 * `regatherMs` after it first could: a peer still silent then is gone.
 */
export function regathered(input: RegatherInput): boolean {
  return input.alivePeers >= input.knownPeers || input.nowMs - input.sinceMs >= input.regatherMs;
}
