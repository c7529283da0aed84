import { WellKnownCommunity } from './constants.ts';
import type { LargeCommunity } from './types.ts';

const WELL_KNOWN_NAMES: Record<string, number> = {
  GRACEFUL_SHUTDOWN: WellKnownCommunity.GracefulShutdown,
  ACCEPT_OWN: WellKnownCommunity.AcceptOwn,
  LLGR_STALE: WellKnownCommunity.LlgrStale,
  NO_LLGR: WellKnownCommunity.NoLlgr,
  BLACKHOLE: WellKnownCommunity.Blackhole,
  NO_EXPORT: WellKnownCommunity.NoExport,
  NO_ADVERTISE: WellKnownCommunity.NoAdvertise,
  NO_EXPORT_SUBCONFED: WellKnownCommunity.NoExportSubconfed,
  NO_PEER: WellKnownCommunity.NoPeer,
};

function u16Part(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const value = Number(text);
  return value <= 0xffff ? value : undefined;
}

function u32Part(text: string): number | undefined {
  if (!/^\d{1,10}$/.test(text)) return undefined;
  const value = Number(text);
  return value <= 0xffffffff ? value : undefined;
}

/**
 * Parses an RFC 1997 community: "AS:VALUE" (two 16-bit numbers) or a well-known name
 * (`NO_EXPORT`, `GRACEFUL_SHUTDOWN`, ...). Returns the 32-bit value or an error text.
 */
export function parseCommunity(text: string): number | string {
  const named = WELL_KNOWN_NAMES[text.trim().toUpperCase().replaceAll('-', '_')];
  if (named !== undefined) return named;
  const parts = text.trim().split(':');
  const high = parts.length === 2 ? u16Part(parts[0]!) : undefined;
  const low = parts.length === 2 ? u16Part(parts[1]!) : undefined;
  if (high === undefined || low === undefined) {
    return `community "${text}" is not "AS:VALUE" with 16-bit numbers or a well-known name`;
  }
  return high * 0x10000 + low;
}

/** Text of a community as "AS:VALUE". */
export function formatCommunity(value: number): string {
  return `${Math.floor(value / 0x10000)}:${value % 0x10000}`;
}

/** Parses an RFC 8092 large community "GLOBAL:LOCAL1:LOCAL2" (32-bit each); error text otherwise. */
export function parseLargeCommunity(text: string): LargeCommunity | string {
  const parts = text.trim().split(':').map(u32Part);
  if (parts.length !== 3 || parts.some((p) => p === undefined)) {
    return `large community "${text}" is not "GLOBAL:LOCAL1:LOCAL2" with 32-bit numbers`;
  }
  return { globalAdmin: parts[0]!, localData1: parts[1]!, localData2: parts[2]! };
}

/** Text of a large community. */
export function formatLargeCommunity(c: LargeCommunity): string {
  return `${c.globalAdmin}:${c.localData1}:${c.localData2}`;
}
