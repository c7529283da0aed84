import { formatIpv4, formatMac, macBytes, parseIpv4 } from './addr.ts';
import { EtherType } from './ethernet.ts';
import { type Decoded, FrameErrorCode, fail, ok } from './result.ts';

/** ARP operation codes (RFC 826; RFC 5227 uses the same two). */
export const ArpOperation = { Request: 1, Reply: 2 } as const;
export type ArpOperation = (typeof ArpOperation)[keyof typeof ArpOperation];

/** ARP hardware type Ethernet (RFC 826 "ar$hrd"). */
export const ARP_HARDWARE_ETHERNET = 1;
/** Length of an Ethernet/IPv4 ARP packet. */
export const ARP_PACKET_BYTES = 28;

/** An Ethernet/IPv4 ARP packet (RFC 826), addresses as text. */
export interface ArpPacket {
  readonly operation: ArpOperation;
  readonly senderMac: string;
  readonly senderIp: string;
  readonly targetMac: string;
  readonly targetIp: string;
}

function ipv4Bytes(text: string, what: string): Uint8Array {
  const bytes = parseIpv4(text);
  if (!bytes) throw new TypeError(`${what}: "${text}" is not an IPv4 address`);
  return bytes;
}

/** Encodes the 28-byte ARP packet (the Ethernet payload). */
export function encodeArp(packet: ArpPacket): Uint8Array {
  const bytes = new Uint8Array(ARP_PACKET_BYTES);
  const view = new DataView(bytes.buffer);
  view.setUint16(0, ARP_HARDWARE_ETHERNET);
  view.setUint16(2, EtherType.Ipv4);
  bytes[4] = 6;
  bytes[5] = 4;
  view.setUint16(6, packet.operation);
  bytes.set(macBytes(packet.senderMac, 'arp sender MAC'), 8);
  bytes.set(ipv4Bytes(packet.senderIp, 'arp sender IP'), 14);
  bytes.set(macBytes(packet.targetMac, 'arp target MAC'), 18);
  bytes.set(ipv4Bytes(packet.targetIp, 'arp target IP'), 24);
  return bytes;
}

/** Decodes an Ethernet/IPv4 ARP packet; trailing bytes (Ethernet padding) are ignored. */
export function decodeArp(bytes: Uint8Array): Decoded<ArpPacket> {
  if (bytes.length < 8)
    return fail(FrameErrorCode.Truncated, `arp packet: ${bytes.length} bytes, header needs 8`);
  const hardware = (bytes[0]! << 8) | bytes[1]!;
  const protocol = (bytes[2]! << 8) | bytes[3]!;
  if (hardware !== ARP_HARDWARE_ETHERNET) {
    return fail(
      FrameErrorCode.BadHardwareType,
      `arp packet: hardware type ${hardware}, expected 1 (Ethernet)`,
    );
  }
  if (protocol !== EtherType.Ipv4) {
    return fail(
      FrameErrorCode.BadProtocolType,
      `arp packet: protocol type 0x${protocol.toString(16)}, expected 0x800`,
    );
  }
  if (bytes[4] !== 6 || bytes[5] !== 4) {
    return fail(
      FrameErrorCode.BadAddressLength,
      `arp packet: address lengths ${bytes[4]}/${bytes[5]}, expected 6/4 for Ethernet/IPv4`,
    );
  }
  if (bytes.length < ARP_PACKET_BYTES) {
    return fail(FrameErrorCode.Truncated, `arp packet: ${bytes.length} bytes, expected 28`);
  }
  const operation = (bytes[6]! << 8) | bytes[7]!;
  if (operation !== ArpOperation.Request && operation !== ArpOperation.Reply) {
    return fail(
      FrameErrorCode.BadOperation,
      `arp packet: operation ${operation}, expected 1 (request) or 2 (reply)`,
    );
  }
  return ok({
    operation,
    senderMac: formatMac(bytes, 8),
    senderIp: formatIpv4(bytes, 14),
    targetMac: formatMac(bytes, 18),
    targetIp: formatIpv4(bytes, 24),
  });
}
