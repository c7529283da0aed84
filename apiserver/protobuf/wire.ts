/**
 * Protocol Buffers wire format (proto2 as Kubernetes' go-to-protobuf writes it): a cursor that
 * reads fields off an untrusted buffer and a writer that appends them. Every read is bounds
 * checked; a malformed body is a {@link WireError} naming what is wrong and where, never an
 * exception from the Buffer API. No I/O.
 */

/** Wire types used by the Kubernetes messages (groups, 3 and 4, are refused). */
export const WireType = { Varint: 0, Fixed64: 1, LengthDelimited: 2, Fixed32: 5 } as const;
export type WireType = (typeof WireType)[keyof typeof WireType];

/** A malformed protobuf body: `offset` is the byte at which reading failed. */
export class WireError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(`${message} at byte ${offset}`);
    this.name = 'WireError';
    this.offset = offset;
  }
}

/** One field as read off the wire; `value` is a varint/fixed number or the field's bytes. */
export type WireField =
  | { field: number; wire: typeof WireType.Varint; value: bigint; offset: number }
  | { field: number; wire: typeof WireType.Fixed64 | typeof WireType.Fixed32; value: Buffer; offset: number }
  | { field: number; wire: typeof WireType.LengthDelimited; value: Buffer; offset: number };

/** A varint is at most 10 bytes (64 bits in groups of 7). */
const MAX_VARINT_BYTES = 10;

/** Reads one varint; returns [value as unsigned 64-bit, offset after it]. */
export function readVarint(buf: Buffer, at: number): [bigint, number] {
  let result = 0n;
  for (let i = 0; i < MAX_VARINT_BYTES; i++) {
    if (at + i >= buf.length) throw new WireError('truncated varint', at);
    const byte = buf[at + i]!;
    result |= BigInt(byte & 0x7f) << BigInt(7 * i);
    if ((byte & 0x80) === 0) return [BigInt.asUintN(64, result), at + i + 1];
  }
  throw new WireError('varint longer than 10 bytes', at);
}

/**
 * Splits a message into its fields in wire order (a repeated field appears once per element).
 * `base` is the message's offset in the whole body, for error positions; reading stops with a
 * WireError once more than `maxFields` fields were read, so a flood of tiny fields costs no
 * more memory than the limit allows.
 */
export function readFields(buf: Buffer, base = 0, maxFields = Number.POSITIVE_INFINITY): WireField[] {
  const fields: WireField[] = [];
  let at = 0;
  while (at < buf.length) {
    const start = at;
    if (fields.length >= maxFields) throw new WireError(`more than ${maxFields} fields`, base + start);
    const [key, next] = readVarint(buf, at);
    at = next;
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (field < 1 || field > 536_870_911) throw new WireError(`invalid field number ${field}`, base + start);
    if (wire === WireType.Varint) {
      const [value, after] = readVarint(buf, at);
      fields.push({ field, wire, value, offset: base + start });
      at = after;
    } else if (wire === WireType.LengthDelimited) {
      const [length, after] = readVarint(buf, at);
      if (length > BigInt(buf.length - after))
        throw new WireError(
          `field ${field} says ${length} bytes but ${buf.length - after} remain`,
          base + start,
        );
      const end = after + Number(length);
      fields.push({ field, wire, value: buf.subarray(after, end), offset: base + after });
      at = end;
    } else if (wire === WireType.Fixed64 || wire === WireType.Fixed32) {
      const size = wire === WireType.Fixed64 ? 8 : 4;
      if (at + size > buf.length)
        throw new WireError(`truncated fixed${size * 8} field ${field}`, base + start);
      fields.push({ field, wire, value: buf.subarray(at, at + size), offset: base + start });
      at += size;
    } else throw new WireError(`field ${field} has unsupported wire type ${wire}`, base + start);
  }
  return fields;
}

/** Appends fields; `finish()` returns the bytes. Length-delimited values are copied once. */
export class WireWriter {
  private readonly chunks: Buffer[] = [];
  private length = 0;

  get byteLength(): number {
    return this.length;
  }

  private push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  private varint(value: bigint): void {
    let v = BigInt.asUintN(64, value);
    const bytes: number[] = [];
    while (v >= 0x80n) {
      bytes.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    bytes.push(Number(v));
    this.push(Buffer.from(bytes));
  }

  private key(field: number, wire: WireType): void {
    this.varint((BigInt(field) << 3n) | BigInt(wire));
  }

  /** A varint field; negative numbers are written as 64-bit two's complement (int32/int64). */
  writeVarint(field: number, value: bigint): void {
    this.key(field, WireType.Varint);
    this.varint(value);
  }

  writeBytes(field: number, value: Buffer): void {
    this.key(field, WireType.LengthDelimited);
    this.varint(BigInt(value.length));
    this.push(value);
  }

  writeFixed64(field: number, value: Buffer): void {
    this.key(field, WireType.Fixed64);
    this.push(value);
  }

  finish(): Buffer {
    return Buffer.concat(this.chunks, this.length);
  }
}
