/**
 * Addresses as network-order octets, for the wire codecs (BGP, ARP and NDP frames): dotted-quad
 * and RFC 5952 text to and from bytes, with no integer or object built on the way, as they run
 * per message. Addresses as integers, for arithmetic and configuration, are ./ip.ts.
 */

/**
 * Parses a dotted-quad IPv4 address into out[offset..offset+4]; false when it is not one. Leading
 * zeros are refused (`010` is octal to some parsers, decimal to others).
 */
export function parseIpv4Into(text: string, out: Uint8Array, offset: number): boolean {
  const parts = text.split('.');
  if (parts.length !== 4) return false;
  for (let i = 0; i < 4; i++) {
    const part = parts[i]!;
    if (!/^\d{1,3}$/.test(part) || (part.length > 1 && part[0] === '0')) return false;
    const value = Number(part);
    if (value > 255) return false;
    out[offset + i] = value;
  }
  return true;
}

/** Dotted-quad text of the 4 octets at `offset`. */
export function formatIpv4(bytes: Uint8Array, offset = 0): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

/** RFC 5952 canonical text of the 16 octets at `offset` (see {@link formatIpv6Words}). */
export function formatIpv6(bytes: Uint8Array, offset = 0): string {
  const words: number[] = new Array(8);
  for (let i = 0; i < 8; i++)
    words[i] = ((bytes[offset + 2 * i] ?? 0) << 8) | (bytes[offset + 2 * i + 1] ?? 0);
  return formatIpv6Words(words);
}

/**
 * RFC 5952 canonical text of eight 16-bit groups: lower case, no leading zeros, the longest run of
 * two or more zero groups as `::` (the first of equal runs, §4.2.3).
 */
export function formatIpv6Words(words: readonly number[]): string {
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  // §4.2.2: a single zero group is not compressed.
  if (bestLength < 2) bestStart = -1;
  let text = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      text += i === 0 ? '::' : ':';
      i += bestLength - 1;
      continue;
    }
    text += words[i]!.toString(16);
    if (i < 7) text += ':';
  }
  return text;
}
