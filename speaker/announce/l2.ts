import { compareText } from '../../shared/config/names.ts';
import { matchesAnySelector } from '../../shared/config/selectors.ts';
import type { L2AdvertisementConfig } from '../../shared/config/types.ts';
import { chooseAnnouncer } from './choose-announcer.ts';
import { compareIpValues, nodeProblem, type PlanIndex, type ServiceIp } from './eligibility.ts';
import type { L2Announcement, ServiceFacts, SkipCode, Skipped } from './types.ts';

/** One Service wanting one IP announced in L2 mode, with the L2Advertisements that cover it. */
export interface L2Demand {
  readonly service: ServiceFacts;
  readonly ip: ServiceIp;
  /** L2Advertisements of the IP's pool whose serviceSelectors match the Service; not empty. */
  readonly ads: readonly L2AdvertisementConfig[];
}

/**
 * The L2 half of the plan: one election per IP, so Services sharing an IP share its owner.
 *
 * Sticky ownership (docs/adr/0012-l2-sticky-owner.md): among the candidates (below), those that
 * say they answer for the IP now (PlanInput.holdings) keep it; only when none does, the
 * rendezvous hash of node#ip (./choose-announcer.ts) picks the owner. So a node that comes back
 * does not take an IP from its live owner (which would reset the owner's connections), the IP
 * moves only when its holder leaves, fails or stops being eligible, and two holders (a healed
 * split brain, or two nodes that decided at once from different views) resolve to the one the
 * hash ranks first, on every speaker alike.
 *
 * Restart in place (docs/adr/0013-l2-restart-in-place.md): a node whose speaker restarts is not
 * alive, yet stays a candidate for the IPs it holds — so it keeps them, and nobody answers for
 * them until it is back — and is a candidate for no other IP.
 *
 * A node is eligible for one Service's IP when it has no node problem (exclusion label,
 * NetworkUnavailable), one of the Service's L2Advertisements selects it, and, for
 * externalTrafficPolicy Local, it hosts a serving endpoint. The candidates of an IP are the
 * alive nodes eligible for EVERY Service sharing it (so a Local Service sharing with a Cluster
 * one lands where both are served). When no alive node is eligible for all of them (two Local
 * Services with endpoints on different nodes, or the only common node is down), the candidates
 * fall back to the alive nodes eligible for ANY of them: the IP then still reaches the Services
 * the owner can serve instead of going dark for all. Both sets are computed alike on every
 * speaker, so they agree, and removing a node that is not the owner never moves the IP.
 */
export function planL2(
  index: PlanIndex,
  demandsByIp: ReadonlyMap<string, readonly L2Demand[]>,
  skipped: Skipped[],
): L2Announcement[] {
  const eligibleFor = eligibilityCache(index);
  const out: L2Announcement[] = [];
  const byAddress = [...demandsByIp.entries()].sort(([, [a]], [, [b]]) =>
    compareIpValues(a!.ip.ip, b!.ip.ip),
  );
  for (const [ip, demands] of byAddress) {
    const served = demands.filter((d) => eligibleFor(d).has(index.self));
    // A node eligible for none of the IP's Services cannot be its owner: skip the hashing.
    const owner = served.length > 0 ? electOwner(index, ip, demands.map(eligibleFor)) : undefined;
    for (const demand of demands) {
      const skip = (code: SkipCode, reason: string) =>
        skipped.push({ service: demand.service.key, ip, reason, code, protocol: 'L2' });
      if (index.selfProblem) skip(index.selfProblem.code, index.selfProblem.reason);
      else if (!eligibleFor(demand).has(index.self)) {
        const [code, why] = notEligibleReason(index, demand);
        const also =
          owner === index.self
            ? '; the IP is announced from this node for the other Services sharing it'
            : '';
        skip(code, `${why}${also}`);
      } else if (owner !== index.self) {
        if (owner === undefined) skip('noCandidate', `no node is alive and eligible for ${ip}`);
        else skip('notOwner', `${ip} is announced by node ${owner}`);
      }
    }
    if (owner !== index.self || served.length === 0) continue;
    const selfLabels = index.selfNode?.labels ?? {};
    const ads = new Map<string, L2AdvertisementConfig>(); // name -> ad selecting this node
    for (const demand of served) {
      for (const ad of demand.ads) if (matchesAnySelector(ad.nodeSelectors, selfLabels)) ads.set(ad.name, ad);
    }
    out.push({
      ip,
      interfaces: unionOfInterfaces([...ads.values()]),
      services: served.map((d) => d.service.key).sort(compareText),
      advertisements: [...ads.keys()].sort(compareText),
    });
  }
  return out;
}

/** Union of the interface lists; empty (every interface) as soon as one advertisement says all. */
function unionOfInterfaces(ads: readonly L2AdvertisementConfig[]): string[] {
  if (ads.some((ad) => ad.interfaces.length === 0)) return [];
  return [...new Set(ads.flatMap((ad) => ad.interfaces))].sort(compareText);
}

/** The owner among the alive nodes eligible for every demand, else for any (see planL2). */
function electOwner(
  index: PlanIndex,
  ip: string,
  eligibleSets: readonly ReadonlySet<string>[],
): string | undefined {
  const [first, ...rest] = eligibleSets;
  const present = (node: string) => index.alive(node) || (index.restarting(node) && index.holds(node, ip));
  const alive = [...(first ?? [])].filter(present);
  let candidates = alive.filter((node) => rest.every((set) => set.has(node)));
  if (candidates.length === 0) {
    candidates = [...new Set(eligibleSets.flatMap((set) => [...set]))].filter(present);
  }
  const holders = candidates.filter((node) => index.holds(node, ip));
  return chooseAnnouncer(
    ip,
    (holders.length > 0 ? holders : candidates).map((name) => ({ name, alive: true, eligible: true })),
  );
}

/** Per demand, the names of the eligible nodes (alive or not); selection results are shared between demands. */
function eligibilityCache(index: PlanIndex): (demand: L2Demand) => ReadonlySet<string> {
  const usable = index.nodes.filter((node) => nodeProblem(node) === undefined);
  const selected = new Map<string, ReadonlySet<string>>(); // advertisement names -> nodes they select
  const perDemand = new Map<L2Demand, ReadonlySet<string>>();
  return (demand) => {
    const cached = perDemand.get(demand);
    if (cached) return cached;
    const adsKey = demand.ads.map((ad) => ad.name).join('\n');
    let nodes = selected.get(adsKey);
    if (!nodes) {
      nodes = new Set(
        usable
          .filter((node) => demand.ads.some((ad) => matchesAnySelector(ad.nodeSelectors, node.labels)))
          .map((node) => node.name),
      );
      selected.set(adsKey, nodes);
    }
    let result: ReadonlySet<string> = nodes;
    if (demand.service.externalTrafficPolicy === 'Local') {
      const all = nodes;
      result = new Set(demand.service.endpointNodes.filter((n) => all.has(n)));
    }
    perDemand.set(demand, result);
    return result;
  };
}

function notEligibleReason(index: PlanIndex, demand: L2Demand): [SkipCode, string] {
  const labels = index.selfNode?.labels ?? {};
  if (!demand.ads.some((ad) => matchesAnySelector(ad.nodeSelectors, labels))) {
    const names = demand.ads.map((ad) => ad.name).join(', ');
    return ['notSelected', `the nodeSelectors of L2Advertisement ${names} do not select node ${index.self}`];
  }
  return ['noLocalEndpoints', `externalTrafficPolicy Local and no serving endpoint on node ${index.self}`];
}
