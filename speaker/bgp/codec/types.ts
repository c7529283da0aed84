import type { BgpMessageError, ErrorAction } from './errors.ts';

/** A capability advertised in OPEN (RFC 5492). Unknown ones are kept as raw octets. */
export type Capability =
  | { readonly kind: 'multiprotocol'; readonly afi: number; readonly safi: number } // RFC 4760 §8
  | { readonly kind: 'route-refresh' } // RFC 2918 §2
  | { readonly kind: 'four-octet-as'; readonly asn: number } // RFC 6793 §3
  | {
      readonly kind: 'graceful-restart'; // RFC 4724 §3
      readonly restartState: boolean;
      readonly notification: boolean; // RFC 8538 N bit
      readonly restartTimeSec: number;
      readonly families: readonly GracefulRestartFamily[];
    }
  | { readonly kind: 'extended-message' } // RFC 8654 §3
  | { readonly kind: 'unknown'; readonly code: number; readonly value: Uint8Array };

/** One address family of the graceful restart capability. */
export interface GracefulRestartFamily {
  readonly afi: number;
  readonly safi: number;
  readonly forwardingState: boolean;
}

/** OPEN (RFC 4271 §4.2). `myAs` is the 2-octet field: AS_TRANS when the real AS needs 4 octets. */
export interface OpenMessage {
  readonly type: 'open';
  readonly version: number;
  readonly myAs: number;
  readonly holdTimeSec: number;
  /** BGP Identifier as a dotted quad. */
  readonly bgpId: string;
  readonly capabilities: readonly Capability[];
}

/** An AS_PATH / AS4_PATH segment (RFC 4271 §4.3; the confederation ones are RFC 5065 §3). */
export interface AsPathSegment {
  readonly type: 'set' | 'sequence' | 'confed-sequence' | 'confed-set';
  readonly asns: readonly number[];
}

/** A large community (RFC 8092 §3): global administrator and two local data parts. */
export interface LargeCommunity {
  readonly globalAdmin: number;
  readonly localData1: number;
  readonly localData2: number;
}

/** MP_REACH_NLRI (RFC 4760 §3). IPv6 next hops: global, then link-local when present. */
export interface MpReach {
  readonly afi: number;
  readonly safi: number;
  readonly nextHops: readonly string[];
  readonly nlri: readonly string[];
}

/** MP_UNREACH_NLRI (RFC 4760 §4). */
export interface MpUnreach {
  readonly afi: number;
  readonly safi: number;
  readonly withdrawn: readonly string[];
}

/** An attribute this codec does not interpret, kept as it came (flags, type code, value). */
export interface RawAttribute {
  readonly flags: number;
  readonly typeCode: number;
  readonly value: Uint8Array;
}

/** Path attributes of an UPDATE; absent fields are absent attributes. */
export interface PathAttributes {
  readonly origin?: number;
  readonly asPath?: readonly AsPathSegment[];
  readonly nextHop?: string;
  readonly med?: number;
  readonly localPref?: number;
  readonly atomicAggregate?: boolean;
  readonly aggregator?: { readonly asn: number; readonly address: string };
  /** RFC 1997 communities as 32-bit values (high 16 bits AS, low 16 bits value). */
  readonly communities?: readonly number[];
  readonly mpReach?: MpReach;
  readonly mpUnreach?: MpUnreach;
  readonly as4Path?: readonly AsPathSegment[];
  readonly as4Aggregator?: { readonly asn: number; readonly address: string };
  readonly largeCommunities?: readonly LargeCommunity[];
  readonly unknown?: readonly RawAttribute[];
}

/** UPDATE (RFC 4271 §4.3). IPv4 unicast prefixes in the classic fields as "a.b.c.d/len". */
export interface UpdateMessage {
  readonly type: 'update';
  readonly withdrawn: readonly string[];
  readonly attributes: PathAttributes;
  readonly nlri: readonly string[];
  /**
   * Errors RFC 7606 lets the session survive (treat-as-withdraw, attribute discard); only
   * present on decoded messages that had some.
   */
  readonly errors?: readonly BgpMessageError[];
}

/** NOTIFICATION (RFC 4271 §4.5). */
export interface NotificationMessage {
  readonly type: 'notification';
  readonly code: number;
  readonly subcode: number;
  readonly data: Uint8Array;
}

/** KEEPALIVE (RFC 4271 §4.4). */
export interface KeepaliveMessage {
  readonly type: 'keepalive';
}

/** ROUTE-REFRESH (RFC 2918 §3; the reserved octet is RFC 7313's message subtype). */
export interface RouteRefreshMessage {
  readonly type: 'route-refresh';
  readonly afi: number;
  readonly safi: number;
  readonly subtype: number;
}

/** Any BGP message. */
export type BgpMessage =
  | OpenMessage
  | UpdateMessage
  | NotificationMessage
  | KeepaliveMessage
  | RouteRefreshMessage;

/** Session facts that change how messages are encoded and checked. */
export interface CodecContext {
  /** Both sides sent the 4-octet AS capability: AS_PATH carries 4-octet AS numbers (RFC 6793). */
  readonly fourOctetAs: boolean;
  /** Both sides sent the extended message capability (RFC 8654): 65,535 instead of 4,096. */
  readonly extendedMessage: boolean;
  /**
   * The peer is in another AS (eBGP). Only the receiving side uses it: LOCAL_PREF from an
   * external peer is discarded (RFC 4271 §5.1.5, RFC 7606 §7.5). Absent means internal.
   */
  readonly externalPeer?: boolean;
  /**
   * IPv4 unicast routes may carry an IPv6 next hop in MP_REACH_NLRI: RFC 8950, negotiated
   * both ways. Absent means no, and a 16- or 32-octet next hop for IPv4 is invalid.
   */
  readonly extendedNextHop?: boolean;
}

/** The context before capabilities are negotiated: what every OPEN is read with. */
export const DEFAULT_CONTEXT: CodecContext = { fourOctetAs: false, extendedMessage: false };

export type { ErrorAction };
