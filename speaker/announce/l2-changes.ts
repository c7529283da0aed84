import type { L2Announcement } from './types.ts';

/** What the shell must do to its L2 announcements to go from what it announces to a plan. */
export interface L2Changes {
  /** IPs announced now that the plan no longer has, in the order they were announced. */
  readonly withdraw: readonly string[];
  /** New IPs, and IPs whose interfaces changed (announcing again replaces the interfaces), in plan order. */
  readonly announce: readonly L2Announcement[];
}

/** How an IP's interfaces are remembered: the list joined; empty means every interface. */
export function interfacesKey(interfaces: readonly string[]): string {
  return interfaces.join(',');
}

/**
 * The L2 counterpart of peerChanges: `announced` (IP -> interfacesKey of what is announced now)
 * against the plan's announcements. An IP announced on the same interfaces is left alone, so
 * re-applying a plan sends nothing.
 */
export function l2Changes(
  announced: ReadonlyMap<string, string>,
  desired: readonly L2Announcement[],
): L2Changes {
  const wanted = new Map(desired.map((a) => [a.ip, a])); // IP -> announcement
  return {
    withdraw: [...announced.keys()].filter((ip) => !wanted.has(ip)),
    announce: [...wanted.values()].filter((a) => announced.get(a.ip) !== interfacesKey(a.interfaces)),
  };
}
