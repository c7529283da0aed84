import { type RateLimit, TokenBucket } from '../../l2/responder/rate-limiter.ts';
import { peekHeader, type RejectReason } from '../codec/codec.ts';
import type { SourceTable } from '../peers/peers.ts';
import type { Now, PeerRecord } from './protocol.ts';
import { isFresh } from './replay-window.ts';

/**
 * The screen in front of the membership protocol: what a datagram must be before any
 * cryptography is spent on it. A LAN host can send far more datagrams than a speaker can
 * verify (an HMAC each), and the protocol runs on the thread that also answers ARP/NDP, so
 * everything cheap is checked first, from the unauthenticated header:
 *
 * 1. shape (`malformed`), not our own name (`self`);
 * 2. the source: a UDP datagram must come from an address and port of the node it claims to
 *    be (`unknown-source`: no peer's address; `source-mismatch`: another peer's address, or
 *    not its speaker's port) — a spoofer must guess a real pair, and each one it guesses
 *    is limited below. A frame on the LAN path has no address to check: its MAC is
 *    whatever the sender wrote, so it relies on the lanes and budgets alone;
 * 3. a listed peer (`unknown-sender`), sent within the clock skew (`stale`), not seen before
 *    nor older than the peer's replay window (`replay`, ./replay-window.ts);
 * 4. a budget per lane: a datagram that continues the peer's current incarnation within
 *    `expectedWindow` sequence numbers is **expected** (what a live peer sends: an attacker
 *    must know the peer's incarnation, which never crosses a switched LAN, to land here);
 *    anything else — a first contact, a new incarnation after a restart, a sequence far
 *    ahead — is **budgeted**. Each lane has a token bucket per peer, the budgeted lane one
 *    for all peers too (`over-budget`). A flood that spoofs a peer with a made-up
 *    incarnation therefore only ever costs the budgeted lane, while that peer's real
 *    heartbeats keep arriving in the expected lane: no false failover.
 *
 * Pure: time is passed in; the buckets are its only state, one per listed peer at most.
 */

/** Where a datagram came from: the membership port, or a frame on the LAN path. */
export type Source =
  | {
      readonly kind: 'udp';
      /** As the socket reports it (see SourceTable). */
      readonly address: string;
      readonly port: number;
    }
  | { readonly kind: 'lan' };

export type Screened =
  | { readonly admit: true; readonly lane: 'expected' | 'budgeted' }
  | { readonly admit: false; readonly reason: RejectReason };

/** How much verification the screen lets through. */
export interface ScreenLimits {
  /** Sequence numbers past the last accepted one that still count as expected. */
  readonly expectedWindow: number;
  /** Per peer, the expected lane (a peer sends 20 a second at the default heartbeat interval). */
  readonly expected: RateLimit;
  /** Per peer, the budgeted lane (a peer needs one datagram there per restart). */
  readonly budgeted: RateLimit;
  /** All peers together, the budgeted lane: bounds the cost of a flood spoofing every peer. */
  readonly budgetedOverall: RateLimit;
}

export const DEFAULT_SCREEN_LIMITS: ScreenLimits = {
  expectedWindow: 64,
  expected: { perSecond: 400, burst: 200 },
  budgeted: { perSecond: 10, burst: 10 },
  budgetedOverall: { perSecond: 200, burst: 100 },
};

interface PeerBuckets {
  readonly expected: TokenBucket;
  readonly budgeted: TokenBucket;
}

export class Screen {
  readonly #nodeName: string;
  readonly #maxClockSkewMs: number;
  readonly #limits: ScreenLimits;
  #sources: SourceTable = new Map();
  /** listed peer name → its buckets, made on its first datagram. */
  readonly #buckets = new Map<string, PeerBuckets>();
  readonly #budgetedOverall: TokenBucket;

  constructor(nodeName: string, maxClockSkewMs: number, limits: ScreenLimits = DEFAULT_SCREEN_LIMITS) {
    this.#nodeName = nodeName;
    this.#maxClockSkewMs = maxClockSkewMs;
    this.#limits = limits;
    this.#budgetedOverall = new TokenBucket(limits.budgetedOverall, 0);
  }

  /** Peers with buckets now (at most the listed ones). */
  get trackedPeers(): number {
    return this.#buckets.size;
  }

  /** Replaces the source table (the peer list changed); forgets the buckets of peers gone from it. */
  setSources(sources: SourceTable): void {
    this.#sources = sources;
    const names = new Set<string>();
    for (const byName of sources.values()) for (const name of byName.keys()) names.add(name);
    for (const name of this.#buckets.keys()) if (!names.has(name)) this.#buckets.delete(name);
  }

  /**
   * Screens one datagram. `peers` is the protocol's view (MembershipState.peers): who is
   * listed and the last (incarnation, sequence) accepted from each.
   */
  check(bytes: Uint8Array, from: Source, peers: ReadonlyMap<string, PeerRecord>, now: Now): Screened {
    // A frame may be padded to the Ethernet minimum; a UDP datagram is exactly the message.
    const peeked = peekHeader(bytes, from.kind === 'udp');
    if (!peeked.ok) return reject('malformed');
    const header = peeked.header;
    if (header.sender === this.#nodeName) return reject('self');
    const peer = peers.get(header.sender);
    if (from.kind === 'udp') {
      const names = this.#sources.get(from.address);
      if (names === undefined) return reject('unknown-source');
      const port = names.get(header.sender);
      if (port === undefined) return reject(peer?.listed ? 'source-mismatch' : 'unknown-sender');
      if (port !== from.port) return reject('source-mismatch');
    }
    if (!peer?.listed) return reject('unknown-sender');
    if (Math.abs(now.wallMs - header.sentAtMs) > this.#maxClockSkewMs) return reject('stale');
    if (!isFresh(peer, header.incarnation, header.sequence)) return reject('replay');
    const expected =
      peer.incarnation === header.incarnation &&
      peer.sequence !== undefined &&
      header.sequence <= peer.sequence + BigInt(this.#limits.expectedWindow);
    const lane: 'expected' | 'budgeted' = expected ? 'expected' : 'budgeted';
    const buckets = this.#bucketsOf(header.sender, now.monoMs);
    const admitted =
      lane === 'expected'
        ? buckets.expected.take(now.monoMs)
        : buckets.budgeted.take(now.monoMs) && this.#budgetedOverall.take(now.monoMs);
    return admitted ? { admit: true, lane } : reject('over-budget');
  }

  #bucketsOf(name: string, nowMs: number): PeerBuckets {
    let buckets = this.#buckets.get(name);
    if (!buckets) {
      buckets = {
        expected: new TokenBucket(this.#limits.expected, nowMs),
        budgeted: new TokenBucket(this.#limits.budgeted, nowMs),
      };
      this.#buckets.set(name, buckets);
    }
    return buckets;
  }
}

function reject(reason: RejectReason): Screened {
  return { admit: false, reason };
}
