import { decodeMessage, type MembershipMessage, type RejectReason } from '../codec/codec.ts';
import { holdingsHeard } from './holdings.ts';
import { lanFresh, lanPeers, sendHoldingsOnLan, wantsLan } from './lan-path.ts';
import { statusHeard } from './liveness.ts';
import { accept, isFresh } from './replay-window.ts';
import { onResume, sendResume } from './restart.ts';
import {
  type HeardMessage,
  type LanPath,
  type MembershipAction,
  type MembershipState,
  type Now,
  type PeerRecord,
  withPeer,
} from './state.ts';

/**
 * A datagram from the membership port or a frame from the LAN path: every check first (it is
 * untrusted input: the MAC, the sender, the clock, the replay window), each refusal a `rejected`
 * action naming why; then what it tells of its sender, in the parts that own each rule.
 */

type Verdict =
  | { readonly ok: true; readonly message: MembershipMessage; readonly peer: PeerRecord }
  | { readonly ok: false; readonly reason: RejectReason; readonly detail: string };

/** Every check on an incoming message, in order of cost to whoever sends junk; the first failed rejects. */
function check(state: MembershipState, bytes: Uint8Array, lan: LanPath | undefined, now: Now): Verdict {
  const reject = (reason: RejectReason, detail: string): Verdict => ({ ok: false, reason, detail });
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
  return { ok: true, message, peer };
}

/** One datagram (`lan` unset) or LAN frame (`lan`: the path it came on); never throws. */
export function onDatagram(
  state: MembershipState,
  bytes: Uint8Array,
  lan: LanPath | undefined,
  now: Now,
  actions: MembershipAction[],
): MembershipState {
  const verdict = check(state, bytes, lan, now);
  if (!verdict.ok) {
    actions.push({ type: 'rejected', reason: verdict.reason, detail: verdict.detail });
    return state;
  }
  const { message, peer } = verdict;
  const { config } = state;
  // A new incarnation of a restarting peer; back from its restart in place, holding something.
  const reborn = peer.status === 'restarting' && message.incarnation !== peer.incarnation;
  const heard: HeardMessage = {
    message,
    before: peer,
    onLan: lan !== undefined,
    reborn,
    returned: reborn && peer.holdings.length > 0,
  };
  let record: PeerRecord = {
    ...peer,
    lastHeardMonoMs: now.monoMs,
    ...accept(peer, message.incarnation, message.sequence),
    ...(lan
      ? { lan: { path: lan, heardMonoMs: now.monoMs, wantsLan: wantsLan(peer, message.type) } }
      : { udpHeardMonoMs: now.monoMs }),
  };
  record = holdingsHeard(record, heard, now, config.resumeGraceMs);
  record = statusHeard(record, heard, now, config.maxRestartHoldMs, actions);
  let next = withPeer(state, message.sender, record);
  // Heard on the LAN path anew (the port blocked): what we hold goes there at once, not a beat later.
  if (lan && !state.leaving && !lanFresh(peer, now, config.deadAfterMs)) {
    next = sendHoldingsOnLan(
      next,
      lanPeers(next, now).filter((p) => p === record),
      now,
      actions,
    );
  }
  if (message.type === 'Resume') next = onResume(next, message, now, actions);
  // Tell it at once what it held, so that its first plan can take it again.
  if (record.resumingUntilMonoMs !== undefined && heard.returned) {
    next = sendResume(next, message.sender, record, now, actions);
  }
  return next;
}
