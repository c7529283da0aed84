import type { SessionStateName } from '../codec/index.ts';

/** A session's state change, as the engine reports it to its clients (BGP, status, metrics). */
export interface BfdTransition {
  /** The session's key (the BGP peer it serves). */
  readonly key: string;
  readonly peerAddress: string;
  readonly from: SessionStateName;
  readonly to: SessionStateName;
  /** bfd.LocalDiag after the change, and its RFC 5880 name. */
  readonly diag: number;
  readonly diagName: string;
  /** The peer's last state: AdminDown means it turned the session off on purpose. */
  readonly remoteState: SessionStateName;
  /** Wall clock, ms since the epoch. */
  readonly atMs: number;
}

/**
 * What a transition means for the protocol BFD protects (RFC 5882): `down` when a session that
 * was Up goes Down for a path failure (Detection Time expired, or the peer said Down); `up` when
 * it comes Up. A peer that goes AdminDown, or our own AdminDown (the session removed), is no
 * failure of the path: the client is told nothing (RFC 5882 §3.2).
 */
export function clientSignal(
  t: Pick<BfdTransition, 'from' | 'to' | 'remoteState'>,
): 'down' | 'up' | undefined {
  if (t.to === 'Up') return 'up';
  if (t.from === 'Up' && t.to === 'Down' && t.remoteState !== 'AdminDown') return 'down';
  return undefined;
}
