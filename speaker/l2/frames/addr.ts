import { parseIp } from '../../../shared/net/ip.ts';
import { formatIpv4, formatIpv6, parseIpv4Into } from '../../../shared/net/octets.ts';

// Address text to and from octets is shared with the BGP codec (../../../shared/net/octets.ts).
export { formatIpv4, formatIpv6 };

/** Ethernet broadcast address. */
export const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff';
/** All-zero MAC: the "unknown" target hardware address of ARP requests (RFC 826). */
export const ZERO_MAC = '00:00:00:00:00:00';
/** IPv6 all-nodes multicast (RFC 4291 §2.7.1), where DAD answers and unsolicited NAs go. */
export const ALL_NODES = 'ff02::1';
/** The unspecified IPv6 address, source of DAD probes (RFC 4862 §5.4.2). */
export const UNSPECIFIED_IPV6 = '::';

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** `aa:bb:cc:dd:ee:ff` → 6 bytes; undefined if not a MAC address. */
export function parseMac(text: string): Uint8Array | undefined {
  const parts = text.split(':');
  if (parts.length !== 6) return undefined;
  const bytes = new Uint8Array(6);
  for (let i = 0; i < 6; i++) {
    const part = parts[i] ?? '';
    if (!/^[0-9a-fA-F]{1,2}$/.test(part)) return undefined;
    bytes[i] = Number.parseInt(part, 16);
  }
  return bytes;
}

/** Six bytes at `offset` → lower-case `aa:bb:cc:dd:ee:ff`. */
export function formatMac(bytes: Uint8Array, offset = 0): string {
  let text = HEX[bytes[offset] ?? 0]!;
  for (let i = 1; i < 6; i++) text += `:${HEX[bytes[offset + i] ?? 0]!}`;
  return text;
}

/** Dotted quad → 4 bytes; undefined if not an IPv4 address. */
export function parseIpv4(text: string): Uint8Array | undefined {
  const bytes = new Uint8Array(4);
  return parseIpv4Into(text, bytes, 0) ? bytes : undefined;
}

/** IPv6 text (any valid form, no zone) → 16 bytes; undefined if not an IPv6 address. */
export function parseIpv6(text: string): Uint8Array | undefined {
  const ip = parseIp(text);
  if (ip?.family !== 'IPv6') return undefined;
  const bytes = new Uint8Array(16);
  let value = ip.value;
  for (let i = 15; i >= 0; i--) {
    bytes[i] = Number(value & 0xffn);
    value >>= 8n;
  }
  return bytes;
}

/** Canonical text of an IPv4 or IPv6 address, or undefined if the text is neither. */
export function canonicalIp(text: string): { family: 4 | 6; text: string } | undefined {
  const v4 = parseIpv4(text);
  if (v4) return { family: 4, text: formatIpv4(v4) };
  const v6 = parseIpv6(text);
  if (v6) return { family: 6, text: formatIpv6(v6) };
  return undefined;
}

/** Solicited-node multicast address of an IPv6 address: ff02::1:ffXX:XXXX (RFC 4291 §2.7.1). */
export function solicitedNodeAddress(ipv6: string): string {
  const bytes = parseIpv6(ipv6);
  if (!bytes) throw new TypeError(`solicitedNodeAddress: "${ipv6}" is not an IPv6 address`);
  const group = new Uint8Array(16);
  group.set([0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff]);
  group.set(bytes.subarray(13), 13);
  return formatIpv6(group);
}

/** Ethernet MAC of an IPv6 multicast group: 33:33 + its low 32 bits (RFC 2464 §7). */
export function multicastMac(ipv6Group: string): string {
  const bytes = parseIpv6(ipv6Group);
  if (!bytes) throw new TypeError(`multicastMac: "${ipv6Group}" is not an IPv6 address`);
  const mac = new Uint8Array([0x33, 0x33, 0, 0, 0, 0]);
  mac.set(bytes.subarray(12), 2);
  return formatMac(mac);
}

/** Converts text known to be valid (checked earlier) to bytes, or throws a TypeError naming `what`. */
export function macBytes(text: string, what: string): Uint8Array {
  const bytes = parseMac(text);
  if (!bytes) throw new TypeError(`${what}: "${text}" is not a MAC address`);
  return bytes;
}
