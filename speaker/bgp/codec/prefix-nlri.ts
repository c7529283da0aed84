/**
 * Prefix text to NLRI octets (RFC 4271 §4.3) with no allocation: the bulk path (RIB-out packing,
 * announce lists). The speaker ships with V8's optimizing compilers off (`--lite-mode`), so
 * what a string split, a regular expression (interpreted there) or a small array costs per
 * prefix is paid in full for each of 100,000 prefixes; this reads character codes and writes
 * octets into the caller's buffer, with as few interpreter steps per character as it can.
 *
 * It handles the spellings prefixes are written in: dotted-quad IPv4 and IPv6 hex groups with
 * at most one "::" (no embedded dotted quad). For any other text, every invalid one included,
 * it returns -1 and the caller falls back to `parsePrefix` (address.ts), the reference, which
 * takes the rare spellings and names what is wrong. Whatever this accepts, `parsePrefix`
 * accepts with the same octets (prefix-nlri.test.ts checks it on random texts).
 */

/** Most octets one prefix takes in NLRI: the length octet and 16 address octets. */
export const MAX_PREFIX_NLRI_OCTETS = 17;

/**
 * Character code → hex value 0..15, 16 for ":", 17 for "/", 18 for "."; -1 for other ASCII
 * (codes past 127 read as undefined, which every test below also refuses). A constant table:
 * one load per character instead of a chain of comparisons.
 */
const CHAR_CLASS = charClasses();

function charClasses(): Int8Array {
  const table = new Int8Array(128).fill(-1);
  for (let c = 0; c < 10; c++) table[48 + c] = c; // "0".."9"
  for (let c = 0; c < 6; c++) {
    table[65 + c] = 10 + c; // "A".."F"
    table[97 + c] = 10 + c; // "a".."f"
  }
  table[58] = 16;
  table[47] = 17;
  table[46] = 18;
  return table;
}

// Other character codes are literals too (a module constant costs a context load per use in
// V8's interpreter): 58 ":", 47 "/", 46 ".", 48 "0".

/**
 * Writes the NLRI encoding of the prefix spelled by `text[start, end)` at `out[at]`: the length
 * octet, then ceil(length / 8) octets. Returns how many octets that is, or -1 when the text is
 * not a prefix in one of the spellings above (nothing is promised about `out` then). It may
 * write up to {@link MAX_PREFIX_NLRI_OCTETS} octets from `at`, past the ones it returns.
 */
export function writePrefixNlri(
  text: string,
  start: number,
  end: number,
  out: Uint8Array,
  at: number,
): number {
  // The first group, read as hex; its separator decides the family, as `parseAddress` decides
  // by the presence of ":" (the IPv4 reader refuses a ":" after a ".").
  const classes = CHAR_CLASS;
  let value = 0;
  for (let i = start; i < end; i++) {
    const k = classes[text.charCodeAt(i)]!;
    if (k < 16) {
      if (k < 0) return -1;
      value = (value << 4) | k;
      continue;
    }
    if (i - start > 4) return -1;
    if (k === 16) return writeIpv6(text, i, end, out, at, value, i - start);
    if (k === 18) return writeIpv4(text, start, end, out, at);
    return -1;
  }
  return -1;
}

/** Dotted quad, then "/" and the length: each part 0..255 without leading zeros, as parseIpv4Into. */
function writeIpv4(text: string, start: number, end: number, out: Uint8Array, at: number): number {
  let part = 0;
  let value = 0;
  let digits = 0;
  let i = start;
  for (; i < end; i++) {
    const c = text.charCodeAt(i);
    const d = c - 48;
    if (d >= 0 && d <= 9) {
      if (digits > 0 && value === 0) return -1; // a leading zero
      value = value * 10 + d;
      if (++digits > 3 || value > 255) return -1;
    } else if (c === 46 || c === 47) {
      if (digits === 0) return -1;
      out[at + 1 + part] = value;
      part++;
      value = 0;
      digits = 0;
      if (c === 47) break;
      if (part === 4) return -1;
    } else {
      return -1;
    }
  }
  if (part !== 4) return -1; // fewer parts, or no "/"
  const length = readLength(text, i + 1, end, 32);
  if (length < 0 || !hostBitsClear(out, at + 1, length, 4)) return -1;
  out[at] = length;
  return 1 + ((length + 7) >> 3);
}

/**
 * IPv6 hex groups from the first ":" at `i` (`value` and `digits`: the group before it, none
 * when the text starts with "::"), then "/" and the length. Groups are written in order at
 * their places; with a "::" the groups after it are moved to the end and the gap zeroed once
 * the count is known. A group's digits are counted when it ends, not one by one.
 */
function writeIpv6(
  text: string,
  i: number,
  end: number,
  out: Uint8Array,
  at: number,
  value: number,
  digits: number,
): number {
  const classes = CHAR_CLASS;
  const base = at + 1;
  let count = 0; // groups written
  let gap = -1; // group index where "::" stands
  let groupStart = i - digits; // where the digits of the group being read start
  if (digits === 0) {
    if (i + 1 >= end || text.charCodeAt(i + 1) !== 58) return -1;
    gap = 0;
    i += 2;
    groupStart = i;
  }
  for (; i < end; i++) {
    const k = classes[text.charCodeAt(i)]!;
    if (k < 16) {
      if (k < 0) return -1;
      value = (value << 4) | k;
      continue;
    }
    if (k !== 16) break;
    digits = i - groupStart;
    if (digits === 0 || digits > 4 || count === 8) return -1; // an empty group, a long one, a ninth
    out[base + 2 * count] = value >> 8;
    out[base + 2 * count + 1] = value & 0xff;
    count++;
    value = 0;
    if (i + 1 < end && text.charCodeAt(i + 1) === 58) {
      if (gap >= 0) return -1; // a second "::"
      gap = count;
      i++;
    }
    groupStart = i + 1;
  }
  if (i >= end || text.charCodeAt(i) !== 47) return -1; // no "/", or a "." (a dotted quad)
  digits = i - groupStart;
  if (digits > 4) return -1;
  if (digits > 0) {
    if (count === 8) return -1;
    out[base + 2 * count] = value >> 8;
    out[base + 2 * count + 1] = value & 0xff;
    count++;
  } else if (gap !== count) {
    return -1; // ends in a single ":"
  }
  const length = readLength(text, i + 1, end, 128);
  if (length < 0) return -1;
  const octets = (length + 7) >> 3;
  if (gap < 0) {
    if (count !== 8 || !hostBitsClear(out, base, length, 16)) return -1;
  } else if (gap === count) {
    // "::" at the end: the gap is zero, so only the groups written can hold host bits, and
    // only the octets of the gap inside the NLRI need writing.
    if (count === 8 || !hostBitsClear(out, base, length, 2 * count)) return -1;
    for (let k = 2 * count; k < octets; k++) out[base + k] = 0;
  } else {
    const missing = 8 - count;
    if (missing < 1) return -1; // "::" must stand for at least one group
    for (let k = 2 * count - 1; k >= 2 * gap; k--) out[base + k + 2 * missing] = out[base + k]!;
    for (let k = 2 * gap; k < 2 * (gap + missing); k++) out[base + k] = 0;
    if (!hostBitsClear(out, base, length, 16)) return -1;
  }
  out[at] = length;
  return 1 + octets;
}

/** The length after "/": one to three digits, at most `maxBits`; -1 otherwise. */
function readLength(text: string, start: number, end: number, maxBits: number): number {
  const digits = end - start;
  if (digits < 1 || digits > 3) return -1;
  let length = 0;
  for (let i = start; i < end; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    length = length * 10 + d;
  }
  return length > maxBits ? -1 : length;
}

/**
 * Whether no bit past `length` is set in the address octets at `base` before `limit` (those
 * from `limit` on are zero): a prefix has one spelling, its host bits zero.
 */
function hostBitsClear(out: Uint8Array, base: number, length: number, limit: number): boolean {
  let k = length >> 3;
  if (k < limit && (out[base + k]! & (0xff >> (length & 7))) !== 0) return false;
  for (k++; k < limit; k++) if (out[base + k] !== 0) return false;
  return true;
}
