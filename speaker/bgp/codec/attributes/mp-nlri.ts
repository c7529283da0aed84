import type { IpFamily } from '../../../../shared/net/ip.ts';
import { addressBytes } from '../address.ts';
import type { ByteReader } from '../byte-reader.ts';
import { AttrType, Safi, UpdateSubcode } from '../constants.ts';
import { BgpEncodeError } from '../errors.ts';
import { afiFamily, decodePrefixes, encodePrefixes } from '../nlri.ts';
import type { AttributeErrors } from '../update-errors.ts';
import { checkMpNextHopLength, checkMpNextHops } from '../validation.ts';
import { type AttributeDescriptor, OPTIONAL } from './descriptor.ts';

function familyOf(afi: number, what: string): IpFamily {
  const family = afiFamily(afi);
  if (!family) throw new BgpEncodeError(`${what}: AFI ${afi} is not supported`);
  return family;
}

/** RFC 7606 §7.11 / §5.3: what is wrong with either MP attribute cannot be routed around. */
function malformed(errors: AttributeErrors, message: string): undefined {
  return errors.report(UpdateSubcode.OptionalAttributeError, message);
}

/** AFI and SAFI of an MP attribute; the family, or undefined after reporting. */
function readFamily(
  value: ByteReader,
  errors: AttributeErrors,
): { afi: number; safi: number; family: IpFamily } | undefined {
  const afi = value.u16();
  const safi = value.u8();
  const family = afiFamily(afi);
  if (!family || safi !== Safi.Unicast) return malformed(errors, `AFI ${afi} SAFI ${safi} is not supported`);
  return { afi, safi, family };
}

/** MP_REACH_NLRI (RFC 4760 §3): AFI, SAFI, next hops, a reserved octet, then the NLRI. */
export const MP_REACH_NLRI: AttributeDescriptor<'mpReach'> = {
  typeCode: AttrType.MpReachNlri,
  name: 'MP_REACH_NLRI',
  flags: OPTIONAL,
  action: 'session-reset', // RFC 7606 §7.11
  key: 'mpReach',
  encode: (reach, out, context) => {
    const family = familyOf(reach.afi, 'MP_REACH_NLRI');
    out.u16(reach.afi).u8(reach.safi);
    const hops = reach.nextHops.map((hop) =>
      addressBytes(hop, hop.includes(':') ? 'IPv6' : 'IPv4', 'MP_REACH_NLRI next hop'),
    );
    out.u8(hops.reduce((sum, hop) => sum + hop.length, 0));
    for (const hop of hops) out.bytes(hop);
    out.u8(0); // Reserved (RFC 4760 §3)
    out.bytes(context.nlri.mpReachNlri ?? encodePrefixes(reach.nlri, family, 'MP_REACH_NLRI'));
  },
  decode: (value, errors, context) => {
    if (value.remaining < 5) return malformed(errors, `length ${value.remaining} is shorter than 5`);
    const head = readFamily(value, errors);
    if (!head) return undefined;
    const hopLength = value.u8();
    if (value.remaining < hopLength + 1)
      return malformed(errors, `next hop length ${hopLength} overruns the attribute`);
    if (!checkMpNextHopLength(hopLength, errors)) return undefined;
    const hops = value.bytes(hopLength);
    value.u8(); // Reserved
    const nlri = decodePrefixes(value.rest(), head.family);
    if (!Array.isArray(nlri)) return malformed(errors, nlri.error);
    // After the NLRI: its errors reset the session and come first; the next hop's keep it.
    const nextHops = checkMpNextHops(head.afi, hops, context, errors);
    return { afi: head.afi, safi: head.safi, nextHops, nlri };
  },
};

/** MP_UNREACH_NLRI (RFC 4760 §4): AFI, SAFI, then the withdrawn routes. */
export const MP_UNREACH_NLRI: AttributeDescriptor<'mpUnreach'> = {
  typeCode: AttrType.MpUnreachNlri,
  name: 'MP_UNREACH_NLRI',
  flags: OPTIONAL,
  action: 'session-reset', // RFC 7606 §7.12 (by §5.3)
  key: 'mpUnreach',
  encode: (unreach, out, context) => {
    const family = familyOf(unreach.afi, 'MP_UNREACH_NLRI');
    out.u16(unreach.afi).u8(unreach.safi);
    out.bytes(
      context.nlri.mpUnreachWithdrawn ?? encodePrefixes(unreach.withdrawn, family, 'MP_UNREACH_NLRI'),
    );
  },
  decode: (value, errors) => {
    if (value.remaining < 3) return malformed(errors, `length ${value.remaining} is shorter than 3`);
    const head = readFamily(value, errors);
    if (!head) return undefined;
    const withdrawn = decodePrefixes(value.rest(), head.family);
    if (!Array.isArray(withdrawn)) return malformed(errors, withdrawn.error);
    return { afi: head.afi, safi: head.safi, withdrawn };
  },
};
