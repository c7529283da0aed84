/** What the split-brain guard looks at. */
export interface IsolationInput {
  /** Peers in the list (this node excluded): 0 in a one-node cluster. */
  readonly knownPeers: number;
  /** Peers membership sees alive (this node excluded). */
  readonly alivePeers: number;
  /** Whether this speaker reached the API server recently (the caller decides what recently means). */
  readonly apiReachable: boolean;
}

export type IsolationVerdict =
  | { readonly shouldAnnounce: true; readonly reason: 'peers-alive' | 'api-reachable' | 'single-node' }
  | { readonly shouldAnnounce: false; readonly reason: 'isolated' };

/**
 * Split-brain guard. When every peer looks dead, either they all died or this node lost
 * its network. Announcing in the second case puts two owners on the LAN (the split brain
 * MetalLB and keepalived both show), so a node that sees no peer AND cannot reach the API
 * server assumes it is the isolated one and stops announcing. Reaching the API server is
 * the tie-breaker: a node that still does is connected, so the peers really are gone.
 */
export function isolationVerdict(input: IsolationInput): IsolationVerdict {
  if (input.knownPeers === 0) return { shouldAnnounce: true, reason: 'single-node' };
  if (input.alivePeers > 0) return { shouldAnnounce: true, reason: 'peers-alive' };
  if (input.apiReachable) return { shouldAnnounce: true, reason: 'api-reachable' };
  return { shouldAnnounce: false, reason: 'isolated' };
}

/**
 * Whether the verdict hangs on the API server: peers exist and none looks alive. Only then is
 * it asked (a fresh answer; watch events from before a cut prove nothing), and asked again
 * until a peer is back, so a speaker at rest sends the API server nothing for this.
 */
export function needsApiProbe(input: Omit<IsolationInput, 'apiReachable'>): boolean {
  return input.knownPeers > 0 && input.alivePeers === 0;
}
