import { ArpOperation } from '../frames/arp.ts';
import { arpReplyFrame, decodeFrame, solicitedAdvertisementFrame } from '../frames/frame.ts';
import { type FrameErrorCode, isIgnored } from '../frames/result.ts';
import type { AnswerBudget } from './rate-limiter.ts';
import { isUnicastIpv4Sender, isUnicastMac, isUnicastOrUnspecifiedIpv6 } from './unicast.ts';

/** The interface a frame arrived on. */
export interface ResponderInterface {
  readonly name: string;
  /** Lower-case MAC, the one our answers carry. */
  readonly mac: string;
}

/**
 * Why a request for an IP we own was dropped unanswered; each is a metric label
 * (`metalbeacon_l2_requests_dropped_total{reason}`).
 * - source-not-unicast: the frame's Ethernet source is broadcast, multicast or all-zero: an
 *   answer would go to every host (or nowhere), so it is a reflection, never a question.
 * - sender-mac-not-unicast: the ARP sender or NS source link-layer address is not a unicast
 *   MAC: the answer would be addressed there (RFC 1812 §3.3.2 forbids believing such).
 * - sender-ip-not-unicast: ARP from a multicast, broadcast or loopback IPv4 sender, or NS
 *   from a multicast IPv6 source (RFC 4861 §7.1.1 allows only unicast or unspecified).
 * - overall-budget: every requester together is over the responder's overall limit.
 */
export type DropReason =
  | 'source-not-unicast'
  | 'sender-mac-not-unicast'
  | 'sender-ip-not-unicast'
  | 'overall-budget';

/** What the responder did with one received frame. */
export type Outcome =
  /** We own the asked IP here: send `frame`. */
  | { readonly kind: 'reply'; readonly ip: string; readonly requester: string; readonly frame: Uint8Array }
  /** A request for an IP we own here, but the requester is over its rate limit. */
  | { readonly kind: 'rate-limited'; readonly ip: string; readonly requester: string }
  /** A request for an IP we own here that must not be answered (see {@link DropReason}). */
  | { readonly kind: 'dropped'; readonly ip: string; readonly reason: DropReason }
  /** Another host claims an IP we own here (its gratuitous ARP, ARP reply or NA with another MAC). */
  | { readonly kind: 'conflict'; readonly ip: string; readonly otherMac: string }
  /** A well-formed frame that needs no answer (foreign IP, a reply, not addressed to us). */
  | { readonly kind: 'ignored'; readonly reason: string }
  /** Malformed: counted and dropped. */
  | { readonly kind: 'malformed'; readonly code: FrameErrorCode; readonly message: string };

/**
 * Decides the answer to one received frame (RFC 826 for ARP, RFC 4861 §7.2.3-7.2.4 for
 * NS): only requests for IPs `owns(ip)` on this interface are answered, with this
 * interface's MAC, only to a unicast requester, and only within the requester's and the
 * overall budget. Pure apart from the budget's buckets; time is `nowMs`. Never throws on
 * frame bytes.
 */
export function respond(
  bytes: Uint8Array,
  iface: ResponderInterface,
  owns: (ip: string) => boolean,
  budget: AnswerBudget,
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
  if (frame.source === iface.mac) return { kind: 'ignored', reason: 'own-mac' };

  let ip: string;
  let requester: string;
  let reply: () => Uint8Array;
  if (frame.kind === 'arp') {
    const { arp } = frame;
    if (arp.operation === ArpOperation.Reply || arp.senderIp === arp.targetIp) {
      if (owns(arp.senderIp) && arp.senderMac !== iface.mac) {
        return { kind: 'conflict', ip: arp.senderIp, otherMac: arp.senderMac };
      }
      return { kind: 'ignored', reason: arp.operation === ArpOperation.Reply ? 'arp-reply' : 'gratuitous' };
    }
    ip = arp.targetIp;
    if (!owns(ip)) return { kind: 'ignored', reason: 'not-owned' };
    if (!isUnicastMac(frame.source)) return { kind: 'dropped', ip, reason: 'source-not-unicast' };
    if (!isUnicastMac(arp.senderMac)) return { kind: 'dropped', ip, reason: 'sender-mac-not-unicast' };
    // 0.0.0.0 is an ARP probe (RFC 5227 §2.1.1): answered, so the prober sees the address is taken.
    if (!isUnicastIpv4Sender(arp.senderIp)) return { kind: 'dropped', ip, reason: 'sender-ip-not-unicast' };
    requester = arp.senderMac;
    reply = () => arpReplyFrame(arp, frame.source, iface.mac);
  } else {
    const { ndp } = frame;
    if (ndp.type === 'na') {
      if (owns(ndp.target) && ndp.targetLinkLayer !== undefined && ndp.targetLinkLayer !== iface.mac) {
        return { kind: 'conflict', ip: ndp.target, otherMac: ndp.targetLinkLayer };
      }
      return { kind: 'ignored', reason: 'neighbor-advertisement' };
    }
    ip = ndp.target;
    if (!owns(ip)) return { kind: 'ignored', reason: 'not-owned' };
    if (!isUnicastMac(frame.source)) return { kind: 'dropped', ip, reason: 'source-not-unicast' };
    if (ndp.sourceLinkLayer !== undefined && !isUnicastMac(ndp.sourceLinkLayer)) {
      return { kind: 'dropped', ip, reason: 'sender-mac-not-unicast' };
    }
    // The unspecified source is DAD (RFC 4862), answered to all-nodes as RFC 4861 §7.2.4 says.
    if (!isUnicastOrUnspecifiedIpv6(ndp.source))
      return { kind: 'dropped', ip, reason: 'sender-ip-not-unicast' };
    requester = ndp.sourceLinkLayer ?? frame.source;
    reply = () => solicitedAdvertisementFrame(ndp, frame.source, iface.mac);
  }
  const verdict = budget.take(`${requester}|${iface.name}`, nowMs);
  if (verdict === 'requester') return { kind: 'rate-limited', ip, requester };
  if (verdict === 'overall') return { kind: 'dropped', ip, reason: 'overall-budget' };
  return { kind: 'reply', ip, requester, frame: reply() };
}
