/** Small helpers for big-endian wire integers; the codec reads Uint8Array slices without copying. */

/** Unsigned 16-bit value at offset (network order). */
export function u16(bytes: Uint8Array, offset: number): number {
  return (bytes[offset]! << 8) | bytes[offset + 1]!;
}

/** Unsigned 32-bit value at offset (network order). */
export function u32(bytes: Uint8Array, offset: number): number {
  return (
    ((bytes[offset]! << 24) >>> 0) +
    ((bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!)
  );
}

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
    let size = this.buffer.length * 2;
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

  /** Overwrites a 16-bit value written earlier (length fields known only at the end). */
  patchU16(at: number, value: number): void {
    this.buffer[at] = (value >>> 8) & 0xff;
    this.buffer[at + 1] = value & 0xff;
  }

  /** The bytes written so far (a copy, so the writer can be reused). */
  finish(): Uint8Array {
    return this.buffer.slice(0, this.offset);
  }
}

/** Two octets of a 16-bit value, for NOTIFICATION data. */
export function u16Bytes(value: number): Uint8Array {
  return Uint8Array.of((value >>> 8) & 0xff, value & 0xff);
}
