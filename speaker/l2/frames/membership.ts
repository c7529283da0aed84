import { formatMac } from './addr.ts';
import { ETHERNET_HEADER_BYTES, EtherType, encodeEthernet } from './ethernet.ts';

/**
 * Membership datagrams carried in Ethernet frames, for when speakers share the LAN but not
 * the membership port (speaker/membership: the LAN path). The payload is a membership
 * message as on UDP, signed the same way; the frame adds nothing but its addresses and the
 * EtherType (IEEE 802 Local Experimental 1, which no public protocol uses). A frame padded
 * to the Ethernet minimum carries trailing zeros the membership codec ignores.
 */
export const MEMBERSHIP_ETHERTYPE = EtherType.LocalExperimental1;

/** A received membership frame: who sent it, to whom, and the message bytes (a view, no copy). */
export interface MembershipFrame {
  readonly destination: string;
  readonly source: string;
  readonly payload: Uint8Array;
}

/** The frame carrying `payload` from `source` to `destination` (MACs). */
export function encodeMembershipFrame(destination: string, source: string, payload: Uint8Array): Uint8Array {
  return encodeEthernet({ destination, source, etherType: MEMBERSHIP_ETHERTYPE, payload });
}

/** The membership frame in `bytes`, or undefined when it is not one. Never throws. */
export function decodeMembershipFrame(bytes: Uint8Array): MembershipFrame | undefined {
  if (bytes.length <= ETHERNET_HEADER_BYTES) return undefined;
  if (((bytes[12]! << 8) | bytes[13]!) !== MEMBERSHIP_ETHERTYPE) return undefined;
  return {
    destination: formatMac(bytes, 0),
    source: formatMac(bytes, 6),
    payload: bytes.subarray(ETHERNET_HEADER_BYTES),
  };
}
