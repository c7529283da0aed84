import type { IpFamily } from '../../../shared/net/ip.ts';
import { formatPrefix, parsePrefix } from './address.ts';
import { ByteWriter } from './byte-writer.ts';
import { Afi } from './constants.ts';
import { BgpEncodeError } from './errors.ts';

/** Family of an AFI this codec carries, or undefined. */
export function afiFamily(afi: number): IpFamily | undefined {
  return afi === Afi.Ipv4 ? 'IPv4' : afi === Afi.Ipv6 ? 'IPv6' : undefined;
}

/** NLRI bytes of a list of prefixes of one family (RFC 4271 §4.3, RFC 4760 §5). */
export function encodePrefixes(prefixes: readonly string[], family: IpFamily, what: string): Uint8Array {
  const out = new ByteWriter(prefixes.length * 9 + 1);
  for (const text of prefixes) {
    const prefix = parsePrefix(text);
    if (prefix.family !== family) throw new BgpEncodeError(`${what}: "${text}" is not ${family}`);
    out.bytes(prefix.nlri);
  }
  return out.finish();
}

/**
 * Decodes a run of NLRI prefixes (RFC 4271 §4.3): the prefixes, or the text of what is wrong
 * (the caller knows which NOTIFICATION that field's error is).
 */
export function decodePrefixes(bytes: Uint8Array, family: IpFamily): string[] | { readonly error: string } {
  const maxBits = family === 'IPv4' ? 32 : 128;
  const prefixes: string[] = [];
  // A prefix spelled like the one before it reuses its text: a field of one repeated prefix
  // (the most prefixes a message holds) costs a comparison each, not a formatting.
  let previous = -1;
  let previousText = '';
  let at = 0;
  while (at < bytes.length) {
    const length = bytes[at]!;
    if (length > maxBits) return { error: `prefix length ${length} exceeds ${maxBits}` };
    const octets = (length + 7) >> 3;
    if (at + 1 + octets > bytes.length) return { error: `prefix /${length} runs past the field` };
    if (previous < 0 || !sameOctets(bytes, previous, at, octets + 1)) {
      previousText = formatPrefix(family, length, bytes, at + 1);
    }
    prefixes.push(previousText);
    previous = at;
    at += 1 + octets;
  }
  return prefixes;
}

function sameOctets(bytes: Uint8Array, a: number, b: number, count: number): boolean {
  for (let i = 0; i < count; i++) if (bytes[a + i] !== bytes[b + i]) return false;
  return true;
}
