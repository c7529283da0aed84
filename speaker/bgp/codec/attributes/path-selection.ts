import { AttrType } from '../constants.ts';
import { type AttributeDescriptor, fixedLength, OPTIONAL, WELL_KNOWN } from './descriptor.ts';

/** MULTI_EXIT_DISC (RFC 4271 §5.1.4): a 32-bit metric toward a neighbouring AS. */
export const MULTI_EXIT_DISC: AttributeDescriptor<'med'> = {
  typeCode: AttrType.MultiExitDisc,
  name: 'MULTI_EXIT_DISC',
  flags: OPTIONAL,
  action: 'treat-as-withdraw', // RFC 7606 §7.4
  key: 'med',
  encode: (med, out) => void out.u32(med),
  decode: (value, errors) => (fixedLength(value, 4, errors) ? value.u32() : undefined),
};

/** LOCAL_PREF (RFC 4271 §5.1.5): a 32-bit preference inside the AS (validation drops it on eBGP). */
export const LOCAL_PREF: AttributeDescriptor<'localPref'> = {
  typeCode: AttrType.LocalPref,
  name: 'LOCAL_PREF',
  flags: WELL_KNOWN,
  action: 'treat-as-withdraw', // RFC 7606 §7.5
  key: 'localPref',
  encode: (localPref, out) => void out.u32(localPref),
  decode: (value, errors) => (fixedLength(value, 4, errors) ? value.u32() : undefined),
};
