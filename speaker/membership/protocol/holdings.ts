import { lanPeers, sendHoldingsOnLan } from './lan-path.ts';
import { broadcastSigned } from './send.ts';
import {
  type HeardMessage,
  type MembershipAction,
  type MembershipState,
  type Now,
  type PeerRecord,
  sameList,
} from './state.ts';

/**
 * Holdings (docs/adr/0012-l2-sticky-owner.md): which L2 IPs each speaker says it answers for.
 * Ours go out in a Holdings message just before each heartbeat and at once when they change, so
 * that every speaker elects the same owner and a returning node does not take an IP away from its
 * live owner. A peer's holdings count while it is alive and for `deadAfterMs` after the last;
 * heard on the port again after it failed, only what it says again counts. This file holds what
 * counts, when it is forgotten, and when the plan must hear that it changed.
 */

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
export function holdingsMoved(before: MembershipState, after: MembershipState): boolean {
  if (before.peers === after.peers) return false;
  if (!sameList(restartingPeers(before), restartingPeers(after))) return true;
  for (const [name, peer] of after.peers) {
    const old = before.peers.get(name);
    if (holdingsCount(peer) !== holdingsCount(old)) return true;
    if (holdingsCount(peer) && peer.holdings !== old!.holdings) return true;
  }
  for (const [name, old] of before.peers) if (holdingsCount(old) && !after.peers.has(name)) return true;
  return false;
}

/** Broadcasts our holdings on the membership port (not on the LAN path: see the ADR). */
export function sendHoldings(state: MembershipState, now: Now, actions: MembershipAction[]): MembershipState {
  return broadcastSigned(state, 'Holdings', now, actions);
}

/**
 * New holdings go out at once, so that the peers learn a takeover (or a withdrawal) within
 * one datagram; while not empty they are repeated before every heartbeat.
 */
export function onSetHoldings(
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

/**
 * On each tick, what a listed peer holds that no longer counts. A withdrawal whose one Holdings
 * datagram was lost must not keep the IP claimed for ever: a peer that went on talking on the port
 * for a dead time without saying what it holds holds nothing. A peer silent on the port keeps what
 * it last said: if it is heard on the LAN path (the port blocked; Holdings do not travel there),
 * both sides of the block must go on deciding from the same holdings, or each keeps its own IPs
 * while the other ranks them.
 */
export function expireHoldings(record: PeerRecord, now: Now, deadAfterMs: number): PeerRecord {
  if (record.resumingUntilMonoMs !== undefined) {
    // Back from a restart in place: what it held stands until it says what it holds, a while.
    if (now.monoMs < record.resumingUntilMonoMs) return record;
    return { ...record, holdings: [], resumingUntilMonoMs: undefined };
  }
  const saidNothingFor = (record.udpHeardMonoMs ?? 0) - (record.holdingsHeardMonoMs ?? now.monoMs);
  if (record.holdings.length > 0 && saidNothingFor > deadAfterMs) return { ...record, holdings: [] };
  return record;
}

/**
 * What a message tells of its sender's holdings. Heard on the port again after it failed (a cut
 * cable, a long stall) or was listed anew: a holder repeats its Holdings before every heartbeat,
 * so what it held before says nothing about now. Counted, a returning node that let its IPs go
 * while cut off (the split-brain guard; its "now empty" Holdings lost on the cut) is a second
 * holder, the ranking prefers it, and the node that took over hands the IP back: one more flip,
 * the requests in flight reset. Heard again only on the LAN path (the port blocked), it keeps
 * them: Holdings do not travel there, and both sides of the block must decide from the same
 * holdings (docs/adr/0012).
 */
export function holdingsHeard(
  record: PeerRecord,
  heard: HeardMessage,
  now: Now,
  resumeGraceMs: number,
): PeerRecord {
  const { message, before } = heard;
  const revived = !heard.onLan && (before.status === 'dead' || before.status === 'unknown');
  if (message.type === 'Holdings' || message.type === 'Restarting') {
    const holdings = message.holdings ?? [];
    return {
      ...record,
      holdingsHeardMonoMs: now.monoMs,
      holdings: sameList(holdings, before.holdings) ? before.holdings : holdings,
      resumingUntilMonoMs: undefined,
    };
  }
  if (heard.returned && message.type !== 'Leave') {
    // Back from a restart in place: what it held is kept for it until it says what it holds.
    return { ...record, holdingsHeardMonoMs: now.monoMs, resumingUntilMonoMs: now.monoMs + resumeGraceMs };
  }
  if (message.type === 'Leave' || message.incarnation !== before.incarnation || revived) {
    // Gone, restarted or back: what it held before says nothing about what it holds now.
    return { ...record, holdings: [], resumingUntilMonoMs: undefined };
  }
  return record;
}
