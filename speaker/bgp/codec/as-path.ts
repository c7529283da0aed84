import { AS_TRANS } from './constants.ts';
import type { AsPathSegment } from './types.ts';

/**
 * What a 4-octet-AS speaker sends to a peer without the capability (RFC 6793 §4.2.2): AS_PATH
 * with each AS above 65,535 replaced by AS_TRANS, and the true path in AS4_PATH when any was.
 */
export function toTwoOctetPath(path: readonly AsPathSegment[]): {
  asPath: AsPathSegment[];
  as4Path?: AsPathSegment[];
} {
  let needs4 = false;
  const asPath = path.map((segment) => ({
    type: segment.type,
    asns: segment.asns.map((asn) => {
      if (asn <= 0xffff) return asn;
      needs4 = true;
      return AS_TRANS;
    }),
  }));
  return needs4 ? { asPath, as4Path: path.map((s) => ({ type: s.type, asns: [...s.asns] })) } : { asPath };
}

/**
 * Number of AS numbers a path counts for in path length: an AS_SET counts as one, the
 * confederation segments as none (RFC 5065 §5.3).
 */
export function asPathLength(path: readonly AsPathSegment[]): number {
  return path.reduce((sum, s) => sum + (s.type === 'set' ? 1 : s.type === 'sequence' ? s.asns.length : 0), 0);
}

/**
 * Rebuilds the true path from AS_PATH and AS4_PATH received from a 2-octet speaker (RFC 6793
 * §4.2.3): if AS4_PATH is longer than AS_PATH it is ignored; otherwise the leading AS numbers
 * of AS_PATH that AS4_PATH does not cover are kept in front of AS4_PATH.
 */
export function mergeAs4Path(
  asPath: readonly AsPathSegment[],
  as4Path: readonly AsPathSegment[] | undefined,
): AsPathSegment[] {
  const copy = (p: readonly AsPathSegment[]): AsPathSegment[] =>
    p.map((s) => ({ type: s.type, asns: [...s.asns] }));
  if (!as4Path) return copy(asPath);
  const keep = asPathLength(asPath) - asPathLength(as4Path);
  if (keep < 0) return copy(asPath);
  const head: AsPathSegment[] = [];
  let remaining = keep;
  for (const segment of asPath) {
    // Confederation segments lead the path and are never in AS4_PATH (RFC 6793 §6): kept.
    if (segment.type === 'confed-sequence' || segment.type === 'confed-set') {
      head.push({ type: segment.type, asns: [...segment.asns] });
      continue;
    }
    if (remaining <= 0) break;
    if (segment.type === 'set') {
      head.push({ type: 'set', asns: [...segment.asns] });
      remaining -= 1;
    } else {
      const take = Math.min(remaining, segment.asns.length);
      head.push({ type: 'sequence', asns: segment.asns.slice(0, take) });
      remaining -= take;
    }
  }
  return [...head, ...copy(as4Path)];
}
