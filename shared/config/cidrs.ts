import { FAMILY_BITS, type IpRange } from '../net/ip.ts';

/** A CIDR block as integers: the first address and the prefix length. */
export interface CidrBlock {
  readonly family: IpRange['family'];
  readonly first: bigint;
  readonly prefixLength: number;
}

/**
 * The smallest list of CIDR blocks that exactly covers the range (what MetalLB's
 * `ipaddr.Summarize` yields), first to last. Used to check BGP aggregation lengths.
 */
export function rangeToCidrs(range: IpRange): CidrBlock[] {
  const bits = FAMILY_BITS[range.family];
  const out: CidrBlock[] = [];
  let first = range.first;
  while (first <= range.last) {
    // Largest block aligned at `first`, then shrink it until it fits before `last`.
    let hostBits = 0;
    while (hostBits < bits && (first & ((1n << BigInt(hostBits + 1)) - 1n)) === 0n) hostBits++;
    while (first + (1n << BigInt(hostBits)) - 1n > range.last) hostBits--;
    out.push({ family: range.family, first, prefixLength: bits - hostBits });
    first += 1n << BigInt(hostBits);
  }
  return out;
}

/** The longest (most specific) prefix length among the CIDRs covering the range. */
export function longestPrefix(range: IpRange): number {
  return Math.max(...rangeToCidrs(range).map((c) => c.prefixLength));
}
