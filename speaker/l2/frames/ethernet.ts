import { formatMac, macBytes } from './addr.ts';
import { type Decoded, FrameErrorCode, fail, ok } from './result.ts';

/** EtherType values (IEEE 802.3; IANA registry). */
export const EtherType = {
  Ipv4: 0x0800,
  Arp: 0x0806,
  Vlan: 0x8100,
  Ipv6: 0x86dd,
  /** IEEE Std 802 Local Experimental EtherType 1: for protocols private to one network (ours: membership). */
  LocalExperimental1: 0x88b5,
} as const;

/** Destination, source and EtherType. */
export const ETHERNET_HEADER_BYTES = 14;
/** Minimum Ethernet frame without FCS: shorter frames are padded with zeros (IEEE 802.3). */
export const MIN_FRAME_BYTES = 60;

/** An Ethernet II frame. `payload` may carry trailing padding after decode. */
export interface EthernetFrame {
  readonly destination: string;
  readonly source: string;
  readonly etherType: number;
  readonly payload: Uint8Array;
}

/** Encodes an Ethernet II frame, zero-padded to 60 bytes. */
export function encodeEthernet(frame: EthernetFrame): Uint8Array {
  const length = Math.max(MIN_FRAME_BYTES, ETHERNET_HEADER_BYTES + frame.payload.length);
  const bytes = new Uint8Array(length);
  bytes.set(macBytes(frame.destination, 'ethernet destination'), 0);
  bytes.set(macBytes(frame.source, 'ethernet source'), 6);
  bytes[12] = frame.etherType >> 8;
  bytes[13] = frame.etherType & 0xff;
  bytes.set(frame.payload, ETHERNET_HEADER_BYTES);
  return bytes;
}

/** Decodes an Ethernet II header; the payload is a view into `bytes` (no copy). */
export function decodeEthernet(bytes: Uint8Array): Decoded<EthernetFrame> {
  if (bytes.length < ETHERNET_HEADER_BYTES) {
    return fail(FrameErrorCode.Truncated, `ethernet frame: ${bytes.length} bytes, the header needs 14`);
  }
  return ok({
    destination: formatMac(bytes, 0),
    source: formatMac(bytes, 6),
    etherType: (bytes[12]! << 8) | bytes[13]!,
    payload: bytes.subarray(ETHERNET_HEADER_BYTES),
  });
}
