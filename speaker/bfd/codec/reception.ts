import { GTSM_TTL } from './constants.ts';
import { type ControlPacket, decodeControlPacket } from './control-packet.ts';
import type { DropReason } from './drop-reasons.ts';

/** What a session requires of a received packet's TTL / hop limit. */
export type HopPolicy =
  /** RFC 5881 §5 (GTSM): exactly 255, so the sender is on the link. */
  | { readonly kind: 'single-hop' }
  /** RFC 5883 §5: at least the profile's minimumTtl. */
  | { readonly kind: 'multihop'; readonly minimumTtl: number };

/**
 * The TTL rule for a session; undefined when `ttl` passes, else what is wrong with it. GTSM makes
 * a spoofed single-hop packet from off the link impossible: every router on the way lowers it.
 */
export function checkTtl(ttl: number, policy: HopPolicy): string | undefined {
  if (policy.kind === 'single-hop') {
    return ttl === GTSM_TTL ? undefined : `TTL ${ttl} on a single-hop session, expected ${GTSM_TTL}`;
  }
  return ttl >= policy.minimumTtl
    ? undefined
    : `TTL ${ttl} on a multihop session is below minimumTtl ${policy.minimumTtl}`;
}

/**
 * The shell's session table, asked once per packet. For a non-zero Your Discriminator: the
 * session whose local discriminator it is (the shell may also require that the packet came
 * from that session's peer). For 0: the session configured for the packet's source address
 * and interface (RFC 5881 §3, RFC 5883 §4). Undefined when there is none.
 */
export type FindSession<S> = (
  yourDiscriminator: number,
) => { readonly session: S; readonly hop: HopPolicy } | undefined;

export type ReceiveResult<S> =
  | { readonly ok: true; readonly packet: ControlPacket; readonly session: S }
  | { readonly ok: false; readonly reason: DropReason; readonly detail: string };

/**
 * Every reception check of RFC 5880 §6.8.6 up to the point where the packet belongs to a
 * session, then its TTL rule: the packet and its session, or the reason to drop it. Never throws.
 */
export function receiveControlPacket<S>(
  payload: Uint8Array,
  ttl: number,
  find: FindSession<S>,
): ReceiveResult<S> {
  const decoded = decodeControlPacket(payload);
  if (!decoded.ok) return decoded;
  const { packet } = decoded;
  const found = find(packet.yourDiscriminator);
  if (!found) {
    return packet.yourDiscriminator === 0
      ? { ok: false, reason: 'no-session', detail: 'Your Discriminator 0 and no session for the source' }
      : {
          ok: false,
          reason: 'unknown-discriminator',
          detail: `Your Discriminator ${packet.yourDiscriminator} names no session`,
        };
  }
  const ttlProblem = checkTtl(ttl, found.hop);
  if (ttlProblem !== undefined) return { ok: false, reason: 'ttl', detail: ttlProblem };
  return { ok: true, packet, session: found.session };
}
