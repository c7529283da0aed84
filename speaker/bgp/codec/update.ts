import { attributeName } from './attributes/table.ts';
import { ByteReader } from './byte-reader.ts';
import { Afi, Safi, UpdateSubcode } from './constants.ts';
import { type BgpMessageError, updateError } from './errors.ts';
import { decodePrefixes, encodePrefixes } from './nlri.ts';
import { decodePathAttributes, encodePathAttributes } from './path-attributes.ts';
import type { CodecContext, UpdateMessage } from './types.ts';
import { UpdateErrors } from './update-errors.ts';
import { missingMandatory, reachesRoutes, resetWithoutReachableNlri } from './validation.ts';

/** Encodes an UPDATE body from pre-encoded parts (withdrawn NLRI, attributes, NLRI). */
export function encodeUpdateBodyParts(
  withdrawn: Uint8Array,
  attributes: Uint8Array,
  nlri: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(4 + withdrawn.length + attributes.length + nlri.length);
  out[0] = withdrawn.length >>> 8;
  out[1] = withdrawn.length & 0xff;
  out.set(withdrawn, 2);
  const at = 2 + withdrawn.length;
  out[at] = attributes.length >>> 8;
  out[at + 1] = attributes.length & 0xff;
  out.set(attributes, at + 2);
  out.set(nlri, at + 2 + attributes.length);
  return out;
}

/** Encodes an UPDATE body (after the header). */
export function encodeUpdateBody(message: UpdateMessage, context: CodecContext): Uint8Array {
  return encodeUpdateBodyParts(
    encodePrefixes(message.withdrawn, 'IPv4', 'UPDATE withdrawn routes'),
    encodePathAttributes(message.attributes, context),
    encodePrefixes(message.nlri, 'IPv4', 'UPDATE NLRI'),
  );
}

function malformedList(message: string): BgpMessageError {
  return updateError(UpdateSubcode.MalformedAttributeList, `UPDATE: ${message}`, 'session-reset');
}

function invalidNetwork(message: string): BgpMessageError {
  return updateError(UpdateSubcode.InvalidNetworkField, `UPDATE: ${message}`, 'session-reset');
}

/**
 * Decodes an UPDATE body with the checks of RFC 4271 §6.3 as revised by RFC 7606 (the rules
 * are in validation.ts): errors that force a session reset are thrown as BgpMessageError;
 * the others are returned in `errors`, with discarded attributes left out.
 */
export function decodeUpdateBody(body: Uint8Array, context: CodecContext): UpdateMessage {
  const reader = new ByteReader(body);
  if (reader.remaining < 4) throw malformedList(`body of ${body.length} octets is shorter than 4`);
  const withdrawnLength = reader.u16();
  if (reader.remaining < withdrawnLength + 2) {
    throw malformedList(`withdrawn routes length ${withdrawnLength} exceeds the message`);
  }
  const withdrawnBytes = reader.bytes(withdrawnLength);
  const attributesLength = reader.u16();
  if (reader.remaining < attributesLength) {
    throw malformedList(`total path attribute length ${attributesLength} exceeds the message`);
  }
  const attributeList = reader.sub(attributesLength);
  // RFC 7606 §5.3: a malformed prefix field cannot be handled short of a session reset; §3 i:
  // the withdrawn routes are checked like the NLRI, so their error is Invalid Network Field too.
  const withdrawn = decodePrefixes(withdrawnBytes, 'IPv4');
  if (!Array.isArray(withdrawn)) throw invalidNetwork(`withdrawn routes: ${withdrawn.error}`);
  const nlri = decodePrefixes(reader.rest(), 'IPv4');
  if (!Array.isArray(nlri)) throw invalidNetwork(`NLRI: ${nlri.error}`);
  const errors = new UpdateErrors();
  const { attributes, seen } = decodePathAttributes(attributeList, context, errors);
  const missing = missingMandatory(nlri.length, attributes, (typeCode) => seen[typeCode] === 1);
  if (missing !== undefined) {
    errors.add(
      updateError(
        UpdateSubcode.MissingWellKnownAttribute,
        `UPDATE: missing well-known attribute ${attributeName(missing)}`,
        'treat-as-withdraw',
        { data: Uint8Array.of(missing), attribute: missing },
      ),
    );
  }
  const message: UpdateMessage = { type: 'update', withdrawn, attributes, nlri };
  const kept = errors.finish();
  if (!kept) return message;
  if (!reachesRoutes(nlri.length, attributes)) resetWithoutReachableNlri(kept);
  return { ...message, errors: kept };
}

/** True when an UPDATE is to be handled as a withdrawal of everything it carries (RFC 7606). */
export function isTreatAsWithdraw(message: UpdateMessage): boolean {
  return (message.errors ?? []).some((error) => error.action === 'treat-as-withdraw');
}

/** The AFI/SAFI an UPDATE marks the End-of-RIB of (RFC 4724 §2), or undefined. */
export function endOfRibFamily(message: UpdateMessage): { afi: number; safi: number } | undefined {
  if (message.withdrawn.length > 0 || message.nlri.length > 0) return undefined;
  const attrs = message.attributes;
  const keys = Object.keys(attrs);
  if (keys.length === 0) return { afi: Afi.Ipv4, safi: Safi.Unicast };
  if (keys.length === 1 && attrs.mpUnreach && attrs.mpUnreach.withdrawn.length === 0) {
    return { afi: attrs.mpUnreach.afi, safi: attrs.mpUnreach.safi };
  }
  return undefined;
}

/** The End-of-RIB marker of a family (RFC 4724 §2). */
export function endOfRib(afi: number, safi: number): UpdateMessage {
  if (afi === Afi.Ipv4 && safi === Safi.Unicast)
    return { type: 'update', withdrawn: [], attributes: {}, nlri: [] };
  return { type: 'update', withdrawn: [], attributes: { mpUnreach: { afi, safi, withdrawn: [] } }, nlri: [] };
}
