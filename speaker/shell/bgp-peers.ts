import { networkInterfaces } from 'node:os';
import type { PeerConfig } from '../../shared/config/types.ts';
import { formatIp } from '../../shared/net/ip.ts';
import type { BgpRoute } from '../announce/types.ts';
import type { PeerConfig as SessionPeerConfig } from '../bgp/peer-config.ts';
import type { RouteAttributes } from '../bgp/rib/index.ts';

/** RFC 4724 restart time we offer when a BGPPeer enables graceful restart (MetalLB/FRR use 120 s). */
export const GRACEFUL_RESTART_TIME_SEC = 120;
/** TTL on eBGP multihop sessions (FRR's `ebgp-multihop` without a count means 255). */
const MULTIHOP_TTL = 255;

/**
 * The BGP identifier for this node when the BGPPeer sets none: an IPv4 address of the node
 * (RFC 4271 §4.2 wants one of the speaker's addresses; a pure IPv6 node must configure
 * routerID). `nodeAddresses` are tried first (Node status / Pod IP), then the interfaces.
 */
export function routerIdFor(peer: PeerConfig, nodeAddresses: readonly string[]): string | undefined {
  if (peer.routerId) return formatIp(peer.routerId);
  const fromNode = nodeAddresses.find((a) => /^\d+\.\d+\.\d+\.\d+$/.test(a) && !a.startsWith('127.'));
  if (fromNode) return fromNode;
  const local = Object.values(networkInterfaces())
    .flat()
    .filter((e) => e !== undefined && e.family === 'IPv4' && !e.internal)
    .map((e) => e!.address)
    .sort();
  return local[0];
}

/**
 * Maps a validated BGPPeer (shared/config) to the session's own peer settings. `routerId`
 * comes from {@link routerIdFor}.
 */
export function sessionPeerConfig(peer: PeerConfig, routerId: string): SessionPeerConfig {
  return {
    localAs: peer.myAsn,
    peerAs: peer.peerAsn,
    peerAddress: formatIp(peer.peerAddress),
    peerPort: peer.peerPort,
    ...(peer.sourceAddress ? { sourceAddress: formatIp(peer.sourceAddress) } : {}),
    routerId,
    holdTimeSec: peer.holdTimeSec,
    ...(peer.holdTimeSec > 0 ? { keepaliveSec: peer.keepaliveTimeSec } : {}),
    ...(peer.connectTimeSec !== undefined ? { connectTimeMs: peer.connectTimeSec * 1000 } : {}),
    ...(peer.ebgpMultiHop && !peer.ibgp ? { ebgpMultiHop: MULTIHOP_TTL } : {}),
    ...(peer.password !== undefined ? { password: peer.password } : {}),
    ...(peer.enableGracefulRestart ? { gracefulRestartTimeSec: GRACEFUL_RESTART_TIME_SEC } : {}),
  };
}

/** The planner's routes for one peer as the RIB-out wants them: prefix → attributes. */
export function routesFor(routes: readonly BgpRoute[]): Map<string, RouteAttributes> {
  const out = new Map<string, RouteAttributes>(); // prefix -> attributes
  for (const route of routes) {
    const communities: number[] = [];
    const large: { globalAdmin: number; localData1: number; localData2: number }[] = [];
    for (const c of route.communities) {
      if (c.kind === 'standard') communities.push(c.value);
      else large.push({ globalAdmin: c.globalAdmin, localData1: c.localData1, localData2: c.localData2 });
    }
    out.set(route.prefix, {
      ...(communities.length > 0 ? { communities } : {}),
      ...(large.length > 0 ? { largeCommunities: large } : {}),
      ...(route.localPref !== undefined ? { localPref: route.localPref } : {}),
    });
  }
  return out;
}
