import { type IpFamily, parseCidr, parseIp, rangeContains } from '../../../shared/net/ip.ts';
import type { CodecContext } from '../codec/index.ts';
import type { RibSession } from './rib-out.ts';
import { type AfiSafi, sessionFamilies } from './session-families.ts';

/** One address of a local interface, as the operating system lists it. */
export interface InterfaceAddress {
  readonly address: string;
  readonly family: string;
  readonly cidr: string | null;
}

/**
 * The interface holding the session's local address: its other addresses (next hop of the other
 * family, link-local) and whether the peer is on one of its subnets (a shared link, RFC 2545 §3).
 */
export interface LocalLink {
  readonly ipv4?: string;
  readonly ipv6Global?: string;
  readonly ipv6LinkLocal?: string;
  readonly sharedLink: boolean;
}

const isLinkLocal = (address: string): boolean => address.startsWith('fe80');

/** The {@link LocalLink} of `address` among `interfaces` (one address list per interface). */
export function localLink(
  interfaces: Iterable<readonly InterfaceAddress[] | undefined>,
  address: string,
  peer: string,
): LocalLink {
  const peerIp = parseIp(peer);
  for (const entries of interfaces) {
    if (!entries?.some((e) => e.address === address)) continue;
    const sharedLink = entries.some((e) => {
      const cidr = e.cidr ? parseCidr(e.cidr) : undefined;
      if (!cidr?.ok || !peerIp) return false;
      return rangeContains(cidr.value, peerIp);
    });
    const ipv4 = entries.find((e) => e.family === 'IPv4')?.address;
    const ipv6Global = entries.find((e) => e.family === 'IPv6' && !isLinkLocal(e.address))?.address;
    const ipv6LinkLocal = entries.find((e) => e.family === 'IPv6' && isLinkLocal(e.address))?.address;
    return {
      sharedLink,
      ...(ipv4 ? { ipv4 } : {}),
      ...(ipv6Global ? { ipv6Global } : {}),
      ...(ipv6LinkLocal ? { ipv6LinkLocal } : {}),
    };
  }
  return { sharedLink: false };
}

/** What an Established session announces with, from the connection and the peer's settings. */
export interface RibSessionInput {
  readonly localAs: number;
  readonly peerAs: number;
  readonly context: CodecContext;
  /** Families both OPENs offered. */
  readonly negotiated: readonly AfiSafi[];
  /** The connection's local address (plain, without an IPv4-mapped prefix). */
  readonly localAddress: string;
  readonly link: LocalLink;
  /** Configured next hops; by default the session's own addresses. */
  readonly nextHopIpv4?: string;
  readonly nextHopIpv6?: string;
}

/**
 * The RIB-out's session: next hops from the configuration, else the local address of its family,
 * else the other addresses of its interface; the IPv6 next hop carries the link-local address too
 * when the peer shares the link. `withoutNextHop` are the negotiated families announced empty.
 */
export function ribSessionFor(input: RibSessionInput): {
  readonly session: RibSession;
  readonly withoutNextHop: readonly IpFamily[];
} {
  const local = parseIp(input.localAddress);
  const v4 = input.nextHopIpv4 ?? (local?.family === 'IPv4' ? input.localAddress : input.link.ipv4);
  const v6 =
    input.nextHopIpv6 ??
    (local?.family === 'IPv6' && !isLinkLocal(input.localAddress)
      ? input.localAddress
      : input.link.ipv6Global);
  const families = sessionFamilies(input.negotiated, { IPv4: v4 !== undefined, IPv6: v6 !== undefined });
  const linkLocal = input.link.sharedLink ? input.link.ipv6LinkLocal : undefined;
  const session: RibSession = {
    localAs: input.localAs,
    peerAs: input.peerAs,
    context: input.context,
    families: families.announce,
    endOfRibFamilies: families.endOfRib,
    ...(v4 ? { nextHopIpv4: v4 } : {}),
    ...(v6 ? { nextHopIpv6: linkLocal ? { global: v6, linkLocal } : { global: v6 } } : {}),
  };
  return { session, withoutNextHop: families.withoutNextHop };
}
