import type { FindSession, HopPolicy } from '../codec/index.ts';

/** What the table needs to know of a session to find it for a received packet. */
export interface TableEntry {
  readonly localDiscriminator: number;
  readonly peerAddress: string;
  /** The local address it sends from and receives on, once known. */
  readonly localAddress: string | undefined;
  readonly hop: HopPolicy;
}

/** Where a datagram arrived: the sender, our address it was sent to, and the port's kind. */
export interface Arrival {
  readonly from: string;
  readonly to: string;
  readonly multihop: boolean;
}

/**
 * The sessions by their two lookups (RFC 5880 §6.8.6): by our discriminator when the packet's
 * Your Discriminator names one, by (peer, local address, single hop or multihop) when it is 0
 * (RFC 5881 §3, RFC 5883 §4). A packet must also come from the session's peer to our address of
 * it on its port: a discriminator alone, guessed or replayed from elsewhere, selects nothing.
 */
export class SessionTable<T extends TableEntry> {
  /** discriminator → session */
  readonly #byDiscriminator = new Map<number, T>();
  /** `multihop|peer|local` → session (sessions whose local address is known) */
  readonly #byAddress = new Map<string, T>();

  get size(): number {
    return this.#byDiscriminator.size;
  }

  has(discriminator: number): boolean {
    return this.#byDiscriminator.has(discriminator);
  }

  /** Adds a session (its discriminator is unique, see {@link allocateDiscriminator}). */
  add(entry: T): void {
    this.#byDiscriminator.set(entry.localDiscriminator, entry);
    if (entry.localAddress !== undefined) this.#byAddress.set(addressKey(entry), entry);
  }

  delete(entry: T): void {
    this.#byDiscriminator.delete(entry.localDiscriminator);
    if (entry.localAddress !== undefined && this.#byAddress.get(addressKey(entry)) === entry) {
      this.#byAddress.delete(addressKey(entry));
    }
  }

  /**
   * The session a packet from `arrival` belongs to, for receiveControlPacket(); `onFound` hears
   * of it, so a packet then dropped for its TTL counts against that session.
   */
  finder(arrival: Arrival, onFound?: (entry: T) => void): FindSession<T> {
    return (your) => {
      const entry =
        your === 0
          ? this.#byAddress.get(key(arrival.multihop, arrival.from, arrival.to))
          : this.#byDiscriminator.get(your);
      if (!entry || !matches(entry, arrival)) return undefined;
      onFound?.(entry);
      return { session: entry, hop: entry.hop };
    };
  }
}

function matches(entry: TableEntry, arrival: Arrival): boolean {
  return (
    entry.peerAddress === arrival.from &&
    entry.localAddress === arrival.to &&
    (entry.hop.kind === 'multihop') === arrival.multihop
  );
}

function key(multihop: boolean, peer: string, local: string): string {
  return `${multihop ? 'm' : 's'}|${peer}|${local}`;
}

function addressKey(entry: TableEntry): string {
  return key(entry.hop.kind === 'multihop', entry.peerAddress, entry.localAddress ?? '');
}

/**
 * A non-zero discriminator no session uses (RFC 5880 §6.8.1: unique, and §6.3 suggests random,
 * so a peer cannot guess the next one). `random` returns [0, 1).
 */
export function allocateDiscriminator(inUse: (d: number) => boolean, random: () => number): number {
  for (;;) {
    const d = Math.floor(random() * 0xffffffff) + 1;
    if (d >= 1 && d <= 0xffffffff && !inUse(d)) return d;
  }
}
