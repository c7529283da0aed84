import type { IpFamily } from '../../../shared/net/ip.ts';
import { formatIpv4, formatIpv6, formatIpv6Words, parseIpv4Into } from '../../../shared/net/octets.ts';
import { BgpEncodeError } from './errors.ts';

// Address text to and from octets is shared with the L2 frames (../../../shared/net/octets.ts).
export { formatIpv4, formatIpv6 };

/** Address length in octets per family. */
export const ADDRESS_BYTES = { IPv4: 4, IPv6: 16 } as const satisfies Record<IpFamily, number>;

/** Parses an IPv6 address (RFC 4291 §2.2 text forms, including a trailing dotted quad). */
function parseIpv6Into(text: string, out: Uint8Array, offset: number): boolean {
  if (text.length === 0 || text.length > 45) return false;
  const halves = text.split('::');
  if (halves.length > 2) return false;
  const groupsOf = (part: string): string[] => (part === '' ? [] : part.split(':'));
  const head = groupsOf(halves[0]!);
  const tail = halves.length === 2 ? groupsOf(halves[1]!) : [];
  const words: number[] = [];
  const pushGroups = (groups: string[], target: number[]): boolean => {
    for (let i = 0; i < groups.length; i++) {
      const group = groups[i]!;
      if (i === groups.length - 1 && group.includes('.')) {
        const v4 = new Uint8Array(4);
        if (!parseIpv4Into(group, v4, 0)) return false;
        target.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return false;
      target.push(Number.parseInt(group, 16));
    }
    return true;
  };
  const tailWords: number[] = [];
  if (!pushGroups(head, words)) return false;
  if (halves.length === 2 && head.some((g) => g.includes('.'))) return false;
  if (!pushGroups(tail, tailWords)) return false;
  if (halves.length === 2) {
    const missing = 8 - words.length - tailWords.length;
    if (missing < 1) return false;
    for (let i = 0; i < missing; i++) words.push(0);
  }
  words.push(...tailWords);
  if (words.length !== 8) return false;
  for (let i = 0; i < 8; i++) {
    out[offset + 2 * i] = words[i]! >> 8;
    out[offset + 2 * i + 1] = words[i]! & 0xff;
  }
  return true;
}

/** Parses an IPv4 or IPv6 address to its family and network-order octets; undefined if invalid. */
export function parseAddress(text: string): { family: IpFamily; bytes: Uint8Array } | undefined {
  if (text.includes(':')) {
    const bytes = new Uint8Array(16);
    return parseIpv6Into(text, bytes, 0) ? { family: 'IPv6', bytes } : undefined;
  }
  const bytes = new Uint8Array(4);
  return parseIpv4Into(text, bytes, 0) ? { family: 'IPv4', bytes } : undefined;
}

/** Octets of an address of the given family; throws BgpEncodeError when it is not one. */
export function addressBytes(text: string, family: IpFamily, what: string): Uint8Array {
  const parsed = parseAddress(text);
  if (!parsed || parsed.family !== family) {
    throw new BgpEncodeError(`${what}: "${text}" is not an ${family} address`);
  }
  return parsed.bytes;
}

/** Text of an address of a family from octets. */
export function formatAddress(family: IpFamily, bytes: Uint8Array, offset = 0): string {
  return family === 'IPv4' ? formatIpv4(bytes, offset) : formatIpv6(bytes, offset);
}

/** A prefix parsed for the wire: family, length in bits, and the significant octets. */
export interface WirePrefix {
  readonly family: IpFamily;
  readonly length: number;
  /** The NLRI encoding (RFC 4271 §4.3): length octet then ceil(length / 8) octets. */
  readonly nlri: Uint8Array;
}

/**
 * Parses "ADDR/LEN" into its NLRI encoding. Host bits must be zero so that one prefix has one
 * spelling; throws BgpEncodeError naming the prefix otherwise.
 */
export function parsePrefix(text: string): WirePrefix {
  const slash = text.indexOf('/');
  if (slash < 0) throw new BgpEncodeError(`prefix "${text}": missing "/length"`);
  const address = parseAddress(text.slice(0, slash));
  const lengthText = text.slice(slash + 1);
  if (!address) throw new BgpEncodeError(`prefix "${text}": "${text.slice(0, slash)}" is not an IP address`);
  const maxBits = address.bytes.length * 8;
  if (!/^\d{1,3}$/.test(lengthText) || Number(lengthText) > maxBits) {
    throw new BgpEncodeError(`prefix "${text}": length must be 0..${maxBits}`);
  }
  const length = Number(lengthText);
  const octets = (length + 7) >> 3;
  for (let i = 0; i < address.bytes.length; i++) {
    const keepBits = Math.max(0, Math.min(8, length - 8 * i));
    const mask = keepBits === 0 ? 0 : (0xff << (8 - keepBits)) & 0xff;
    if ((address.bytes[i]! & ~mask & 0xff) !== 0) {
      throw new BgpEncodeError(`prefix "${text}": host bits are set (not a network address)`);
    }
  }
  const nlri = new Uint8Array(1 + octets);
  nlri[0] = length;
  nlri.set(address.bytes.subarray(0, octets), 1);
  return { family: address.family, length, nlri };
}

/**
 * Octet `i` of a prefix of `length` bits whose significant octets start at `offset`: bits beyond
 * the length read as 0, and octets beyond them are not read (they belong to the next prefix).
 */
function prefixOctet(bytes: Uint8Array, offset: number, i: number, length: number): number {
  const bits = length - 8 * i;
  if (bits <= 0) return 0;
  const value = bytes[offset + i]!;
  return bits >= 8 ? value : value & (0xff << (8 - bits)) & 0xff;
}

/** Canonical text of a prefix from its NLRI parts; bits beyond `length` are ignored. */
export function formatPrefix(family: IpFamily, length: number, bytes: Uint8Array, offset: number): string {
  if (family === 'IPv4') {
    const a = prefixOctet(bytes, offset, 0, length);
    const b = prefixOctet(bytes, offset, 1, length);
    const c = prefixOctet(bytes, offset, 2, length);
    return `${a}.${b}.${c}.${prefixOctet(bytes, offset, 3, length)}/${length}`;
  }
  const words: number[] = new Array(8);
  for (let i = 0; i < 8; i++) {
    words[i] =
      (prefixOctet(bytes, offset, 2 * i, length) << 8) | prefixOctet(bytes, offset, 2 * i + 1, length);
  }
  return `${formatIpv6Words(words)}/${length}`;
}
