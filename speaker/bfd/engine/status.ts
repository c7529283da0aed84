import type { DropReason, SessionStateName } from '../codec/index.ts';

/**
 * Why a datagram was dropped: a reason of RFC 5880 §6.8.6 (the codec's), or `internal-error`
 * (a fault of ours while handling it; the datagram is dropped, the session keeps running).
 */
export type EngineDropReason = DropReason | 'internal-error';

/** reason → datagrams dropped for it */
export type DropCounts = Partial<Record<EngineDropReason, number>>;

/** One session as it is now: what status, metrics and `metalbeacon status` read. */
export interface BfdSessionStatus {
  readonly key: string;
  readonly peerAddress: string;
  /** Our address of the session; undefined until the route to the peer chose one. */
  readonly localAddress: string | undefined;
  readonly multihop: boolean;
  readonly state: SessionStateName;
  readonly remoteState: SessionStateName;
  /** bfd.LocalDiag and the peer's last diag, with their RFC 5880 names. */
  readonly localDiag: number;
  readonly localDiagName: string;
  readonly remoteDiag: number;
  readonly localDiscriminator: number;
  readonly remoteDiscriminator: number;
  /** The interval we send at now (RFC 5880 §6.8.2), ms; 0 while nothing is sent. */
  readonly transmitIntervalMs: number;
  /** The peer's Detection Time (RFC 5880 §6.8.4), ms; 0 until it has spoken. */
  readonly detectionTimeMs: number;
  /** Wall clock of the last state change, ms since the epoch. */
  readonly sinceMs: number;
  /** State changes since the session was created. */
  readonly transitions: number;
  /** Times the session went from Up to Down for a path failure (flaps). */
  readonly downs: number;
  readonly packetsSent: number;
  readonly packetsReceived: number;
  /** Datagrams that reached this session and were dropped (the TTL rule). */
  readonly packetsDropped: DropCounts;
  /** Packets the kernel refused to send (no route, link down). */
  readonly sendErrors: number;
  /** Why the session cannot send or receive right now (retried every second); undefined when it can. */
  readonly problem: string | undefined;
}

/** Everything the engine runs, and what it dropped without a session to charge it to. */
export interface BfdSnapshot {
  /** Sorted by key. */
  readonly sessions: readonly BfdSessionStatus[];
  readonly dropped: DropCounts;
}

/** Adds one to a drop count. */
export function countDrop(counts: DropCounts, reason: EngineDropReason): void {
  counts[reason] = (counts[reason] ?? 0) + 1;
}
