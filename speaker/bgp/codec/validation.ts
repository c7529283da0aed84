/**
 * The rules a received UPDATE is checked against, and what each violation costs the route or
 * the session (RFC 4271 §6.3 as revised by RFC 7606, with RFC 7607, 5065, 6793, 4760, 8950 and
 * 2545). Attribute decoders parse the wire format and call these for what the values mean;
 * `decodeUpdateBody` calls the ones about the attribute list. Where the RFCs leave a choice,
 * the verdict is the one BIRD and FRR give, so a peer sees the same from us as from them.
 */
import { formatAddress } from './address.ts';
import { AttrFlag, AttrType, UpdateSubcode } from './constants.ts';
import { BgpMessageError, type ErrorAction, updateError } from './errors.ts';
import { afiFamily } from './nlri.ts';
import type { AsPathSegment, CodecContext, PathAttributes } from './types.ts';
import type { AttributeErrors, UpdateErrors } from './update-errors.ts';

/**
 * RFC 4271 §4.3 and §6.3, RFC 7606 §3 c: the Optional and Transitive bits must be the
 * attribute's; Partial may be set only on optional transitive attributes (well-known and
 * optional non-transitive ones carry it as 0). `expected` holds the Optional and Transitive bits.
 */
export function flagsConflict(expected: number, flags: number): boolean {
  const optionalTransitive = AttrFlag.Optional | AttrFlag.Transitive;
  const mask =
    optionalTransitive | ((expected & optionalTransitive) === optionalTransitive ? 0 : AttrFlag.Partial);
  return (flags & mask) !== expected;
}

/**
 * RFC 7606 §3 g: a repeated MP_REACH_NLRI or MP_UNREACH_NLRI resets the session; any other
 * repeated attribute is dropped after its first occurrence.
 */
export function repeatAction(typeCode: number): ErrorAction {
  return typeCode === AttrType.MpReachNlri || typeCode === AttrType.MpUnreachNlri
    ? 'session-reset'
    : 'attribute-discard';
}

/**
 * RFC 7606 §4: an attribute whose header or length runs past the attributes field: the rest
 * cannot be parsed, but the NLRI field is still found through the total length, so the routes
 * are treated as withdrawn; with MP_REACH / MP_UNREACH the routes themselves are lost: reset.
 */
export function overrunAction(typeCode: number | undefined): ErrorAction {
  return repeatAction(typeCode ?? 0) === 'session-reset' ? 'session-reset' : 'treat-as-withdraw';
}

/**
 * RFC 7606 §7.5: LOCAL_PREF from an external peer is discarded whatever its flags or length;
 * no NOTIFICATION subcode names this, 3/1 (the attribute list) is the nearest.
 */
export function discardLocalPrefFromExternal(
  typeCode: number,
  context: CodecContext,
  errors: UpdateErrors,
): boolean {
  if (typeCode !== AttrType.LocalPref || !context.externalPeer) return false;
  errors.add(
    updateError(
      UpdateSubcode.MalformedAttributeList,
      'UPDATE: LOCAL_PREF from an external peer',
      'attribute-discard',
      {
        attribute: typeCode,
      },
    ),
  );
  return true;
}

/**
 * RFC 6793 §6: AS4_PATH and AS4_AGGREGATOR are not carried between NEW speakers (both sides
 * sent the 4-octet AS capability); received anyway they are discarded, whatever they hold.
 */
export function discardAs4FromNewSpeaker(
  typeCode: number,
  whole: Uint8Array,
  context: CodecContext,
  errors: UpdateErrors,
): boolean {
  if ((typeCode !== AttrType.As4Path && typeCode !== AttrType.As4Aggregator) || !context.fourOctetAs) {
    return false;
  }
  errors.add(
    updateError(
      UpdateSubcode.OptionalAttributeError,
      `UPDATE: ${typeCode === AttrType.As4Path ? 'AS4_PATH' : 'AS4_AGGREGATOR'} from a 4-octet AS speaker (RFC 6793 §6)`,
      'attribute-discard',
      { attribute: typeCode, data: whole.slice() },
    ),
  );
  return true;
}

/** RFC 4271 §6.3, RFC 7606 §7.1: ORIGIN is IGP, EGP or INCOMPLETE. */
export function checkOrigin(value: number, errors: AttributeErrors): number | undefined {
  if (value <= 2) return value;
  return errors.report(UpdateSubcode.InvalidOriginAttribute, `value ${value} is not IGP, EGP or INCOMPLETE`);
}

/**
 * Whether octets at `offset` are a usable next hop (RFC 4271 §6.3 "a valid IP host address"):
 * not the unspecified address, not multicast (nor, in IPv4, class E or broadcast).
 */
export function isHostAddress(bytes: Uint8Array, offset: number, length: 4 | 16): boolean {
  let zero = true;
  for (let i = 0; i < length; i++) if (bytes[offset + i] !== 0) zero = false;
  if (zero) return false;
  return length === 4 ? bytes[offset]! < 224 : bytes[offset] !== 0xff;
}

/** fe80::/10 (RFC 4291 §2.5.6). */
export function isLinkLocal(bytes: Uint8Array, offset: number): boolean {
  return bytes[offset] === 0xfe && (bytes[offset + 1]! & 0xc0) === 0x80;
}

/** RFC 4271 §6.3, RFC 7606 §7.3: NEXT_HOP must be a host address, else treat-as-withdraw. */
export function checkNextHop(value: Uint8Array, errors: AttributeErrors): string | undefined {
  const text = formatAddress('IPv4', value, 0);
  if (isHostAddress(value, 0, 4)) return text;
  return errors.report(UpdateSubcode.InvalidNextHopAttribute, `${text} is not a host address`);
}

/**
 * RFC 7606 §7.11: a next hop length other than 4, 16 (RFC 2545 global) or 32 (global and
 * link-local) octets leaves the NLRI unlocatable: session reset, 3/9 like BIRD.
 */
export function checkMpNextHopLength(length: number, errors: AttributeErrors): boolean {
  if (length === 4 || length === 16 || length === 32) return true;
  errors.report(UpdateSubcode.OptionalAttributeError, `next hop length ${length} is not 4, 16 or 32`);
  return false;
}

/**
 * The next hops of MP_REACH_NLRI (RFC 4760 §3), checked like NEXT_HOP:
 * - the address must be of the AFI's family, or IPv6 for IPv4 routes when RFC 8950 extended
 *   next hop was negotiated; one that does not fit is treat-as-withdraw (BIRD's verdict: the
 *   length field still delimits it, so the NLRI can be read and withdrawn);
 * - the first address must be a host address (RFC 4271 §6.3), else treat-as-withdraw;
 * - of 32 octets, the second must be link-local (RFC 2545 §3); one that is not is dropped and
 *   the route kept with the global address, as BIRD and FRR do.
 */
export function checkMpNextHops(
  afi: number,
  hops: Uint8Array,
  context: CodecContext,
  errors: AttributeErrors,
): string[] {
  const family = hops.length === 4 ? 'IPv4' : 'IPv6';
  const nextHops = [formatAddress(family, hops, 0)];
  const fits =
    afiFamily(afi) === family || (family === 'IPv6' && afiFamily(afi) === 'IPv4' && context.extendedNextHop);
  if (!fits) {
    const extended = afiFamily(afi) === 'IPv4' ? ' without RFC 8950 extended next hop' : '';
    errors.report(
      UpdateSubcode.InvalidNextHopAttribute,
      `a next hop of ${hops.length} octets does not fit AFI ${afi}${extended}`,
      { action: 'treat-as-withdraw' },
    );
  } else if (!isHostAddress(hops, 0, hops.length === 4 ? 4 : 16)) {
    errors.report(UpdateSubcode.InvalidNextHopAttribute, `next hop ${nextHops[0]} is not a host address`, {
      action: 'treat-as-withdraw',
    });
  }
  if (hops.length === 32) {
    const second = formatAddress('IPv6', hops, 16);
    if (isLinkLocal(hops, 16)) nextHops.push(second);
    else {
      errors.report(
        UpdateSubcode.InvalidNextHopAttribute,
        `second next hop ${second} is not link-local: ignored`,
        {
          action: 'value-discard',
        },
      );
    }
  }
  return nextHops;
}

function hasAsZero(segments: readonly AsPathSegment[]): boolean {
  return segments.some((s) => s.asns.includes(0));
}

function isConfed(segment: AsPathSegment): boolean {
  return segment.type === 'confed-sequence' || segment.type === 'confed-set';
}

/**
 * AS_PATH (action treat-as-withdraw, RFC 7606 §7.2): AS 0 is malformed (RFC 7607 §3);
 * confederation segments are kept from an internal peer and malformed from an external one,
 * which cannot be in our confederation since we are in none (RFC 5065 §5).
 */
export function checkAsPath(
  segments: AsPathSegment[],
  context: CodecContext,
  errors: AttributeErrors,
): AsPathSegment[] | undefined {
  if (hasAsZero(segments)) {
    return errors.report(UpdateSubcode.MalformedAsPath, 'AS 0 (RFC 7607)', { withData: false });
  }
  if (context.externalPeer && segments.some(isConfed)) {
    return errors.report(
      UpdateSubcode.MalformedAsPath,
      'confederation segment from an external peer (RFC 5065 §5)',
      {
        withData: false,
      },
    );
  }
  return segments;
}

/**
 * AS4_PATH (action attribute discard, RFC 6793 §6): shorter than 6 octets or with AS 0
 * (RFC 7607 §3) it is malformed; confederation segments must not be in it and are dropped,
 * the rest kept.
 */
export function checkAs4Path(
  segments: AsPathSegment[],
  valueLength: number,
  errors: AttributeErrors,
): AsPathSegment[] | undefined {
  if (valueLength < 6) {
    return errors.report(UpdateSubcode.AttributeLengthError, 'shorter than 6 octets (RFC 6793 §6)');
  }
  if (hasAsZero(segments)) {
    return errors.report(UpdateSubcode.MalformedAsPath, 'AS 0 (RFC 7607)', { withData: false });
  }
  if (!segments.some(isConfed)) return segments;
  errors.report(UpdateSubcode.MalformedAsPath, 'confederation segments dropped (RFC 6793 §6)', {
    action: 'value-discard',
    withData: false,
  });
  return segments.filter((s) => !isConfed(s));
}

/**
 * AGGREGATOR / AS4_AGGREGATOR naming AS 0 are malformed (RFC 7607 §3), which RFC 7606 §7.7
 * and RFC 6793 §6 handle by discarding the attribute.
 */
export function checkAggregatorAs(asn: number, errors: AttributeErrors): boolean {
  if (asn !== 0) return true;
  errors.report(UpdateSubcode.OptionalAttributeError, 'AS 0 (RFC 7607)');
  return false;
}

/** Whether an UPDATE announces routes: in its NLRI field or in MP_REACH_NLRI (RFC 4760 §3). */
export function reachesRoutes(nlriCount: number, attributes: PathAttributes): boolean {
  return nlriCount > 0 || (attributes.mpReach !== undefined && attributes.mpReach.nlri.length > 0);
}

/**
 * RFC 4271 §6.3, RFC 7606 §3 d: ORIGIN and AS_PATH are needed when the UPDATE reaches routes,
 * NEXT_HOP when it does so in the classic NLRI field; the first missing one, or undefined.
 * `seen` tells attributes present but dropped for an error (reported already) from absent ones.
 */
export function missingMandatory(
  nlriCount: number,
  attributes: PathAttributes,
  seen: (typeCode: number) => boolean,
): number | undefined {
  if (!reachesRoutes(nlriCount, attributes)) return undefined;
  if (!seen(AttrType.Origin)) return AttrType.Origin;
  if (!seen(AttrType.AsPath)) return AttrType.AsPath;
  if (nlriCount > 0 && !seen(AttrType.NextHop)) return AttrType.NextHop;
  return undefined;
}

/**
 * RFC 7606 §5.2: an UPDATE that reaches no routes yet carries attributes gives no assurance
 * that its NLRI were found where they were, so an error that would treat them as withdrawn
 * resets the session instead, with that error's NOTIFICATION (attribute discards stay).
 */
export function resetWithoutReachableNlri(errors: readonly BgpMessageError[]): void {
  const withdraw = errors.find((e) => e.action === 'treat-as-withdraw');
  if (!withdraw) return;
  throw new BgpMessageError(
    withdraw.code,
    withdraw.subcode,
    `${withdraw.message}, in an UPDATE that reaches no routes (RFC 7606 §5.2)`,
    {
      data: withdraw.data,
      action: 'session-reset',
      ...(withdraw.attribute !== undefined ? { attribute: withdraw.attribute } : {}),
    },
  );
}
