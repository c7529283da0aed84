import { BgpEncodeError, MAX_PREFIX_NLRI_OCTETS, parsePrefix, writePrefixNlri } from '../codec/index.ts';

/**
 * Packs prefixes, as NLRI (RFC 4271 §4.3), into chunks of at most `room` octets, in the order
 * they are added; a prefix that does not fit starts the next chunk. Each prefix is written
 * straight into the chunk being filled (its buffer keeps {@link MAX_PREFIX_NLRI_OCTETS} spare
 * octets, so a prefix can be written before it is known to fit), so packing allocates per
 * chunk, never per prefix.
 */
export class NlriPacker {
  /** Chunks filled so far, in order. */
  readonly chunks: Uint8Array[] = [];
  private readonly room: number;
  private readonly buffer: Uint8Array;
  private used = 0;

  constructor(room: number) {
    this.room = room;
    this.buffer = new Uint8Array(room + MAX_PREFIX_NLRI_OCTETS);
  }

  /** Appends one prefix; throws BgpEncodeError naming it when it is not a prefix. */
  add(prefix: string): void {
    const at = this.used;
    let octets = writePrefixNlri(prefix, 0, prefix.length, this.buffer, at);
    if (octets < 0) {
      // A spelling the fast path leaves to the reference parser (which throws if it is invalid).
      const nlri = parsePrefix(prefix).nlri;
      this.buffer.set(nlri, at);
      octets = nlri.length;
    }
    this.place(at, octets, prefix);
  }

  /** Appends `prefix` already encoded at `source[from]` (its length octet, then its octets). */
  addEncoded(source: Uint8Array, from: number, prefix: string): void {
    const at = this.used;
    const octets = 1 + ((source[from]! + 7) >> 3);
    const buffer = this.buffer;
    for (let i = 0; i < octets; i++) buffer[at + i] = source[from + i]!;
    this.place(at, octets, prefix);
  }

  /** Takes the `octets` just written at `at` into the chunk, or into a new one if they do not fit. */
  private place(at: number, octets: number, prefix: string): void {
    if (at + octets <= this.room) {
      this.used = at + octets;
      return;
    }
    if (octets > this.room) {
      throw new BgpEncodeError(`prefix "${prefix}" does not fit the ${this.room} octets an UPDATE leaves`);
    }
    this.chunks.push(this.buffer.slice(0, at));
    this.buffer.copyWithin(0, at, at + octets);
    this.used = octets;
  }

  /** The chunks, the last one included; the packer is done. */
  finish(): Uint8Array[] {
    if (this.used > 0) this.chunks.push(this.buffer.slice(0, this.used));
    this.used = 0;
    return this.chunks;
  }
}
