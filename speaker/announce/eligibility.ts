import { NODE_EXCLUSION_LABEL } from '../../shared/api/names.ts';
import { compareText } from '../../shared/config/names.ts';
import type { Config, Pool } from '../../shared/config/types.ts';
import {
  FAMILY_BITS,
  formatIp,
  formatIpValue,
  type IpValue,
  parseIp,
  rangeContains,
} from '../../shared/net/ip.ts';
import { PlanInputError } from './errors.ts';
import type { NodeFacts, PlanInput, ServiceFacts, SkipCode } from './types.ts';

/** A reason not to announce, before it is attached to a Service and an IP. */
export interface Problem {
  readonly code: SkipCode;
  readonly reason: string;
}

/** The input sorted and indexed once, so every rule reads the same facts in the same order. */
export interface PlanIndex {
  readonly self: string;
  readonly config: Config;
  /** Sorted by key. */
  readonly services: readonly ServiceFacts[];
  /** Sorted by name. */
  readonly nodes: readonly NodeFacts[];
  /** node name -> facts */
  readonly nodeByName: ReadonlyMap<string, NodeFacts>;
  /** Nodes membership sees alive; this node is always alive for itself. */
  readonly alive: (node: string) => boolean;
  /** The node says it answers for the IP (canonical text) in L2 now (PlanInput.holdings). */
  readonly holds: (node: string, ip: string) => boolean;
  /** The node's speaker restarts in place (PlanInput.restarting). */
  readonly restarting: (node: string) => boolean;
  /** This node's facts; undefined when the snapshot has no Node object for it. */
  readonly selfNode: NodeFacts | undefined;
  /** Why this node announces nothing at all (unknown, excluded, network unavailable). */
  readonly selfProblem: Problem | undefined;
}

/** Sorts and indexes the input; rejects duplicate Service keys and Node names. */
export function indexInput(input: PlanInput): PlanIndex {
  const services = [...input.services].sort((a, b) => compareText(a.key, b.key));
  for (let i = 1; i < services.length; i++) {
    if (services[i]!.key === services[i - 1]!.key) {
      throw new PlanInputError('services', `planNode: Service ${services[i]!.key} is listed twice`);
    }
  }
  const nodes = [...input.nodes].sort((a, b) => compareText(a.name, b.name));
  const nodeByName = new Map<string, NodeFacts>();
  for (const node of nodes) {
    if (nodeByName.has(node.name)) {
      throw new PlanInputError('nodes', `planNode: Node ${node.name} is listed twice`);
    }
    nodeByName.set(node.name, node);
  }
  const self = input.nodeName;
  const selfNode = nodeByName.get(self);
  return {
    self,
    config: input.config,
    services,
    nodes,
    nodeByName,
    alive: (node) => node === self || input.aliveNodes.has(node),
    holds: (node, ip) => input.holdings?.get(node)?.has(ip) ?? false,
    restarting: (node) => node !== self && (input.restarting?.has(node) ?? false),
    selfNode,
    selfProblem: selfNode
      ? nodeProblem(selfNode)
      : { code: 'nodeUnknown', reason: `Node ${self} is not known (no Node object yet)` },
  };
}

/**
 * Why a node may announce nothing: the exclusion label (any value, as Kubernetes' service
 * controller) or NetworkUnavailable=True. Such a node is no L2 candidate either.
 */
export function nodeProblem(node: NodeFacts): Problem | undefined {
  if (Object.hasOwn(node.labels, NODE_EXCLUSION_LABEL)) {
    return { code: 'nodeExcluded', reason: `Node ${node.name} has the label ${NODE_EXCLUSION_LABEL}` };
  }
  if (node.networkUnavailable) {
    return { code: 'nodeNetworkUnavailable', reason: `Node ${node.name} has NetworkUnavailable=True` };
  }
  return undefined;
}

/** An ingress IP parsed once: its canonical text (the election key) and its value. */
export interface ServiceIp {
  readonly text: string;
  readonly ip: IpValue;
}

/** Parses an ingress IP; undefined when it is not a single address. */
export function parseServiceIp(text: string): ServiceIp | undefined {
  const ip = parseIp(text.trim());
  return ip ? { text: formatIp(ip), ip } : undefined;
}

/**
 * The pool an IP belongs to: the one the Service's pool annotation names when that pool holds
 * the IP (the annotation is informational and may be stale), else the pool whose ranges hold
 * it. Pools do not overlap (shared/config rejects it), so at most one matches; the first by
 * name is taken all the same, to stay deterministic.
 */
export function poolOfIp(
  pools: readonly Pool[],
  annotated: string | undefined,
  ip: IpValue,
): Pool | undefined {
  const holds = (pool: Pool) => pool.ranges.some((r) => rangeContains(r, ip));
  if (annotated !== undefined) {
    const named = pools.find((p) => p.name === annotated);
    if (named && holds(named)) return named;
  }
  return pools.find(holds);
}

/** The CIDR text of the `length`-bit prefix holding the IP (MetalLB: `lbIP.Mask(aggregationLength)`). */
export function prefixOf(ip: ServiceIp, length: number): string {
  const bits = FAMILY_BITS[ip.ip.family];
  // A host route keeps the canonical text: formatting an IPv6 value again is the costly part.
  if (length === bits) return `${ip.text}/${length}`;
  const hostBits = BigInt(bits - length);
  return `${formatIpValue(ip.ip.family, (ip.ip.value >> hostBits) << hostBits)}/${length}`;
}

/** Address order: IPv4 before IPv6, then by value. */
export function compareIpValues(a: IpValue, b: IpValue): number {
  if (a.family !== b.family) return a.family === 'IPv4' ? -1 : 1;
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
}
