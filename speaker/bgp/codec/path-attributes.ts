import {
  type AttributeKey,
  beginAttribute,
  type EncodedNlri,
  endAttribute,
} from './attributes/descriptor.ts';
import { ATTRIBUTES, attributeByTypeCode, attributeName } from './attributes/table.ts';
import type { ByteReader } from './byte-reader.ts';
import { ByteWriter } from './byte-writer.ts';
import { AttrFlag, UpdateSubcode } from './constants.ts';
import { updateError } from './errors.ts';
import type { CodecContext, PathAttributes, RawAttribute } from './types.ts';
import { AttributeErrors, type UpdateErrors } from './update-errors.ts';
import {
  discardAs4FromNewSpeaker,
  discardLocalPrefFromExternal,
  flagsConflict,
  overrunAction,
  repeatAction,
} from './validation.ts';

/**
 * Encodes the path attributes in type-code order (RFC 4271 §5 recommends ascending order),
 * then the raw ones; the extended-length flag only on values over 255 octets.
 */
export function encodePathAttributes(
  attributes: PathAttributes,
  context: CodecContext,
  encoded: EncodedNlri = {},
): Uint8Array {
  const out = new ByteWriter(128);
  const encodeContext = { codec: context, nlri: encoded };
  for (const descriptor of ATTRIBUTES) {
    const value = attributes[descriptor.key];
    if (value === undefined || value === false) continue;
    const start = beginAttribute(out, descriptor.flags, descriptor.typeCode);
    descriptor.encode(value, out, encodeContext);
    endAttribute(out, start);
  }
  for (const raw of attributes.unknown ?? []) {
    const start = beginAttribute(out, raw.flags, raw.typeCode);
    out.bytes(raw.value);
    endAttribute(out, start);
  }
  return out.finish();
}

/** Decoded attributes and which type codes appeared (kept or dropped for an error). */
export interface DecodedAttributes {
  readonly attributes: PathAttributes;
  /** type code → 1 when the attribute appeared. */
  readonly seen: Uint8Array;
}

/**
 * Decodes the path attributes field of an UPDATE (RFC 4271 §4.3) with the checks of
 * `validation.ts`. Errors go to `errors` (a session reset is thrown from there). Each
 * attribute type is decoded at most once: repeats are only counted.
 */
export function decodePathAttributes(
  list: ByteReader,
  context: CodecContext,
  errors: UpdateErrors,
): DecodedAttributes {
  const source = list.window().source;
  const attributes: Partial<Record<AttributeKey, unknown>> = {};
  const seen = new Uint8Array(256);
  let unknown: RawAttribute[] | undefined;
  while (list.remaining > 0) {
    const start = list.offset;
    const flags = list.u8();
    const extended = (flags & AttrFlag.ExtendedLength) !== 0;
    if (list.remaining < (extended ? 3 : 2)) {
      errors.add(
        updateError(
          UpdateSubcode.MalformedAttributeList,
          'UPDATE: attribute header is cut off',
          overrunAction(undefined),
        ),
      );
      break;
    }
    const typeCode = list.u8();
    const length = extended ? list.u16() : list.u8();
    if (list.remaining < length) {
      errors.add(
        updateError(
          UpdateSubcode.MalformedAttributeList,
          `UPDATE: attribute ${attributeName(typeCode)} length ${length} overruns the path attributes`,
          overrunAction(typeCode),
          { attribute: typeCode },
        ),
      );
      break;
    }
    if (seen[typeCode] === 1) {
      list.skip(length);
      errors.repeated(typeCode, attributeName(typeCode), repeatAction(typeCode));
      continue;
    }
    seen[typeCode] = 1;
    const value = list.sub(length);
    if (discardLocalPrefFromExternal(typeCode, context, errors)) continue;
    const whole = source.subarray(start, list.offset);
    if (discardAs4FromNewSpeaker(typeCode, whole, context, errors)) continue;
    const descriptor = attributeByTypeCode(typeCode);
    if (!descriptor) {
      if ((flags & AttrFlag.Optional) === 0) {
        throw updateError(
          UpdateSubcode.UnrecognizedWellKnownAttribute,
          `UPDATE: unrecognized well-known attribute ${typeCode}`,
          'session-reset',
          { data: whole.slice(), attribute: typeCode },
        );
      }
      unknown ??= [];
      unknown.push({ flags: flags & ~AttrFlag.ExtendedLength, typeCode, value: value.rest().slice() });
      continue;
    }
    const attributeErrors = new AttributeErrors(errors, {
      typeCode,
      name: descriptor.name,
      action: descriptor.action,
      whole,
    });
    if (flagsConflict(descriptor.flags, flags)) {
      attributeErrors.report(UpdateSubcode.AttributeFlagsError, `flags 0x${flags.toString(16)}`);
      continue;
    }
    const decoded = descriptor.decode(value, attributeErrors, context);
    if (decoded !== undefined) attributes[descriptor.key] = decoded;
  }
  if (unknown) (attributes as { unknown?: RawAttribute[] }).unknown = unknown;
  return { attributes: attributes as PathAttributes, seen };
}
