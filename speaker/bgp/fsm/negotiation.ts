/**
 * OPEN negotiation (RFC 4271 §4.2 and §6.2, RFC 5492): the OPEN we send, and what the peer's
 * OPEN and ours agree on, or the NOTIFICATION that refuses it. Pure; the state machine calls it
 * when the peer's OPEN arrives.
 */
import {
  AS_TRANS,
  type Capability,
  ErrorCode,
  type NotificationMessage,
  notification,
  type OpenMessage,
  OpenSubcode,
} from '../codec/index.ts';
import type { FsmConfig, Negotiated } from './types.ts';

/**
 * Whether the peer's hold time is one we accept (RFC 4271 §6.2: 1 and 2 s MUST be refused, any
 * other MAY be). 0 turns KEEPALIVEs and the hold timer off for both sides, so we take it only
 * when we propose 0 too: a router that vanishes without FIN or RST would otherwise leave a
 * session that never expires.
 */
export function holdTimeAcceptable(ourHoldTimeSec: number, peerHoldTimeSec: number): boolean {
  if (peerHoldTimeSec === 1 || peerHoldTimeSec === 2) return false;
  return peerHoldTimeSec !== 0 || ourHoldTimeSec === 0;
}

/** Our OPEN (RFC 4271 §4.2 with the capabilities of RFC 4760, 2918, 6793, 8654, 4724). */
export function buildOpen(config: FsmConfig): OpenMessage {
  const capabilities: Capability[] = config.families.map((f) => ({
    kind: 'multiprotocol',
    afi: f.afi,
    safi: f.safi,
  }));
  capabilities.push({ kind: 'route-refresh' }, { kind: 'four-octet-as', asn: config.localAs });
  if (config.extendedMessage) capabilities.push({ kind: 'extended-message' });
  if (config.gracefulRestart) {
    capabilities.push({
      kind: 'graceful-restart',
      restartState: config.gracefulRestart.restarting,
      notification: false,
      restartTimeSec: config.gracefulRestart.restartTimeSec,
      // We keep no forwarding state of our own (we announce, we do not forward).
      families: config.families.map((f) => ({ afi: f.afi, safi: f.safi, forwardingState: true })),
    });
  }
  return {
    type: 'open',
    version: 4,
    myAs: config.localAs > 0xffff ? AS_TRANS : config.localAs,
    holdTimeSec: config.holdTimeSec,
    bgpId: config.routerId,
    capabilities,
  };
}

/** The AS a peer's OPEN speaks for: the 4-octet capability when present (RFC 6793 §4.1). */
export function peerAsOf(open: OpenMessage): number {
  for (const c of open.capabilities) if (c.kind === 'four-octet-as') return c.asn;
  return open.myAs;
}

/**
 * Checks the peer's OPEN against the configuration (RFC 4271 §6.2) and negotiates. Returns the
 * NOTIFICATION to send when it is not acceptable.
 */
export function negotiate(config: FsmConfig, open: OpenMessage): Negotiated | NotificationMessage {
  const peerAs = peerAsOf(open);
  if (peerAs !== config.peerAs) {
    const data =
      open.myAs === AS_TRANS ? new Uint8Array(0) : Uint8Array.of(open.myAs >>> 8, open.myAs & 0xff);
    return notification(ErrorCode.OpenMessage, OpenSubcode.BadPeerAs, data);
  }
  if (!holdTimeAcceptable(config.holdTimeSec, open.holdTimeSec)) {
    return notification(ErrorCode.OpenMessage, OpenSubcode.UnacceptableHoldTime);
  }
  // RFC 6286 §2.2: our own identifier is refused from an internal peer only (zero the codec refuses).
  if (open.bgpId === config.routerId && config.localAs === config.peerAs) {
    return notification(ErrorCode.OpenMessage, OpenSubcode.BadBgpIdentifier);
  }
  const holdTimeSec = Math.min(config.holdTimeSec, open.holdTimeSec);
  // RFC 4271 §10: a third of the hold time; a configured interval only ever shortens it, so
  // a peer with a short hold time is never starved of KEEPALIVEs.
  const third = Math.max(1, Math.floor(holdTimeSec / 3));
  const keepaliveSec = holdTimeSec === 0 ? 0 : Math.min(config.keepaliveSec ?? third, third);
  const peerFamilies = open.capabilities.flatMap((c) => (c.kind === 'multiprotocol' ? [c] : []));
  // RFC 4760 §8: without MP capabilities the peer does IPv4 unicast only.
  const offered = peerFamilies.length > 0 ? peerFamilies : [{ afi: 1, safi: 1 }];
  const families = config.families.filter((f) => offered.some((p) => p.afi === f.afi && p.safi === f.safi));
  const has = (kind: Capability['kind']) => open.capabilities.some((c) => c.kind === kind);
  return {
    holdTimeSec,
    keepaliveMs: keepaliveSec * 1000,
    context: {
      fourOctetAs: has('four-octet-as'),
      extendedMessage: config.extendedMessage && has('extended-message'),
      externalPeer: config.localAs !== config.peerAs,
    },
    families,
    peerRouteRefresh: has('route-refresh'),
    peerGracefulRestart: has('graceful-restart'),
    peerOpen: open,
  };
}
