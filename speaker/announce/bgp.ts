import { compareText } from '../../shared/config/names.ts';
import { matchesAnySelector } from '../../shared/config/selectors.ts';
import type { BgpAdvertisementConfig, BgpCommunity, PeerConfig } from '../../shared/config/types.ts';
import { FAMILY_BITS, type IpValue } from '../../shared/net/ip.ts';
import { compareIpValues, type PlanIndex, prefixOf, type ServiceIp } from './eligibility.ts';
import type { BgpRoute, PeerPlan, ServiceFacts, SkipCode, Skipped } from './types.ts';

/** One Service wanting one IP advertised over BGP, with the BGPAdvertisements that cover it. */
export interface BgpDemand {
  readonly service: ServiceFacts;
  readonly ip: ServiceIp;
  /** BGPAdvertisements of the IP's pool whose serviceSelectors match the Service; not empty. */
  readonly ads: readonly BgpAdvertisementConfig[];
}

/**
 * The BGPPeers this node runs sessions with: those whose nodeSelectors select it (none: every
 * node). An excluded or NetworkUnavailable node keeps its sessions and advertises nothing on
 * them, as MetalLB does, so a label flip does not reset sessions. Sorted by name.
 */
export function peersOfNode(index: PlanIndex): PeerConfig[] {
  const labels = index.selfNode?.labels;
  if (!labels) return [];
  return index.config.peers
    .filter((peer) => matchesAnySelector(peer.nodeSelectors, labels))
    .sort((a, b) => compareText(a.name, b.name));
}

/** A route being merged from several advertisements and Services. */
interface RouteAcc {
  /** The prefix's network address and length, to sort without parsing text. */
  readonly network: IpValue;
  readonly length: number;
  localPref: number | undefined;
  /** community text -> community */
  readonly communities: Map<string, BgpCommunity>;
  readonly services: Set<string>;
  readonly advertisements: Set<string>;
}

/**
 * The BGP half of the plan. No election: with externalTrafficPolicy Cluster every node the
 * advertisements select advertises (ECMP at the router); with Local only nodes hosting a
 * serving endpoint. Each matching advertisement yields the IP masked to its aggregation length,
 * sent to its peers (none listed: every peer of this node). A peer only gets prefixes of its
 * session's family unless it has dualStackAddressFamily. Several advertisements or Services
 * hitting one prefix merge: highest LOCAL_PREF (iBGP sessions only; RFC 4271 §5.1.5 forbids it
 * on eBGP), union of communities.
 */
export function planBgp(index: PlanIndex, demands: readonly BgpDemand[], skipped: Skipped[]): PeerPlan[] {
  const peers = peersOfNode(index);
  const routes = new Map<string, Map<string, RouteAcc>>(); // peer name -> prefix -> route
  for (const peer of peers) routes.set(peer.name, new Map());
  const selfLabels = index.selfNode?.labels ?? {};
  for (const demand of demands) {
    const { service, ip } = demand;
    const skip = (code: SkipCode, reason: string) =>
      skipped.push({ service: service.key, ip: ip.text, reason, code, protocol: 'BGP' });
    if (index.selfProblem) {
      skip(index.selfProblem.code, index.selfProblem.reason);
      continue;
    }
    const here = demand.ads.filter((ad) => matchesAnySelector(ad.nodeSelectors, selfLabels));
    if (here.length === 0) {
      const names = demand.ads.map((ad) => ad.name).join(', ');
      skip('notSelected', `the nodeSelectors of BGPAdvertisement ${names} do not select node ${index.self}`);
      continue;
    }
    if (service.externalTrafficPolicy === 'Local' && !service.endpointNodes.includes(index.self)) {
      skip('noLocalEndpoints', `externalTrafficPolicy Local and no serving endpoint on node ${index.self}`);
      continue;
    }
    let advertised = false;
    for (const ad of here) {
      const length = ip.ip.family === 'IPv4' ? ad.aggregationLength : ad.aggregationLengthV6;
      const prefix = prefixOf(ip, length);
      for (const peer of peers) {
        if (ad.peers.length > 0 && !ad.peers.includes(peer.name)) continue;
        if (peer.peerAddress.family !== ip.ip.family && !peer.dualStackAddressFamily) continue;
        advertised = true;
        const byPrefix = routes.get(peer.name)!;
        let acc = byPrefix.get(prefix);
        if (!acc) {
          const hostBits = BigInt(FAMILY_BITS[ip.ip.family] - length);
          acc = {
            network: { family: ip.ip.family, value: (ip.ip.value >> hostBits) << hostBits },
            length,
            localPref: undefined,
            communities: new Map(),
            services: new Set(),
            advertisements: new Set(),
          };
          byPrefix.set(prefix, acc);
        }
        acc.services.add(service.key);
        acc.advertisements.add(ad.name);
        if (peer.ibgp && ad.localPref !== undefined)
          acc.localPref = Math.max(acc.localPref ?? 0, ad.localPref);
        for (const community of ad.communities) acc.communities.set(community.text, community);
      }
    }
    if (!advertised) {
      const names = here.map((ad) => ad.name).join(', ');
      skip(
        'noPeers',
        `BGPAdvertisement ${names} names no BGPPeer this node has an ${ip.ip.family} session with`,
      );
    }
  }
  return peers.map((peer) => ({ peer, routes: toRoutes(routes.get(peer.name)!) }));
}

function toRoutes(byPrefix: ReadonlyMap<string, RouteAcc>): BgpRoute[] {
  const sorted = [...byPrefix.entries()].sort(
    ([, a], [, b]) => compareIpValues(a.network, b.network) || a.length - b.length,
  );
  return sorted.map(([prefix, acc]) => {
    return {
      prefix,
      localPref: acc.localPref,
      communities: [...acc.communities.keys()].sort(compareText).map((text) => acc.communities.get(text)!),
      services: [...acc.services].sort(compareText),
      advertisements: [...acc.advertisements].sort(compareText),
    };
  });
}
