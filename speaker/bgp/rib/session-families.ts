import type { IpFamily } from '../../../shared/net/ip.ts';
import { Afi, Safi } from '../codec/index.ts';

/** An AFI/SAFI pair as the OPENs carry it. */
export interface AfiSafi {
  readonly afi: number;
  readonly safi: number;
}

/** The family of an AFI/SAFI we can announce (unicast IPv4 or IPv6), else undefined. */
export function familyOf(f: AfiSafi): IpFamily | undefined {
  if (f.safi !== Safi.Unicast) return undefined;
  if (f.afi === Afi.Ipv4) return 'IPv4';
  if (f.afi === Afi.Ipv6) return 'IPv6';
  return undefined;
}

/** What a session does per family, from what both OPENs offered and the next hops it has. */
export interface SessionFamilies {
  /** Negotiated families with a next hop: their prefixes are announced. */
  readonly announce: readonly IpFamily[];
  /** Every negotiated family and only those: each gets End-of-RIB once (RFC 4724 §2). */
  readonly endOfRib: readonly IpFamily[];
  /** Negotiated families without a next hop on the session: announced empty, and logged. */
  readonly withoutNextHop: readonly IpFamily[];
}

/**
 * Families of an Established session. A family neither side offered gets nothing, not even an
 * empty End-of-RIB (a peer logs that as an UPDATE for a non-enabled AFI/SAFI); a negotiated
 * family without a next hop still gets its End-of-RIB, so a peer waiting for it (graceful
 * restart) knows the initial update is complete.
 */
export function sessionFamilies(
  negotiated: readonly AfiSafi[],
  nextHop: Readonly<Record<IpFamily, boolean>>,
): SessionFamilies {
  const endOfRib: IpFamily[] = [];
  for (const f of negotiated) {
    const family = familyOf(f);
    if (family && !endOfRib.includes(family)) endOfRib.push(family);
  }
  return {
    announce: endOfRib.filter((f) => nextHop[f]),
    endOfRib,
    withoutNextHop: endOfRib.filter((f) => !nextHop[f]),
  };
}

/**
 * The family a ROUTE-REFRESH asks for, or undefined when it is one the session did not negotiate,
 * which RFC 2918 §4 says to ignore; subtypes other than a plain request (RFC 7313 BoRR / EoRR,
 * which we never offered) are ignored too.
 */
export function refreshFamily(
  request: AfiSafi & { readonly subtype: number },
  negotiated: readonly AfiSafi[],
): IpFamily | undefined {
  if (request.subtype !== 0) return undefined;
  if (!negotiated.some((f) => f.afi === request.afi && f.safi === request.safi)) return undefined;
  return familyOf(request);
}
