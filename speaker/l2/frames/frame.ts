import { ALL_NODES, BROADCAST_MAC, multicastMac, UNSPECIFIED_IPV6, ZERO_MAC } from './addr.ts';
import { ArpOperation, type ArpPacket, decodeArp, encodeArp } from './arp.ts';
import { decodeEthernet, EtherType, encodeEthernet } from './ethernet.ts';
import { decodeNdp, encodeNdp, NDP_HOP_LIMIT, type NdpMessage, type NeighborSolicitation } from './ndp.ts';
import { type Decoded, FrameErrorCode, fail, ok } from './result.ts';

/** A decoded frame the responder can act on. */
export type L2Frame =
  | { readonly kind: 'arp'; readonly destination: string; readonly source: string; readonly arp: ArpPacket }
  | { readonly kind: 'ndp'; readonly destination: string; readonly source: string; readonly ndp: NdpMessage };

/** Decodes an Ethernet frame carrying ARP or NDP. Never throws, whatever the bytes. */
export function decodeFrame(bytes: Uint8Array): Decoded<L2Frame> {
  const ethernet = decodeEthernet(bytes);
  if (!ethernet.ok) return ethernet;
  const { destination, source, etherType, payload } = ethernet.value;
  if (etherType === EtherType.Arp) {
    const arp = decodeArp(payload);
    return arp.ok ? ok({ kind: 'arp', destination, source, arp: arp.value }) : arp;
  }
  if (etherType === EtherType.Ipv6) {
    const ndp = decodeNdp(payload);
    return ndp.ok ? ok({ kind: 'ndp', destination, source, ndp: ndp.value }) : ndp;
  }
  return fail(
    FrameErrorCode.IgnoredEtherType,
    `ethernet frame: ethertype 0x${etherType.toString(16)} is not ARP or IPv6`,
  );
}

/** Encodes ARP in an Ethernet frame (padded to 60 bytes). */
export function encodeArpFrame(destination: string, source: string, arp: ArpPacket): Uint8Array {
  return encodeEthernet({ destination, source, etherType: EtherType.Arp, payload: encodeArp(arp) });
}

/** Encodes NDP in an Ethernet frame. */
export function encodeNdpFrame(destination: string, source: string, ndp: NdpMessage): Uint8Array {
  return encodeEthernet({ destination, source, etherType: EtherType.Ipv6, payload: encodeNdp(ndp) });
}

/** The ARP reply for `request` from the owner `mac` of the requested IP (RFC 826), unicast to the asker. */
export function arpReplyFrame(request: ArpPacket, requesterMac: string, mac: string): Uint8Array {
  return encodeArpFrame(requesterMac, mac, {
    operation: ArpOperation.Reply,
    senderMac: mac,
    senderIp: request.targetIp,
    targetMac: request.senderMac,
    targetIp: request.senderIp,
  });
}

/**
 * Gratuitous ARP, request form: an ARP Announcement (RFC 5227 §2.3): sender and target IP
 * both `ip`, target MAC zero, broadcast. Updates existing entries in neighbours' caches.
 */
export function gratuitousArpRequestFrame(ip: string, mac: string): Uint8Array {
  return encodeArpFrame(BROADCAST_MAC, mac, {
    operation: ArpOperation.Request,
    senderMac: mac,
    senderIp: ip,
    targetMac: ZERO_MAC,
    targetIp: ip,
  });
}

/**
 * Gratuitous ARP, reply form (RFC 2002 §4.6): some stacks only update their cache from
 * replies, so takeovers send both forms. Target MAC is the new MAC too, broadcast.
 */
export function gratuitousArpReplyFrame(ip: string, mac: string): Uint8Array {
  return encodeArpFrame(BROADCAST_MAC, mac, {
    operation: ArpOperation.Reply,
    senderMac: mac,
    senderIp: ip,
    targetMac: mac,
    targetIp: ip,
  });
}

/**
 * The NA answering `solicitation` for its target, which we own on the interface with `mac`
 * (RFC 4861 §7.2.4): from the target address, hop limit 255, target link-layer option,
 * Solicited and Override set; a DAD probe (source ::) is answered to all-nodes without S.
 */
export function solicitedAdvertisementFrame(
  solicitation: NeighborSolicitation,
  requesterMac: string,
  mac: string,
): Uint8Array {
  const dad = solicitation.source === UNSPECIFIED_IPV6;
  const destination = dad ? ALL_NODES : solicitation.source;
  const ethernetDestination = dad ? multicastMac(ALL_NODES) : (solicitation.sourceLinkLayer ?? requesterMac);
  return encodeNdpFrame(ethernetDestination, mac, {
    type: 'na',
    source: solicitation.target,
    destination,
    hopLimit: NDP_HOP_LIMIT,
    router: false,
    solicited: !dad,
    override: true,
    target: solicitation.target,
    targetLinkLayer: mac,
  });
}

/** Unsolicited NA with Override to all-nodes (RFC 4861 §7.2.6), sent on takeover. */
export function unsolicitedAdvertisementFrame(ip: string, mac: string): Uint8Array {
  return encodeNdpFrame(multicastMac(ALL_NODES), mac, {
    type: 'na',
    source: ip,
    destination: ALL_NODES,
    hopLimit: NDP_HOP_LIMIT,
    router: false,
    solicited: false,
    override: true,
    target: ip,
    targetLinkLayer: mac,
  });
}
