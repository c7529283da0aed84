/**
 * Replay protection per peer, as IPsec's anti-replay window (RFC 4303 §3.4.3): the highest
 * (incarnation, sequence) accepted, and which of the 64 sequence numbers below it were
 * accepted too. A datagram is fresh if its sequence is above the highest, or within the
 * window and not seen yet: a peer's messages may arrive out of order — over two paths (the
 * membership port and the LAN path), or reordered on one — and each is accepted once.
 */
export const REPLAY_WINDOW = 64n;
const MASK = (1n << REPLAY_WINDOW) - 1n;

/** What a peer record keeps for replay protection. */
export interface ReplayState {
  readonly incarnation: bigint | undefined;
  /** The highest sequence accepted in `incarnation`. */
  readonly sequence: bigint | undefined;
  /** Bit i set: sequence − i was accepted (bit 0 is `sequence` itself). */
  readonly seen: bigint;
}

/** Nothing accepted yet (or forgotten). */
export const NO_REPLAY_STATE: ReplayState = { incarnation: undefined, sequence: undefined, seen: 0n };

/** Whether (incarnation, sequence) may be accepted: not seen, not older than the window, not an older incarnation. */
export function isFresh(state: ReplayState, incarnation: bigint, sequence: bigint): boolean {
  if (state.incarnation === undefined || state.sequence === undefined) return true;
  if (incarnation !== state.incarnation) return incarnation > state.incarnation;
  if (sequence > state.sequence) return true;
  const age = state.sequence - sequence;
  return age < REPLAY_WINDOW && ((state.seen >> age) & 1n) === 0n;
}

/** The state after accepting (incarnation, sequence), which {@link isFresh} allowed. */
export function accept(state: ReplayState, incarnation: bigint, sequence: bigint): ReplayState {
  if (state.incarnation !== incarnation || state.sequence === undefined) {
    return { incarnation, sequence, seen: 1n };
  }
  if (sequence > state.sequence) {
    const shift = sequence - state.sequence;
    const seen = shift >= REPLAY_WINDOW ? 1n : ((state.seen << shift) | 1n) & MASK;
    return { incarnation, sequence, seen };
  }
  return { ...state, seen: state.seen | (1n << (state.sequence - sequence)) };
}
