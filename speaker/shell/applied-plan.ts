import type { NodePlan, ServiceKey } from '../announce/types.ts';

/** What the announcers could not do of one plan. */
export interface ApplyFailures {
  /** L2 IP -> why announcing it failed */
  readonly l2: ReadonlyMap<string, string>;
  /** BGPPeer name -> why its session did not start */
  readonly bgp: ReadonlyMap<string, string>;
}

/** One cause keeping one Service from being announced by this node. */
export interface AnnounceFailure {
  readonly service: ServiceKey;
  /** What failed (`layer2 <ip>`, `bgp <peer>`): one announceFailed event per topic while it lasts. */
  readonly topic: string;
  /** The event's message, naming the node and the cause. */
  readonly message: string;
}

/**
 * The part of `plan` that is really announced: the L2 IPs announced successfully and the peers
 * whose sessions run. Events (nodeAssigned) and status objects follow this, not the plan.
 */
export function appliedPlan(plan: NodePlan, failures: ApplyFailures): NodePlan {
  if (failures.l2.size === 0 && failures.bgp.size === 0) return plan;
  return {
    l2: plan.l2.filter((a) => !failures.l2.has(a.ip)),
    peers: plan.peers.filter((p) => !failures.bgp.has(p.peer.name)),
    skipped: plan.skipped,
  };
}

/** Every (Service, cause) the failures of `plan` affect, sorted by Service then topic. */
export function announceFailures(
  plan: NodePlan,
  failures: ApplyFailures,
  nodeName: string,
): AnnounceFailure[] {
  const out = new Map<string, AnnounceFailure>(); // `service|topic` -> failure
  const add = (service: ServiceKey, topic: string, message: string) =>
    out.set(`${service}|${topic}`, { service, topic, message });
  for (const a of plan.l2) {
    const cause = failures.l2.get(a.ip);
    if (cause === undefined) continue;
    for (const service of a.services) add(service, `layer2 ${a.ip}`, `layer2 on ${nodeName}: ${cause}`);
  }
  for (const p of plan.peers) {
    const cause = failures.bgp.get(p.peer.name);
    if (cause === undefined) continue;
    for (const route of p.routes) {
      for (const service of route.services)
        add(service, `bgp ${p.peer.name}`, `bgp to ${p.peer.name} on ${nodeName}: ${cause}`);
    }
  }
  return [...out.values()].sort((a, b) => compare(a.service, b.service) || compare(a.topic, b.topic));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
