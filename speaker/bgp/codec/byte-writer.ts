/** A growable byte sink for encoders. */
export class ByteWriter {
  private buffer: Uint8Array;
  private offset = 0;

  constructor(initialSize = 256) {
    this.buffer = new Uint8Array(initialSize);
  }

  get length(): number {
    return this.offset;
  }

  private reserve(extra: number): void {
    if (this.offset + extra <= this.buffer.length) return;
    let size = Math.max(1, this.buffer.length * 2);
    while (size < this.offset + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buffer.subarray(0, this.offset));
    this.buffer = next;
  }

  u8(value: number): this {
    this.reserve(1);
    this.buffer[this.offset++] = value & 0xff;
    return this;
  }

  u16(value: number): this {
    this.reserve(2);
    this.buffer[this.offset++] = (value >>> 8) & 0xff;
    this.buffer[this.offset++] = value & 0xff;
    return this;
  }

  u32(value: number): this {
    this.reserve(4);
    this.buffer[this.offset++] = (value >>> 24) & 0xff;
    this.buffer[this.offset++] = (value >>> 16) & 0xff;
    this.buffer[this.offset++] = (value >>> 8) & 0xff;
    this.buffer[this.offset++] = value & 0xff;
    return this;
  }

  bytes(value: Uint8Array): this {
    this.reserve(value.length);
    this.buffer.set(value, this.offset);
    this.offset += value.length;
    return this;
  }

  /** An octet written earlier. */
  byteAt(at: number): number {
    return this.buffer[at]!;
  }

  /** Overwrites an octet written earlier. */
  patchU8(at: number, value: number): void {
    this.buffer[at] = value & 0xff;
  }

  /** Overwrites a 16-bit value written earlier (length fields known only at the end). */
  patchU16(at: number, value: number): void {
    this.buffer[at] = (value >>> 8) & 0xff;
    this.buffer[at + 1] = value & 0xff;
  }

  /**
   * Opens `size` octets at `at` by moving what follows: a length field that turns out to need
   * more octets than reserved (an attribute over 255 octets takes the extended length).
   */
  insertGap(at: number, size: number): void {
    this.reserve(size);
    this.buffer.copyWithin(at + size, at, this.offset);
    this.offset += size;
  }

  /** The bytes written so far (a copy, so the writer can be reused). */
  finish(): Uint8Array {
    return this.buffer.slice(0, this.offset);
  }
}
