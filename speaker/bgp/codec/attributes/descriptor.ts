import type { ByteReader } from '../byte-reader.ts';
import type { ByteWriter } from '../byte-writer.ts';
import { AttrFlag } from '../constants.ts';
import { BgpEncodeError, type ErrorAction } from '../errors.ts';
import type { CodecContext, PathAttributes } from '../types.ts';
import type { AttributeErrors } from '../update-errors.ts';

/** Flags of the attribute classes (RFC 4271 §5): the Optional and Transitive bits. */
export const WELL_KNOWN = AttrFlag.Transitive;
export const OPTIONAL_TRANSITIVE = AttrFlag.Optional | AttrFlag.Transitive;
export const OPTIONAL = AttrFlag.Optional;

/** Fields of PathAttributes that one descriptor each encodes and decodes. */
export type AttributeKey = Exclude<keyof PathAttributes, 'unknown'>;

/** NLRI already in wire form, so the bulk path (RIB-out) parses each prefix once. */
export interface EncodedNlri {
  readonly mpReachNlri?: Uint8Array;
  readonly mpUnreachWithdrawn?: Uint8Array;
}

/** What encoders need beyond the value. */
export interface EncodeContext {
  readonly codec: CodecContext;
  readonly nlri: EncodedNlri;
}

/**
 * Everything the codec knows about one path attribute, in one place (BIRD's attribute table,
 * GoBGP's one type per attribute): its type code and name, the flags it carries, the RFC 7606
 * action when it is malformed, and how its value is written and read.
 */
export interface AttributeDescriptor<K extends AttributeKey = AttributeKey> {
  readonly typeCode: number;
  /** The RFC's name, for logs and metric labels. */
  readonly name: string;
  /** Optional and Transitive bits (RFC 4271 §5); validation checks Partial from these. */
  readonly flags: number;
  /** RFC 7606 action for a malformed value (a flags or length error included). */
  readonly action: ErrorAction;
  /** Field of PathAttributes it fills. */
  readonly key: K;
  /** Writes the value (after the header, which the caller writes). */
  encode(value: NonNullable<PathAttributes[K]>, out: ByteWriter, context: EncodeContext): void;
  /**
   * Reads the whole value; reports what is wrong through `errors` and returns undefined when
   * the attribute is to be left out.
   */
  decode(value: ByteReader, errors: AttributeErrors, context: CodecContext): PathAttributes[K] | undefined;
}

/**
 * Writes the attribute header with a 1-octet length and returns where it starts; `endAttribute`
 * fills the length in once the value is written.
 */
export function beginAttribute(out: ByteWriter, flags: number, typeCode: number): number {
  const start = out.length;
  out
    .u8(flags & ~AttrFlag.ExtendedLength)
    .u8(typeCode)
    .u8(0);
  return start;
}

/** Sets the length; a value over 255 octets takes the Extended Length flag and 2 octets. */
export function endAttribute(out: ByteWriter, start: number): void {
  const length = out.length - start - 3;
  if (length <= 255) {
    out.patchU8(start + 2, length);
    return;
  }
  const typeCode = out.byteAt(start + 1);
  if (length > 0xffff) throw new BgpEncodeError(`attribute ${typeCode} is longer than 65,535 octets`);
  const flags = out.byteAt(start);
  out.insertGap(start + 2, 1);
  out.patchU8(start, flags | AttrFlag.ExtendedLength);
  out.patchU16(start + 2, length);
}

/** Decoding helper: a fixed-length value, or a length error (and undefined). */
export function fixedLength(value: ByteReader, length: number, errors: AttributeErrors): boolean {
  if (value.remaining === length) return true;
  errors.length(value.remaining, String(length));
  return false;
}

/**
 * Decoding helper: a value that is a list of `itemSize`-octet items, at least one (RFC 1997,
 * RFC 8092); a length error (and undefined) otherwise.
 */
export function decodeList<T>(
  value: ByteReader,
  itemSize: number,
  errors: AttributeErrors,
  readItem: (value: ByteReader) => T,
): T[] | undefined {
  if (value.remaining === 0 || value.remaining % itemSize !== 0) {
    return errors.length(value.remaining, `a non-zero multiple of ${itemSize}`);
  }
  const items: T[] = [];
  while (value.remaining > 0) items.push(readItem(value));
  return items;
}
