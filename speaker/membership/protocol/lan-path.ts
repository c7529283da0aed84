import type { MembershipMessage } from '../codec/codec.ts';
import { counted, lanBroadcastSigned, lanSendSigned, sign } from './send.ts';
import {
  type LanContact,
  type LanPath,
  type MembershipAction,
  type MembershipState,
  type Now,
  type PeerRecord,
  sameList,
} from './state.ts';

/**
 * The LAN path (docs/adr/0009-membership-cut-lan-path.md): when something between two speakers
 * drops the membership port, they reach each other in Ethernet frames on the LAN they share, so
 * that both go on counting each other alive and elect the same owner for every IP. This file holds
 * every rule of it: when we Claim, whom we answer there and with what, and which paths are in use.
 * Nothing is sent on the LAN path while the membership port works.
 */

/** Conflicts answered with a Claim: at most this many (interface, MAC) pairs remembered. */
const MAX_CONFLICT_CLAIMS = 64;

/**
 * The largest message sent on the LAN path: the payload of one Ethernet frame at the standard
 * MTU (a packet socket refuses a larger frame). Holdings of about 80 IPv6 or 270 IPv4 addresses.
 */
export const LAN_MAX_MESSAGE_BYTES = 1500;

/** A peer with a LAN contact. */
export type LanPeer = PeerRecord & { lan: LanContact };

/** The peer talks to us on the LAN path and has been heard there recently. */
export function lanFresh(peer: PeerRecord, now: Now, deadAfterMs: number): peer is LanPeer {
  return peer.lan !== undefined && now.monoMs - peer.lan.heardMonoMs <= deadAfterMs;
}

/** Nothing from the peer on the membership port for half the dead time (a few heartbeats). */
function udpSilent(peer: PeerRecord, now: Now, deadAfterMs: number): boolean {
  return peer.udpHeardMonoMs === undefined || now.monoMs - peer.udpHeardMonoMs > deadAfterMs / 2;
}

/** The peers we talk to on the LAN path: heard there lately, and silent on the port or asking. */
export function lanPeers(state: MembershipState, now: Now): LanPeer[] {
  const { deadAfterMs } = state.config;
  return [...state.peers.values()].filter(
    (peer): peer is LanPeer =>
      peer.listed &&
      lanFresh(peer, now, deadAfterMs) &&
      (udpSilent(peer, now, deadAfterMs) || peer.lan.wantsLan),
  );
}

/**
 * Whether a peer asks to be answered on the LAN path, after a frame of `type` from it: a Claim
 * asks, a Heartbeat says it hears us on the port; Holdings, which go before either, say nothing.
 */
export function wantsLan(peer: PeerRecord, type: MembershipMessage['type']): boolean {
  return type === 'Claim' || (type === 'Holdings' && (peer.lan?.wantsLan ?? false));
}

/**
 * Signs one message per LAN path in use: a Claim to a peer we do not hear on the membership
 * port, a Heartbeat (or a Leave) to one that asked for it; each takes its own sequence number.
 * Each Claim or Heartbeat there follows our Holdings, empty ones too (so a lost one is repaired
 * at the next beat): a peer that hears us only there must elect from what we hold now, not from
 * what it heard before the port was blocked (see {@link sendHoldingsOnLan}).
 */
export function sendOnLan(
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
    next = lanSendSigned(next, peer.lan.path, type === 'Heartbeat' && silent ? 'Claim' : type, now, actions);
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
export function sendHoldingsOnLan(
  state: MembershipState,
  peers: readonly LanPeer[],
  now: Now,
  actions: MembershipAction[],
): MembershipState {
  let next = state;
  for (const peer of peers) {
    const bytes = sign(next, 'Holdings', now);
    if (bytes.length > LAN_MAX_MESSAGE_BYTES) return next;
    actions.push({ type: 'lan-send', path: peer.lan.path, bytes });
    next = counted(next);
  }
  return next;
}

/**
 * A peer has just failed: dead, or only cut off the membership port while still on our LAN? A
 * speaker that hears this Claim answers on the LAN path, and is alive again before anyone takes
 * its IPs for long.
 */
export function claimOnLan(state: MembershipState, now: Now, actions: MembershipAction[]): MembershipState {
  return lanBroadcastSigned(state, 'Claim', now, actions);
}

/**
 * Conflicts come per frame, as fast as a LAN host sends them: one (interface, MAC) answered less
 * than a heartbeat interval ago is answered again later, and the repeats cost nothing.
 */
export function claimedRecently(state: MembershipState, path: LanPath, now: Now): boolean {
  const last = state.conflictClaims.get(`${path.interface}|${path.mac}`);
  return last !== undefined && now.monoMs - last < state.config.heartbeatIntervalMs;
}

/**
 * Another host announces an IP we announce on `path.interface`: perhaps a speaker that
 * cannot hear us on the membership port and took our IPs over. Send it a Claim on the LAN
 * path, at most once a heartbeat interval per (interface, MAC); a speaker answers there and
 * from then on both count each other alive. A host that is no speaker drops the frame.
 */
export function onConflict(
  state: MembershipState,
  path: LanPath,
  now: Now,
  actions: MembershipAction[],
): MembershipState {
  if (state.leaving || claimedRecently(state, path, now)) return state;
  const next = lanSendSigned(state, path, 'Claim', now, actions);
  const key = `${path.interface}|${path.mac}`;
  const claims = new Map(state.conflictClaims);
  claims.delete(key);
  claims.set(key, now.monoMs);
  // Conflicting MACs are whatever a LAN host puts in its frames: remember only the newest.
  while (claims.size > MAX_CONFLICT_CLAIMS) claims.delete(claims.keys().next().value as string);
  return { ...next, conflictClaims: claims };
}

/** Reports the interfaces LAN paths use and the peers heard only on the LAN path, when they change. */
export function trackLanPaths(
  state: MembershipState,
  now: Now,
  actions: MembershipAction[],
): MembershipState {
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
