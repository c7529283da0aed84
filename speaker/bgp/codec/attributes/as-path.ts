import type { ByteReader } from '../byte-reader.ts';
import type { ByteWriter } from '../byte-writer.ts';
import { AsPathSegmentType, AttrType, UpdateSubcode } from '../constants.ts';
import { BgpEncodeError } from '../errors.ts';
import type { AsPathSegment } from '../types.ts';
import { checkAs4Path, checkAsPath } from '../validation.ts';
import { type AttributeDescriptor, OPTIONAL_TRANSITIVE, WELL_KNOWN } from './descriptor.ts';

/** Wire segment type → segment kind (RFC 4271 §4.3, RFC 5065 §3). */
const SEGMENT_KINDS: Readonly<Record<number, AsPathSegment['type']>> = {
  [AsPathSegmentType.AsSet]: 'set',
  [AsPathSegmentType.AsSequence]: 'sequence',
  [AsPathSegmentType.AsConfedSequence]: 'confed-sequence',
  [AsPathSegmentType.AsConfedSet]: 'confed-set',
};

const SEGMENT_TYPES: Readonly<Record<AsPathSegment['type'], number>> = {
  set: AsPathSegmentType.AsSet,
  sequence: AsPathSegmentType.AsSequence,
  'confed-sequence': AsPathSegmentType.AsConfedSequence,
  'confed-set': AsPathSegmentType.AsConfedSet,
};

function encodeSegments(
  segments: readonly AsPathSegment[],
  out: ByteWriter,
  width: 2 | 4,
  what: string,
): void {
  for (const segment of segments) {
    if (segment.asns.length === 0 || segment.asns.length > 255) {
      throw new BgpEncodeError(`${what}: a segment holds 1..255 AS numbers, not ${segment.asns.length}`);
    }
    out.u8(SEGMENT_TYPES[segment.type]).u8(segment.asns.length);
    for (const asn of segment.asns) {
      if (width === 4) out.u32(asn);
      else if (asn > 0xffff) {
        throw new BgpEncodeError(`${what}: AS ${asn} needs 4 octets (use AS_TRANS and AS4_PATH)`);
      } else out.u16(asn);
    }
  }
}

/**
 * Segments of an AS_PATH / AS4_PATH value, or what makes it malformed (RFC 7606 §7.2: a
 * segment that is cut off or overruns the attribute, an empty one, an unknown type).
 */
function decodeSegments(value: ByteReader, width: 2 | 4): AsPathSegment[] | string {
  const segments: AsPathSegment[] = [];
  while (value.remaining > 0) {
    if (value.remaining < 2) return 'segment header is cut off';
    const type = value.u8();
    const count = value.u8();
    const kind = SEGMENT_KINDS[type];
    if (kind === undefined)
      return `segment type ${type} is not one of AS_SET, AS_SEQUENCE and the confederation ones`;
    if (count === 0) return 'segment of length 0';
    if (value.remaining < count * width) return `segment of ${count} AS numbers overruns the attribute`;
    const asns: number[] = new Array(count);
    for (let i = 0; i < count; i++) asns[i] = width === 4 ? value.u32() : value.u16();
    segments.push({ type: kind, asns });
  }
  return segments;
}

/** AS_PATH (RFC 4271 §5.1.2): 2- or 4-octet AS numbers as the session negotiated (RFC 6793). */
export const AS_PATH: AttributeDescriptor<'asPath'> = {
  typeCode: AttrType.AsPath,
  name: 'AS_PATH',
  flags: WELL_KNOWN,
  action: 'treat-as-withdraw', // RFC 7606 §7.2
  key: 'asPath',
  encode: (path, out, context) => encodeSegments(path, out, context.codec.fourOctetAs ? 4 : 2, 'AS_PATH'),
  decode: (value, errors, context) => {
    const segments = decodeSegments(value, context.fourOctetAs ? 4 : 2);
    if (typeof segments === 'string') {
      return errors.report(UpdateSubcode.MalformedAsPath, segments, { withData: false });
    }
    return checkAsPath(segments, context, errors);
  },
};

/** AS4_PATH (RFC 6793 §3): the true path beside AS_PATH toward a 2-octet speaker. */
export const AS4_PATH: AttributeDescriptor<'as4Path'> = {
  typeCode: AttrType.As4Path,
  name: 'AS4_PATH',
  flags: OPTIONAL_TRANSITIVE,
  action: 'attribute-discard', // RFC 6793 §6
  key: 'as4Path',
  encode: (path, out) => encodeSegments(path, out, 4, 'AS4_PATH'),
  decode: (value, errors) => {
    const length = value.remaining;
    const segments = decodeSegments(value, 4);
    if (typeof segments === 'string') {
      return errors.report(UpdateSubcode.MalformedAsPath, segments, { withData: false });
    }
    return checkAs4Path(segments, length, errors);
  },
};
