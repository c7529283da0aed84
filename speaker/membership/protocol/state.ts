import type { MembershipMessage, RejectReason } from '../codec/codec.ts';
import type { MacKey } from '../codec/mac.ts';
import type { MembershipConfig } from './config.ts';

/**
 * The membership protocol's vocabulary: its state, the events the shell feeds `step()` and the
 * actions it asks the shell to carry out (./protocol.ts). Every part of the protocol reads and
 * returns these, so they live apart from all of them.
 */

/** Two clocks: monotonic for timeouts (immune to NTP steps), wall clock for the replay window. */
export interface Now {
  readonly monoMs: number;
  readonly wallMs: number;
}

/**
 * unknown: not heard from since we started or it was (re)listed; left: said goodbye;
 * restarting: said it comes back, its IPs are kept for it until `restartUntilMonoMs`.
 */
export type PeerStatus = 'unknown' | 'alive' | 'dead' | 'left' | 'restarting';

/** Where a peer is reached on the LAN path: one of our interfaces and the peer's MAC there. */
export interface LanPath {
  readonly interface: string;
  readonly mac: string;
}

/** What we last heard from a peer on the LAN path. */
export interface LanContact {
  readonly path: LanPath;
  readonly heardMonoMs: number;
  /** Its last frame was a Claim: it does not hear us on the membership port, so we answer there. */
  readonly wantsLan: boolean;
}

export interface PeerRecord {
  /**
   * In the current peer list. A removed peer's record stays, unlisted, for the replay
   * window, so that re-adding it soon (an API list flapping) does not reset its counters
   * and let an old datagram of it be replayed.
   */
  readonly listed: boolean;
  readonly status: PeerStatus;
  readonly lastHeardMonoMs: number | undefined;
  /** Last datagram accepted on the membership port. */
  readonly udpHeardMonoMs: number | undefined;
  readonly lan: LanContact | undefined;
  /**
   * Highest (incarnation, sequence) accepted, and which of the 64 below it were too: what is
   * older, or seen, is a replay (./replay-window.ts).
   */
  readonly incarnation: bigint | undefined;
  readonly sequence: bigint | undefined;
  readonly seen: bigint;
  readonly changedAtMonoMs: number;
  /** The L2 IPs it last said it answers for; the same array until they change. */
  readonly holdings: readonly string[];
  /** When its last Holdings came (self-stall compensated, as lastHeardMonoMs). */
  readonly holdingsHeardMonoMs: number | undefined;
  /** Restarting: its IPs are kept for it until then (then it has failed). */
  readonly restartUntilMonoMs: number | undefined;
  /** Back from a restart in place: the IPs it held count until its first Holdings or then. */
  readonly resumingUntilMonoMs: number | undefined;
  /** Restarting: when its node last showed it lives (ICMP port unreachable); undefined: not yet. */
  readonly nodeAliveMonoMs: number | undefined;
}

export interface MembershipState {
  readonly config: MembershipConfig;
  /** `config.keys` prepared for signing and verifying (the first signs). */
  readonly macKeys: readonly MacKey[];
  /** Ours; the shell picks one larger than any before (wall clock ms at start). */
  readonly incarnation: bigint;
  readonly nextSequence: bigint;
  readonly startedAtMonoMs: number;
  readonly lastTickMonoMs: number;
  readonly nextHeartbeatMonoMs: number;
  /**
   * True once every peer (at least one) was heard from or `deadAfterMs` passed since start:
   * before that, the alive set is incomplete and announcing from it would grab every IP.
   */
  readonly settled: boolean;
  readonly leaving: boolean;
  readonly peers: ReadonlyMap<string, PeerRecord>; // node name -> record
  /** `interface|mac` → when we last sent a Claim there because of a conflict (bounded). */
  readonly conflictClaims: ReadonlyMap<string, number>;
  /** Interfaces of the LAN paths in use, sorted (the shell keeps them open). */
  readonly lanInterfaces: readonly string[];
  /** Peers heard on the LAN path and not on the membership port, in peer-list order. */
  readonly lanOnly: readonly string[];
  /** The L2 IPs this node answers for, as the shell last set them (canonical text). */
  readonly holdings: readonly string[];
  /** The L2 IPs this node held before it restarted in place, as its peers tell it (Resume). */
  readonly resumed: readonly string[];
  /** `resumed` is forgotten then, unless a Resume repeats it. */
  readonly resumedUntilMonoMs: number;
}

export type MembershipEvent =
  | { readonly type: 'tick' }
  /** `lan` set: it came in an Ethernet frame on that path; unset: on the membership port. */
  | { readonly type: 'datagram'; readonly bytes: Uint8Array; readonly lan?: LanPath }
  /** The L2 responder saw the host with `mac` announce an IP we announce on `interface`. */
  | { readonly type: 'lan-conflict'; readonly interface: string; readonly mac: string }
  | { readonly type: 'set-peers'; readonly names: readonly string[] }
  /** The L2 IPs this node answers for now (at most MAX_HOLDINGS, canonical text). */
  | { readonly type: 'set-holdings'; readonly holdings: readonly string[] }
  | { readonly type: 'leave' }
  /** Stopping to come back: the peers keep our holdings for up to `holdMs`. */
  | { readonly type: 'restart'; readonly holdMs: number }
  /** The node of a restarting peer refused our heartbeat (its kernel lives, its speaker is down). */
  | { readonly type: 'node-alive'; readonly name: string };

export type MembershipAction =
  /** Send these bytes to every peer in the list, alive or not (so returning peers hear us). */
  | { readonly type: 'broadcast'; readonly bytes: Uint8Array }
  /** The alive set changed: sorted node names, this node included. */
  | { readonly type: 'alive-changed'; readonly alive: readonly string[] }
  | { readonly type: 'settled'; readonly alive: readonly string[] }
  /**
   * What the alive and the restarting peers hold changed, or who restarts (comes before the
   * alive-changed or settled of the same step). `restarting`: sorted names of the peers whose
   * IPs are kept for them while they restart (they are not alive).
   */
  | {
      readonly type: 'holdings-changed';
      readonly holdings: PeerHoldings;
      readonly restarting: readonly string[];
    }
  /** What the peers say this node held before its restart in place changed (canonical text). */
  | { readonly type: 'resumed'; readonly holdings: readonly string[] }
  | { readonly type: 'peer-restarting'; readonly name: string; readonly holdMs: number }
  /** `cause` of a restarting peer: its hold ran out, or its node stopped refusing our heartbeats. */
  | {
      readonly type: 'peer-failed';
      readonly name: string;
      readonly silentForMs: number;
      readonly cause?: 'restart-hold-over' | 'node-gone';
    }
  | { readonly type: 'peer-left'; readonly name: string }
  | { readonly type: 'peer-joined'; readonly name: string; readonly incarnation: bigint }
  | { readonly type: 'rejected'; readonly reason: RejectReason; readonly detail: string }
  /** Send these bytes in an Ethernet frame on the path. */
  | { readonly type: 'lan-send'; readonly path: LanPath; readonly bytes: Uint8Array }
  /** Send these bytes in a broadcast frame on every interface the L2 responder has open. */
  | { readonly type: 'lan-broadcast'; readonly bytes: Uint8Array }
  /** The interfaces LAN paths use changed: keep sockets open on these, sorted. */
  | { readonly type: 'lan-interfaces'; readonly interfaces: readonly string[] }
  /**
   * A peer is now heard on the LAN path while silent on the membership port (`path` set), or
   * no longer needs it (undefined): something between us drops membership datagrams.
   */
  | { readonly type: 'lan-only'; readonly name: string; readonly path: LanPath | undefined };

/**
 * Alive or restarting peer name -> the L2 IPs it says it answers for (or held when it stopped to
 * restart); peers holding nothing are left out.
 */
export type PeerHoldings = ReadonlyMap<string, readonly string[]>;

export interface StepResult {
  readonly state: MembershipState;
  readonly actions: readonly MembershipAction[];
}

/** A message that passed every check (./receive.ts), with what the parts need to judge it. */
export interface HeardMessage {
  readonly message: MembershipMessage;
  /** The sender's record before this message. */
  readonly before: PeerRecord;
  /** It came on the LAN path, not on the membership port. */
  readonly onLan: boolean;
  /** A new incarnation of a peer that was restarting in place. */
  readonly reborn: boolean;
  /** Reborn, and we kept IPs for it: back from its restart in place. */
  readonly returned: boolean;
}

/** Whether two lists hold the same strings in the same order (lists are replaced, never edited). */
export function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The state with one peer's record replaced (the peer map is copied, never edited). */
export function withPeer(state: MembershipState, name: string, record: PeerRecord): MembershipState {
  const peers = new Map(state.peers);
  peers.set(name, record);
  return { ...state, peers };
}
