import type { IpValue } from '../../shared/net/ip.ts';
import type { Allocator, Assignment, Refusal, ServiceFacts } from './allocator.ts';

/** What {@link converge} did for one Service. */
export interface ConvergeOutcome {
  /** The Service's assignment after the call; undefined when it has none. */
  readonly assignment: Assignment | undefined;
  /** The IPs it held before and lost, with the reason (event ClearAssignment). */
  readonly cleared: { readonly ips: readonly IpValue[]; readonly refusal: Refusal } | undefined;
  /** Addresses newly given in this call (event IPAllocated). */
  readonly added: readonly IpValue[];
  /** Why allocation failed (event AllocationFailed / LoadBalancerFailed). */
  readonly refusals: readonly Refusal[];
  /** Why adding the second family failed while the first was kept (PreferDualStack). */
  readonly additionalRefusals: readonly Refusal[];
}

function sameIps(a: readonly IpValue[], b: readonly IpValue[]): boolean {
  return a.length === b.length && a.every((x) => b.some((y) => y.family === x.family && y.value === x.value));
}

/**
 * Brings one Service's assignment to where its facts say it should be, keeping what it has
 * whenever that is still allowed (sticky IPs):
 * 1. its current IPs (from status, else from the allocator) are re-validated; if allowed they stay;
 * 2. a dual-stack Service missing a family gets it from the same pool;
 * 3. otherwise (or when the requested IPs differ) the old IPs are cleared and new ones taken:
 *    the requested IPs, or an allocation.
 * Idempotent: a second call with the same inputs changes nothing and adds nothing.
 */
export function converge(
  allocator: Allocator,
  facts: ServiceFacts,
  statusIps: readonly IpValue[],
  requested: readonly IpValue[] | undefined,
): ConvergeOutcome {
  const held = allocator.lookup(facts.key)?.ips ?? [];
  const allowed = facts.familyPolicy === 'SingleStack' ? facts.families.slice(0, 1) : facts.families;
  // Status is what users and speakers see; prefer it. Fall back to memory when a status write
  // has not landed yet. Drop families the Service no longer has (e.g. dual -> single stack).
  const current = (statusIps.length > 0 ? statusIps : held).filter((ip) => allowed.includes(ip.family));
  const hadIps = statusIps.length > 0 ? statusIps : held;
  let cleared: ConvergeOutcome['cleared'];

  if (current.length > 0 && (requested === undefined || sameIps(current, requested))) {
    // Requested IPs are exactly what the user pinned: no partial dual-stack, no extra family.
    const kept = allocator.assign(facts, current, { allowPartial: requested === undefined });
    if (kept.ok) {
      const missing = allowed.filter((family) => !kept.assignment.ips.some((ip) => ip.family === family));
      if (missing.length === 0 || facts.familyPolicy === 'SingleStack' || requested !== undefined) {
        return {
          assignment: kept.assignment,
          cleared: undefined,
          added: [],
          refusals: [],
          additionalRefusals: [],
        };
      }
      const more = allocator.allocateAdditional(facts, missing[0]!);
      if (more.ok) {
        const added = more.assignment.ips.filter(
          (ip) => !current.some((c) => c.family === ip.family && c.value === ip.value),
        );
        return {
          assignment: more.assignment,
          cleared: undefined,
          added,
          refusals: [],
          additionalRefusals: [],
        };
      }
      if (facts.familyPolicy === 'PreferDualStack') {
        return {
          assignment: kept.assignment,
          cleared: undefined,
          added: [],
          refusals: [],
          additionalRefusals: more.refusals,
        };
      }
      cleared = { ips: current, refusal: more.refusals[0]! };
    } else {
      cleared = { ips: current, refusal: kept.refusals[0]! };
    }
  } else if (hadIps.length > 0) {
    cleared = {
      ips: hadIps,
      refusal:
        requested !== undefined
          ? {
              pool: undefined,
              reason: 'RequestChanged',
              message:
                'the requested IPs (metalbeacon.io/loadBalancerIPs or spec.loadBalancerIP) differ from the assigned ones',
            }
          : {
              pool: undefined,
              reason: 'FamilyChanged',
              message: `the assigned IPs do not match ipFamilies [${allowed.join(', ')}]`,
            },
    };
  }
  if (cleared !== undefined || held.length > 0) allocator.release(facts.key);

  const result = requested !== undefined ? allocator.assign(facts, requested) : allocator.allocate(facts);
  if (!result.ok) {
    return { assignment: undefined, cleared, added: [], refusals: result.refusals, additionalRefusals: [] };
  }
  return {
    assignment: result.assignment,
    cleared,
    added: result.assignment.ips,
    refusals: [],
    additionalRefusals: [],
  };
}
