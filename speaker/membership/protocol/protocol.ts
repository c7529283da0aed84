import { macKeys } from '../codec/mac.ts';
import type { MembershipConfig } from './config.ts';
import { onLeave, onTick } from './heartbeat.ts';
import { holdingsMoved, onSetHoldings, peerHoldings, restartingPeers } from './holdings.ts';
import { claimedRecently, onConflict, trackLanPaths } from './lan-path.ts';
import { aliveMembers, settle } from './liveness.ts';
import { onSetPeers } from './peer-list.ts';
import { onDatagram } from './receive.ts';
import { onNodeAlive, onRestart } from './restart.ts';
import type { MembershipAction, MembershipEvent, MembershipState, Now, StepResult } from './state.ts';

/**
 * The membership protocol as a pure state machine: every speaker sends a signed heartbeat
 * to every peer each `heartbeatIntervalMs`, and declares a peer dead after `deadAfterMs`
 * of silence (a timeout detector; why not SWIM or phi-accrual: docs/adr/0002-membership.md).
 * The shell feeds it datagrams and timer ticks and carries out its actions.
 *
 * This file is the entry: `initialState()` and `step()`, which hands each event to the part that
 * owns it and then reports what changed for everyone. The parts, one rule set each:
 * - ./state.ts      the vocabulary: state, events, actions;
 * - ./heartbeat.ts  the tick: heartbeats and what goes before them, Leave;
 * - ./liveness.ts   who is alive: silence, stalls, settling (ADR 0002);
 * - ./receive.ts    a datagram or frame: every check, then what it tells;
 * - ./holdings.ts   which L2 IPs each speaker holds (ADR 0012);
 * - ./lan-path.ts   the LAN path when the membership port is cut (ADR 0009);
 * - ./restart.ts    restart in place (ADR 0013);
 * - ./peer-list.ts  the peer list from the API;
 * - ./send.ts       signing, one sequence number per message sent.
 */

export { peerHoldings, restartingPeers } from './holdings.ts';
export { LAN_MAX_MESSAGE_BYTES } from './lan-path.ts';
export { aliveMembers } from './liveness.ts';
export type {
  LanContact,
  LanPath,
  MembershipAction,
  MembershipEvent,
  MembershipState,
  Now,
  PeerHoldings,
  PeerRecord,
  PeerStatus,
  StepResult,
} from './state.ts';

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

/** Advances the protocol by one event. Never throws on network input. */
export function step(state: MembershipState, event: MembershipEvent, now: Now): StepResult {
  // Conflicts come per frame, as fast as a LAN host sends them: the repeats cost nothing.
  if (event.type === 'lan-conflict' && claimedRecently(state, event, now)) return { state, actions: [] };
  const before = aliveMembers(state);
  const actions: MembershipAction[] = [];
  let next = dispatch(state, event, now, actions);
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

/** The part that owns the event. */
function dispatch(
  state: MembershipState,
  event: MembershipEvent,
  now: Now,
  actions: MembershipAction[],
): MembershipState {
  switch (event.type) {
    case 'tick':
      return onTick(state, now, actions);
    case 'datagram':
      return onDatagram(state, event.bytes, event.lan, now, actions);
    case 'lan-conflict':
      return onConflict(state, { interface: event.interface, mac: event.mac }, now, actions);
    case 'set-peers':
      return onSetPeers(state, event.names, now);
    case 'set-holdings':
      return onSetHoldings(state, event.holdings, now, actions);
    case 'leave':
      return onLeave(state, now, actions);
    case 'restart':
      return onRestart(state, event.holdMs, now, actions);
    case 'node-alive':
      return onNodeAlive(state, event.name, now);
  }
}
