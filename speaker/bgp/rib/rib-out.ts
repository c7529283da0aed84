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
  Safi,
  toTwoOctetPath,
} from '../codec/index.ts';
import { EncodedPrefixMap } from './encoded-prefix-map.ts';
import { NlriPacker } from './nlri-packer.ts';

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
const EMPTY = new Uint8Array(0);

function uniqueSorted<T>(values: readonly T[], key: (v: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const v of values) seen.set(key(v), v);
  return [...seen.entries()].sort(([a], [b]) => compareText(a, b)).map(([, v]) => v);
}

/**
 * A stable key of a route's attributes: prefixes with equal keys can share an UPDATE. Community
 * lists count as sets (order and repeats do not matter). Computed once per attributes object.
 */
export function attributeKey(a: RouteAttributes): string {
  let key = `${a.localPref ?? ''}/${a.med ?? ''}/`;
  if (a.communities !== undefined && a.communities.length > 0) {
    key += [...new Set(a.communities)].sort((x, y) => x - y).join(',');
  }
  key += '/';
  if (a.largeCommunities !== undefined && a.largeCommunities.length > 0) {
    const texts = a.largeCommunities.map((c) => `${c.globalAdmin}:${c.localData1}:${c.localData2}`);
    key += [...new Set(texts)].sort(compareText).join(',');
  }
  return key;
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

/** Family of a prefix text (validated when packed), as `parseAddress` tells them apart. */
function familyOfText(prefix: string): IpFamily {
  return prefix.includes(':') ? 'IPv6' : 'IPv4';
}

/** Prefixes of one family sharing attributes: packed into UPDATEs as they come. */
interface Group {
  readonly family: IpFamily;
  readonly attributes: PathAttributes;
  /** IPv4: the encoded attributes, the same in every UPDATE of the group; IPv6: unused. */
  readonly encoded: Uint8Array;
  readonly packer: NlriPacker;
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
    const sent = this.sent;
    if (family === undefined) sent.clear();
    else
      sent.forEach((_key, prefix) => {
        if (familyOfText(prefix) === family) sent.delete(prefix);
      });
    return this.update(desired);
  }

  /**
   * The UPDATE messages that take the peer from what it holds to `desired`. The first call ends
   * with End-of-RIB for every negotiated family and no other (RFC 4724 §2).
   *
   * Cost per prefix is what the bulk sync of 100k prefixes pays under `--lite-mode` (no
   * optimizing compiler): one pass over `desired` by `forEach` (a `for...of` allocates an entry
   * per prefix), the attribute key looked up once per run of prefixes sharing an attributes
   * object, and each prefix written as NLRI straight into the chunk of its group: copied from
   * an {@link EncodedPrefixMap}'s encodings when it carries them, else parsed from its text.
   */
  update(desired: ReadonlyMap<string, RouteAttributes>): Uint8Array[] {
    const session = this.session;
    const max = maxMessageLength(session.context);
    const sent = this.sent;
    const out: Uint8Array[] = [];

    // Withdrawals: what the peer holds that is no longer desired.
    let withdraw4: NlriPacker | undefined;
    let withdraw6: NlriPacker | undefined;
    sent.forEach((_key, prefix) => {
      if (desired.has(prefix)) return;
      if (familyOfText(prefix) === 'IPv4') {
        if (withdraw4 === undefined) withdraw4 = new NlriPacker(max - UPDATE_OVERHEAD);
        withdraw4.add(prefix);
      } else {
        if (withdraw6 === undefined) withdraw6 = new NlriPacker(max - UPDATE_OVERHEAD - MP_OVERHEAD);
        withdraw6.add(prefix);
      }
      sent.delete(prefix);
    });
    for (const chunk of withdraw4?.finish() ?? []) {
      out.push(frameMessage(MessageType.Update, encodeUpdateBodyParts(chunk, EMPTY, EMPTY), max));
    }
    for (const chunk of withdraw6?.finish() ?? []) {
      const attrs = encodePathAttributes(
        { mpUnreach: { afi: Afi.Ipv6, safi: Safi.Unicast, withdrawn: [] } },
        session.context,
        { mpUnreachWithdrawn: chunk },
      );
      out.push(frameMessage(MessageType.Update, encodeUpdateBodyParts(EMPTY, attrs, EMPTY), max));
    }

    // Announcements, grouped by family and attributes in the order first seen.
    const groups: Group[] = [];
    // attribute key → group, per family
    const byKey = { IPv4: new Map<string, Group>(), IPv6: new Map<string, Group>() };
    const groupFor = (family: IpFamily, route: RouteAttributes, key: string): Group => {
      let group = byKey[family].get(key);
      if (group === undefined) {
        group = this.newGroup(family, route, max);
        byKey[family].set(key, group);
        groups.push(group);
      }
      return group;
    };
    const announce4 = session.families.includes('IPv4');
    const announce6 = session.families.includes('IPv6');
    // Nothing held yet (the initial sync): no prefix can be held already.
    const fresh = sent.size === 0;
    // Encodings the desired set carries (an announce list read by addPrefixList): copied, not parsed.
    const encoded = desired instanceof EncodedPrefixMap ? desired.nlri : undefined;
    let cursor = 0; // where the encoding of the current prefix starts
    let lastRoute: RouteAttributes | undefined;
    let key = '';
    // The groups of `lastRoute`, IPv4 and IPv6: most prefixes share one attributes object.
    let group4: Group | undefined;
    let group6: Group | undefined;
    desired.forEach((route, prefix) => {
      const from = cursor;
      if (encoded !== undefined) cursor += 1 + ((encoded[cursor]! + 7) >> 3);
      if (route !== lastRoute) {
        lastRoute = route;
        key = this.keyOf(route);
        group4 = undefined;
        group6 = undefined;
      }
      const family = familyOfText(prefix);
      if (!(family === 'IPv4' ? announce4 : announce6)) return;
      if (!fresh && sent.get(prefix) === key) return;
      let group = family === 'IPv4' ? group4 : group6;
      if (group === undefined) {
        group = groupFor(family, route, key);
        if (family === 'IPv4') group4 = group;
        else group6 = group;
      }
      if (encoded !== undefined) group.packer.addEncoded(encoded, from, prefix);
      else group.packer.add(prefix);
      sent.set(prefix, key);
    });
    for (const group of groups) {
      const chunks = group.packer.finish();
      if (group.family === 'IPv4') {
        for (const chunk of chunks) {
          out.push(frameMessage(MessageType.Update, encodeUpdateBodyParts(EMPTY, group.encoded, chunk), max));
        }
      } else {
        for (const chunk of chunks) {
          const attrs = encodePathAttributes(group.attributes, session.context, { mpReachNlri: chunk });
          out.push(frameMessage(MessageType.Update, encodeUpdateBodyParts(EMPTY, attrs, EMPTY), max));
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

  /** A group's attributes and its packer, whose room is what an UPDATE leaves them. */
  private newGroup(family: IpFamily, route: RouteAttributes, max: number): Group {
    const session = this.session;
    const attributes = pathAttributesFor(session, family, route);
    if (family === 'IPv4') {
      const encoded = encodePathAttributes(attributes, session.context);
      return { family, attributes, encoded, packer: new NlriPacker(max - UPDATE_OVERHEAD - encoded.length) };
    }
    // Everything but the NLRI inside MP_REACH_NLRI is fixed: measure it with no prefixes.
    const fixed = encodePathAttributes(attributes, session.context, { mpReachNlri: EMPTY });
    // -1: MP_REACH_NLRI switches to the extended length once it holds prefixes.
    return {
      family,
      attributes,
      encoded: EMPTY,
      packer: new NlriPacker(max - UPDATE_OVERHEAD - fixed.length - 1),
    };
  }
}
