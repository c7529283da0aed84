import type { NodePlan, ServiceKey } from './types.ts';

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

/**
 * What an isolated node applies (speaker/membership/isolation): no L2 IP and no route, but every
 * session kept, so that routes come back as UPDATEs once the guard lifts instead of new sessions.
 */
export function withdrawnPlan(plan: NodePlan): NodePlan {
  return { l2: [], peers: plan.peers.map((p) => ({ peer: p.peer, routes: [] })), skipped: plan.skipped };
}

/**
 * The nodeAssigned event message of every Service `plan` announces (Service key -> message):
 * what this node does for it, each thing once, sorted (`layer2 <ip> on <interfaces>`,
 * `bgp <prefix> to <peer>`), so the same announcements always read the same.
 */
export function assignedMessages(plan: NodePlan, nodeName: string): Map<ServiceKey, string> {
  const doing = new Map<ServiceKey, Set<string>>(); // Service key -> what this node does for it
  const add = (key: ServiceKey, text: string) => doing.set(key, (doing.get(key) ?? new Set()).add(text));
  for (const a of plan.l2) {
    const on = a.interfaces.length > 0 ? ` on ${a.interfaces.join(',')}` : '';
    for (const key of a.services) add(key, `layer2 ${a.ip}${on}`);
  }
  for (const p of plan.peers) {
    for (const route of p.routes)
      for (const key of route.services) add(key, `bgp ${route.prefix} to ${p.peer.name}`);
  }
  const messages = new Map<ServiceKey, string>();
  for (const [key, texts] of doing)
    messages.set(key, `announcing from node ${nodeName}: ${[...texts].sort().join('; ')}`);
  return messages;
}

/** What the announced-services and announced-IPs gauges show of a plan, per protocol. */
export interface AnnouncedCounts {
  readonly l2Services: number;
  readonly bgpServices: number;
  /** IPs answered for in L2. */
  readonly l2Ips: number;
  /** Distinct prefixes advertised, over every peer. */
  readonly bgpPrefixes: number;
}

export function announcedCounts(plan: NodePlan): AnnouncedCounts {
  return {
    l2Services: new Set(plan.l2.flatMap((a) => a.services)).size,
    bgpServices: new Set(plan.peers.flatMap((p) => p.routes.flatMap((r) => r.services))).size,
    l2Ips: plan.l2.length,
    bgpPrefixes: new Set(plan.peers.flatMap((p) => p.routes.map((r) => r.prefix))).size,
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
