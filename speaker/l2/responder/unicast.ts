/**
 * Address classes the responder refuses to answer (./responder.ts). Text in, boolean out:
 * the frames module hands over canonical lower-case text (formatMac, formatIpv4, formatIpv6).
 */

/** A MAC an answer may be addressed to: not broadcast, not multicast (I/G bit), not all-zero. */
export function isUnicastMac(mac: string): boolean {
  const first = Number.parseInt(mac.slice(0, 2), 16);
  return (first & 1) === 0 && mac !== '00:00:00:00:00:00';
}

/**
 * An IPv4 ARP sender that may be answered: not multicast (224/4), not the limited broadcast,
 * not loopback (127/8, a martian on the wire). 0.0.0.0 (an RFC 5227 probe) is allowed.
 */
export function isUnicastIpv4Sender(ip: string): boolean {
  const first = Number.parseInt(ip, 10);
  return !(first >= 224 && first <= 239) && ip !== '255.255.255.255' && first !== 127;
}

/** An NS source RFC 4861 §7.1.1 accepts: unicast or the unspecified address, never multicast (ff00::/8). */
export function isUnicastOrUnspecifiedIpv6(ip: string): boolean {
  // Canonical text: a multicast address's first group is ffXX, four digits (`ff::1` is 00ff::1).
  return !/^ff[0-9a-f]{2}:/.test(ip);
}
