import type { MembershipMessage } from '../codec/codec.ts';
import { broadcastSigned } from './send.ts';
import {
  type MembershipAction,
  type MembershipState,
  type Now,
  type PeerRecord,
  sameList,
  withPeer,
} from './state.ts';

/**
 * Restart in place (docs/adr/0013-l2-restart-in-place.md): a speaker that stops to come back
 * (SIGTERM of a rolling restart) sends Restarting with its holdings and a hold time instead of
 * Leave. Its peers keep its IPs for it — no takeover, no ranking for them — until it is back or
 * the hold (capped by `maxRestartHoldMs`) runs out; then it fails as a silent peer does. Back
 * with a new incarnation, it keeps them for `resumeGraceMs` or until its first Holdings, and
 * the peers tell it which they were (Resume), so that its first plan takes them again. While it
 * restarts, its node's kernel answers our heartbeats with ICMP port unreachable (`node-alive`,
 * from the shell); once seen, `restartEvidenceMs` without it means the node itself is gone.
 * This file holds both sides: the one that restarts and the peers that wait for it.
 */

/**
 * Stopping to come back: Restarting (our holdings and the hold time) goes out a few times, then
 * we are silent as after a Leave. Only on the port: a peer that hears us only on the LAN path
 * takes our IPs over after the dead time, as after a crash.
 */
export function onRestart(
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

/**
 * A restarting peer whose hold ran out, or whose node stopped refusing our heartbeats (it did,
 * so the probe works on this network, and now nothing answers: the node is gone), has failed,
 * as a silent peer past the dead time has.
 */
export function endRestart(
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
export function onNodeAlive(state: MembershipState, name: string, now: Now): MembershipState {
  const peer = state.peers.get(name);
  if (peer?.status !== 'restarting') return state;
  return withPeer(state, name, { ...peer, nodeAliveMonoMs: now.monoMs });
}

/** Tells every peer (only `name` uses it) which IPs `name` held before its restart in place. */
export function sendResume(
  state: MembershipState,
  name: string,
  peer: PeerRecord,
  now: Now,
  actions: MembershipAction[],
): MembershipState {
  return broadcastSigned(state, 'Resume', now, actions, { subject: name, holdings: peer.holdings });
}

/** Before each heartbeat: a peer back from a restart in place hears what it held until it says what it holds. */
export function sendResumes(state: MembershipState, now: Now, actions: MembershipAction[]): MembershipState {
  let next = state;
  for (const [name, peer] of state.peers) {
    if (peer.listed && peer.resumingUntilMonoMs !== undefined)
      next = sendResume(next, name, peer, now, actions);
  }
  return next;
}

/**
 * A peer says which IPs this node held before it restarted in place: remembered for
 * `resumeGraceMs` (repeated while the peer keeps them for us), for the plans to take them again.
 * One about another node is none of ours.
 */
export function onResume(
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

/** What the peers said we held is forgotten `resumeGraceMs` after the last Resume. */
export function forgetResumed(
  state: MembershipState,
  now: Now,
  actions: MembershipAction[],
): MembershipState {
  if (state.resumed.length === 0 || now.monoMs < state.resumedUntilMonoMs) return state;
  actions.push({ type: 'resumed', holdings: [] });
  return { ...state, resumed: [] };
}
