import { encodeMessage, type MembershipMessage } from '../codec/codec.ts';
import type { LanPath, MembershipAction, MembershipState, Now } from './state.ts';

/**
 * Signing what we send. Every message takes the next sequence number of our incarnation, so the
 * peers' replay windows (./replay-window.ts) accept each exactly once: whatever signs a message
 * must count it, and these helpers do both in one place.
 */

/** The body fields of Restarting and Resume (Holdings takes ours from the state). */
export type Body = Pick<MembershipMessage, 'holdings' | 'holdMs' | 'subject'>;

/** One signed message with the next sequence number; the caller counts it (or uses the helpers below). */
export function sign(
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

/** The state after one more message went out. */
export function counted(state: MembershipState): MembershipState {
  return { ...state, nextSequence: state.nextSequence + 1n };
}

/** Broadcasts one signed message (every peer hears it; only the port, not the LAN path). */
export function broadcastSigned(
  state: MembershipState,
  type: MembershipMessage['type'],
  now: Now,
  actions: MembershipAction[],
  body: Body = {},
): MembershipState {
  actions.push({ type: 'broadcast', bytes: sign(state, type, now, body) });
  return counted(state);
}

/** Sends one signed message in an Ethernet frame on a LAN path. */
export function lanSendSigned(
  state: MembershipState,
  path: LanPath,
  type: MembershipMessage['type'],
  now: Now,
  actions: MembershipAction[],
): MembershipState {
  actions.push({ type: 'lan-send', path, bytes: sign(state, type, now) });
  return counted(state);
}

/** Broadcasts one signed message in a frame on every interface the L2 responder has open. */
export function lanBroadcastSigned(
  state: MembershipState,
  type: MembershipMessage['type'],
  now: Now,
  actions: MembershipAction[],
): MembershipState {
  actions.push({ type: 'lan-broadcast', bytes: sign(state, type, now) });
  return counted(state);
}
