import { AttrType } from '../constants.ts';
import { checkOrigin } from '../validation.ts';
import { type AttributeDescriptor, fixedLength, WELL_KNOWN } from './descriptor.ts';

/** ORIGIN (RFC 4271 §5.1.1): one octet, IGP / EGP / INCOMPLETE. */
export const ORIGIN: AttributeDescriptor<'origin'> = {
  typeCode: AttrType.Origin,
  name: 'ORIGIN',
  flags: WELL_KNOWN,
  action: 'treat-as-withdraw', // RFC 7606 §7.1
  key: 'origin',
  encode: (origin, out) => void out.u8(origin),
  decode: (value, errors) => (fixedLength(value, 1, errors) ? checkOrigin(value.u8(), errors) : undefined),
};
