import { addressBytes, formatIpv4 } from '../address.ts';
import type { ByteReader } from '../byte-reader.ts';
import type { ByteWriter } from '../byte-writer.ts';
import { AttrType } from '../constants.ts';
import { BgpEncodeError } from '../errors.ts';
import type { AttributeErrors } from '../update-errors.ts';
import { checkAggregatorAs } from '../validation.ts';
import { type AttributeDescriptor, fixedLength, OPTIONAL_TRANSITIVE, WELL_KNOWN } from './descriptor.ts';

interface Aggregator {
  readonly asn: number;
  readonly address: string;
}

function encodeAggregator(agg: Aggregator, out: ByteWriter, width: 2 | 4, what: string): void {
  if (width === 4) out.u32(agg.asn);
  else if (agg.asn > 0xffff) throw new BgpEncodeError(`${what}: AS ${agg.asn} needs 4 octets`);
  else out.u16(agg.asn);
  out.bytes(addressBytes(agg.address, 'IPv4', what));
}

function decodeAggregator(value: ByteReader, width: 2 | 4, errors: AttributeErrors): Aggregator | undefined {
  if (!fixedLength(value, width + 4, errors)) return undefined;
  const asn = width === 4 ? value.u32() : value.u16();
  const address = formatIpv4(value.bytes(4));
  return checkAggregatorAs(asn, errors) ? { asn, address } : undefined;
}

/** ATOMIC_AGGREGATE (RFC 4271 §5.1.6): no value; present or not. */
export const ATOMIC_AGGREGATE: AttributeDescriptor<'atomicAggregate'> = {
  typeCode: AttrType.AtomicAggregate,
  name: 'ATOMIC_AGGREGATE',
  flags: WELL_KNOWN,
  action: 'attribute-discard', // RFC 7606 §7.6
  key: 'atomicAggregate',
  encode: () => undefined,
  decode: (value, errors) => (fixedLength(value, 0, errors) ? true : undefined),
};

/** AGGREGATOR (RFC 4271 §5.1.7): the aggregating AS (2 or 4 octets, RFC 6793) and router. */
export const AGGREGATOR: AttributeDescriptor<'aggregator'> = {
  typeCode: AttrType.Aggregator,
  name: 'AGGREGATOR',
  flags: OPTIONAL_TRANSITIVE,
  action: 'attribute-discard', // RFC 7606 §7.7
  key: 'aggregator',
  encode: (agg, out, context) => encodeAggregator(agg, out, context.codec.fourOctetAs ? 4 : 2, 'AGGREGATOR'),
  decode: (value, errors, context) => decodeAggregator(value, context.fourOctetAs ? 4 : 2, errors),
};

/** AS4_AGGREGATOR (RFC 6793 §3): AGGREGATOR's 4-octet AS toward a 2-octet speaker. */
export const AS4_AGGREGATOR: AttributeDescriptor<'as4Aggregator'> = {
  typeCode: AttrType.As4Aggregator,
  name: 'AS4_AGGREGATOR',
  flags: OPTIONAL_TRANSITIVE,
  action: 'attribute-discard', // RFC 6793 §6
  key: 'as4Aggregator',
  encode: (agg, out) => encodeAggregator(agg, out, 4, 'AS4_AGGREGATOR'),
  decode: (value, errors) => decodeAggregator(value, 4, errors),
};
