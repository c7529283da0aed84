import type { IpFamily } from '../../../shared/net/ip.ts';
import { addressBytes, formatAddress, formatIpv4, formatPrefix, parsePrefix } from './address.ts';
import { ByteWriter, u16, u32 } from './bytes.ts';
import { Afi, AsPathSegmentType, AttrFlag, AttrType, Safi, UpdateSubcode } from './constants.ts';
import { BgpEncodeError, type BgpMessageError, type ErrorAction, updateError } from './errors.ts';
import type {
  AsPathSegment,
  CodecContext,
  LargeCommunity,
  MpReach,
  MpUnreach,
  PathAttributes,
  RawAttribute,
  UpdateMessage,
} from './types.ts';

const WELL_KNOWN = AttrFlag.Transitive;
const OPTIONAL_TRANSITIVE = AttrFlag.Optional | AttrFlag.Transitive;
const OPTIONAL = AttrFlag.Optional;

/** Family of an AFI this codec carries, or undefined. */
export function afiFamily(afi: number): IpFamily | undefined {
  return afi === Afi.Ipv4 ? 'IPv4' : afi === Afi.Ipv6 ? 'IPv6' : undefined;
}

// ---------------------------------------------------------------------------------------------
// Encoding

function encodeAsPath(segments: readonly AsPathSegment[], fourOctet: boolean, what: string): Uint8Array {
  const out = new ByteWriter(16);
  for (const segment of segments) {
    if (segment.asns.length === 0 || segment.asns.length > 255) {
      throw new BgpEncodeError(`${what}: a segment holds 1..255 AS numbers, not ${segment.asns.length}`);
    }
    out.u8(segment.type === 'set' ? AsPathSegmentType.AsSet : AsPathSegmentType.AsSequence);
    out.u8(segment.asns.length);
    for (const asn of segment.asns) {
      if (fourOctet) out.u32(asn);
      else if (asn > 0xffff) {
        throw new BgpEncodeError(`${what}: AS ${asn} needs 4 octets (use AS_TRANS and AS4_PATH)`);
      } else out.u16(asn);
    }
  }
  return out.finish();
}

/** NLRI bytes of a list of prefixes of one family (RFC 4271 §4.3, RFC 4760 §5). */
export function encodePrefixes(prefixes: readonly string[], family: IpFamily, what: string): Uint8Array {
  const out = new ByteWriter(prefixes.length * 9 + 1);
  for (const text of prefixes) {
    const prefix = parsePrefix(text);
    if (prefix.family !== family) throw new BgpEncodeError(`${what}: "${text}" is not ${family}`);
    out.bytes(prefix.nlri);
  }
  return out.finish();
}

function writeAttribute(out: ByteWriter, flags: number, typeCode: number, value: Uint8Array): void {
  if (value.length > 0xffff) throw new BgpEncodeError(`attribute ${typeCode} is longer than 65,535 octets`);
  if (value.length > 255)
    out
      .u8(flags | AttrFlag.ExtendedLength)
      .u8(typeCode)
      .u16(value.length);
  else
    out
      .u8(flags & ~AttrFlag.ExtendedLength)
      .u8(typeCode)
      .u8(value.length);
  out.bytes(value);
}

function familyOf(afi: number, what: string): IpFamily {
  const family = afiFamily(afi);
  if (!family) throw new BgpEncodeError(`${what}: AFI ${afi} is not supported`);
  return family;
}

function encodeMpReach(reach: MpReach, nlriBytes?: Uint8Array): Uint8Array {
  const family = familyOf(reach.afi, 'MP_REACH_NLRI');
  const out = new ByteWriter(64);
  out.u16(reach.afi).u8(reach.safi);
  const hops = reach.nextHops.map((hop) => {
    const parsed = addressBytes(hop, hop.includes(':') ? 'IPv6' : 'IPv4', 'MP_REACH_NLRI next hop');
    return parsed;
  });
  const hopLength = hops.reduce((sum, hop) => sum + hop.length, 0);
  out.u8(hopLength);
  for (const hop of hops) out.bytes(hop);
  out.u8(0); // Reserved (RFC 4760 §3)
  out.bytes(nlriBytes ?? encodePrefixes(reach.nlri, family, 'MP_REACH_NLRI'));
  return out.finish();
}

function encodeMpUnreach(unreach: MpUnreach, withdrawnBytes?: Uint8Array): Uint8Array {
  const family = familyOf(unreach.afi, 'MP_UNREACH_NLRI');
  const out = new ByteWriter(64);
  out.u16(unreach.afi).u8(unreach.safi);
  out.bytes(withdrawnBytes ?? encodePrefixes(unreach.withdrawn, family, 'MP_UNREACH_NLRI'));
  return out.finish();
}

function aggregatorBytes(
  agg: { asn: number; address: string },
  fourOctet: boolean,
  what: string,
): Uint8Array {
  const out = new ByteWriter(8);
  if (fourOctet) out.u32(agg.asn);
  else if (agg.asn > 0xffff) throw new BgpEncodeError(`${what}: AS ${agg.asn} needs 4 octets`);
  else out.u16(agg.asn);
  out.bytes(addressBytes(agg.address, 'IPv4', what));
  return out.finish();
}

/** Pre-encoded NLRI for the bulk path (RIB-out), so prefixes are parsed once, not per UPDATE. */
export interface EncodedNlri {
  readonly mpReachNlri?: Uint8Array;
  readonly mpUnreachWithdrawn?: Uint8Array;
}

/**
 * Encodes the path attributes in type-code order (RFC 4271 §5 recommends ascending order),
 * using the extended-length flag only for values over 255 octets.
 */
export function encodePathAttributes(
  attributes: PathAttributes,
  context: CodecContext,
  encoded: EncodedNlri = {},
): Uint8Array {
  const out = new ByteWriter(128);
  const a = attributes;
  if (a.origin !== undefined) writeAttribute(out, WELL_KNOWN, AttrType.Origin, Uint8Array.of(a.origin));
  if (a.asPath !== undefined) {
    writeAttribute(out, WELL_KNOWN, AttrType.AsPath, encodeAsPath(a.asPath, context.fourOctetAs, 'AS_PATH'));
  }
  if (a.nextHop !== undefined) {
    writeAttribute(out, WELL_KNOWN, AttrType.NextHop, addressBytes(a.nextHop, 'IPv4', 'NEXT_HOP'));
  }
  if (a.med !== undefined)
    writeAttribute(out, OPTIONAL, AttrType.MultiExitDisc, new ByteWriter(4).u32(a.med).finish());
  if (a.localPref !== undefined) {
    writeAttribute(out, WELL_KNOWN, AttrType.LocalPref, new ByteWriter(4).u32(a.localPref).finish());
  }
  if (a.atomicAggregate) writeAttribute(out, WELL_KNOWN, AttrType.AtomicAggregate, new Uint8Array(0));
  if (a.aggregator !== undefined) {
    writeAttribute(
      out,
      OPTIONAL_TRANSITIVE,
      AttrType.Aggregator,
      aggregatorBytes(a.aggregator, context.fourOctetAs, 'AGGREGATOR'),
    );
  }
  if (a.communities !== undefined) {
    const value = new ByteWriter(a.communities.length * 4);
    for (const community of a.communities) value.u32(community);
    writeAttribute(out, OPTIONAL_TRANSITIVE, AttrType.Communities, value.finish());
  }
  if (a.mpReach !== undefined) {
    writeAttribute(out, OPTIONAL, AttrType.MpReachNlri, encodeMpReach(a.mpReach, encoded.mpReachNlri));
  }
  if (a.mpUnreach !== undefined) {
    writeAttribute(
      out,
      OPTIONAL,
      AttrType.MpUnreachNlri,
      encodeMpUnreach(a.mpUnreach, encoded.mpUnreachWithdrawn),
    );
  }
  if (a.as4Path !== undefined) {
    writeAttribute(out, OPTIONAL_TRANSITIVE, AttrType.As4Path, encodeAsPath(a.as4Path, true, 'AS4_PATH'));
  }
  if (a.as4Aggregator !== undefined) {
    writeAttribute(
      out,
      OPTIONAL_TRANSITIVE,
      AttrType.As4Aggregator,
      aggregatorBytes(a.as4Aggregator, true, 'AS4_AGGREGATOR'),
    );
  }
  if (a.largeCommunities !== undefined) {
    const value = new ByteWriter(a.largeCommunities.length * 12);
    for (const c of a.largeCommunities) value.u32(c.globalAdmin).u32(c.localData1).u32(c.localData2);
    writeAttribute(out, OPTIONAL_TRANSITIVE, AttrType.LargeCommunity, value.finish());
  }
  for (const raw of a.unknown ?? []) writeAttribute(out, raw.flags, raw.typeCode, raw.value);
  return out.finish();
}

/** Encodes an UPDATE body from pre-encoded parts (withdrawn NLRI, attributes, NLRI). */
export function encodeUpdateBodyParts(
  withdrawn: Uint8Array,
  attributes: Uint8Array,
  nlri: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(4 + withdrawn.length + attributes.length + nlri.length);
  out[0] = withdrawn.length >>> 8;
  out[1] = withdrawn.length & 0xff;
  out.set(withdrawn, 2);
  const at = 2 + withdrawn.length;
  out[at] = attributes.length >>> 8;
  out[at + 1] = attributes.length & 0xff;
  out.set(attributes, at + 2);
  out.set(nlri, at + 2 + attributes.length);
  return out;
}

/** Encodes an UPDATE body (after the header). */
export function encodeUpdateBody(message: UpdateMessage, context: CodecContext): Uint8Array {
  return encodeUpdateBodyParts(
    encodePrefixes(message.withdrawn, 'IPv4', 'UPDATE withdrawn routes'),
    encodePathAttributes(message.attributes, context),
    encodePrefixes(message.nlri, 'IPv4', 'UPDATE NLRI'),
  );
}

// ---------------------------------------------------------------------------------------------
// Decoding

/** Thrown inside prefix parsing; the caller maps it to the RFC's error for that field. */
class PrefixSyntaxError extends Error {}

/** Decodes a run of NLRI prefixes (RFC 4271 §4.3); throws PrefixSyntaxError on a malformed one. */
function decodePrefixes(bytes: Uint8Array, start: number, end: number, family: IpFamily): string[] {
  const maxBits = family === 'IPv4' ? 32 : 128;
  const prefixes: string[] = [];
  let at = start;
  while (at < end) {
    const length = bytes[at]!;
    if (length > maxBits) throw new PrefixSyntaxError(`prefix length ${length} exceeds ${maxBits}`);
    const octets = (length + 7) >> 3;
    if (at + 1 + octets > end) throw new PrefixSyntaxError(`prefix /${length} runs past the field`);
    prefixes.push(formatPrefix(family, length, bytes, at + 1));
    at += 1 + octets;
  }
  return prefixes;
}

function decodeAsPath(value: Uint8Array, width: 2 | 4): AsPathSegment[] | string {
  const segments: AsPathSegment[] = [];
  let at = 0;
  while (at < value.length) {
    if (at + 2 > value.length) return 'segment header is cut off';
    const type = value[at]!;
    const count = value[at + 1]!;
    // RFC 7606 §7.2: unknown segment types and empty segments are malformed.
    if (type !== AsPathSegmentType.AsSet && type !== AsPathSegmentType.AsSequence) {
      return `segment type ${type} is not AS_SET or AS_SEQUENCE`;
    }
    if (count === 0) return 'segment of length 0';
    if (at + 2 + count * width > value.length) return `segment of ${count} AS numbers overruns the attribute`;
    const asns: number[] = [];
    for (let i = 0; i < count; i++) {
      const offset = at + 2 + i * width;
      asns.push(width === 4 ? u32(value, offset) : u16(value, offset));
    }
    segments.push({ type: type === AsPathSegmentType.AsSet ? 'set' : 'sequence', asns });
    at += 2 + count * width;
  }
  return segments;
}

/** Per known attribute: the flags it must carry and the RFC 7606 action on a malformed value. */
const KNOWN_ATTRIBUTES: Record<number, { flags: number; action: ErrorAction; name: string }> = {
  [AttrType.Origin]: { flags: WELL_KNOWN, action: 'treat-as-withdraw', name: 'ORIGIN' },
  [AttrType.AsPath]: { flags: WELL_KNOWN, action: 'treat-as-withdraw', name: 'AS_PATH' },
  [AttrType.NextHop]: { flags: WELL_KNOWN, action: 'treat-as-withdraw', name: 'NEXT_HOP' },
  [AttrType.MultiExitDisc]: { flags: OPTIONAL, action: 'treat-as-withdraw', name: 'MULTI_EXIT_DISC' },
  [AttrType.LocalPref]: { flags: WELL_KNOWN, action: 'treat-as-withdraw', name: 'LOCAL_PREF' },
  [AttrType.AtomicAggregate]: { flags: WELL_KNOWN, action: 'attribute-discard', name: 'ATOMIC_AGGREGATE' },
  [AttrType.Aggregator]: { flags: OPTIONAL_TRANSITIVE, action: 'attribute-discard', name: 'AGGREGATOR' },
  [AttrType.Communities]: { flags: OPTIONAL_TRANSITIVE, action: 'treat-as-withdraw', name: 'COMMUNITIES' },
  [AttrType.MpReachNlri]: { flags: OPTIONAL, action: 'session-reset', name: 'MP_REACH_NLRI' },
  [AttrType.MpUnreachNlri]: { flags: OPTIONAL, action: 'session-reset', name: 'MP_UNREACH_NLRI' },
  [AttrType.As4Path]: { flags: OPTIONAL_TRANSITIVE, action: 'attribute-discard', name: 'AS4_PATH' },
  [AttrType.As4Aggregator]: {
    flags: OPTIONAL_TRANSITIVE,
    action: 'attribute-discard',
    name: 'AS4_AGGREGATOR',
  },
  [AttrType.LargeCommunity]: {
    flags: OPTIONAL_TRANSITIVE,
    action: 'treat-as-withdraw',
    name: 'LARGE_COMMUNITY',
  },
};

/** Name of a path attribute type code for logs and metric labels: the RFC name, else the number. */
export function attributeName(typeCode: number): string {
  return KNOWN_ATTRIBUTES[typeCode]?.name ?? String(typeCode);
}

type MutableAttributes = {
  -readonly [K in keyof PathAttributes]: PathAttributes[K];
};

/** Keeps the most severe outcome: a session reset is thrown at once; the rest are collected. */
class ErrorSink {
  readonly errors: BgpMessageError[] = [];
  add(error: BgpMessageError): void {
    if (error.action === 'session-reset') throw error;
    this.errors.push(error);
  }
}

function isMulticastOrZero(bytes: Uint8Array, offset: number): boolean {
  const first = bytes[offset]!;
  const zero = first === 0 && bytes[offset + 1] === 0 && bytes[offset + 2] === 0 && bytes[offset + 3] === 0;
  return zero || first >= 224;
}

/**
 * Decodes one attribute's value into `out`. Returns an error (with the RFC 7606 action of that
 * attribute) when the value is malformed; `whole` is the full attribute for NOTIFICATION data.
 */
function decodeAttributeValue(
  typeCode: number,
  value: Uint8Array,
  whole: Uint8Array,
  context: CodecContext,
  out: MutableAttributes,
): BgpMessageError | undefined {
  const known = KNOWN_ATTRIBUTES[typeCode]!;
  const lengthError = (expected: string): BgpMessageError =>
    updateError(
      UpdateSubcode.AttributeLengthError,
      `UPDATE: ${known.name} has length ${value.length}, expected ${expected}`,
      known.action,
      { data: whole, attribute: typeCode },
    );
  switch (typeCode) {
    case AttrType.Origin:
      if (value.length !== 1) return lengthError('1');
      if (value[0]! > 2) {
        return updateError(
          UpdateSubcode.InvalidOriginAttribute,
          `UPDATE: ORIGIN value ${value[0]} is not IGP, EGP or INCOMPLETE`,
          known.action,
          { data: whole, attribute: typeCode },
        );
      }
      out.origin = value[0]!;
      return undefined;
    case AttrType.AsPath:
    case AttrType.As4Path: {
      const width = typeCode === AttrType.As4Path || context.fourOctetAs ? 4 : 2;
      const segments = decodeAsPath(value, width);
      if (typeof segments === 'string') {
        return updateError(
          UpdateSubcode.MalformedAsPath,
          `UPDATE: ${known.name}: ${segments}`,
          known.action,
          { attribute: typeCode },
        );
      }
      if (typeCode === AttrType.AsPath) out.asPath = segments;
      else out.as4Path = segments;
      return undefined;
    }
    case AttrType.NextHop:
      if (value.length !== 4) return lengthError('4');
      if (isMulticastOrZero(value, 0)) {
        return updateError(
          UpdateSubcode.InvalidNextHopAttribute,
          `UPDATE: NEXT_HOP ${formatIpv4(value)} is not a host address`,
          known.action,
          { data: whole, attribute: typeCode },
        );
      }
      out.nextHop = formatIpv4(value);
      return undefined;
    case AttrType.MultiExitDisc:
      if (value.length !== 4) return lengthError('4');
      out.med = u32(value, 0);
      return undefined;
    case AttrType.LocalPref:
      if (value.length !== 4) return lengthError('4');
      out.localPref = u32(value, 0);
      return undefined;
    case AttrType.AtomicAggregate:
      if (value.length !== 0) return lengthError('0');
      out.atomicAggregate = true;
      return undefined;
    case AttrType.Aggregator:
    case AttrType.As4Aggregator: {
      const width = typeCode === AttrType.As4Aggregator || context.fourOctetAs ? 4 : 2;
      if (value.length !== width + 4) return lengthError(String(width + 4));
      const aggregator = {
        asn: width === 4 ? u32(value, 0) : u16(value, 0),
        address: formatIpv4(value, width),
      };
      if (typeCode === AttrType.Aggregator) out.aggregator = aggregator;
      else out.as4Aggregator = aggregator;
      return undefined;
    }
    case AttrType.Communities: {
      if (value.length === 0 || value.length % 4 !== 0) return lengthError('a non-zero multiple of 4');
      const communities: number[] = [];
      for (let at = 0; at < value.length; at += 4) communities.push(u32(value, at));
      out.communities = communities;
      return undefined;
    }
    case AttrType.LargeCommunity: {
      if (value.length === 0 || value.length % 12 !== 0) return lengthError('a non-zero multiple of 12');
      const communities: LargeCommunity[] = [];
      for (let at = 0; at < value.length; at += 12) {
        communities.push({
          globalAdmin: u32(value, at),
          localData1: u32(value, at + 4),
          localData2: u32(value, at + 8),
        });
      }
      out.largeCommunities = communities;
      return undefined;
    }
    case AttrType.MpReachNlri: {
      // RFC 7606 §7.11: a malformed MP_REACH_NLRI cannot be parsed further: session reset.
      const mpError = (message: string): BgpMessageError =>
        updateError(
          UpdateSubcode.OptionalAttributeError,
          `UPDATE: MP_REACH_NLRI: ${message}`,
          'session-reset',
          { data: whole, attribute: typeCode },
        );
      if (value.length < 5) return mpError(`length ${value.length} is shorter than 5`);
      const afi = u16(value, 0);
      const safi = value[2]!;
      const family = afiFamily(afi);
      if (!family || safi !== Safi.Unicast) return mpError(`AFI ${afi} SAFI ${safi} is not supported`);
      const hopLength = value[3]!;
      if (4 + hopLength + 1 > value.length)
        return mpError(`next hop length ${hopLength} overruns the attribute`);
      const nextHops: string[] = [];
      if (hopLength === 4) nextHops.push(formatIpv4(value, 4));
      else if (hopLength === 16) nextHops.push(formatAddress('IPv6', value, 4));
      else if (hopLength === 32)
        nextHops.push(formatAddress('IPv6', value, 4), formatAddress('IPv6', value, 20));
      else return mpError(`next hop length ${hopLength} is not 4, 16 or 32`);
      try {
        out.mpReach = {
          afi,
          safi,
          nextHops,
          nlri: decodePrefixes(value, 4 + hopLength + 1, value.length, family),
        };
      } catch (error) {
        if (error instanceof PrefixSyntaxError) return mpError(error.message);
        throw error;
      }
      return undefined;
    }
    case AttrType.MpUnreachNlri: {
      const mpError = (message: string): BgpMessageError =>
        updateError(
          UpdateSubcode.OptionalAttributeError,
          `UPDATE: MP_UNREACH_NLRI: ${message}`,
          'session-reset',
          { data: whole, attribute: typeCode },
        );
      if (value.length < 3) return mpError(`length ${value.length} is shorter than 3`);
      const afi = u16(value, 0);
      const safi = value[2]!;
      const family = afiFamily(afi);
      if (!family || safi !== Safi.Unicast) return mpError(`AFI ${afi} SAFI ${safi} is not supported`);
      try {
        out.mpUnreach = { afi, safi, withdrawn: decodePrefixes(value, 3, value.length, family) };
      } catch (error) {
        if (error instanceof PrefixSyntaxError) return mpError(error.message);
        throw error;
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

function hasReachability(nlri: readonly string[], attrs: PathAttributes): boolean {
  return nlri.length > 0 || (attrs.mpReach !== undefined && attrs.mpReach.nlri.length > 0);
}

/**
 * Decodes an UPDATE body with the checks of RFC 4271 §6.3 as revised by RFC 7606: errors that
 * force a session reset are thrown as BgpMessageError; treat-as-withdraw and attribute-discard
 * errors are returned in `errors`, with discarded attributes left out.
 */
export function decodeUpdateBody(body: Uint8Array, context: CodecContext): UpdateMessage {
  const malformedList = (message: string): BgpMessageError =>
    updateError(UpdateSubcode.MalformedAttributeList, `UPDATE: ${message}`, 'session-reset');
  if (body.length < 4) throw malformedList(`body of ${body.length} octets is shorter than 4`);
  const withdrawnLength = u16(body, 0);
  if (2 + withdrawnLength + 2 > body.length) {
    throw malformedList(`withdrawn routes length ${withdrawnLength} exceeds the message`);
  }
  const attrStart = 2 + withdrawnLength + 2;
  const attrLength = u16(body, attrStart - 2);
  if (attrStart + attrLength > body.length) {
    throw malformedList(`total path attribute length ${attrLength} exceeds the message`);
  }
  const attrEnd = attrStart + attrLength;
  let withdrawn: string[];
  let nlri: string[];
  try {
    withdrawn = decodePrefixes(body, 2, 2 + withdrawnLength, 'IPv4');
  } catch (error) {
    if (error instanceof PrefixSyntaxError) throw malformedList(`withdrawn routes: ${error.message}`);
    throw error;
  }
  try {
    nlri = decodePrefixes(body, attrEnd, body.length, 'IPv4');
  } catch (error) {
    // RFC 7606 §5.3: a malformed NLRI field cannot be handled short of a session reset.
    if (error instanceof PrefixSyntaxError) {
      throw updateError(UpdateSubcode.InvalidNetworkField, `UPDATE: NLRI: ${error.message}`, 'session-reset');
    }
    throw error;
  }

  const sink = new ErrorSink();
  const attrs: MutableAttributes = {};
  const unknown: RawAttribute[] = [];
  const seen = new Set<number>();
  let at = attrStart;
  while (at < attrEnd) {
    const flags = body[at]!;
    const headerLength = flags & AttrFlag.ExtendedLength ? 4 : 3;
    // RFC 7606 §4: an attribute header or value that overruns the attributes field makes the
    // rest unparseable; the NLRI is still found through the total length: treat-as-withdraw.
    if (at + headerLength > attrEnd) {
      sink.add(
        updateError(
          UpdateSubcode.MalformedAttributeList,
          'UPDATE: attribute header is cut off',
          'treat-as-withdraw',
        ),
      );
      break;
    }
    const typeCode = body[at + 1]!;
    const length = headerLength === 4 ? u16(body, at + 2) : body[at + 2]!;
    const valueStart = at + headerLength;
    if (valueStart + length > attrEnd) {
      sink.add(
        updateError(
          UpdateSubcode.MalformedAttributeList,
          `UPDATE: attribute ${typeCode} length ${length} overruns the path attributes`,
          typeCode === AttrType.MpReachNlri || typeCode === AttrType.MpUnreachNlri
            ? 'session-reset'
            : 'treat-as-withdraw',
          { attribute: typeCode },
        ),
      );
      break;
    }
    const value = body.subarray(valueStart, valueStart + length);
    const whole = body.slice(at, valueStart + length);
    at = valueStart + length;

    const known = KNOWN_ATTRIBUTES[typeCode];
    if (seen.has(typeCode)) {
      // RFC 7606 §3 g: repeated MP_* attributes reset the session; others keep the first.
      sink.add(
        updateError(
          UpdateSubcode.MalformedAttributeList,
          `UPDATE: attribute ${known?.name ?? typeCode} appears more than once`,
          typeCode === AttrType.MpReachNlri || typeCode === AttrType.MpUnreachNlri
            ? 'session-reset'
            : 'attribute-discard',
          { attribute: typeCode },
        ),
      );
      continue;
    }
    seen.add(typeCode);
    if (typeCode === AttrType.LocalPref && context.externalPeer) {
      // RFC 7606 §7.5: from an external peer LOCAL_PREF is discarded whatever its flags or
      // length; no NOTIFICATION subcode names this, 3/1 (the attribute list) is the nearest.
      sink.add(
        updateError(
          UpdateSubcode.MalformedAttributeList,
          'UPDATE: LOCAL_PREF from an external peer',
          'attribute-discard',
          { attribute: typeCode },
        ),
      );
      continue;
    }
    if (!known) {
      if ((flags & AttrFlag.Optional) === 0) {
        throw updateError(
          UpdateSubcode.UnrecognizedWellKnownAttribute,
          `UPDATE: unrecognized well-known attribute ${typeCode}`,
          'session-reset',
          { data: whole, attribute: typeCode },
        );
      }
      unknown.push({ flags: flags & ~AttrFlag.ExtendedLength, typeCode, value: value.slice() });
      continue;
    }
    // RFC 4271 §6.3 / RFC 7606 §3 c: Optional and Transitive bits must match the attribute;
    // well-known attributes must not have Partial set.
    const mask =
      AttrFlag.Optional | AttrFlag.Transitive | (known.flags & AttrFlag.Optional ? 0 : AttrFlag.Partial);
    if ((flags & mask) !== known.flags) {
      sink.add(
        updateError(
          UpdateSubcode.AttributeFlagsError,
          `UPDATE: ${known.name} has flags 0x${flags.toString(16)}`,
          known.action,
          { data: whole, attribute: typeCode },
        ),
      );
      continue;
    }
    const error = decodeAttributeValue(typeCode, value, whole, context, attrs);
    if (error) sink.add(error);
  }
  if (unknown.length > 0) attrs.unknown = unknown;

  // RFC 4271 §6.3 / RFC 7606 §3 d: mandatory attributes are needed only when routes are reached.
  if (hasReachability(nlri, attrs)) {
    const missing = [
      attrs.origin === undefined && !seen.has(AttrType.Origin) ? AttrType.Origin : undefined,
      attrs.asPath === undefined && !seen.has(AttrType.AsPath) ? AttrType.AsPath : undefined,
      nlri.length > 0 && attrs.nextHop === undefined && !seen.has(AttrType.NextHop)
        ? AttrType.NextHop
        : undefined,
    ].find((code) => code !== undefined);
    if (missing !== undefined) {
      sink.add(
        updateError(
          UpdateSubcode.MissingWellKnownAttribute,
          `UPDATE: missing well-known attribute ${KNOWN_ATTRIBUTES[missing]!.name}`,
          'treat-as-withdraw',
          { data: Uint8Array.of(missing), attribute: missing },
        ),
      );
    }
  }
  const message: UpdateMessage = { type: 'update', withdrawn, attributes: attrs, nlri };
  return sink.errors.length > 0 ? { ...message, errors: sink.errors } : message;
}

/** True when an UPDATE is to be handled as a withdrawal of everything it carries (RFC 7606). */
export function isTreatAsWithdraw(message: UpdateMessage): boolean {
  return (message.errors ?? []).some((error) => error.action === 'treat-as-withdraw');
}

/** The AFI/SAFI an UPDATE marks the End-of-RIB of (RFC 4724 §2), or undefined. */
export function endOfRibFamily(message: UpdateMessage): { afi: number; safi: number } | undefined {
  if (message.withdrawn.length > 0 || message.nlri.length > 0) return undefined;
  const attrs = message.attributes;
  const keys = Object.keys(attrs);
  if (keys.length === 0) return { afi: Afi.Ipv4, safi: Safi.Unicast };
  if (keys.length === 1 && attrs.mpUnreach && attrs.mpUnreach.withdrawn.length === 0) {
    return { afi: attrs.mpUnreach.afi, safi: attrs.mpUnreach.safi };
  }
  return undefined;
}

/** The End-of-RIB marker of a family (RFC 4724 §2). */
export function endOfRib(afi: number, safi: number): UpdateMessage {
  if (afi === Afi.Ipv4 && safi === Safi.Unicast)
    return { type: 'update', withdrawn: [], attributes: {}, nlri: [] };
  return { type: 'update', withdrawn: [], attributes: { mpUnreach: { afi, safi, withdrawn: [] } }, nlri: [] };
}
