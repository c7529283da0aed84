import { clientSignal } from '../../speaker/bfd/engine/client.ts';

/** Flaps seen in speakers' log output (pino JSON lines). */
export interface FlapCount {
  /** BFD sessions that went from Up to Down for a path failure. */
  readonly bfdDowns: number;
  /** BGP sessions our side reset because BFD said the path failed (RFC 9384). */
  readonly bgpResets: number;
}

/**
 * Counts the flaps in speaker log text. A BFD session taken down on purpose is not a flap: the
 * remote side's AdminDown (RFC 5880 §6.8.6; the router reconfigured or stopped its session) is
 * logged as Up -> Down like a failure, but the speaker's BGP ignores it (RFC 5882 §3.2,
 * speaker/bfd/engine/client.ts), and so does this count; a local AdminDown or a BGP session
 * closed with a Cease NOTIFICATION is no "BFD session down" nor a bfd-down reset. Lines that are
 * not JSON (a crash's stack trace) are skipped.
 */
export function countFlaps(logText: string): FlapCount {
  let bfdDowns = 0;
  let bgpResets = 0;
  for (const line of logText.split('\n')) {
    if (!line.startsWith('{')) continue;
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (entry.msg === 'BFD session down') {
      const transition = {
        from: entry.from as never,
        to: entry.to as never,
        remoteState: entry.remoteState as never,
      };
      if (clientSignal(transition) === 'down') bfdDowns++;
    } else if (entry.msg === 'BGP session reset' && entry.cause === 'bfd-down') {
      bgpResets++;
    }
  }
  return { bfdDowns, bgpResets };
}
