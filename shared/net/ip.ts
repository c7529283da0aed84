import { Address4, Address6 } from 'ip-address';

/** Address family in the spelling of the Kubernetes API (`spec.ipFamilies`). */
export type IpFamily = 'IPv4' | 'IPv6';

/** Number of bits in an address of the family. */
export const FAMILY_BITS = { IPv4: 32, IPv6: 128 } as const satisfies Record<IpFamily, number>;

/** An inclusive range of addresses of one family, as integers. */
export interface IpRange {
  readonly family: IpFamily;
  readonly first: bigint;
  readonly last: bigint;
}

/** An address as an integer with its family: the form every IP computation uses. */
export interface IpValue {
  readonly family: IpFamily;
  readonly value: bigint;
}

/** Parses a single address (no prefix length); undefined when it is not one. */
export function parseIp(text: string): IpValue | undefined {
  if (text.includes('/')) return undefined;
  if (Address4.isValid(text)) return { family: 'IPv4', value: new Address4(text).bigInt() };
  if (Address6.isValid(text) && !text.includes('%')) {
    const address = new Address6(text);
    return { family: 'IPv6', value: address.bigInt() };
  }
  return undefined;
}

/**
 * True for a loopback address: 127.0.0.0/8, ::1, or IPv4-mapped 127.0.0.0/8 (::ffff:127.x.y.z).
 * The unspecified addresses (0.0.0.0, ::), which mean "every address" to a listener, are not.
 */
export function isLoopbackIp(text: string): boolean {
  const ip = parseIp(text);
  if (!ip) return false;
  if (ip.family === 'IPv4') return ip.value >> 24n === 127n;
  if (ip.value === 1n) return true;
  return ip.value >> 24n === 0xffff7fn;
}

/** Canonical text of an address: dotted quad, or RFC 5952 for IPv6. */
export function formatIp(ip: IpValue): string {
  return ip.family === 'IPv4'
    ? Address4.fromBigInt(ip.value).address
    : Address6.fromBigInt(ip.value).correctForm();
}

/** Canonical text of an address given as family and integer. */
export function formatIpValue(family: IpFamily, value: bigint): string {
  return formatIp({ family, value });
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; reason: string };

/**
 * Parses a pool entry as MetalLB accepts it: a CIDR (`198.51.100.0/24`) or an inclusive
 * range (`198.51.100.10-198.51.100.20`, both ends of one family, start <= end).
 */
export function parseRangeOrCidr(text: string): ParseResult<IpRange> {
  const trimmed = text.trim();
  if (trimmed.includes('-')) {
    const parts = trimmed.split('-').map((p) => p.trim());
    if (parts.length !== 2) return { ok: false, reason: `"${text}" is not a range "START-END"` };
    const start = parseIp(parts[0] ?? '');
    const end = parseIp(parts[1] ?? '');
    if (!start) return { ok: false, reason: `range start "${parts[0]}" is not an IP address` };
    if (!end) return { ok: false, reason: `range end "${parts[1]}" is not an IP address` };
    if (start.family !== end.family) {
      return { ok: false, reason: `range "${text}" mixes an ${start.family} and an ${end.family} address` };
    }
    if (start.value > end.value) return { ok: false, reason: `range "${text}" starts after it ends` };
    return { ok: true, value: { family: start.family, first: start.value, last: end.value } };
  }
  return parseCidr(trimmed);
}

/** Parses `ADDRESS/LEN`; host bits may be set (MetalLB masks them), the range is the whole network. */
export function parseCidr(text: string): ParseResult<IpRange> {
  const slash = text.indexOf('/');
  if (slash < 0)
    return { ok: false, reason: `"${text}" is neither a CIDR (ADDRESS/LEN) nor a range (START-END)` };
  const ip = parseIp(text.slice(0, slash));
  const lengthText = text.slice(slash + 1);
  if (!ip) return { ok: false, reason: `"${text}" does not start with an IP address` };
  const bits = FAMILY_BITS[ip.family];
  if (!/^\d{1,3}$/.test(lengthText) || Number(lengthText) > bits) {
    return { ok: false, reason: `"${text}" has prefix length "${lengthText}", expected 0 to ${bits}` };
  }
  const length = Number(lengthText);
  const hostBits = BigInt(bits - length);
  const first = (ip.value >> hostBits) << hostBits;
  return { ok: true, value: { family: ip.family, first, last: first + (1n << hostBits) - 1n } };
}

/** Number of addresses in a range, exact. */
export function rangeSize(range: IpRange): bigint {
  return range.last - range.first + 1n;
}

/** Whether two ranges share at least one address. */
export function rangesOverlap(a: IpRange, b: IpRange): boolean {
  return a.family === b.family && a.first <= b.last && b.first <= a.last;
}

/** Whether the range contains the address. */
export function rangeContains(range: IpRange, ip: IpValue): boolean {
  return range.family === ip.family && range.first <= ip.value && ip.value <= range.last;
}

/** Text of a range: a CIDR when it is exactly one, else `FIRST-LAST`. */
export function formatRange(range: IpRange): string {
  const size = rangeSize(range);
  const isPowerOfTwo = (size & (size - 1n)) === 0n;
  if (isPowerOfTwo && range.first % size === 0n) {
    const length = FAMILY_BITS[range.family] - (size.toString(2).length - 1);
    return `${formatIpValue(range.family, range.first)}/${length}`;
  }
  return `${formatIpValue(range.family, range.first)}-${formatIpValue(range.family, range.last)}`;
}
