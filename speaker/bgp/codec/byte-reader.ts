/**
 * A cursor over a window of a byte array, so decoders read fields in order instead of counting
 * offsets. Reads never copy (`bytes` is a view). Decoders check `remaining` before reading what
 * the peer's length fields promise and turn a shortfall into the RFC's error; a read past the
 * window is a decoder bug and throws a RangeError.
 */
export class ByteReader {
  private readonly source: Uint8Array;
  private at: number;
  private readonly end: number;

  constructor(source: Uint8Array, start = 0, end = source.length) {
    if (start < 0 || end > source.length || start > end) {
      throw new RangeError(`reader window ${start}..${end} is outside 0..${source.length}`);
    }
    this.source = source;
    this.at = start;
    this.end = end;
  }

  /** Position in the source array (for slicing NOTIFICATION data out of it). */
  get offset(): number {
    return this.at;
  }

  /** Octets left in the window. */
  get remaining(): number {
    return this.end - this.at;
  }

  private take(size: number): number {
    if (size > this.end - this.at) {
      throw new RangeError(`read of ${size} octets with ${this.end - this.at} left (decoder bug)`);
    }
    const start = this.at;
    this.at += size;
    return start;
  }

  /** The next octet without moving past it. */
  peekU8(): number {
    if (this.at >= this.end) throw new RangeError('peek past the end (decoder bug)');
    return this.source[this.at]!;
  }

  u8(): number {
    return this.source[this.take(1)]!;
  }

  u16(): number {
    const i = this.take(2);
    return (this.source[i]! << 8) | this.source[i + 1]!;
  }

  u32(): number {
    const i = this.take(4);
    const s = this.source;
    return ((s[i]! << 24) >>> 0) + ((s[i + 1]! << 16) | (s[i + 2]! << 8) | s[i + 3]!);
  }

  /** The next `size` octets as a view (no copy). */
  bytes(size: number): Uint8Array {
    const i = this.take(size);
    return this.source.subarray(i, i + size);
  }

  /** Moves past `size` octets. */
  skip(size: number): void {
    this.take(size);
  }

  /** A reader over the next `size` octets; this one moves past them. */
  sub(size: number): ByteReader {
    const i = this.take(size);
    return new ByteReader(this.source, i, i + size);
  }

  /** Everything left, as a view; the reader ends up empty. */
  rest(): Uint8Array {
    return this.bytes(this.remaining);
  }

  /** The source array and the window's bounds, for decoders that index it directly. */
  window(): { source: Uint8Array; start: number; end: number } {
    return { source: this.source, start: this.at, end: this.end };
  }
}
