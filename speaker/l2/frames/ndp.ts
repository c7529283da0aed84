import { formatIpv6, formatMac, macBytes, parseIpv6 } from './addr.ts';
import { type Decoded, FrameErrorCode, fail, ok } from './result.ts';

/** IPv6 fixed header length (RFC 8200 §3). */
export const IPV6_HEADER_BYTES = 40;
/** IPv6 Next Header value of ICMPv6. */
export const NEXT_HEADER_ICMPV6 = 58;
/** NDP messages must carry hop limit 255 so they cannot come from off-link (RFC 4861 §7.1). */
export const NDP_HOP_LIMIT = 255;

/** ICMPv6 message types used here (RFC 4861 §4). */
export const IcmpV6Type = { NeighborSolicitation: 135, NeighborAdvertisement: 136 } as const;
/** NDP option types (RFC 4861 §4.6). */
export const NdpOptionType = { SourceLinkLayerAddress: 1, TargetLinkLayerAddress: 2 } as const;

/** Neighbor Solicitation (RFC 4861 §4.3), carried in its IPv6 header. */
export interface NeighborSolicitation {
  readonly type: 'ns';
  readonly source: string;
  readonly destination: string;
  readonly hopLimit: number;
  readonly target: string;
  /** Source link-layer address option, if present. */
  readonly sourceLinkLayer: string | undefined;
}

/** Neighbor Advertisement (RFC 4861 §4.4), carried in its IPv6 header. */
export interface NeighborAdvertisement {
  readonly type: 'na';
  readonly source: string;
  readonly destination: string;
  readonly hopLimit: number;
  readonly router: boolean;
  readonly solicited: boolean;
  readonly override: boolean;
  readonly target: string;
  /** Target link-layer address option, if present. */
  readonly targetLinkLayer: string | undefined;
}

/** The two NDP messages the announcer reads and writes. */
export type NdpMessage = NeighborSolicitation | NeighborAdvertisement;

function ipv6Bytes(text: string, what: string): Uint8Array {
  const bytes = parseIpv6(text);
  if (!bytes) throw new TypeError(`${what}: "${text}" is not an IPv6 address`);
  return bytes;
}

/**
 * The ICMPv6 checksum: one's complement sum over the pseudo-header (source, destination,
 * upper-layer length, next header 58) and the ICMPv6 message (RFC 4443 §2.3, RFC 8200 §8.1).
 * `packet` is a whole IPv6 packet; the checksum field is included as is, so a valid packet
 * sums to 0 and a packet with a zeroed field yields the value to write.
 */
export function icmpv6Checksum(packet: Uint8Array, icmpLength: number): number {
  let sum = 0;
  for (let i = 8; i < 40; i += 2) sum += (packet[i]! << 8) | packet[i + 1]!;
  sum += (icmpLength >>> 16) + (icmpLength & 0xffff) + NEXT_HEADER_ICMPV6;
  const end = IPV6_HEADER_BYTES + icmpLength;
  for (let i = IPV6_HEADER_BYTES; i < end; i += 2) {
    sum += ((packet[i] ?? 0) << 8) | (i + 1 < end ? (packet[i + 1] ?? 0) : 0);
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** Encodes an NS or NA as a complete IPv6 packet with a correct ICMPv6 checksum. */
export function encodeNdp(message: NdpMessage): Uint8Array {
  const linkLayer = message.type === 'ns' ? message.sourceLinkLayer : message.targetLinkLayer;
  const icmpLength = 24 + (linkLayer === undefined ? 0 : 8);
  const bytes = new Uint8Array(IPV6_HEADER_BYTES + icmpLength);
  bytes[0] = 0x60;
  bytes[4] = icmpLength >> 8;
  bytes[5] = icmpLength & 0xff;
  bytes[6] = NEXT_HEADER_ICMPV6;
  bytes[7] = message.hopLimit;
  bytes.set(ipv6Bytes(message.source, 'ipv6 source'), 8);
  bytes.set(ipv6Bytes(message.destination, 'ipv6 destination'), 24);
  const icmp = IPV6_HEADER_BYTES;
  if (message.type === 'ns') {
    bytes[icmp] = IcmpV6Type.NeighborSolicitation;
  } else {
    bytes[icmp] = IcmpV6Type.NeighborAdvertisement;
    bytes[icmp + 4] =
      (message.router ? 0x80 : 0) | (message.solicited ? 0x40 : 0) | (message.override ? 0x20 : 0);
  }
  bytes.set(ipv6Bytes(message.target, 'ndp target'), icmp + 8);
  if (linkLayer !== undefined) {
    bytes[icmp + 24] =
      message.type === 'ns' ? NdpOptionType.SourceLinkLayerAddress : NdpOptionType.TargetLinkLayerAddress;
    bytes[icmp + 25] = 1;
    bytes.set(macBytes(linkLayer, 'ndp link-layer option'), icmp + 26);
  }
  const checksum = icmpv6Checksum(bytes, icmpLength);
  bytes[icmp + 2] = checksum >> 8;
  bytes[icmp + 3] = checksum & 0xff;
  return bytes;
}

const isMulticast = (bytes: Uint8Array, offset: number) => bytes[offset] === 0xff;
const isUnspecified = (bytes: Uint8Array, offset: number) => {
  for (let i = 0; i < 16; i++) if (bytes[offset + i] !== 0) return false;
  return true;
};

/**
 * Decodes an IPv6 packet carrying an NS or NA and applies the validity checks of RFC 4861
 * §7.1.1 / §7.1.2 (hop limit 255, checksum, code 0, length, non-multicast target, no
 * zero-length option, DAD rules). Trailing bytes past the payload length (Ethernet
 * padding) are ignored. Other IPv6 traffic comes back as an `ignored-*` error.
 */
export function decodeNdp(bytes: Uint8Array): Decoded<NdpMessage> {
  if (bytes.length < IPV6_HEADER_BYTES) {
    return fail(FrameErrorCode.Truncated, `ipv6 packet: ${bytes.length} bytes, the header needs 40`);
  }
  if (bytes[0]! >> 4 !== 6)
    return fail(FrameErrorCode.BadVersion, `ipv6 packet: version ${bytes[0]! >> 4}, expected 6`);
  const payloadLength = (bytes[4]! << 8) | bytes[5]!;
  if (IPV6_HEADER_BYTES + payloadLength > bytes.length) {
    return fail(
      FrameErrorCode.Truncated,
      `ipv6 packet: payload length ${payloadLength} but only ${bytes.length - IPV6_HEADER_BYTES} bytes follow the header`,
    );
  }
  const nextHeader = bytes[6]!;
  if (nextHeader !== NEXT_HEADER_ICMPV6) {
    return fail(FrameErrorCode.IgnoredNextHeader, `ipv6 packet: next header ${nextHeader} is not ICMPv6`);
  }
  if (payloadLength < 4)
    return fail(FrameErrorCode.Truncated, `icmpv6 message: ${payloadLength} bytes, header needs 4`);
  const icmp = IPV6_HEADER_BYTES;
  const type = bytes[icmp]!;
  if (type !== IcmpV6Type.NeighborSolicitation && type !== IcmpV6Type.NeighborAdvertisement) {
    return fail(FrameErrorCode.IgnoredIcmpType, `icmpv6 message: type ${type} is not NS or NA`);
  }
  const name = type === IcmpV6Type.NeighborSolicitation ? 'neighbor solicitation' : 'neighbor advertisement';
  const hopLimit = bytes[7]!;
  if (hopLimit !== NDP_HOP_LIMIT)
    return fail(FrameErrorCode.BadHopLimit, `${name}: hop limit ${hopLimit}, must be 255`);
  if (bytes[icmp + 1] !== 0)
    return fail(FrameErrorCode.BadCode, `${name}: code ${bytes[icmp + 1]}, must be 0`);
  if (payloadLength < 24)
    return fail(FrameErrorCode.Truncated, `${name}: ${payloadLength} bytes, must be at least 24`);
  if (icmpv6Checksum(bytes, payloadLength) !== 0)
    return fail(FrameErrorCode.BadChecksum, `${name}: bad ICMPv6 checksum`);
  if (isMulticast(bytes, icmp + 8))
    return fail(FrameErrorCode.BadTarget, `${name}: target is a multicast address`);

  let linkLayer: string | undefined;
  const wanted =
    type === IcmpV6Type.NeighborSolicitation
      ? NdpOptionType.SourceLinkLayerAddress
      : NdpOptionType.TargetLinkLayerAddress;
  for (let at = icmp + 24; at < icmp + payloadLength; ) {
    if (at + 2 > icmp + payloadLength)
      return fail(FrameErrorCode.BadOption, `${name}: option header cut off`);
    const optionType = bytes[at]!;
    const optionBytes = bytes[at + 1]! * 8;
    if (optionBytes === 0)
      return fail(FrameErrorCode.BadOption, `${name}: option ${optionType} has length 0`);
    if (at + optionBytes > icmp + payloadLength) {
      return fail(FrameErrorCode.BadOption, `${name}: option ${optionType} runs past the message`);
    }
    if (optionType === wanted && optionBytes >= 8) linkLayer = formatMac(bytes, at + 2);
    at += optionBytes;
  }

  const source = formatIpv6(bytes, 8);
  const destination = formatIpv6(bytes, 24);
  const target = formatIpv6(bytes, icmp + 8);
  if (type === IcmpV6Type.NeighborSolicitation) {
    if (isUnspecified(bytes, 8)) {
      // RFC 4861 §7.1.1: a DAD probe goes to a solicited-node group and has no SLLA option.
      if (!(bytes[24] === 0xff && bytes[25] === 0x02 && bytes[35] === 0x01 && bytes[36] === 0xff)) {
        return fail(
          FrameErrorCode.BadAddress,
          `${name}: source :: but destination ${destination} is not solicited-node`,
        );
      }
      if (linkLayer !== undefined) {
        return fail(FrameErrorCode.BadOption, `${name}: source :: must not carry a source link-layer option`);
      }
    }
    return ok({ type: 'ns', source, destination, hopLimit, target, sourceLinkLayer: linkLayer });
  }
  const flags = bytes[icmp + 4]!;
  const solicited = (flags & 0x40) !== 0;
  if (solicited && isMulticast(bytes, 24)) {
    return fail(FrameErrorCode.BadAddress, `${name}: solicited flag set on a multicast destination`);
  }
  return ok({
    type: 'na',
    source,
    destination,
    hopLimit,
    router: (flags & 0x80) !== 0,
    solicited,
    override: (flags & 0x20) !== 0,
    target,
    targetLinkLayer: linkLayer,
  });
}
