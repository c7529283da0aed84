import type { LanPath } from '../protocol/protocol.ts';

/**
 * Membership's view of the LAN path's wire: the L2 packet worker on the same thread sends
 * and receives the frames (speaker/network-thread/lan-link.ts joins the two). Absent when
 * membership runs without it (tests, benchmarks): there is then no LAN path.
 */
export interface LanPort {
  /** Sends a membership message in a frame on `path`; false when no socket is open there. */
  send(path: LanPath, bytes: Uint8Array): boolean;
  /** Broadcasts a membership message on every interface with an open socket. */
  broadcast(bytes: Uint8Array): void;
  /** Keeps sockets open on these interfaces (the LAN paths in use), announced there or not. */
  pin(interfaces: readonly string[]): void;
  /** Where membership frames and conflicts seen on the wire go from now on; undefined: nowhere. */
  listen(receiver: LanReceiver | undefined): void;
}

/** What the wire hands membership. */
export interface LanReceiver {
  /** A membership frame addressed to us (or to everyone) arrived on `iface` from `mac`. */
  frame(iface: string, mac: string, payload: Uint8Array): void;
  /** The host with `mac` announces `ip`, which we announce on `iface`. */
  conflict(iface: string, ip: string, mac: string): void;
}
