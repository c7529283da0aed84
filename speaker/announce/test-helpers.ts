import type { ConfigInputs } from '../../shared/config/build-config.ts';
import { node as configNode, expectConfig, pool } from '../../shared/config/test-helpers.ts';
import type { Config } from '../../shared/config/types.ts';
import { planNode } from './plan.ts';
import type { NodeFacts, NodePlan, PlanInput, ServiceFacts } from './types.ts';

/** Builders of planner inputs for the speaker/announce tests. */

export { bgpAd, community, l2, peer, pool } from '../../shared/config/test-helpers.ts';

export const nodeFacts = (
  name: string,
  labels: Record<string, string> = {},
  networkUnavailable = false,
): NodeFacts => ({ name, labels, networkUnavailable });

export const three = [nodeFacts('node-a'), nodeFacts('node-b'), nodeFacts('node-c')];

export interface ServiceOptions {
  readonly namespace?: string;
  readonly labels?: Record<string, string>;
  readonly pool?: string;
  readonly etp?: 'Cluster' | 'Local';
  /** Default: every node of `three`. */
  readonly endpoints?: readonly string[];
}

export function service(name: string, ips: readonly string[], options: ServiceOptions = {}): ServiceFacts {
  const namespace = options.namespace ?? 'default';
  return {
    key: `${namespace}/${name}`,
    namespace,
    name,
    labels: options.labels ?? {},
    ips,
    pool: options.pool,
    externalTrafficPolicy: options.etp ?? 'Cluster',
    endpointNodes: options.endpoints ?? three.map((n) => n.name),
  };
}

/** A validated Config from CRs (through the real shared/config builder), resolved against `nodes`. */
export function configOf(inputs: ConfigInputs, nodes: readonly NodeFacts[] = three): Config {
  return expectConfig({ ...inputs, nodes: nodes.map((n) => configNode(n.name, n.labels)) });
}

export interface Cluster {
  readonly config: Config;
  readonly services: readonly ServiceFacts[];
  readonly nodes?: readonly NodeFacts[];
  /** Default: every node. */
  readonly alive?: readonly string[];
  /** Node name -> the L2 IPs it says it answers for (PlanInput.holdings); default none. */
  readonly holdings?: Readonly<Record<string, readonly string[]>>;
  /** Nodes restarting in place (PlanInput.restarting); default none. */
  readonly restarting?: readonly string[];
}

export function inputFor(cluster: Cluster, nodeName: string): PlanInput {
  const nodes = cluster.nodes ?? three;
  return {
    nodeName,
    config: cluster.config,
    services: cluster.services,
    nodes,
    aliveNodes: new Set(cluster.alive ?? nodes.map((n) => n.name)),
    ...(cluster.holdings
      ? { holdings: new Map(Object.entries(cluster.holdings).map(([n, ips]) => [n, new Set(ips)])) }
      : {}),
    ...(cluster.restarting ? { restarting: new Set(cluster.restarting) } : {}),
  };
}

/** The plan of every node of the cluster: node name -> plan. */
export function planAll(cluster: Cluster): Map<string, NodePlan> {
  const nodes = cluster.nodes ?? three;
  return new Map(nodes.map((n) => [n.name, planNode(inputFor(cluster, n.name))]));
}

/** IP -> nodes announcing it in L2, over every node's plan. */
export function l2Owners(plans: ReadonlyMap<string, NodePlan>): Map<string, string[]> {
  const owners = new Map<string, string[]>();
  for (const [node, plan] of plans) {
    for (const a of plan.l2) owners.set(a.ip, [...(owners.get(a.ip) ?? []), node]);
  }
  return owners;
}

export const l2Pool = pool('l2-pool', { addresses: ['198.51.100.0/26', '2001:db8:100::/124'] });
export const bgpPool = pool('bgp-pool', { addresses: ['198.51.100.128/26', '2001:db8:100::80/123'] });
