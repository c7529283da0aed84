/**
 * BGP wire bytes written and read by the fuzzer itself, from RFC 4271 §4 and the RFCs of each
 * field, without the speaker's codec: what is sent must not depend on the code under test, and
 * neither must the reading of what comes back (message type, NOTIFICATION code and subcode).
 */

import { concatBytes } from '../../speaker/bgp/codec/test-helpers.ts';

export const MessageType = { Open: 1, Update: 2, Notification: 3, Keepalive: 4, RouteRefresh: 5 } as const;

export const HEADER_LENGTH = 19;

/** Attribute flag bits (RFC 4271 §4.3). */
export const Flag = { Optional: 0x80, Transitive: 0x40, Partial: 0x20, ExtendedLength: 0x10 } as const;

/** The parts one after the other (the codec tests' helper: plain bytes, no BGP in it). */
export const concat = concatBytes;

export const u8 = (v: number): Uint8Array => Uint8Array.of(v & 0xff);
export const u16 = (v: number): Uint8Array => Uint8Array.of((v >>> 8) & 0xff, v & 0xff);
export const u32 = (v: number): Uint8Array =>
  Uint8Array.of((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);

/** Dotted quad → 4 octets. */
export function ipv4(text: string): Uint8Array {
  return Uint8Array.from(text.split('.').map(Number));
}

/**
 * A message: marker, length, type, body (RFC 4271 §4.1). `length` and `marker` override what
 * the header says, for header faults.
 */
export function frame(
  type: number,
  body: Uint8Array,
  override: { length?: number; marker?: Uint8Array } = {},
): Uint8Array {
  const out = new Uint8Array(HEADER_LENGTH + body.length);
  out.set(override.marker ?? new Uint8Array(16).fill(0xff), 0);
  const length = override.length ?? out.length;
  out[16] = (length >>> 8) & 0xff;
  out[17] = length & 0xff;
  out[18] = type;
  out.set(body, HEADER_LENGTH);
  return out;
}

/**
 * A path attribute (RFC 4271 §4.3): flags, type, a 1- or 2-octet length (2 when the Extended
 * Length flag is in `flags`), value; `length` overrides the length field.
 */
export function attribute(flags: number, typeCode: number, value: Uint8Array, length?: number): Uint8Array {
  const extended = (flags & Flag.ExtendedLength) !== 0;
  const said = length ?? value.length;
  return concat([u8(flags), u8(typeCode), extended ? u16(said) : u8(said), value]);
}

/** One prefix of NLRI (RFC 4271 §4.3, RFC 4760 §5): length in bits, then the octets it needs. */
export function prefix(bits: number, address: Uint8Array): Uint8Array {
  const octets = (bits + 7) >> 3;
  return concat([u8(bits), address.subarray(0, octets)]);
}

/** An UPDATE body (RFC 4271 §4.3) from its three fields; lengths may be overridden. */
export function updateBody(
  withdrawn: Uint8Array,
  attributes: Uint8Array,
  nlri: Uint8Array,
  override: { withdrawnLength?: number; attributesLength?: number } = {},
): Uint8Array {
  return concat([
    u16(override.withdrawnLength ?? withdrawn.length),
    withdrawn,
    u16(override.attributesLength ?? attributes.length),
    attributes,
    nlri,
  ]);
}

/** A capability (RFC 5492 §4): code, length, value. */
export function capability(code: number, value: Uint8Array, length?: number): Uint8Array {
  return concat([u8(code), u8(length ?? value.length), value]);
}

/**
 * An OPEN body (RFC 4271 §4.2): the optional parameters as given, in the classic form (1-octet
 * lengths) or the extended one of RFC 9072 (255, 255, 2-octet lengths).
 */
export function openBody(
  fields: { version: number; myAs: number; holdTimeSec: number; bgpId: Uint8Array },
  parameters: readonly { type: number; value: Uint8Array; length?: number }[],
  options: { extended?: boolean; parametersLength?: number } = {},
): Uint8Array {
  const params = concat(
    parameters.map((p) =>
      options.extended
        ? concat([u8(p.type), u16(p.length ?? p.value.length), p.value])
        : concat([u8(p.type), u8(p.length ?? p.value.length), p.value]),
    ),
  );
  const head = concat([u8(fields.version), u16(fields.myAs), u16(fields.holdTimeSec), fields.bgpId]);
  if (options.extended) {
    return concat([head, u8(255), u8(255), u16(options.parametersLength ?? params.length), params]);
  }
  return concat([head, u8(options.parametersLength ?? params.length), params]);
}

/** What the speaker sent, as the fuzzer needs it: type, and for a NOTIFICATION its code and subcode. */
export interface Received {
  readonly type: number;
  readonly length: number;
  readonly code?: number;
  readonly subcode?: number;
}

/**
 * Cuts the speaker's output into messages by the header's length alone: the speaker is trusted
 * to frame what it sends, and the fuzzer only reads types and NOTIFICATION codes.
 */
export class OutputReader {
  private held = new Uint8Array(0);

  push(chunk: Uint8Array): Received[] {
    const bytes = this.held.length === 0 ? chunk : concat([this.held, chunk]);
    const out: Received[] = [];
    let at = 0;
    while (bytes.length - at >= HEADER_LENGTH) {
      const length = (bytes[at + 16]! << 8) | bytes[at + 17]!;
      if (length < HEADER_LENGTH) throw new Error(`the speaker sent a header of length ${length}`);
      if (bytes.length - at < length) break;
      const type = bytes[at + 18]!;
      out.push(
        type === MessageType.Notification
          ? { type, length, code: bytes[at + 19]!, subcode: bytes[at + 20]! }
          : { type, length },
      );
      at += length;
    }
    this.held = bytes.slice(at);
    return out;
  }
}
