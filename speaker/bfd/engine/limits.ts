import type { ControlPacket } from '../codec/index.ts';

/**
 * The slowest interval a peer may ask of us or announce for itself (µs): one minute, the longest
 * a BFDProfile can set. RFC 5880 puts no upper bound on the 32-bit µs fields, so a peer could
 * otherwise announce 71 minutes per packet and, times a Detect Mult of 255, keep a dead session
 * Up for days, or ask us to fall silent as long. Capped, the Detection Time of any session stays
 * below 255 minutes and we send at least once a minute.
 */
export const MAX_PEER_INTERVAL_US = 60_000_000;

/** Node's longest timer: a longer delay fires after 1 ms (TimeoutOverflowWarning). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** The peer's packet with its two intervals capped at {@link MAX_PEER_INTERVAL_US}; unchanged when within. */
export function capPeerIntervals(packet: ControlPacket): ControlPacket {
  if (packet.desiredMinTxUs <= MAX_PEER_INTERVAL_US && packet.requiredMinRxUs <= MAX_PEER_INTERVAL_US) {
    return packet;
  }
  return {
    ...packet,
    desiredMinTxUs: Math.min(packet.desiredMinTxUs, MAX_PEER_INTERVAL_US),
    requiredMinRxUs: Math.min(packet.requiredMinRxUs, MAX_PEER_INTERVAL_US),
  };
}

/**
 * The whole milliseconds to arm a timer with, for a state-machine delay that may have a
 * fraction: rounded up, so a packet never leaves earlier than the jitter of RFC 5880 §6.8.7
 * allows and a Detection Time never ends early; never negative; at most {@link MAX_TIMER_MS}.
 */
export function timerDelayMs(ms: number): number {
  if (!(ms > 0)) return 0;
  return Math.min(MAX_TIMER_MS, Math.ceil(ms));
}
