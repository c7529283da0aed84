import type { BgpCommunity } from './types.ts';

/**
 * BGP community values as MetalLB writes them: standard `AA:NN` (RFC 1997, two 16-bit
 * halves) and large `large:GLOBAL:LOCAL1:LOCAL2` (RFC 8092, three 32-bit numbers).
 */

export type CommunityParse = { ok: true; value: BgpCommunity } | { ok: false; reason: string };

const UINT = /^[0-9]+$/;

function uint(text: string, max: number): number | undefined {
  if (!UINT.test(text) || text.length > 10) return undefined;
  const n = Number(text);
  return n <= max ? n : undefined;
}

/** Whether the text is written as a value (contains ':') rather than a Community alias name. */
export function looksLikeCommunityValue(text: string): boolean {
  return text.includes(':');
}

/** Parses a community value; the reason says what is wrong in plain words. */
export function parseCommunity(text: string): CommunityParse {
  const parts = text.split(':');
  if (parts[0] === 'large') {
    if (parts.length !== 4) {
      return { ok: false, reason: `"${text}" is not a large community: expected large:GLOBAL:LOCAL1:LOCAL2` };
    }
    const [g, l1, l2] = parts.slice(1).map((p) => uint(p, 0xffff_ffff));
    if (g === undefined || l1 === undefined || l2 === undefined) {
      return {
        ok: false,
        reason: `"${text}" is not a large community: each part must be a number from 0 to 4294967295`,
      };
    }
    return {
      ok: true,
      value: {
        kind: 'large',
        globalAdmin: g,
        localData1: l1,
        localData2: l2,
        text: `large:${g}:${l1}:${l2}`,
      },
    };
  }
  if (parts.length !== 2) {
    return {
      ok: false,
      reason: `"${text}" is not a community: expected AA:NN or large:GLOBAL:LOCAL1:LOCAL2`,
    };
  }
  const high = uint(parts[0] ?? '', 0xffff);
  const low = uint(parts[1] ?? '', 0xffff);
  if (high === undefined || low === undefined) {
    return {
      ok: false,
      reason: `"${text}" is not a standard community: both halves must be numbers from 0 to 65535`,
    };
  }
  return { ok: true, value: { kind: 'standard', value: high * 0x10000 + low, text: `${high}:${low}` } };
}
