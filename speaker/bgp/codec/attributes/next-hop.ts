import { addressBytes } from '../address.ts';
import { AttrType } from '../constants.ts';
import { checkNextHop } from '../validation.ts';
import { type AttributeDescriptor, fixedLength, WELL_KNOWN } from './descriptor.ts';

/** NEXT_HOP (RFC 4271 §5.1.3): the IPv4 next hop of the routes in the classic NLRI field. */
export const NEXT_HOP: AttributeDescriptor<'nextHop'> = {
  typeCode: AttrType.NextHop,
  name: 'NEXT_HOP',
  flags: WELL_KNOWN,
  action: 'treat-as-withdraw', // RFC 7606 §7.3
  key: 'nextHop',
  encode: (hop, out) => void out.bytes(addressBytes(hop, 'IPv4', 'NEXT_HOP')),
  decode: (value, errors) =>
    fixedLength(value, 4, errors) ? checkNextHop(value.bytes(4), errors) : undefined,
};
