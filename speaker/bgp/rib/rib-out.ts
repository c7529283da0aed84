import { compareText } from '../../../shared/config/names.ts';
import type { IpFamily } from '../../../shared/net/ip.ts';
import {
  Afi,
  type AsPathSegment,
  BgpEncodeError,
  type CodecContext,
  encodePathAttributes,
  encodeUpdate,
  encodeUpdateBodyParts,
  endOfRib,
  frameMessage,
  type LargeCommunity,
  Limits,
  MessageType,
  maxMessageLength,
  type PathAttributes,
  parsePrefix,
  Safi,
  toTwoOctetPath,
} from '../codec/index.ts';

/** What we attach to one announced prefix. */
export interface RouteAttributes {
  /** RFC 1997 communities as 32-bit values. */
  readonly communities?: readonly number[];
  readonly largeCommunities?: readonly LargeCommunity[];
  /** Sent to iBGP peers only (RFC 4271 §5.1.5); default 100 there. */
  readonly localPref?: number;
  readonly med?: number;
}

/** The session facts the advertisement rules depend on. */
export interface RibSession {
  readonly localAs: number;
  readonly peerAs: number;
  readonly context: CodecContext;
  /** Families announced on the session (negotiated, with a next hop); prefixes of others are not sent. */
  readonly families: readonly IpFamily[];
  /** Families that get End-of-RIB: every negotiated one, and only those (default `families`). */
  readonly endOfRibFamilies?: readonly IpFamily[];
  /** NEXT_HOP for IPv4 routes: the session's local IPv4 address (or a configured one). */
  readonly nextHopIpv4?: string;
  /** IPv6 next hop: global, plus link-local when the peer shares our link (RFC 2545 §3). */
  readonly nextHopIpv6?: { readonly global: string; readonly linkLocal?: string };
}

/** Default LOCAL_PREF on iBGP (RFC 4271 §5.1.5 leaves it to policy; 100 is universal). */
export const DEFAULT_LOCAL_PREF = 100;

const FAMILY_AFI = { IPv4: Afi.Ipv4, IPv6: Afi.Ipv6 } as const;

function uniqueSorted<T>(values: readonly T[], key: (v: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const v of values) seen.set(key(v), v);
  return [...seen.entries()].sort(([a], [b]) => compareText(a, b)).map(([, v]) => v);
}

/** A stable key of a route's attributes: prefixes with equal keys can share an UPDATE. */
export function attributeKey(a: RouteAttributes): string {
  const communities = uniqueSorted(a.communities ?? [], (c) => String(c).padStart(10, '0'));
  const large = uniqueSorted(
    a.largeCommunities ?? [],
    (c) => `${c.globalAdmin}:${c.localData1}:${c.localData2}`,
  );
  return JSON.stringify([
    communities,
    large.map((c) => [c.globalAdmin, c.localData1, c.localData2]),
    a.localPref ?? null,
    a.med ?? null,
  ]);
}

/**
 * The path attributes for a route on this session (RFC 4271 §5.1): ORIGIN IGP; AS_PATH empty
 * on iBGP and our AS on eBGP (AS_TRANS + AS4_PATH toward a 2-octet peer, RFC 6793); NEXT_HOP the
 * session address; LOCAL_PREF on iBGP only; MED; communities.
 */
export function pathAttributesFor(
  session: RibSession,
  family: IpFamily,
  route: RouteAttributes,
): PathAttributes {
  const ibgp = session.localAs === session.peerAs;
  const out: { -readonly [K in keyof PathAttributes]: PathAttributes[K] } = { origin: 0 };
  const path: AsPathSegment[] = ibgp ? [] : [{ type: 'sequence', asns: [session.localAs] }];
  if (session.context.fourOctetAs) out.asPath = path;
  else {
    const two = toTwoOctetPath(path);
    out.asPath = two.asPath;
    if (two.as4Path) out.as4Path = two.as4Path;
  }
  if (family === 'IPv4') {
    if (!session.nextHopIpv4) throw new BgpEncodeError('IPv4 route without an IPv4 next hop on the session');
    out.nextHop = session.nextHopIpv4;
  } else {
    const hop = session.nextHopIpv6;
    if (!hop) throw new BgpEncodeError('IPv6 route without an IPv6 next hop on the session');
    out.mpReach = {
      afi: Afi.Ipv6,
      safi: Safi.Unicast,
      nextHops: hop.linkLocal ? [hop.global, hop.linkLocal] : [hop.global],
      nlri: [],
    };
  }
  if (route.med !== undefined) out.med = route.med;
  if (ibgp) out.localPref = route.localPref ?? DEFAULT_LOCAL_PREF;
  const communities = uniqueSorted(route.communities ?? [], (c) => String(c).padStart(10, '0'));
  if (communities.length > 0) out.communities = communities;
  const large = uniqueSorted(
    route.largeCommunities ?? [],
    (c) => `${c.globalAdmin}:${c.localData1}:${c.localData2}`,
  );
  if (large.length > 0) out.largeCommunities = large;
  return out;
}

/** Room an UPDATE leaves for NLRI / withdrawn octets: header, two length fields. */
const UPDATE_OVERHEAD = Limits.HeaderLength + 4;
/** MP_(UN)REACH header with extended length (4) + AFI/SAFI (3). */
const MP_OVERHEAD = 4 + 3;

/**
 * Packs prefixes, encoded as NLRI (RFC 4271 §4.3), into chunks of at most `room` octets. Each
 * prefix is parsed here, straight into the chunk, so no per-prefix object outlives the call
 * (at 100k prefixes that keeps the heap, and the resident size, small).
 */
function pack(prefixes: readonly string[], room: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  const buffer = new Uint8Array(room);
  let used = 0;
  for (const text of prefixes) {
    const nlri = parsePrefix(text).nlri;
    if (used + nlri.length > room) {
      chunks.push(buffer.slice(0, used));
      used = 0;
    }
    buffer.set(nlri, used);
    used += nlri.length;
  }
  if (used > 0) chunks.push(buffer.slice(0, used));
  return chunks;
}

/** Family of a prefix text (validated when packed). */
function familyOfText(prefix: string): IpFamily {
  return prefix.includes(':') ? 'IPv6' : 'IPv4';
}

/**
 * Advertisement toward one peer (RFC 4271 §9.2): from the desired set (prefix → attributes)
 * to the fewest UPDATEs — prefixes sharing attributes packed together up to the message size,
 * withdrawals batched, End-of-RIB once after the initial sync, then only differences. Pure: no
 * I/O, it returns the bytes to send and remembers what it has sent.
 */
export class RibOut {
  readonly session: RibSession;
  /** prefix → attribute key of what the peer holds from us. */
  private readonly sent = new Map<string, string>();
  /** attributes object → its key, so equal objects share one key string (100k routes, one key). */
  private readonly keys = new WeakMap<RouteAttributes, string>();
  private endOfRibSent = false;

  constructor(session: RibSession) {
    this.session = session;
  }

  /** Number of prefixes the peer holds from us. */
  get announcedCount(): number {
    return this.sent.size;
  }

  /** Whether the initial sync (with End-of-RIB) is done. */
  get synced(): boolean {
    return this.endOfRibSent;
  }

  private keyOf(route: RouteAttributes): string {
    let key = this.keys.get(route);
    if (key === undefined) {
      key = attributeKey(route);
      this.keys.set(route, key);
    }
    return key;
  }

  /**
   * Route refresh (RFC 2918 §4): resend every route of the requested family (all families
   * when none is given), as if the peer held nothing of it.
   */
  refresh(desired: ReadonlyMap<string, RouteAttributes>, family?: IpFamily): Uint8Array[] {
    for (const prefix of [...this.sent.keys()]) {
      if (family === undefined || familyOfText(prefix) === family) this.sent.delete(prefix);
    }
    return this.update(desired);
  }

  /**
   * The UPDATE messages that take the peer from what it holds to `desired`. The first call ends
   * with End-of-RIB for every negotiated family and no other (RFC 4724 §2).
   */
  update(desired: ReadonlyMap<string, RouteAttributes>): Uint8Array[] {
    const session = this.session;
    const max = maxMessageLength(session.context);
    const out: Uint8Array[] = [];

    // Withdrawals: what the peer holds that is no longer desired.
    const withdraw: Record<IpFamily, string[]> = { IPv4: [], IPv6: [] };
    for (const prefix of this.sent.keys()) {
      if (!desired.has(prefix)) {
        withdraw[familyOfText(prefix)].push(prefix);
        this.sent.delete(prefix);
      }
    }
    for (const chunk of pack(withdraw.IPv4, max - UPDATE_OVERHEAD)) {
      out.push(
        frameMessage(
          MessageType.Update,
          encodeUpdateBodyParts(chunk, new Uint8Array(0), new Uint8Array(0)),
          max,
        ),
      );
    }
    for (const chunk of pack(withdraw.IPv6, max - UPDATE_OVERHEAD - MP_OVERHEAD)) {
      const attrs = encodePathAttributes(
        { mpUnreach: { afi: Afi.Ipv6, safi: Safi.Unicast, withdrawn: [] } },
        session.context,
        { mpUnreachWithdrawn: chunk },
      );
      out.push(
        frameMessage(
          MessageType.Update,
          encodeUpdateBodyParts(new Uint8Array(0), attrs, new Uint8Array(0)),
          max,
        ),
      );
    }

    // Announcements, grouped by family and attributes.
    const groups = new Map<string, { family: IpFamily; route: RouteAttributes; prefixes: string[] }>();
    for (const [prefix, route] of desired) {
      const key = this.keyOf(route);
      if (this.sent.get(prefix) === key) continue;
      const family = familyOfText(prefix);
      if (!session.families.includes(family)) continue;
      this.sent.set(prefix, key);
      const groupKey = family === 'IPv4' ? `4${key}` : `6${key}`;
      let group = groups.get(groupKey);
      if (!group) {
        group = { family, route, prefixes: [] };
        groups.set(groupKey, group);
      }
      group.prefixes.push(prefix);
    }
    for (const group of groups.values()) {
      const attributes = pathAttributesFor(session, group.family, group.route);
      if (group.family === 'IPv4') {
        const attrBytes = encodePathAttributes(attributes, session.context);
        for (const chunk of pack(group.prefixes, max - UPDATE_OVERHEAD - attrBytes.length)) {
          out.push(
            frameMessage(MessageType.Update, encodeUpdateBodyParts(new Uint8Array(0), attrBytes, chunk), max),
          );
        }
      } else {
        // Everything but the NLRI inside MP_REACH_NLRI is fixed: measure it with no prefixes.
        const fixed = encodePathAttributes(attributes, session.context, { mpReachNlri: new Uint8Array(0) });
        const room = max - UPDATE_OVERHEAD - fixed.length - 1; // -1: MP_REACH may switch to extended length
        for (const chunk of pack(group.prefixes, room)) {
          const attrs = encodePathAttributes(attributes, session.context, { mpReachNlri: chunk });
          out.push(
            frameMessage(
              MessageType.Update,
              encodeUpdateBodyParts(new Uint8Array(0), attrs, new Uint8Array(0)),
              max,
            ),
          );
        }
      }
    }

    if (!this.endOfRibSent) {
      this.endOfRibSent = true;
      for (const family of session.endOfRibFamilies ?? session.families) {
        out.push(encodeUpdate(endOfRib(FAMILY_AFI[family], Safi.Unicast), session.context));
      }
    }
    return out;
  }
}
