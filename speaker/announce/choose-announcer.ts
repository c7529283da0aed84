import { createHash } from 'node:crypto';
import { formatIp, parseIp } from '../../shared/net/ip.ts';
import { InputError } from './errors.ts';

/** A node that might announce an IP in L2 mode, as the speaker sees it right now. */
export interface AnnouncerCandidate {
  /** Kubernetes Node name: the identity every speaker agrees on. */
  readonly name: string;
  /** Alive in membership (or this node itself). */
  readonly alive: boolean;
  /** Allowed to announce this IP: advertisement node selectors, exclusion label, ETP Local endpoints. */
  readonly eligible: boolean;
}

/** Thrown for input no caller should pass: the message names the value and what is wrong. */
export class OwnerInputError extends InputError<'ip' | 'candidate.name'> {
  override readonly name = 'OwnerInputError';
}

/**
 * The election key of an IP: its canonical text (dotted quad, RFC 5952 for IPv6), so that
 * `2001:DB8::1` and `2001:db8:0::1` elect the same node on every speaker. The canonical
 * forms match Go's `net.IP.String()`, which MetalLB hashes, so a migrated cluster keeps
 * its owners.
 */
export function electionKey(ip: string): string {
  const parsed = parseIp(ip.trim());
  if (!parsed) throw new OwnerInputError('ip', `chooseAnnouncer: "${ip}" is not an IP address`);
  return formatIp(parsed);
}

/** sha256(`node#ip`): the rank of a node for an IP (smaller bytes rank first), as MetalLB does. */
export function announcerScore(nodeName: string, key: string): Buffer {
  return createHash('sha256').update(`${nodeName}#${key}`, 'utf8').digest();
}

/**
 * All alive, eligible candidates for an IP, best first (rendezvous hashing). Every speaker
 * computes the same order without talking to the others; the second entry is the node that
 * takes over when the first goes away. Duplicate names count once.
 */
export function rankAnnouncers(ip: string, candidates: readonly AnnouncerCandidate[]): string[] {
  const key = electionKey(ip);
  const scored = new Map<string, Buffer>(); // node name -> score
  for (const candidate of candidates) {
    if (candidate.name.length === 0) {
      throw new OwnerInputError(
        'candidate.name',
        `chooseAnnouncer: a candidate for ${key} has an empty name`,
      );
    }
    if (!candidate.alive || !candidate.eligible || scored.has(candidate.name)) continue;
    scored.set(candidate.name, announcerScore(candidate.name, key));
  }
  return [...scored.entries()]
    .sort(([nameA, a], [nameB, b]) => Buffer.compare(a, b) || (nameA < nameB ? -1 : nameA > nameB ? 1 : 0))
    .map(([name]) => name);
}

/**
 * The node that announces `ip` in L2 mode, or undefined when no candidate is alive and
 * eligible. The key is the IP, not the Service, so Services sharing an IP share its owner.
 * Removing or adding a node that is not the owner never moves the IP.
 */
export function chooseAnnouncer(ip: string, candidates: readonly AnnouncerCandidate[]): string | undefined {
  return rankAnnouncers(ip, candidates)[0];
}
