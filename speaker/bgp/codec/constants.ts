/** BGP message types (RFC 4271 §4.1, RFC 2918 §3). */
export const MessageType = {
  Open: 1,
  Update: 2,
  Notification: 3,
  Keepalive: 4,
  RouteRefresh: 5,
} as const;

/** Fixed sizes of the wire format (RFC 4271 §4, RFC 8654). */
export const Limits = {
  HeaderLength: 19,
  MarkerLength: 16,
  MaxMessageLength: 4096,
  ExtendedMaxMessageLength: 65535,
  MinOpenLength: 29,
  MinUpdateLength: 23,
  MinNotificationLength: 21,
  KeepaliveLength: 19,
  RouteRefreshLength: 23,
} as const;

/** NOTIFICATION error codes (RFC 4271 §4.5, RFC 7313 §5). */
export const ErrorCode = {
  MessageHeader: 1,
  OpenMessage: 2,
  UpdateMessage: 3,
  HoldTimerExpired: 4,
  FsmError: 5,
  Cease: 6,
  RouteRefreshMessage: 7,
} as const;

/** Message Header Error subcodes (RFC 4271 §6.1). */
export const HeaderSubcode = {
  ConnectionNotSynchronized: 1,
  BadMessageLength: 2,
  BadMessageType: 3,
} as const;

/** OPEN Message Error subcodes (RFC 4271 §6.2; 5 is deprecated; 7 is RFC 5492). */
export const OpenSubcode = {
  UnsupportedVersionNumber: 1,
  BadPeerAs: 2,
  BadBgpIdentifier: 3,
  UnsupportedOptionalParameter: 4,
  UnacceptableHoldTime: 6,
  UnsupportedCapability: 7,
} as const;

/** UPDATE Message Error subcodes (RFC 4271 §6.3; 7 is deprecated). */
export const UpdateSubcode = {
  MalformedAttributeList: 1,
  UnrecognizedWellKnownAttribute: 2,
  MissingWellKnownAttribute: 3,
  AttributeFlagsError: 4,
  AttributeLengthError: 5,
  InvalidOriginAttribute: 6,
  InvalidNextHopAttribute: 8,
  OptionalAttributeError: 9,
  InvalidNetworkField: 10,
  MalformedAsPath: 11,
} as const;

/** Finite State Machine Error subcodes (RFC 6608). */
export const FsmSubcode = {
  Unspecified: 0,
  UnexpectedMessageInOpenSent: 1,
  UnexpectedMessageInOpenConfirm: 2,
  UnexpectedMessageInEstablished: 3,
} as const;

/** Cease subcodes (RFC 4486 §4; 9 Hard Reset is RFC 8538, 10 BFD Down is RFC 9384). */
export const CeaseSubcode = {
  MaximumPrefixesReached: 1,
  AdministrativeShutdown: 2,
  PeerDeconfigured: 3,
  AdministrativeReset: 4,
  ConnectionRejected: 5,
  OtherConfigurationChange: 6,
  ConnectionCollisionResolution: 7,
  OutOfResources: 8,
  HardReset: 9,
  BfdDown: 10,
} as const;

/** ROUTE-REFRESH Message Error subcodes (RFC 7313 §5). */
export const RouteRefreshSubcode = {
  InvalidMessageLength: 1,
} as const;

/** Path attribute type codes (RFC 4271 §5, 1997, 4760, 6793, 8092). */
export const AttrType = {
  Origin: 1,
  AsPath: 2,
  NextHop: 3,
  MultiExitDisc: 4,
  LocalPref: 5,
  AtomicAggregate: 6,
  Aggregator: 7,
  Communities: 8,
  MpReachNlri: 14,
  MpUnreachNlri: 15,
  As4Path: 17,
  As4Aggregator: 18,
  LargeCommunity: 32,
} as const;

/** Attribute flag bits (RFC 4271 §4.3). */
export const AttrFlag = {
  Optional: 0x80,
  Transitive: 0x40,
  Partial: 0x20,
  ExtendedLength: 0x10,
} as const;

/** ORIGIN values (RFC 4271 §5.1.1). */
export const Origin = { Igp: 0, Egp: 1, Incomplete: 2 } as const;

/** AS_PATH segment types (RFC 4271 §4.3; 3 and 4 are RFC 5065 §3). */
export const AsPathSegmentType = { AsSet: 1, AsSequence: 2, AsConfedSequence: 3, AsConfedSet: 4 } as const;

/** The 2-octet stand-in for a 4-octet AS number (RFC 6793 §9). */
export const AS_TRANS = 23456;

/** Address family identifiers and subsequent ones (RFC 4760). */
export const Afi = { Ipv4: 1, Ipv6: 2 } as const;
export const Safi = { Unicast: 1 } as const;

/** Capability codes (RFC 5492 registry). */
export const CapabilityCode = {
  Multiprotocol: 1,
  RouteRefresh: 2,
  ExtendedMessage: 6,
  GracefulRestart: 64,
  FourOctetAs: 65,
} as const;

/** Optional parameter types of OPEN (RFC 5492 §4; 1 is the deprecated authentication). */
export const OptionalParameterType = { Authentication: 1, Capabilities: 2 } as const;

/** Well-known communities (RFC 1997, RFC 8326, IANA registry). */
export const WellKnownCommunity = {
  GracefulShutdown: 0xffff0000,
  AcceptOwn: 0xffff0001,
  LlgrStale: 0xffff0006,
  NoLlgr: 0xffff0007,
  Blackhole: 0xffff029a,
  NoExport: 0xffffff01,
  NoAdvertise: 0xffffff02,
  NoExportSubconfed: 0xffffff03,
  NoPeer: 0xffffff04,
} as const;
