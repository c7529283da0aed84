/** Big-endian wire integers at an offset; the codec reads Uint8Array slices without copying. */

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

/** Two octets of a 16-bit value, for NOTIFICATION data. */
export function u16Bytes(value: number): Uint8Array {
  return Uint8Array.of((value >>> 8) & 0xff, value & 0xff);
}
