import type { ByteReader } from '../byte-reader.ts';
import type { ByteWriter } from '../byte-writer.ts';
import { AttrType } from '../constants.ts';
import type { AttributeErrors } from '../update-errors.ts';
import { type AttributeDescriptor, fixedLength, OPTIONAL, WELL_KNOWN } from './descriptor.ts';

/** The value of both: one 32-bit number. */
const u32Value = {
  encode: (value: number, out: ByteWriter) => void out.u32(value),
  decode: (value: ByteReader, errors: AttributeErrors) =>
    fixedLength(value, 4, errors) ? value.u32() : undefined,
};

/** MULTI_EXIT_DISC (RFC 4271 §5.1.4): a metric toward a neighbouring AS. */
export const MULTI_EXIT_DISC: AttributeDescriptor<'med'> = {
  typeCode: AttrType.MultiExitDisc,
  name: 'MULTI_EXIT_DISC',
  flags: OPTIONAL,
  action: 'treat-as-withdraw', // RFC 7606 §7.4
  key: 'med',
  ...u32Value,
};

/** LOCAL_PREF (RFC 4271 §5.1.5): a preference inside the AS (validation drops it on eBGP). */
export const LOCAL_PREF: AttributeDescriptor<'localPref'> = {
  typeCode: AttrType.LocalPref,
  name: 'LOCAL_PREF',
  flags: WELL_KNOWN,
  action: 'treat-as-withdraw', // RFC 7606 §7.5
  key: 'localPref',
  ...u32Value,
};
