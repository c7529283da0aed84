import { decodeMessage, encodeMessage, type MembershipMessage, type RejectReason } from '../codec/codec.ts';
import { type MacKey, macKeys } from '../codec/mac.ts';
import type { MembershipConfig } from './config.ts';
import { accept, isFresh, NO_REPLAY_STATE } from './replay-window.ts';

/**
 * The membership protocol as a pure state machine: every speaker sends a signed heartbeat
 * to every peer each `heartbeatIntervalMs`, and declares a peer dead after `deadAfterMs`
 * of silence (a timeout detector; why not SWIM or phi-accrual: docs/adr/0002-membership.md).
 * The shell feeds it datagrams and timer ticks and carries out its actions.
 *
 * The LAN path (docs/adr/0009-membership-cut-lan-path.md): speakers that share a LAN but not the
 * membership port (a firewall rule, a wrong interface) would each elect owners from a
 * different alive set and answer ARP for the same IPs. When a peer falls silent we
 * broadcast a Claim in an Ethernet frame on the LAN; when the L2 responder sees another
 * host announce an IP we announce (`lan-conflict`), we send that host one. A speaker that
 * hears a peer only there keeps heartbeating it there, so both count each other alive and
 * elect the same owner for every IP. Nothing is sent on the LAN path while the membership
 * port works.
 *
 * Holdings (docs/adr/0012-l2-sticky-owner.md): a speaker that answers for L2 IPs says which,
 * in a Holdings message sent just before each heartbeat and at once when they change, so that
 * every speaker elects the same owner and a returning node does not take an IP away from its
 * live owner. A peer's holdings count while it is alive and for `deadAfterMs` after the last;
 * heard on the port again after it failed, only what it says again counts.
 *
 * Restart in place (docs/adr/0013-l2-restart-in-place.md): a speaker that stops to come back
 * (SIGTERM of a rolling restart) sends Restarting with its holdings and a hold time instead of
 * Leave. Its peers keep its IPs for it — no takeover, no ranking for them — until it is back or
 * the hold (capped by `maxRestartHoldMs`) runs out; then it fails as a silent peer does. Back
 * with a new incarnation, it keeps them for `resumeGraceMs` or until its first Holdings, and
 * the peers tell it which they were (Resume), so that its first plan takes them again. While it
 * restarts, its node's kernel answers our heartbeats with ICMP port unreachable (`node-alive`,
 * from the shell); once seen, `restartEvidenceMs` without it means the node itself is gone.
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

/** Conflicts answered with a Claim: at most this many (interface, MAC) pairs remembered. */
const MAX_CONFLICT_CLAIMS = 64;

/**
 * The largest message sent on the LAN path: the payload of one Ethernet frame at the standard
 * MTU (a packet socket refuses a larger frame). Holdings of about 80 IPv6 or 270 IPv4 addresses.
 */
export const LAN_MAX_MESSAGE_BYTES = 1500;

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

/**
 * A fresh speaker with its peer list (node names; this node is skipped): no peer heard yet,
 * the first tick sends a heartbeat.
 */
export function initialState(
  config: MembershipConfig,
  incarnation: bigint,
  peerNames: readonly string[],
  now: Now,
): MembershipState {
  const empty: MembershipState = {
    config,
    macKeys: macKeys(config.keys),
    incarnation,
    nextSequence: 1n,
    startedAtMonoMs: now.monoMs,
    lastTickMonoMs: now.monoMs,
    nextHeartbeatMonoMs: now.monoMs,
    settled: false,
    leaving: false,
    peers: new Map(),
    conflictClaims: new Map(),
    lanInterfaces: [],
    lanOnly: [],
    holdings: [],
    resumed: [],
    resumedUntilMonoMs: now.monoMs,
  };
  return onSetPeers(empty, peerNames, now);
}

/** Sorted names of the alive members, this node first among equals (always alive to itself). */
export function aliveMembers(state: MembershipState): string[] {
  const alive = [state.config.nodeName];
  for (const [name, peer] of state.peers) if (peer.listed && peer.status === 'alive') alive.push(name);
  return alive.sort();
}

/**
 * Whether a peer's holdings count: it is listed and alive, or it restarts in place (listed or not:
 * during a rolling update its Pod may be gone from the API until the new one runs).
 */
function holdingsCount(peer: PeerRecord | undefined): boolean {
  if (peer === undefined || peer.holdings.length === 0) return false;
  return peer.status === 'restarting' || (peer.listed && peer.status === 'alive');
}

/** What the listed, alive peers hold now, and what is kept for the restarting ones. */
export function peerHoldings(state: MembershipState): Map<string, readonly string[]> {
  const out = new Map<string, readonly string[]>();
  for (const [name, peer] of state.peers) if (holdingsCount(peer)) out.set(name, peer.holdings);
  return out;
}

/** Sorted names of the peers restarting in place (their IPs kept for them; not alive). */
export function restartingPeers(state: MembershipState): string[] {
  const out: string[] = [];
  for (const [name, peer] of state.peers) if (peer.status === 'restarting') out.push(name);
  return out.sort();
}

/** Whether the peer holdings differ (arrays are replaced only when their content changes). */
function holdingsMoved(before: MembershipState, after: MembershipState): boolean {
  if (before.peers === after.peers) return false;
  if (!sameList(restartingPeers(before), restartingPeers(after))) return true;
  const counted = holdingsCount;
  for (const [name, peer] of after.peers) {
    const old = before.peers.get(name);
    if (counted(peer) !== counted(old)) return true;
    if (counted(peer) && peer.holdings !== old!.holdings) return true;
  }
  for (const [name, old] of before.peers) if (counted(old) && !after.peers.has(name)) return true;
  return false;
}

/** Advances the protocol by one event. Never throws on network input. */
export function step(state: MembershipState, event: MembershipEvent, now: Now): StepResult {
  // Conflicts come per frame, as fast as a LAN host sends them: the repeats cost nothing.
  if (event.type === 'lan-conflict' && claimedRecently(state, event, now)) return { state, actions: [] };
  const before = aliveMembers(state);
  const actions: MembershipAction[] = [];
  let next: MembershipState;
  switch (event.type) {
    case 'tick':
      next = onTick(state, now, actions);
      break;
    case 'datagram':
      next = onDatagram(state, event.bytes, event.lan, now, actions);
      break;
    case 'lan-conflict':
      next = onConflict(state, { interface: event.interface, mac: event.mac }, now, actions);
      break;
    case 'set-peers':
      next = onSetPeers(state, event.names, now);
      break;
    case 'set-holdings':
      next = onSetHoldings(state, event.holdings, now, actions);
      break;
    case 'leave':
      next = onLeave(state, now, actions);
      break;
    case 'restart':
      next = onRestart(state, event.holdMs, now, actions);
      break;
    case 'node-alive':
      next = onNodeAlive(state, event.name, now);
      break;
  }
  if (holdingsMoved(state, next)) {
    actions.push({
      type: 'holdings-changed',
      holdings: peerHoldings(next),
      restarting: restartingPeers(next),
    });
  }
  next = settle(next, now, actions);
  next = trackLanPaths(next, now, actions);
  const after = aliveMembers(next);
  if (state.settled && (before.length !== after.length || before.some((name, i) => name !== after[i]))) {
    actions.push({ type: 'alive-changed', alive: after });
  }
  return { state: next, actions };
}

/** The peer talks to us on the LAN path and has been heard there recently. */
function lanFresh(peer: PeerRecord, now: Now, deadAfterMs: number): peer is PeerRecord & { lan: LanContact } {
  return peer.lan !== undefined && now.monoMs - peer.lan.heardMonoMs <= deadAfterMs;
}

/** Nothing from the peer on the membership port for half the dead time (a few heartbeats). */
function udpSilent(peer: PeerRecord, now: Now, deadAfterMs: number): boolean {
  return peer.udpHeardMonoMs === undefined || now.monoMs - peer.udpHeardMonoMs > deadAfterMs / 2;
}

/** The peers we talk to on the LAN path: heard there lately, and silent on the port or asking. */
function lanPeers(state: MembershipState, now: Now): (PeerRecord & { lan: LanContact })[] {
  const { deadAfterMs } = state.config;
  return [...state.peers.values()].filter(
    (peer): peer is PeerRecord & { lan: LanContact } =>
      peer.listed &&
      lanFresh(peer, now, deadAfterMs) &&
      (udpSilent(peer, now, deadAfterMs) || peer.lan.wantsLan),
  );
}

/**
 * Signs one message per LAN path in use: a Claim to a peer we do not hear on the membership
 * port, a Heartbeat (or a Leave) to one that asked for it; each takes its own sequence number.
 * Each Claim or Heartbeat there follows our Holdings, empty ones too (so a lost one is repaired
 * at the next beat): a peer that hears us only there must elect from what we hold now, not from
 * what it heard before the port was blocked (see {@link sendHoldingsOnLan}).
 */
function sendOnLan(
  state: MembershipState,
  type: 'Heartbeat' | 'Leave',
  now: Now,
  actions: MembershipAction[],
): MembershipState {
  let next = state;
  for (const peer of state.peers.values()) {
    if (!peer.listed || !lanFresh(peer, now, state.config.deadAfterMs)) continue;
    const silent = udpSilent(peer, now, state.config.deadAfterMs);
    if (type === 'Heartbeat' && !silent && !peer.lan.wantsLan) continue;
    if (type === 'Heartbeat') next = sendHoldingsOnLan(next, [peer], now, actions);
    const kind = type === 'Heartbeat' && silent ? 'Claim' : type;
    actions.push({ type: 'lan-send', path: peer.lan.path, bytes: sign(next, kind, now) });
    next = { ...next, nextSequence: next.nextSequence + 1n };
  }
  return next;
}

/**
 * Our Holdings to `peers` on their LAN paths. Without them a port block could leave two owners
 * for its whole length: the side that took the other for dead for the moment before the LAN
 * path answered may have taken an IP the other holds (it ranks first, the other held it since a
 * failover), keeps it once the other is alive again (both hold it, it ranks first), while the
 * other, never told, keeps it too. A message that does not fit in one frame is not sent: the peer
 * keeps what it heard before (docs/adr/0012-l2-sticky-owner.md, Limits).
 */
function sendHoldingsOnLan(
  state: MembershipState,
  peers: readonly (PeerRecord & { lan: LanContact })[],
  now: Now,
  actions: MembershipAction[],
): MembershipState {
  let next = state;
  for (const peer of peers) {
    const bytes = sign(next, 'Holdings', now);
    if (bytes.length > LAN_MAX_MESSAGE_BYTES) return next;
    actions.push({ type: 'lan-send', path: peer.lan.path, bytes });
    next = { ...next, nextSequence: next.nextSequence + 1n };
  }
  return next;
}

/** The body fields of Restarting and Resume (Holdings takes ours from the state). */
type Body = Pick<MembershipMessage, 'holdings' | 'holdMs' | 'subject'>;

function sign(
  state: MembershipState,
  type: MembershipMessage['type'],
  now: Now,
  body: Body = {},
): Uint8Array {
  const message = {
    type,
    sender: state.config.nodeName,
    incarnation: state.incarnation,
    sequence: state.nextSequence,
    sentAtMs: Math.max(0, Math.floor(now.wallMs)),
    ...(type === 'Holdings' ? { holdings: state.holdings } : body),
  };
  return encodeMessage(message, state.macKeys[0]!);
}

/** Broadcasts one signed message (every peer hears it; only the port, not the LAN path). */
function broadcastSigned(
  state: MembershipState,
  type: MembershipMessage['type'],
  now: Now,
  actions: MembershipAction[],
  body: Body = {},
): MembershipState {
  actions.push({ type: 'broadcast', bytes: sign(state, type, now, body) });
  return { ...state, nextSequence: state.nextSequence + 1n };
}

/** Broadcasts our holdings on the membership port (not on the LAN path: see the ADR). */
function sendHoldings(state: MembershipState, now: Now, actions: MembershipAction[]): MembershipState {
  return broadcastSigned(state, 'Holdings', now, actions);
}

/**
 * New holdings go out at once, so that the peers learn a takeover (or a withdrawal) within
 * one datagram; while not empty they are repeated before every heartbeat.
 */
function onSetHoldings(
  state: MembershipState,
  holdings: readonly string[],
  now: Now,
  actions: MembershipAction[],
): MembershipState {
  if (sameList(holdings, state.holdings)) return state;
  const next = { ...state, holdings: [...holdings] };
  if (state.leaving) return next;
  return sendHoldingsOnLan(sendHoldings(next, now, actions), lanPeers(next, now), now, actions);
}

function onTick(state: MembershipState, now: Now, actions: MembershipAction[]): MembershipState {
  const { tickMs, heartbeatIntervalMs, deadAfterMs, maxClockSkewMs } = state.config;
  // A tick far later than scheduled means this process was not running (GC, a busy core,
  // a stopped VM): datagrams that arrived meanwhile are still queued behind this timer, so
  // the time we slept must not count as the peers' silence.
  const gapMs = now.monoMs - state.lastTickMonoMs;
  const sleptMs = gapMs > 2 * tickMs ? gapMs - tickMs : 0;
  const peers = new Map<string, PeerRecord>();
  let failed = false;
  for (const [name, peer] of state.peers) {
    if (!peer.listed) {
      // A restarting peer's Pod may be gone from the API until its new one runs: the hold stands.
      const record = peer.status === 'restarting' ? endRestart(state, peer, name, now, actions) : peer;
      if (record.status === 'restarting' || now.monoMs - record.changedAtMonoMs <= 2 * maxClockSkewMs)
        peers.set(name, record);
      failed ||= record !== peer;
      continue;
    }
    let record = peer;
    if (sleptMs > 0 && record.lastHeardMonoMs !== undefined) {
      record = { ...record, lastHeardMonoMs: Math.min(now.monoMs, record.lastHeardMonoMs + sleptMs) };
    }
    if (sleptMs > 0 && record.nodeAliveMonoMs !== undefined) {
      record = { ...record, nodeAliveMonoMs: Math.min(now.monoMs, record.nodeAliveMonoMs + sleptMs) };
    }
    if (sleptMs > 0 && record.holdingsHeardMonoMs !== undefined) {
      const heard = Math.min(now.monoMs, record.holdingsHeardMonoMs + sleptMs);
      record = { ...record, holdingsHeardMonoMs: heard };
    }
    // A withdrawal whose one Holdings datagram was lost must not keep the IP claimed for ever: a
    // peer that went on talking on the port for a dead time without saying what it holds holds
    // nothing. A peer silent on the port keeps what it last said: if it is heard on the LAN path
    // (the port blocked; Holdings do not travel there), both sides of the block must go on
    // deciding from the same holdings, or each keeps its own IPs while the other ranks them.
    const saidNothingFor = (record.udpHeardMonoMs ?? 0) - (record.holdingsHeardMonoMs ?? now.monoMs);
    if (record.resumingUntilMonoMs !== undefined) {
      // Back from a restart in place: what it held stands until it says what it holds, a while.
      if (now.monoMs >= record.resumingUntilMonoMs)
        record = { ...record, holdings: [], resumingUntilMonoMs: undefined };
    } else if (record.holdings.length > 0 && saidNothingFor > deadAfterMs) {
      record = { ...record, holdings: [] };
    }
    if (record.status === 'restarting') {
      const ended = endRestart(state, record, name, now, actions);
      failed ||= ended !== record;
      record = ended;
    }
    const silentForMs = now.monoMs - (record.lastHeardMonoMs ?? now.monoMs);
    if (record.status === 'alive' && silentForMs > deadAfterMs) {
      record = { ...record, status: 'dead', changedAtMonoMs: now.monoMs };
      actions.push({ type: 'peer-failed', name, silentForMs });
      failed = true;
    }
    // Once any datagram of a gone peer's last incarnation is outside the replay window,
    // its counters are no longer needed, and forgetting them lets it rejoin even with a
    // smaller incarnation (its clock went backwards across the restart).
    if (
      (record.status === 'dead' || record.status === 'left') &&
      record.incarnation !== undefined &&
      now.monoMs - record.changedAtMonoMs > 2 * maxClockSkewMs
    ) {
      record = { ...record, ...NO_REPLAY_STATE };
    }
    peers.set(name, record);
  }
  let next: MembershipState = { ...state, peers, lastTickMonoMs: now.monoMs };
  if (next.resumed.length > 0 && now.monoMs >= next.resumedUntilMonoMs) {
    next = { ...next, resumed: [] };
    actions.push({ type: 'resumed', holdings: [] });
  }
  if (failed && !state.leaving) {
    // Dead, or only cut off the membership port while still on our LAN? A speaker that hears
    // this answers on the LAN path, and is alive again before anyone takes its IPs for long.
    actions.push({ type: 'lan-broadcast', bytes: sign(next, 'Claim', now) });
    next = { ...next, nextSequence: next.nextSequence + 1n };
  }
  if (!state.leaving && now.monoMs >= state.nextHeartbeatMonoMs) {
    // Holdings first: a peer that starts listening hears them before it settles on our heartbeat.
    if (next.holdings.length > 0) next = sendHoldings(next, now, actions);
    // A peer back from a restart in place hears what it held until it says what it holds.
    for (const [name, peer] of next.peers) {
      if (peer.listed && peer.resumingUntilMonoMs !== undefined)
        next = sendResume(next, name, peer, now, actions);
    }
    actions.push({ type: 'broadcast', bytes: sign(next, 'Heartbeat', now) });
    // After a stall send one heartbeat, not a burst, and keep the rhythm from now.
    const due = state.nextHeartbeatMonoMs + heartbeatIntervalMs;
    next = {
      ...next,
      nextSequence: next.nextSequence + 1n,
      nextHeartbeatMonoMs: due > now.monoMs ? due : now.monoMs + heartbeatIntervalMs,
    };
    next = sendOnLan(next, 'Heartbeat', now, actions);
  }
  return next;
}

/**
 * Another host announces an IP we announce on `path.interface`: perhaps a speaker that
 * cannot hear us on the membership port and took our IPs over. Send it a Claim on the LAN
 * path, at most once a heartbeat interval per (interface, MAC); a speaker answers there and
 * from then on both count each other alive. A host that is no speaker drops the frame.
 */
function onConflict(
  state: MembershipState,
  path: LanPath,
  now: Now,
  actions: MembershipAction[],
): MembershipState {
  if (state.leaving) return state;
  const key = `${path.interface}|${path.mac}`;
  const last = state.conflictClaims.get(key);
  if (last !== undefined && now.monoMs - last < state.config.heartbeatIntervalMs) return state;
  actions.push({ type: 'lan-send', path, bytes: sign(state, 'Claim', now) });
  const claims = new Map(state.conflictClaims);
  claims.delete(key);
  claims.set(key, now.monoMs);
  // Conflicting MACs are whatever a LAN host puts in its frames: remember only the newest.
  while (claims.size > MAX_CONFLICT_CLAIMS) claims.delete(claims.keys().next().value as string);
  return { ...state, nextSequence: state.nextSequence + 1n, conflictClaims: claims };
}

function claimedRecently(state: MembershipState, path: LanPath, now: Now): boolean {
  const last = state.conflictClaims.get(`${path.interface}|${path.mac}`);
  return last !== undefined && now.monoMs - last < state.config.heartbeatIntervalMs;
}

/** Reports the interfaces LAN paths use and the peers heard only on the LAN path, when they change. */
function trackLanPaths(state: MembershipState, now: Now, actions: MembershipAction[]): MembershipState {
  const { deadAfterMs } = state.config;
  const fresh = [...state.peers].filter(([, peer]) => peer.listed && lanFresh(peer, now, deadAfterMs));
  const lanOnly = fresh.filter(([, peer]) => udpSilent(peer, now, deadAfterMs)).map(([name]) => name);
  const interfaces = [...new Set(fresh.map(([, peer]) => peer.lan!.path.interface))].sort();
  let next = state;
  if (!sameList(lanOnly, state.lanOnly)) {
    for (const name of lanOnly) {
      if (!state.lanOnly.includes(name))
        actions.push({ type: 'lan-only', name, path: state.peers.get(name)!.lan!.path });
    }
    for (const name of state.lanOnly)
      if (!lanOnly.includes(name)) actions.push({ type: 'lan-only', name, path: undefined });
    next = { ...next, lanOnly };
  }
  if (!sameList(interfaces, state.lanInterfaces)) {
    actions.push({ type: 'lan-interfaces', interfaces });
    next = { ...next, lanInterfaces: interfaces };
  }
  return next;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function onDatagram(
  state: MembershipState,
  bytes: Uint8Array,
  lan: LanPath | undefined,
  now: Now,
  actions: MembershipAction[],
): MembershipState {
  const reject = (reason: RejectReason, detail: string): MembershipState => {
    actions.push({ type: 'rejected', reason, detail });
    return state;
  };
  // A frame may be padded to the Ethernet minimum; a UDP datagram is exactly the message.
  const decoded = decodeMessage(bytes, state.macKeys, lan === undefined);
  if (!decoded.ok) return reject(decoded.reason, decoded.detail);
  const message = decoded.message;
  if (message.sender === state.config.nodeName) {
    return reject(
      'self',
      `a message claims to come from this node (${message.sender}): reflected, or a duplicate node name`,
    );
  }
  const peer = state.peers.get(message.sender);
  if (!peer?.listed) return reject('unknown-sender', `${message.sender} is not in the peer list`);
  const skewMs = now.wallMs - message.sentAtMs;
  if (Math.abs(skewMs) > state.config.maxClockSkewMs) {
    return reject('stale', `${message.sender} sent at ${message.sentAtMs}, ${skewMs} ms from our clock`);
  }
  if (!isFresh(peer, message.incarnation, message.sequence)) {
    return reject(
      'replay',
      `${message.sender} incarnation ${message.incarnation} sequence ${message.sequence} was seen, or is older than ${peer.incarnation}/${peer.sequence} allows`,
    );
  }
  if (message.type === 'Claim' && lan === undefined) {
    return reject(
      'malformed',
      `${message.sender} sent a Claim on the membership port; it belongs on the LAN path`,
    );
  }
  let record: PeerRecord = {
    ...peer,
    lastHeardMonoMs: now.monoMs,
    ...accept(peer, message.incarnation, message.sequence),
    ...(lan
      ? { lan: { path: lan, heardMonoMs: now.monoMs, wantsLan: wantsLan(peer, message.type) } }
      : { udpHeardMonoMs: now.monoMs }),
  };
  // A new incarnation of a restarting peer; back from its restart in place, holding something.
  const reborn = peer.status === 'restarting' && message.incarnation !== peer.incarnation;
  const returned = reborn && peer.holdings.length > 0;
  // Heard on the port again after it failed (a cut cable, a long stall) or was listed anew: a
  // holder repeats its Holdings before every heartbeat, so what it held before says nothing about
  // now. Counted, a returning node that let its IPs go while cut off (the split-brain guard; its
  // "now empty" Holdings lost on the cut) is a second holder, the ranking prefers it, and the
  // node that took over hands the IP back: one more flip, the requests in flight reset. Heard
  // again only on the LAN path (the port blocked), it keeps them: Holdings do not travel there,
  // and both sides of the block must decide from the same holdings (docs/adr/0012).
  const revived = lan === undefined && (peer.status === 'dead' || peer.status === 'unknown');
  if (message.type === 'Holdings' || message.type === 'Restarting') {
    const holdings = message.holdings ?? [];
    record = {
      ...record,
      holdingsHeardMonoMs: now.monoMs,
      holdings: sameList(holdings, peer.holdings) ? peer.holdings : holdings,
      resumingUntilMonoMs: undefined,
    };
  } else if (returned && message.type !== 'Leave') {
    // Back from a restart in place: what it held is kept for it until it says what it holds.
    const until = now.monoMs + state.config.resumeGraceMs;
    record = { ...record, holdingsHeardMonoMs: now.monoMs, resumingUntilMonoMs: until };
  } else if (message.type === 'Leave' || message.incarnation !== peer.incarnation || revived) {
    // Gone, restarted or back: what it held before says nothing about what it holds now.
    record = { ...record, holdings: [], resumingUntilMonoMs: undefined };
  }
  if (message.type === 'Leave') {
    if (record.status !== 'left') {
      record = { ...record, status: 'left', changedAtMonoMs: now.monoMs, restartUntilMonoMs: undefined };
      actions.push({ type: 'peer-left', name: message.sender });
    }
  } else if (message.type === 'Restarting') {
    // (A new incarnation restarting again before we heard it otherwise starts a new hold.)
    if (record.status !== 'restarting' || reborn) {
      const holdMs = Math.min(message.holdMs ?? 0, state.config.maxRestartHoldMs);
      const until = now.monoMs + holdMs;
      record = {
        ...record,
        status: 'restarting',
        changedAtMonoMs: now.monoMs,
        restartUntilMonoMs: until,
        nodeAliveMonoMs: undefined,
      };
      actions.push({ type: 'peer-restarting', name: message.sender, holdMs });
    }
  } else if (record.status !== 'alive') {
    record = {
      ...record,
      status: 'alive',
      changedAtMonoMs: now.monoMs,
      restartUntilMonoMs: undefined,
      nodeAliveMonoMs: undefined,
    };
    actions.push({ type: 'peer-joined', name: message.sender, incarnation: message.incarnation });
  }
  const peers = new Map(state.peers);
  peers.set(message.sender, record);
  let next: MembershipState = { ...state, peers };
  // Heard on the LAN path anew (the port blocked): what we hold goes there at once, not a beat later.
  if (lan && !state.leaving && !lanFresh(peer, now, state.config.deadAfterMs)) {
    next = sendHoldingsOnLan(
      next,
      lanPeers(next, now).filter((p) => p === record),
      now,
      actions,
    );
  }
  if (message.type === 'Resume') next = onResume(next, message, now, actions);
  // Tell it at once what it held, so that its first plan can take it again.
  if (record.resumingUntilMonoMs !== undefined && returned) {
    next = sendResume(next, message.sender, record, now, actions);
  }
  return next;
}

/**
 * Whether a peer asks to be answered on the LAN path, after a frame of `type` from it: a Claim
 * asks, a Heartbeat says it hears us on the port; Holdings, which go before either, say nothing.
 */
function wantsLan(peer: PeerRecord, type: MembershipMessage['type']): boolean {
  return type === 'Claim' || (type === 'Holdings' && (peer.lan?.wantsLan ?? false));
}

/**
 * A restarting peer whose hold ran out, or whose node stopped refusing our heartbeats (it did,
 * so the probe works on this network, and now nothing answers: the node is gone), has failed,
 * as a silent peer past the dead time has.
 */
function endRestart(
  state: MembershipState,
  peer: PeerRecord,
  name: string,
  now: Now,
  actions: MembershipAction[],
): PeerRecord {
  const held = peer.restartUntilMonoMs !== undefined && now.monoMs < peer.restartUntilMonoMs;
  const nodeLives =
    peer.nodeAliveMonoMs === undefined || now.monoMs - peer.nodeAliveMonoMs <= state.config.restartEvidenceMs;
  if (held && nodeLives) return peer;
  const silentForMs = now.monoMs - (peer.lastHeardMonoMs ?? now.monoMs);
  actions.push({
    type: 'peer-failed',
    name,
    silentForMs,
    cause: nodeLives ? 'restart-hold-over' : 'node-gone',
  });
  return {
    ...peer,
    status: 'dead',
    changedAtMonoMs: now.monoMs,
    holdings: [],
    restartUntilMonoMs: undefined,
    nodeAliveMonoMs: undefined,
  };
}

/** The node of a restarting peer refused a heartbeat of ours: it lives, only its speaker is down. */
function onNodeAlive(state: MembershipState, name: string, now: Now): MembershipState {
  const peer = state.peers.get(name);
  if (peer?.status !== 'restarting') return state;
  const peers = new Map(state.peers);
  peers.set(name, { ...peer, nodeAliveMonoMs: now.monoMs });
  return { ...state, peers };
}

/** Tells every peer (only `name` uses it) which IPs `name` held before its restart in place. */
function sendResume(
  state: MembershipState,
  name: string,
  peer: PeerRecord,
  now: Now,
  actions: MembershipAction[],
): MembershipState {
  return broadcastSigned(state, 'Resume', now, actions, { subject: name, holdings: peer.holdings });
}

/**
 * A peer says which IPs this node held before it restarted in place: remembered for
 * `resumeGraceMs` (repeated while the peer keeps them for us), for the plans to take them again.
 * One about another node is none of ours.
 */
function onResume(
  state: MembershipState,
  message: MembershipMessage,
  now: Now,
  actions: MembershipAction[],
): MembershipState {
  if (message.subject !== state.config.nodeName || state.leaving) return state;
  const merged = [...new Set([...state.resumed, ...(message.holdings ?? [])])];
  const next = { ...state, resumedUntilMonoMs: now.monoMs + state.config.resumeGraceMs };
  if (sameList(merged, state.resumed)) return next;
  actions.push({ type: 'resumed', holdings: merged });
  return { ...next, resumed: merged };
}

function onSetPeers(state: MembershipState, names: readonly string[], now: Now): MembershipState {
  const wanted = new Set(names.filter((name) => name !== state.config.nodeName));
  const peers = new Map<string, PeerRecord>();
  for (const [name, record] of state.peers) {
    if (wanted.has(name) === record.listed) peers.set(name, record);
    else if (record.listed) peers.set(name, { ...record, listed: false, changedAtMonoMs: now.monoMs });
    // Back in the list: its replay counters stand, its liveness must be heard anew (a restarting
    // peer's hold stands: its new Pod is listed before its new speaker talks).
    else if (record.status === 'restarting') peers.set(name, { ...record, listed: true });
    else
      peers.set(name, {
        ...record,
        listed: true,
        status: 'unknown',
        lastHeardMonoMs: undefined,
        changedAtMonoMs: now.monoMs,
      });
  }
  for (const name of wanted) if (!peers.has(name)) peers.set(name, newPeer(now));
  return { ...state, peers };
}

function newPeer(now: Now): PeerRecord {
  return {
    listed: true,
    status: 'unknown',
    lastHeardMonoMs: undefined,
    udpHeardMonoMs: undefined,
    lan: undefined,
    ...NO_REPLAY_STATE,
    changedAtMonoMs: now.monoMs,
    holdings: [],
    holdingsHeardMonoMs: undefined,
    restartUntilMonoMs: undefined,
    resumingUntilMonoMs: undefined,
    nodeAliveMonoMs: undefined,
  };
}

function onLeave(state: MembershipState, now: Now, actions: MembershipAction[]): MembershipState {
  if (state.leaving) return state;
  let next = state;
  for (let i = 0; i < state.config.leaveRepeats; i++) {
    actions.push({ type: 'broadcast', bytes: sign(next, 'Leave', now) });
    next = { ...next, nextSequence: next.nextSequence + 1n };
    next = sendOnLan(next, 'Leave', now, actions);
  }
  return { ...next, leaving: true };
}

/**
 * Stopping to come back: Restarting (our holdings and the hold time) goes out a few times, then
 * we are silent as after a Leave. Only on the port: a peer that hears us only on the LAN path
 * takes our IPs over after the dead time, as after a crash.
 */
function onRestart(
  state: MembershipState,
  holdMs: number,
  now: Now,
  actions: MembershipAction[],
): MembershipState {
  if (state.leaving) return state;
  let next = state;
  for (let i = 0; i < state.config.leaveRepeats; i++) {
    next = broadcastSigned(next, 'Restarting', now, actions, { holdMs, holdings: state.holdings });
  }
  return { ...next, leaving: true };
}

function settle(state: MembershipState, now: Now, actions: MembershipAction[]): MembershipState {
  if (state.settled) return state;
  // An empty list at start usually means "not known yet" (the API not read), not "alone".
  const listed = [...state.peers.values()].filter((peer) => peer.listed);
  const heardAll = listed.length > 0 && listed.every((peer) => peer.status !== 'unknown');
  if (!heardAll && now.monoMs - state.startedAtMonoMs < state.config.deadAfterMs) return state;
  const next = { ...state, settled: true };
  actions.push({ type: 'settled', alive: aliveMembers(next) });
  return next;
}
