import { expireHoldings } from './holdings.ts';
import { NO_REPLAY_STATE } from './replay-window.ts';
import { endRestart } from './restart.ts';
import type { HeardMessage, MembershipAction, MembershipState, Now, PeerRecord } from './state.ts';

/**
 * Who is alive (docs/adr/0002-membership.md): a timeout detector. A peer heard from is alive; one
 * silent for `deadAfterMs` is dead; Leave makes it left and Restarting restarting
 * (./restart.ts). Time is the shell's: a tick far later than scheduled is our own stall, not
 * the peers' silence. Until every peer was heard from (or the dead time passed) the alive set
 * is incomplete and the protocol is not `settled`.
 */

/** Sorted names of the alive members, this node first among equals (always alive to itself). */
export function aliveMembers(state: MembershipState): string[] {
  const alive = [state.config.nodeName];
  for (const [name, peer] of state.peers) if (peer.listed && peer.status === 'alive') alive.push(name);
  return alive.sort();
}

/**
 * A tick far later than scheduled means this process was not running (GC, a busy core, a stopped
 * VM): datagrams that arrived meanwhile are still queued behind this timer, so the time we slept
 * must not count as the peers' silence. Returns how long that was (0: on time).
 */
function sleptMs(state: MembershipState, now: Now): number {
  const gapMs = now.monoMs - state.lastTickMonoMs;
  return gapMs > 2 * state.config.tickMs ? gapMs - state.config.tickMs : 0;
}

/** Moves what we last heard from a peer later by the time we slept (never past now). */
function stallCompensated(record: PeerRecord, slept: number, now: Now): PeerRecord {
  if (slept === 0) return record;
  const later = (ms: number | undefined) => (ms === undefined ? undefined : Math.min(now.monoMs, ms + slept));
  return {
    ...record,
    lastHeardMonoMs: later(record.lastHeardMonoMs),
    nodeAliveMonoMs: later(record.nodeAliveMonoMs),
    holdingsHeardMonoMs: later(record.holdingsHeardMonoMs),
  };
}

/**
 * The tick's pass over the peers: what no longer counts is forgotten, silent peers fail, restart
 * holds end, unlisted records are dropped once the replay window no longer needs them.
 * `failed`: some peer failed in this tick (the caller Claims on the LAN path).
 */
export function agePeers(
  state: MembershipState,
  now: Now,
  actions: MembershipAction[],
): { peers: Map<string, PeerRecord>; failed: boolean } {
  const { deadAfterMs, maxClockSkewMs } = state.config;
  const slept = sleptMs(state, now);
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
    let record = expireHoldings(stallCompensated(peer, slept, now), now, deadAfterMs);
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
  return { peers, failed };
}

/**
 * What a message says of its sender's liveness: Leave, it left; Restarting, its IPs are kept for
 * it for the hold it asks (capped); anything else, it is alive.
 */
export function statusHeard(
  record: PeerRecord,
  heard: HeardMessage,
  now: Now,
  maxRestartHoldMs: number,
  actions: MembershipAction[],
): PeerRecord {
  const { message } = heard;
  if (message.type === 'Leave') {
    if (record.status === 'left') return record;
    actions.push({ type: 'peer-left', name: message.sender });
    return { ...record, status: 'left', changedAtMonoMs: now.monoMs, restartUntilMonoMs: undefined };
  }
  if (message.type === 'Restarting') {
    // (A new incarnation restarting again before we heard it otherwise starts a new hold.)
    if (record.status === 'restarting' && !heard.reborn) return record;
    const holdMs = Math.min(message.holdMs ?? 0, maxRestartHoldMs);
    actions.push({ type: 'peer-restarting', name: message.sender, holdMs });
    return {
      ...record,
      status: 'restarting',
      changedAtMonoMs: now.monoMs,
      restartUntilMonoMs: now.monoMs + holdMs,
      nodeAliveMonoMs: undefined,
    };
  }
  if (record.status === 'alive') return record;
  actions.push({ type: 'peer-joined', name: message.sender, incarnation: message.incarnation });
  return {
    ...record,
    status: 'alive',
    changedAtMonoMs: now.monoMs,
    restartUntilMonoMs: undefined,
    nodeAliveMonoMs: undefined,
  };
}

/**
 * Settled once every listed peer (at least one) was heard from, or `deadAfterMs` passed since
 * start: before that, the alive set is incomplete and announcing from it would grab every IP.
 */
export function settle(state: MembershipState, now: Now, actions: MembershipAction[]): MembershipState {
  if (state.settled) return state;
  // An empty list at start usually means "not known yet" (the API not read), not "alone".
  const listed = [...state.peers.values()].filter((peer) => peer.listed);
  const heardAll = listed.length > 0 && listed.every((peer) => peer.status !== 'unknown');
  if (!heardAll && now.monoMs - state.startedAtMonoMs < state.config.deadAfterMs) return state;
  const next = { ...state, settled: true };
  actions.push({ type: 'settled', alive: aliveMembers(next) });
  return next;
}
