/**
 * The chaos run's invariants (issue 18 item 2), as rules over one observation of the cluster:
 * the API objects, who answers ARP/NDP on the LAN and the router's routes. Pure: the runner
 * gathers an {@link Observation} every few seconds and feeds it to {@link InvariantChecker};
 * time comes in the observation.
 *
 * An observation is not atomic (the API, arping and birdc are asked one after the other while
 * the system moves), so the rules that compare two sources (status vs wire, routes vs nodes)
 * report a mismatch only when it holds in two observations in a row; the rules about one source
 * (two answerers, a shared IP, an IP that moved) report at once. Rules that need a settled
 * system apply only while no fault is in progress and its settle time is over, and not to a
 * Service a user changed in the last `convergeMs`; the one-answerer rule applies also during a
 * membership-port block, once its bound is over ({@link Observation.oneAnswerer}).
 */
import { parseIp, parseRangeOrCidr, rangeContains } from '../../shared/net/ip.ts';

/**
 * How long after the membership port is blocked between two nodes exactly one node answers
 * each IP again (README Security, "Membership cut, LAN intact": the dead time 300 ms + a
 * heartbeat 50 ms + an announce in flight + the withdrawals, 0.5-0.6 s measured), rounded up
 * to the second the chaos run holds it to.
 */
export const MEMBERSHIP_BLOCK_BOUND_MS = 1_000;

/** A LoadBalancer Service as the rules need it. */
export interface ObservedService {
  /** `namespace/name`. */
  readonly key: string;
  /** IPs in status.loadBalancer.ingress. */
  readonly ips: readonly string[];
  /** The pool annotation (`metalbeacon.io/address-pool`), if any. */
  readonly pool: string | undefined;
  /** The sharing key annotation (`metalbeacon.io/allow-shared-ip`), if any. */
  readonly sharingKey: string | undefined;
  /** Reasons of the Warning Events on the Service (why it is pending). */
  readonly warnings: readonly string[];
  /** ms since epoch of metadata.creationTimestamp. */
  readonly createdMs: number;
}

/** An IPAddressPool and how its addresses are announced. */
export interface ObservedPool {
  readonly name: string;
  /** CIDRs and `first-last` ranges of spec.addresses. */
  readonly ranges: readonly string[];
  readonly autoAssign: boolean;
  readonly mode: 'l2' | 'bgp' | 'none';
}

/** Everything one round of observation saw. */
export interface Observation {
  readonly atMs: number;
  readonly services: readonly ObservedService[];
  readonly pools: readonly ObservedPool[];
  /** Service key → nodes with a ServiceL2Status for it. */
  readonly l2Status: ReadonlyMap<string, readonly string[]>;
  /** Service key → nodes with a ServiceBGPStatus for it. */
  readonly bgpStatus: ReadonlyMap<string, readonly string[]>;
  /** IP → nodes answering ARP/NDP for it on the LAN (asked only for IPs of L2 pools). */
  readonly answerers: ReadonlyMap<string, readonly string[]>;
  /** IP → nodes the router has a route through (asked only for IPs of BGP pools). */
  readonly routes: ReadonlyMap<string, readonly string[]>;
  /** Nodes that should announce: speaker running, link up, not starved. */
  readonly healthyNodes: readonly string[];
  /** No fault in progress and the last one's settle time is over. */
  readonly settled: boolean;
  /**
   * A fault is in progress during which every L2 IP must still have one answerer at most (a
   * membership-port block past {@link MEMBERSHIP_BLOCK_BOUND_MS}), for the whole round.
   */
  readonly oneAnswerer?: boolean;
  /** The fault in progress, for the report (`cable-cut on node-2`), or undefined. */
  readonly fault: string | undefined;
}

/** The user's change of a Service or a pool, as the runner made it. */
export interface UserChange {
  readonly atMs: number;
  /** `namespace/name` of the Service changed, or undefined for a pool change. */
  readonly service?: string;
  /** Name of the pool changed (its Services' IPs may move). */
  readonly pool?: string;
}

export const InvariantRule = {
  TwoAnswerers: 'two-answerers',
  SharedIp: 'shared-ip',
  PoolUse: 'pool-use',
  StatusWire: 'status-wire',
  IpChanged: 'ip-changed',
  RoutesNodes: 'routes-nodes',
} as const;
export type InvariantRule = (typeof InvariantRule)[keyof typeof InvariantRule];

/** One broken invariant. */
export interface Violation {
  readonly atMs: number;
  readonly rule: InvariantRule;
  readonly detail: string;
  /** The fault in progress when it was seen (undefined: none). */
  readonly fault: string | undefined;
}

/** Options of {@link InvariantChecker}. */
export interface CheckerOptions {
  /** A Service changed by the user less than this ago is not held to the settled rules (ms). */
  readonly convergeMs?: number;
  /**
   * The controller's time to act on a Service the user created or changed (ms): a leader
   * failover (Lease expiry) included. Then an IP must be in a pool the Service may use, and a
   * Service without IPs must say why.
   */
  readonly pendingGraceMs?: number;
  /** An IP change within this long after a user's change of the Service or its pool is the user's (ms). */
  readonly userChangeWindowMs?: number;
}

/** True when `ip` lies in `range` (a CIDR or `first-last`, as spec.addresses holds). */
export function inRange(ip: string, range: string): boolean {
  const addr = parseIp(ip);
  const parsed = parseRangeOrCidr(range);
  return addr !== undefined && parsed.ok && rangeContains(parsed.value, addr);
}

const same = (a: readonly string[], b: readonly string[]): boolean =>
  JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());

/**
 * Checks observations one after the other and remembers what the stateful rules need (the
 * last IPs of each Service, mismatches seen once).
 */
export class InvariantChecker {
  readonly #o: Required<CheckerOptions>;
  readonly #userChanges: UserChange[] = [];
  /** Service key → IPs at the last observation. */
  readonly #lastIps = new Map<string, readonly string[]>();
  /** Mismatch key → detail, seen at the previous observation (two-in-a-row rules). */
  #pending = new Map<string, string>();

  constructor(options: CheckerOptions = {}) {
    this.#o = {
      convergeMs: options.convergeMs ?? 6_000,
      pendingGraceMs: options.pendingGraceMs ?? 30_000,
      userChangeWindowMs: options.userChangeWindowMs ?? 30_000,
    };
  }

  /** Records a change the user (the runner's churn) made. */
  userChanged(change: UserChange): void {
    this.#userChanges.push(change);
  }

  /** The violations in this observation. */
  check(obs: Observation): Violation[] {
    const out: Violation[] = [];
    const now: Record<string, string> = {};
    const report = (rule: InvariantRule, detail: string): void => {
      out.push({ atMs: obs.atMs, rule, detail, fault: obs.fault });
    };
    /** Two-in-a-row: report only when the same mismatch was seen at the previous observation. */
    const mismatch = (rule: InvariantRule, key: string, detail: string): void => {
      const id = `${rule} ${key}`;
      now[id] = detail;
      if (this.#pending.has(id)) report(rule, detail);
    };
    const poolsByName = new Map(obs.pools.map((p) => [p.name, p]));
    const changedRecently = (s: ObservedService, windowMs: number): boolean =>
      obs.atMs - s.createdMs < windowMs ||
      this.#userChanges.some(
        (c) =>
          obs.atMs - c.atMs < windowMs &&
          (c.service === s.key || (c.pool !== undefined && c.pool === s.pool)),
      );

    // No IP held by two Services that may not share it.
    const holders = new Map<string, ObservedService[]>();
    for (const s of obs.services) for (const ip of s.ips) holders.set(ip, [...(holders.get(ip) ?? []), s]);
    for (const [ip, list] of holders) {
      if (list.length < 2) continue;
      const keys = new Set(list.map((s) => s.sharingKey));
      if (keys.size > 1 || keys.has(undefined)) {
        report(
          InvariantRule.SharedIp,
          `${ip} held by ${list.map((s) => s.key).join(', ')} without a common sharing key`,
        );
      }
    }

    // Served by a pool it may use, or pending with a reason.
    for (const s of obs.services) {
      if (s.ips.length === 0) {
        if (!changedRecently(s, this.#o.pendingGraceMs) && s.warnings.length === 0) {
          report(InvariantRule.PoolUse, `${s.key} has no IP and no Warning event saying why`);
        }
        continue;
      }
      const usable =
        s.pool !== undefined
          ? [poolsByName.get(s.pool)].filter((p) => p !== undefined)
          : obs.pools.filter((p) => p.autoAssign);
      for (const ip of s.ips) {
        if (!usable.some((p) => p.ranges.some((r) => inRange(ip, r)))) {
          if (changedRecently(s, this.#o.pendingGraceMs)) continue;
          report(
            InvariantRule.PoolUse,
            `${s.key} holds ${ip}, outside every pool it may use (${s.pool ?? 'auto-assign pools'})`,
          );
        }
      }
    }

    // No IP change except by a user's change.
    for (const s of obs.services) {
      const before = this.#lastIps.get(s.key);
      if (before !== undefined && !same(before, s.ips) && !changedRecently(s, this.#o.userChangeWindowMs)) {
        report(
          InvariantRule.IpChanged,
          `${s.key} IPs ${before.join(', ') || 'none'} -> ${s.ips.join(', ') || 'none'} without a user's change`,
        );
      }
      this.#lastIps.set(s.key, s.ips);
    }
    for (const key of [...this.#lastIps.keys()]) {
      if (!obs.services.some((s) => s.key === key)) this.#lastIps.delete(key);
    }

    const mode = (ip: string) => obs.pools.find((p) => p.ranges.some((r) => inRange(ip, r)))?.mode;
    if (obs.settled || obs.oneAnswerer) {
      // Never two nodes answering ARP/NDP for one IP after the settle time, nor past the bound
      // of a membership-port block.
      for (const s of obs.services) {
        if (changedRecently(s, this.#o.convergeMs)) continue;
        for (const ip of s.ips.filter((a) => mode(a) === 'l2')) {
          const nodes = obs.answerers.get(ip) ?? [];
          if (nodes.length > 1)
            report(InvariantRule.TwoAnswerers, `${ip} (${s.key}) answered by ${nodes.join(' and ')}`);
        }
      }
    }
    if (obs.settled) {
      for (const s of obs.services) {
        if (changedRecently(s, this.#o.convergeMs)) continue;
        const l2Ips = s.ips.filter((ip) => mode(ip) === 'l2');
        const bgpIps = s.ips.filter((ip) => mode(ip) === 'bgp');
        // Status objects match the wire.
        if (l2Ips.length > 0) {
          const wire = [...new Set(l2Ips.flatMap((ip) => obs.answerers.get(ip) ?? []))];
          const status = obs.l2Status.get(s.key) ?? [];
          if (!same(wire, status)) {
            mismatch(
              InvariantRule.StatusWire,
              `l2 ${s.key}`,
              `${s.key}: ServiceL2Status on [${status.join(', ')}], ARP/NDP answered by [${wire.join(', ')}]`,
            );
          }
        }
        for (const ip of bgpIps) {
          const wire = obs.routes.get(ip) ?? [];
          const status = obs.bgpStatus.get(s.key) ?? [];
          if (!same(wire, status)) {
            mismatch(
              InvariantRule.StatusWire,
              `bgp ${ip}`,
              `${s.key} ${ip}: ServiceBGPStatus on [${status.join(', ')}], router routes via [${wire.join(', ')}]`,
            );
          }
          // The router's routes match the announcing nodes (every healthy node: ETP Cluster).
          if (!same(wire, obs.healthyNodes)) {
            mismatch(
              InvariantRule.RoutesNodes,
              `${ip}`,
              `${s.key} ${ip}: router routes via [${wire.join(', ')}], healthy nodes [${obs.healthyNodes.join(', ')}]`,
            );
          }
        }
      }
    }
    this.#pending = new Map(Object.entries(now));
    return out;
  }
}
