import {
  CeaseSubcode,
  ErrorCode,
  type NotificationMessage,
  notification,
  parseAddress,
} from '../codec/index.ts';
import { buildOpen } from './negotiation.ts';
import type { Step } from './step-context.ts';
import { acceptOpen } from './transitions.ts';
import type { ConnectionId, FsmConfig, FsmEvent } from './types.ts';

/**
 * Connection collisions (RFC 4271 §6.8): both sides connected at once, so the session has a second
 * connection until the peer's OPEN on it says which one survives. Everything about that second
 * connection lives here; the main one is the rest of the FSM's.
 */

/** A BGP Identifier as the unsigned number §6.8 compares. */
function u32OfId(id: string): number {
  const bytes = parseAddress(id)?.bytes ?? new Uint8Array(4);
  return ((bytes[0]! << 24) >>> 0) + (bytes[1]! << 16) + (bytes[2]! << 8) + bytes[3]!;
}

/** The NOTIFICATION that closes the connection a collision dumps. */
function ceaseCollision(): NotificationMessage {
  return notification(ErrorCode.Cease, CeaseSubcode.ConnectionCollisionResolution);
}

/**
 * RFC 4271 §6.8: of two connections, the one started by the side with the higher BGP
 * Identifier survives; with equal ones (allowed between ASes, RFC 6286 §2.2), the one started
 * by the side with the larger AS number (RFC 6286 §2.3).
 */
function keepOutgoing(config: FsmConfig, peerBgpId: string): boolean {
  const ours = u32OfId(config.routerId);
  const theirs = u32OfId(peerBgpId);
  return ours === theirs ? config.localAs > config.peerAs : ours > theirs;
}

/** Events on the second connection of a collision (RFC 4271 §6.8). */
export function onSecond(s: Step, event: FsmEvent): void {
  const st = s.state;
  const second = st.second!;
  if (event.type === 'TcpConnectionFails' || event.type === 'MessageError') {
    s.do({ type: 'close', conn: second.id });
    s.set({ second: undefined });
    return;
  }
  if (event.type !== 'Message' || event.message.type !== 'open') {
    if (event.type === 'Message' && event.message.type === 'notification') {
      s.do({ type: 'close', conn: second.id });
      s.set({ second: undefined });
    }
    return;
  }
  const open = event.message;
  if (keepOutgoing(st.config, open.bgpId) === second.outgoing) {
    // The second connection wins: the main one is dumped (event 23, OpenCollisionDump).
    s.do(
      { type: 'send', conn: st.main!.id, message: ceaseCollision() },
      { type: 'close', conn: st.main!.id },
    );
    s.set({ name: 'OpenSent', main: second, second: undefined, negotiated: undefined });
    s.do({ type: 'stopTimer', timer: 'keepalive' });
    acceptOpen(s, open);
  } else {
    s.do({ type: 'send', conn: second.id, message: ceaseCollision() }, { type: 'close', conn: second.id });
    s.set({ second: undefined });
  }
}

/**
 * A second connection in OpenSent or OpenConfirm: answered with our OPEN, and resolved on the
 * peer's OPEN on it (§6.8); in OpenConfirm the peer's identifier is known and decides at once.
 * A third one, or one on the main connection's id, is closed.
 */
export function offerSecond(s: Step, conn: ConnectionId, outgoing: boolean): void {
  const st = s.state;
  if (st.second || conn === st.main!.id) {
    s.do({ type: 'close', conn });
    return;
  }
  s.set({ second: { id: conn, outgoing } });
  s.do({ type: 'send', conn, message: buildOpen(st.config) });
  if (st.name === 'OpenConfirm' && st.main!.peerOpen) {
    const keepMain = keepOutgoing(st.config, st.main!.peerOpen.bgpId) === st.main!.outgoing;
    if (keepMain) {
      s.do({ type: 'send', conn, message: ceaseCollision() }, { type: 'close', conn });
      s.set({ second: undefined });
    }
  }
}
