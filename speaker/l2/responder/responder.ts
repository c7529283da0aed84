import { ArpOperation } from '../frames/arp.ts';
import { arpReplyFrame, decodeFrame, solicitedAdvertisementFrame } from '../frames/frame.ts';
import { type FrameErrorCode, isIgnored } from '../frames/result.ts';
import type { RateLimiter } from './rate-limiter.ts';

/** The interface a frame arrived on. */
export interface ResponderInterface {
  readonly name: string;
  /** Lower-case MAC, the one our answers carry. */
  readonly mac: string;
}

/** What the responder did with one received frame. */
export type Outcome =
  /** We own the asked IP here: send `frame`. */
  | { readonly kind: 'reply'; readonly ip: string; readonly requester: string; readonly frame: Uint8Array }
  /** A request for an IP we own here, but the requester is over its rate limit. */
  | { readonly kind: 'rate-limited'; readonly ip: string; readonly requester: string }
  /** Another host claims an IP we own here (its gratuitous ARP, ARP reply or NA with another MAC). */
  | { readonly kind: 'conflict'; readonly ip: string; readonly otherMac: string }
  /** A well-formed frame that needs no answer (foreign IP, a reply, not addressed to us). */
  | { readonly kind: 'ignored'; readonly reason: string }
  /** Malformed: counted and dropped. */
  | { readonly kind: 'malformed'; readonly code: FrameErrorCode; readonly message: string };

/**
 * Decides the answer to one received frame (RFC 826 for ARP, RFC 4861 §7.2.3-7.2.4 for
 * NS): only requests for IPs `owns(ip)` on this interface are answered, with this
 * interface's MAC, and only within the requester's rate limit. Pure apart from the
 * limiter's buckets; time is `nowMs`. Never throws on frame bytes.
 */
export function respond(
  bytes: Uint8Array,
  iface: ResponderInterface,
  owns: (ip: string) => boolean,
  limiter: RateLimiter,
  nowMs: number,
): Outcome {
  const decoded = decodeFrame(bytes);
  if (!decoded.ok) {
    return isIgnored(decoded.error.code)
      ? { kind: 'ignored', reason: decoded.error.code }
      : { kind: 'malformed', code: decoded.error.code, message: decoded.error.message };
  }
  const frame = decoded.value;
  // On a promiscuous interface we may see unicast meant for another host: not ours to answer.
  const first = Number.parseInt(frame.destination.slice(0, 2), 16);
  if ((first & 1) === 0 && frame.destination !== iface.mac) return { kind: 'ignored', reason: 'not-for-us' };

  if (frame.kind === 'arp') {
    const { arp } = frame;
    if (arp.operation === ArpOperation.Reply || arp.senderIp === arp.targetIp) {
      if (owns(arp.senderIp) && arp.senderMac !== iface.mac) {
        return { kind: 'conflict', ip: arp.senderIp, otherMac: arp.senderMac };
      }
      return { kind: 'ignored', reason: arp.operation === ArpOperation.Reply ? 'arp-reply' : 'gratuitous' };
    }
    if (!owns(arp.targetIp)) return { kind: 'ignored', reason: 'not-owned' };
    if (!limiter.allow(`${arp.senderMac}|${iface.name}`, nowMs)) {
      return { kind: 'rate-limited', ip: arp.targetIp, requester: arp.senderMac };
    }
    return {
      kind: 'reply',
      ip: arp.targetIp,
      requester: arp.senderMac,
      frame: arpReplyFrame(arp, frame.source, iface.mac),
    };
  }

  const { ndp } = frame;
  if (ndp.type === 'na') {
    if (owns(ndp.target) && ndp.targetLinkLayer !== undefined && ndp.targetLinkLayer !== iface.mac) {
      return { kind: 'conflict', ip: ndp.target, otherMac: ndp.targetLinkLayer };
    }
    return { kind: 'ignored', reason: 'neighbor-advertisement' };
  }
  if (!owns(ndp.target)) return { kind: 'ignored', reason: 'not-owned' };
  const requester = ndp.sourceLinkLayer ?? frame.source;
  if (!limiter.allow(`${requester}|${iface.name}`, nowMs))
    return { kind: 'rate-limited', ip: ndp.target, requester };
  return {
    kind: 'reply',
    ip: ndp.target,
    requester,
    frame: solicitedAdvertisementFrame(ndp, frame.source, iface.mac),
  };
}
