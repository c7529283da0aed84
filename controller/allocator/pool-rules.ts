import { matchesSelector } from '../../shared/config/selectors.ts';
import type { Pool } from '../../shared/config/types.ts';
import type { IpFamily, IpRange } from '../../shared/net/ip.ts';
import { type Refusal, RefusalReason, type ServiceFacts } from './types.ts';

/**
 * What a pool says, on its own: which of its addresses are usable (avoidBuggyIPs), whether it
 * contains an address, which Services it serves (serviceAllocation) and in which order pools are
 * tried. Pure functions of the pool; the allocator keeps the state.
 */

/** Whether an IPv4 address ends in .0 or .255 (dropped by some old equipment). */
export function isBuggyIp(family: IpFamily, value: bigint): boolean {
  if (family !== 'IPv4') return false;
  const low = value & 255n;
  return low === 0n || low === 255n;
}

/** Number of x in [first, last] with x mod 256 === residue. */
function countResidue(first: bigint, last: bigint, residue: bigint): bigint {
  const upTo = (x: bigint): bigint => (x < residue ? 0n : (x - residue) / 256n + 1n);
  return upTo(last) - (first === 0n ? 0n : upTo(first - 1n));
}

/** Addresses of the family the pool can hand out (without .0 and .255 under avoidBuggyIPs). */
export function usableSize(pool: Pool, family: IpFamily): bigint {
  let total = 0n;
  for (const range of pool.ranges) {
    if (range.family !== family) continue;
    total += range.last - range.first + 1n;
    if (pool.avoidBuggyIPs && family === 'IPv4') {
      total -= countResidue(range.first, range.last, 0n) + countResidue(range.first, range.last, 255n);
    }
  }
  return total;
}

/** Binary search: does a sorted, non-overlapping range list contain the address? */
export function rangesContain(ranges: readonly IpRange[], family: IpFamily, value: bigint): boolean {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const range = ranges[mid]!;
    if (range.family < family || (range.family === family && range.last < value)) lo = mid + 1;
    else if (range.family > family || range.first > value) hi = mid - 1;
    else return true;
  }
  return false;
}

/** Lower priority number first, unset last (MetalLB); then pinned pools; then by name. */
export function comparePools(a: Pool, b: Pool, pinned: (pool: Pool) => boolean): number {
  const pa = a.serviceAllocation?.priority ?? Number.POSITIVE_INFINITY;
  const pb = b.serviceAllocation?.priority ?? Number.POSITIVE_INFINITY;
  if (pa !== pb) return pa < pb ? -1 : 1;
  const ra = pinned(a) ? 0 : 1;
  const rb = pinned(b) ? 0 : 1;
  if (ra !== rb) return ra - rb;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** A pool restricted by namespace or selector (and matching, since it was found compatible). */
export function isPinned(pool: Pool): boolean {
  const sa = pool.serviceAllocation;
  return (
    sa !== undefined &&
    (sa.namespaces.length > 0 || sa.namespaceSelectors.length > 0 || sa.serviceSelectors.length > 0)
  );
}

/** Why the pool's serviceAllocation refuses the Service, if it does. */
export function poolRefusal(pool: Pool, facts: ServiceFacts): Refusal | undefined {
  const sa = pool.serviceAllocation;
  if (!sa) return undefined;
  if (sa.namespaces.length > 0 || sa.namespaceSelectors.length > 0) {
    const allowed =
      sa.namespaces.includes(facts.namespace) ||
      sa.namespaceSelectors.some((selector) => matchesSelector(selector, facts.namespaceLabels));
    if (!allowed) {
      return {
        pool: pool.name,
        reason: RefusalReason.NamespaceNotAllowed,
        message: `namespace ${facts.namespace} is not allowed by serviceAllocation.namespaces/namespaceSelectors`,
      };
    }
  }
  if (sa.serviceSelectors.length > 0 && !sa.serviceSelectors.some((s) => matchesSelector(s, facts.labels))) {
    return {
      pool: pool.name,
      reason: RefusalReason.ServiceSelectorMismatch,
      message: 'the Service labels match none of serviceAllocation.serviceSelectors',
    };
  }
  return undefined;
}

/** The pool has addresses of the family. */
export function hasFamily(pool: Pool, family: IpFamily): boolean {
  return pool.ranges.some((range) => range.family === family);
}
