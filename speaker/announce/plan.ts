import { compareText } from '../../shared/config/names.ts';
import { matchesAnySelector } from '../../shared/config/selectors.ts';
import type { LabelSelector } from '../../shared/config/types.ts';
import { type BgpDemand, planBgp } from './bgp.ts';
import { indexInput, parseServiceIp, poolOfIp } from './eligibility.ts';
import { type L2Demand, planL2 } from './l2.ts';
import type { NodePlan, PlanInput, Skipped } from './types.ts';

/**
 * What this node announces: pure and deterministic (input order does not matter), so every
 * speaker reaches the same L2 owners from the same facts. Rules:
 * - only IPs in Service status, each in the pool the annotation names (if it holds the IP) or
 *   the pool holding it; an IP in no pool is skipped;
 * - a Service with no serving endpoint anywhere is not announced;
 * - L2 (./l2.ts): one owner per IP among the eligible alive nodes;
 * - BGP (./bgp.ts): every selected node, or with externalTrafficPolicy Local the endpoint nodes;
 * - an excluded or NetworkUnavailable node announces nothing and is no L2 candidate.
 * Node selectors (of advertisements and BGPPeers) are matched against the labels in
 * `input.nodes`, not read from the Config's resolved `nodes` lists: a Config kept as last good
 * after a rejected edit would otherwise freeze node labels as they were when it was built.
 * Everything not announced from this node is listed in `skipped` with a reason.
 * Throws PlanInputError on duplicate Service keys or Node names.
 */
export function planNode(input: PlanInput): NodePlan {
  const index = indexInput(input);
  const { config } = index;
  const skipped: Skipped[] = [];
  const l2ByIp = new Map<string, L2Demand[]>(); // canonical IP -> demands, Services in key order
  const bgp: BgpDemand[] = [];
  for (const service of index.services) {
    if (service.endpointNodes.length === 0) {
      skipped.push({
        service: service.key,
        ip: undefined,
        reason: 'no ready or serving endpoint',
        code: 'noEndpoints',
      });
      continue;
    }
    const seen = new Set<string>(); // canonical IPs of this Service
    for (const text of service.ips) {
      const ip = parseServiceIp(text);
      if (!ip) {
        skipped.push({
          service: service.key,
          ip: text,
          reason: `"${text}" in status.loadBalancer.ingress is not an IP address`,
          code: 'invalidIp',
        });
        continue;
      }
      if (seen.has(ip.text)) continue;
      seen.add(ip.text);
      const pool = poolOfIp(config.pools, service.pool, ip.ip);
      if (!pool) {
        skipped.push({
          service: service.key,
          ip: ip.text,
          reason: `${ip.text} is in no IPAddressPool`,
          code: 'noPool',
        });
        continue;
      }
      const covers = (ad: {
        readonly pools: readonly string[];
        readonly serviceSelectors: readonly LabelSelector[];
      }) => ad.pools.includes(pool.name) && matchesAnySelector(ad.serviceSelectors, service.labels);
      const l2Ads = config.l2Advertisements.filter(covers);
      const bgpAds = config.bgpAdvertisements.filter(covers);
      if (l2Ads.length === 0 && bgpAds.length === 0) {
        skipped.push({
          service: service.key,
          ip: ip.text,
          reason: `no L2Advertisement or BGPAdvertisement covers IPAddressPool ${pool.name} for this Service`,
          code: 'noAdvertisement',
        });
        continue;
      }
      if (l2Ads.length > 0) {
        const list = l2ByIp.get(ip.text) ?? [];
        list.push({ service, ip, ads: l2Ads });
        l2ByIp.set(ip.text, list);
      }
      if (bgpAds.length > 0) bgp.push({ service, ip, ads: bgpAds });
    }
  }
  const l2 = planL2(index, l2ByIp, skipped);
  const peers = planBgp(index, bgp, skipped);
  skipped.sort(
    (a, b) =>
      compareText(a.service, b.service) ||
      compareText(a.ip ?? '', b.ip ?? '') ||
      compareText(a.protocol ?? '', b.protocol ?? ''),
  );
  return { l2, peers, skipped };
}
