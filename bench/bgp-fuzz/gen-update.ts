/**
 * UPDATEs (RFC 4271 §4.3, RFC 4760 §3-4): valid ones of every shape (IPv4 NLRI, MP_REACH for
 * either family, withdrawals, End-of-RIB, attributes in any order, unknown attributes, Extended
 * Length used where it is not needed, extended-message sizes), and faults put in on purpose,
 * each recorded for the oracle: flags, lengths and values of each attribute, repeats, an
 * attribute overrunning the field or a header cut short, missing mandatory attributes, and
 * malformed length fields and prefixes.
 */
import { framed, type GeneratedMessage } from './gen-open.ts';
import { Attr, type AttributeFacts, type AttributeFault, type LaneFacts, type Negotiated } from './oracle.ts';
import type { Random } from './random.ts';
import type { RuleId } from './rules.ts';
import { attribute, concat, Flag, MessageType, prefix, u8, u16, u32, updateBody } from './wire.ts';

interface Occurrence {
  bytes: Uint8Array;
  facts: AttributeFacts;
}

/** What the attribute builders need to know. */
interface Context {
  readonly rng: Random;
  readonly lane: LaneFacts;
  readonly negotiated: Negotiated;
  readonly notes: Set<RuleId>;
}

const WELL_KNOWN = Flag.Transitive;
const OPTIONAL_TRANSITIVE = Flag.Optional | Flag.Transitive;
const OPTIONAL = Flag.Optional;

/** Type codes the speaker does not implement (RFC 4271 §5: unrecognized). */
const UNKNOWN_TYPES = [
  0, 9, 10, 11, 12, 13, 16, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 33, 35, 40, 128, 200, 254,
];

/** Flags of the well-known and optional attributes we implement (RFC 4271 §5, 4760, 6793, 1997, 8092). */
const FLAGS: Record<number, number> = {
  [Attr.Origin]: WELL_KNOWN,
  [Attr.AsPath]: WELL_KNOWN,
  [Attr.NextHop]: WELL_KNOWN,
  [Attr.Med]: OPTIONAL,
  [Attr.LocalPref]: WELL_KNOWN,
  [Attr.AtomicAggregate]: WELL_KNOWN,
  [Attr.Aggregator]: OPTIONAL_TRANSITIVE,
  [Attr.Communities]: OPTIONAL_TRANSITIVE,
  [Attr.MpReach]: OPTIONAL,
  [Attr.MpUnreach]: OPTIONAL,
  [Attr.As4Path]: OPTIONAL_TRANSITIVE,
  [Attr.As4Aggregator]: OPTIONAL_TRANSITIVE,
  [Attr.LargeCommunity]: OPTIONAL_TRANSITIVE,
};

/** A host address of 192.0.2.0/24, 198.51.100.0/24 or 203.0.113.0/24. */
function hostV4(rng: Random): Uint8Array {
  const net = rng.pick([
    [192, 0, 2],
    [198, 51, 100],
    [203, 0, 113],
  ]);
  return Uint8Array.of(net[0]!, net[1]!, net[2]!, rng.int(1, 254));
}

/** Not a host address (RFC 4271 §6.3): unspecified, multicast, class E or broadcast. */
function notHostV4(rng: Random): Uint8Array {
  return rng.pick([
    Uint8Array.of(0, 0, 0, 0),
    Uint8Array.of(rng.int(224, 239), rng.int(0, 255), rng.int(0, 255), rng.int(0, 255)),
    Uint8Array.of(rng.int(240, 255), rng.int(0, 255), rng.int(0, 255), rng.int(0, 255)),
    Uint8Array.of(255, 255, 255, 255),
  ]);
}

/** A global address in 2001:db8::/32. */
function globalV6(rng: Random): Uint8Array {
  return concat([Uint8Array.of(0x20, 0x01, 0x0d, 0xb8), rng.bytes(12)]);
}

function linkLocalV6(rng: Random): Uint8Array {
  return concat([Uint8Array.of(0xfe, 0x80 | rng.int(0, 0x3f)), rng.bytes(14)]);
}

/** The unspecified address or a multicast one. */
function notHostV6(rng: Random): Uint8Array {
  return rng.chance(0.3) ? new Uint8Array(16) : concat([Uint8Array.of(0xff, rng.int(0, 255)), rng.bytes(14)]);
}

function v4Prefix(rng: Random): Uint8Array {
  return prefix(rng.int(0, 32), rng.bytes(4));
}

function v6Prefix(rng: Random): Uint8Array {
  return prefix(rng.int(0, 128), rng.bytes(16));
}

function prefixes(rng: Random, afi: number, count: number): Uint8Array {
  return concat(Array.from({ length: count }, () => (afi === 1 ? v4Prefix(rng) : v6Prefix(rng))));
}

/**
 * A field of prefixes with one malformed (RFC 7606 §5.3): a length beyond the family's, or a
 * last prefix running past the field.
 */
function badPrefixes(rng: Random, afi: number): Uint8Array {
  const max = afi === 1 ? 32 : 128;
  const before = prefixes(rng, afi, rng.int(0, 3));
  if (rng.chance(0.5)) {
    return concat([
      before,
      u8(rng.int(max + 1, 255)),
      rng.bytes(rng.int(0, 16)),
      prefixes(rng, afi, rng.int(0, 2)),
    ]);
  }
  const bits = rng.int(9, max);
  const octets = (bits + 7) >> 3;
  return concat([before, u8(bits), rng.bytes(rng.int(0, octets - 1))]);
}

function asn(rng: Random, four: boolean): number {
  return four ? rng.int(1, 0xffffffff) : rng.int(1, 0xffff);
}

function asBytes(value: number, four: boolean): Uint8Array {
  return four ? u32(value) : u16(value);
}

/** AS path segments (RFC 4271 §4.3, RFC 5065 §3): sequence and set, and the confederation ones if asked. */
function segments(rng: Random, four: boolean, confed: boolean, count: number): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const type = confed && i === 0 ? rng.pick([3, 4]) : rng.pick([2, 2, 2, 1]);
    const n = rng.int(1, 8);
    parts.push(concat([u8(type), u8(n), ...Array.from({ length: n }, () => asBytes(asn(rng, four), four))]));
  }
  return concat(parts);
}

/** A malformed AS path (RFC 7606 §7.2, RFC 7607): AS 0, unknown segment type, empty segment, overrun, underrun. */
function badSegments(rng: Random, four: boolean): Uint8Array {
  const good = segments(rng, four, false, rng.int(0, 2));
  const w = four ? 4 : 2;
  switch (rng.int(0, 4)) {
    case 0: {
      const n = rng.int(1, 5);
      const asns = Array.from({ length: n }, () => asBytes(asn(rng, four), four));
      asns[rng.int(0, n - 1)] = new Uint8Array(w);
      return concat([good, u8(rng.pick([1, 2])), u8(n), ...asns]);
    }
    case 1: {
      const n = rng.int(1, 4);
      return concat([good, u8(rng.pick([0, 5, 6, 9, 255])), u8(n), rng.bytes(n * w)]);
    }
    case 2:
      return concat([good, u8(rng.pick([1, 2])), u8(0)]);
    case 3: {
      const n = rng.int(2, 20);
      return concat([good, u8(2), u8(n), rng.bytes(rng.int(0, n - 1) * w)]);
    }
    default:
      return concat([good, u8(rng.pick([1, 2]))]);
  }
}

/**
 * Writes one attribute with its flags as the fault (or a harmless variation) has them: Extended
 * Length where it is not needed and the four unused low bits set are both valid (RFC 4271 §4.3).
 */
function occurrence(c: Context, typeCode: number, value: Uint8Array, fault?: AttributeFault): Occurrence {
  const { rng } = c;
  let flags = FLAGS[typeCode] ?? OPTIONAL_TRANSITIVE;
  if (fault?.kind === 'flags-ot') {
    flags ^= rng.pick([Flag.Optional, Flag.Transitive, Flag.Optional | Flag.Transitive]);
  } else if (fault?.kind === 'flags-partial') {
    flags |= Flag.Partial;
  } else if (flags === OPTIONAL_TRANSITIVE && rng.chance(0.1)) {
    flags |= Flag.Partial;
    c.notes.add('update.partial-optional-transitive');
  }
  if (value.length > 255 || rng.chance(0.08)) flags |= Flag.ExtendedLength;
  if (rng.chance(0.05)) flags |= rng.int(1, 15);
  return {
    bytes: attribute(flags, typeCode, value),
    facts: { typeCode, optional: (flags & Flag.Optional) !== 0, ...(fault ? { fault } : {}) },
  };
}

/** Faults an attribute type can be given (besides repeats, overruns and being left out). */
function faultsOf(typeCode: number, external: boolean): AttributeFault['kind'][] {
  const flags: AttributeFault['kind'][] =
    FLAGS[typeCode] === OPTIONAL_TRANSITIVE ? ['flags-ot'] : ['flags-ot', 'flags-partial'];
  switch (typeCode) {
    case Attr.AsPath:
    case Attr.As4Path:
    case Attr.MpReach:
    case Attr.MpUnreach:
      return [...flags, 'value'];
    case Attr.Origin:
    case Attr.NextHop:
    case Attr.Aggregator:
    case Attr.As4Aggregator:
      return [...flags, 'length', 'value'];
    case Attr.LocalPref:
      // From an external peer it is discarded whatever it holds: a fault changes nothing.
      return external ? ['length'] : [...flags, 'length'];
    default:
      return [...flags, 'length'];
  }
}

/** A value of the wrong length for a fixed-size attribute, or a list-valued one. */
function wrongLength(rng: Random, right: readonly number[]): Uint8Array {
  for (;;) {
    const n = rng.int(0, 12);
    if (!right.includes(n)) return rng.bytes(n);
  }
}

/** The value of a recognized attribute, valid or with the fault given (flags faults are the caller's). */
function build(c: Context, typeCode: number, faultKind: AttributeFault['kind'] | undefined): Occurrence {
  const { rng, negotiated, lane } = c;
  const four = negotiated.fourOctetAs;
  const valueFault = faultKind === 'value';
  const lengthFault = faultKind === 'length';
  const flagsFault =
    faultKind === 'flags-ot' || faultKind === 'flags-partial'
      ? ({ kind: faultKind } as AttributeFault)
      : undefined;
  const done = (value: Uint8Array, fault?: AttributeFault) =>
    occurrence(c, typeCode, value, fault ?? flagsFault);
  switch (typeCode) {
    case Attr.Origin:
      if (valueFault) return done(u8(rng.int(3, 255)), { kind: 'value', what: 'origin' });
      if (lengthFault) return done(wrongLength(rng, [1]), { kind: 'length' });
      return done(u8(rng.int(0, 2)));
    case Attr.AsPath: {
      if (valueFault) {
        if (lane.external && rng.chance(0.3)) {
          return done(segments(rng, four, true, rng.int(1, 3)), { kind: 'value', what: 'confed' });
        }
        return done(badSegments(rng, four), { kind: 'value', what: 'as-path' });
      }
      const confed = !lane.external && rng.chance(0.2);
      if (confed) c.notes.add('update.confed-internal');
      return done(segments(rng, four, confed, rng.int(confed ? 1 : 0, 3)));
    }
    case Attr.NextHop:
      if (valueFault) return done(notHostV4(rng), { kind: 'value', what: 'next-hop' });
      if (lengthFault) return done(wrongLength(rng, [4]), { kind: 'length' });
      return done(hostV4(rng));
    case Attr.Med:
    case Attr.LocalPref:
      if (lengthFault) return done(wrongLength(rng, [4]), { kind: 'length' });
      return done(rng.bytes(4));
    case Attr.AtomicAggregate:
      if (lengthFault) return done(wrongLength(rng, [0]), { kind: 'length' });
      return done(new Uint8Array(0));
    case Attr.Aggregator:
    case Attr.As4Aggregator: {
      const width = typeCode === Attr.As4Aggregator || four;
      if (lengthFault) return done(wrongLength(rng, [width ? 8 : 6]), { kind: 'length' });
      const as = valueFault ? 0 : asn(rng, width);
      const fault: AttributeFault | undefined = valueFault
        ? { kind: 'value', what: typeCode === Attr.Aggregator ? 'aggregator-as' : 'as4' }
        : undefined;
      return done(concat([asBytes(as, width), hostV4(rng)]), fault);
    }
    case Attr.Communities:
    case Attr.LargeCommunity: {
      const size = typeCode === Attr.Communities ? 4 : 12;
      if (lengthFault) {
        const n = rng.chance(0.3) ? 0 : rng.int(1, 40);
        return done(rng.bytes(n % size === 0 ? n + 1 : n), { kind: 'length' });
      }
      return done(rng.bytes(size * rng.int(1, 10)));
    }
    case Attr.As4Path: {
      if (valueFault) {
        if (rng.chance(0.3)) {
          const value = concat([segments(rng, true, false, 1), segments(rng, true, true, 1)]);
          return done(value, { kind: 'value', what: 'as4-confed' });
        }
        const bad = rng.chance(0.2) ? rng.bytes(rng.int(0, 5)) : badSegments(rng, true);
        return done(bad, { kind: 'value', what: 'as4' });
      }
      return done(segments(rng, true, false, rng.int(1, 3)));
    }
    case Attr.MpReach:
      return mpReach(c, valueFault, flagsFault);
    default:
      return mpUnreach(c, valueFault, flagsFault);
  }
}

/** MP_REACH_NLRI (RFC 4760 §3, RFC 2545 next hops), valid or with a fault of its value. */
function mpReach(c: Context, valueFault: boolean, flagsFault: AttributeFault | undefined): Occurrence {
  const { rng } = c;
  const afi = rng.pick([1, 2, 2]);
  const count = rng.chance(0.1) ? 0 : rng.int(1, 8);
  let nlri = prefixes(rng, afi, count);
  let hop =
    afi === 1 ? hostV4(rng) : rng.chance(0.4) ? concat([globalV6(rng), linkLocalV6(rng)]) : globalV6(rng);
  let head = concat([u16(afi), u8(1)]);
  let fault: AttributeFault | undefined = flagsFault;
  if (valueFault) {
    const what = rng.weighted<string>([
      [3, 'mp-reset'],
      [2, 'mp-hop-family'],
      [2, 'mp-hop-host'],
      [1, 'mp-second-hop'],
    ]);
    if (what === 'mp-reset') {
      return occurrence(c, Attr.MpReach, badMpValue(rng, true), { kind: 'value', what: 'mp-reset' });
    }
    if (what === 'mp-hop-family') {
      hop =
        afi === 2 ? hostV4(rng) : rng.chance(0.5) ? globalV6(rng) : concat([globalV6(rng), linkLocalV6(rng)]);
      fault = { kind: 'value', what: 'mp-hop-family' };
    } else if (what === 'mp-hop-host') {
      hop =
        afi === 1
          ? notHostV4(rng)
          : rng.chance(0.5)
            ? notHostV6(rng)
            : concat([notHostV6(rng), linkLocalV6(rng)]);
      fault = { kind: 'value', what: 'mp-hop-host' };
    } else {
      head = concat([u16(2), u8(1)]);
      nlri = prefixes(rng, 2, count);
      hop = concat([globalV6(rng), globalV6(rng)]);
      fault = { kind: 'value', what: 'mp-second-hop' };
    }
  }
  if (!c.negotiated.afis.includes(head[1]!)) c.notes.add('update.mp-not-negotiated');
  const reserved = rng.chance(0.1) ? rng.int(1, 255) : 0;
  const o = occurrence(c, Attr.MpReach, concat([head, u8(hop.length), hop, u8(reserved), nlri]), fault);
  return { bytes: o.bytes, facts: { ...o.facts, reachable: count } };
}

/** MP_UNREACH_NLRI (RFC 4760 §4), valid or with a fault of its value. */
function mpUnreach(c: Context, valueFault: boolean, flagsFault: AttributeFault | undefined): Occurrence {
  const { rng } = c;
  if (valueFault) {
    return occurrence(c, Attr.MpUnreach, badMpValue(rng, false), { kind: 'value', what: 'mp-reset' });
  }
  const afi = rng.pick([1, 2]);
  if (!c.negotiated.afis.includes(afi)) c.notes.add('update.mp-not-negotiated');
  return occurrence(
    c,
    Attr.MpUnreach,
    concat([u16(afi), u8(1), prefixes(rng, afi, rng.int(0, 6))]),
    flagsFault,
  );
}

/**
 * An MP attribute value the NLRI of which cannot be found or read (RFC 7606 §7.11-7.12, §5.3):
 * too short, an AFI/SAFI we do not speak, a next hop length no family has or that overruns,
 * a malformed prefix.
 */
function badMpValue(rng: Random, reach: boolean): Uint8Array {
  const afi = rng.pick([1, 2]);
  const hop = afi === 1 ? hostV4(rng) : globalV6(rng);
  const head = (a: number, s: number) =>
    reach ? concat([u16(a), u8(s), u8(hop.length), hop, u8(0)]) : concat([u16(a), u8(s)]);
  switch (rng.int(0, reach ? 4 : 2)) {
    case 0:
      return rng.bytes(rng.int(0, reach ? 4 : 2));
    case 1: {
      const [a, s] = rng.pick([
        [1, 2],
        [2, 4],
        [1, 128],
        [3, 1],
        [25, 65],
        [16388, 71],
      ] as const);
      return concat([head(a, s), rng.bytes(rng.int(0, 10))]);
    }
    case 2:
      return concat([head(afi, 1), badPrefixes(rng, afi)]);
    case 3: {
      const length = rng.pick([0, 1, 8, 12, 15, 17, 24, 31, 33, 48]);
      return concat([
        u16(afi),
        u8(1),
        u8(length),
        rng.bytes(length),
        u8(0),
        prefixes(rng, afi, rng.int(0, 3)),
      ]);
    }
    default: {
      // The next hop length runs past the attribute (its reserved octet included).
      const length = rng.pick([4, 16, 32]);
      return concat([u16(afi), u8(1), u8(length), rng.bytes(rng.int(0, length))]);
    }
  }
}

/** An attribute we do not implement: optional (ignored) unless `wellKnown` (3/2). */
function unknownAttribute(rng: Random, wellKnown: boolean, size?: number): Occurrence {
  const typeCode = rng.pick(UNKNOWN_TYPES);
  let flags = wellKnown ? rng.pick([0, Flag.Transitive]) : rng.pick([OPTIONAL, OPTIONAL_TRANSITIVE]);
  if (rng.chance(0.2)) flags |= Flag.Partial;
  const value = rng.bytes(size ?? rng.int(0, 30));
  if (value.length > 255 || rng.chance(0.08)) flags |= Flag.ExtendedLength;
  return { bytes: attribute(flags, typeCode, value), facts: { typeCode, optional: !wellKnown } };
}

type Fault =
  | 'attribute'
  | 'repeat'
  | 'missing'
  | 'unknown-well-known'
  | 'overrun'
  | 'header-cut'
  | 'length-field'
  | 'prefix';

/** An UPDATE for a session that negotiated `negotiated`; `faults` asks for that many faults. */
export function peerUpdate(
  rng: Random,
  lane: LaneFacts,
  negotiated: Negotiated,
  faults: number,
  maxLength: number,
): GeneratedMessage {
  const c: Context = { rng, lane, negotiated, notes: new Set() };
  const chosen: Fault[] = [];
  for (let i = 0; i < faults; i++) {
    chosen.push(
      rng.weighted<Fault>([
        [12, 'attribute'],
        [2, 'repeat'],
        [1, 'missing'],
        [1, 'unknown-well-known'],
        [1, 'overrun'],
        [1, 'header-cut'],
        [1, 'length-field'],
        [1, 'prefix'],
      ]),
    );
  }
  const shape = rng.weighted<'ipv4' | 'mp' | 'mixed' | 'withdraw' | 'unreach' | 'end-of-rib' | 'attributes'>([
    [6, 'ipv4'],
    [5, 'mp'],
    [1, 'mixed'],
    [1, 'withdraw'],
    [1, 'unreach'],
    [1, 'end-of-rib'],
    [1, 'attributes'],
  ]);
  const types: number[] = [];
  let nlriCount = 0;
  let withdrawnCount = 0;
  if (shape === 'ipv4' || shape === 'mixed') {
    types.push(Attr.Origin, Attr.AsPath, Attr.NextHop);
    nlriCount = rng.int(1, 10);
  }
  if (shape === 'mp' || shape === 'mixed') {
    types.push(Attr.Origin, Attr.AsPath, Attr.MpReach);
    if (rng.chance(0.1)) types.push(Attr.NextHop);
  }
  if (shape === 'mixed' || shape === 'unreach') types.push(Attr.MpUnreach);
  if (shape === 'withdraw' || shape === 'mixed' || rng.chance(0.1)) withdrawnCount = rng.int(1, 6);
  if (shape === 'end-of-rib' && rng.chance(0.5)) types.push(Attr.MpUnreach);
  if (shape !== 'withdraw' && shape !== 'unreach' && shape !== 'end-of-rib') {
    const extras = [
      Attr.Med,
      Attr.LocalPref,
      Attr.AtomicAggregate,
      Attr.Aggregator,
      Attr.Communities,
      Attr.LargeCommunity,
    ];
    types.push(...rng.subset(extras, 0.25));
    if (!negotiated.fourOctetAs ? rng.chance(0.4) : rng.chance(0.05)) types.push(Attr.As4Path);
    if (!negotiated.fourOctetAs ? rng.chance(0.2) : rng.chance(0.05)) types.push(Attr.As4Aggregator);
  }
  const unique = [...new Set(types)];
  if (chosen.includes('missing')) {
    const mandatory = unique.filter((t) => t === Attr.Origin || t === Attr.AsPath || t === Attr.NextHop);
    if (mandatory.length > 0) unique.splice(unique.indexOf(rng.pick(mandatory)), 1);
  }
  // Which attributes get a fault of their own.
  const faulted = new Map<number, AttributeFault['kind']>();
  for (const f of chosen) {
    if (f !== 'attribute' || unique.length === 0) continue;
    const t = rng.pick(unique);
    faulted.set(t, rng.pick(faultsOf(t, lane.external)));
  }
  const list: Occurrence[] = unique.map((t) => {
    const end = shape === 'end-of-rib' && t === Attr.MpUnreach;
    if (end && !faulted.has(t)) {
      const afi = rng.pick([1, 2]);
      return occurrence(c, t, concat([u16(afi), u8(1)]));
    }
    return build(c, t, faulted.get(t));
  });
  for (let i = rng.chance(0.2) ? rng.int(1, 3) : 0; i > 0; i--) list.push(unknownAttribute(rng, false));
  if (chosen.includes('unknown-well-known')) list.push(unknownAttribute(rng, true));
  if (chosen.includes('repeat') && list.length > 0) {
    const first = rng.pick(list);
    for (let i = rng.int(1, 3); i > 0; i--) {
      const again = recognizedCopy(c, first.facts.typeCode) ?? { bytes: first.bytes, facts: first.facts };
      list.push(again);
    }
  }
  if (rng.chance(0.7)) list.sort((a, b) => a.facts.typeCode - b.facts.typeCode);
  else shuffle(rng, list);
  // The facts follow wire order: whichever occurrence of a type comes first is the one decoded.
  let attributes = concat(list.map((o) => o.bytes));
  const facts = list.map((o) => o.facts);
  let headerCut = false;
  if (chosen.includes('header-cut')) {
    headerCut = true;
    const extended = rng.chance(0.3);
    const cut = extended
      ? concat([u8(Flag.Optional | Flag.ExtendedLength), u8(rng.int(0, 255)), rng.bytes(rng.int(0, 1))])
      : concat([u8(rng.pick([Flag.Optional, Flag.Transitive])), rng.bytes(rng.int(0, 1))]);
    attributes = concat([attributes, cut]);
  } else if (chosen.includes('overrun') && list.length > 0) {
    const last = list[list.length - 1]!;
    const extended = (last.bytes[0]! & Flag.ExtendedLength) !== 0;
    const valueLength = last.bytes.length - (extended ? 4 : 3);
    const said = valueLength + rng.int(1, 40);
    const bytes = attribute(
      last.bytes[0]! | (said > 255 ? Flag.ExtendedLength : 0),
      last.bytes[1]!,
      last.bytes.subarray(extended ? 4 : 3),
      said,
    );
    attributes = concat([...list.slice(0, -1).map((o) => o.bytes), bytes]);
    facts[facts.length - 1] = { ...last.facts, overrun: true };
  }
  const withdrawnAfi = 1;
  let withdrawn = prefixes(rng, withdrawnAfi, withdrawnCount);
  let nlri = prefixes(rng, 1, nlriCount);
  let prefixFault = false;
  if (chosen.includes('prefix')) {
    prefixFault = true;
    if (rng.chance(0.5)) withdrawn = badPrefixes(rng, 1);
    else nlri = badPrefixes(rng, 1);
  }
  // Sizes beyond 4,096 octets: valid once extended messages are negotiated (RFC 8654).
  if (rng.chance(0.03)) {
    const target = rng.int(4097, maxLength === 65535 ? 65535 : 8000);
    const room = target - 19 - 4 - withdrawn.length - attributes.length - nlri.length - 4;
    if (room > 0) {
      const pad = unknownAttribute(rng, false, Math.min(room, 65535));
      attributes = concat([pad.bytes, attributes]);
      facts.unshift(pad.facts);
    }
  }
  let override: { withdrawnLength?: number; attributesLength?: number } = {};
  let lengthFault = false;
  if (chosen.includes('length-field')) {
    lengthFault = true;
    const bodyLength = 4 + withdrawn.length + attributes.length + nlri.length;
    override = rng.chance(0.5)
      ? { withdrawnLength: Math.min(0xffff, bodyLength - 3 + rng.int(0, 20)) }
      : { attributesLength: Math.min(0xffff, bodyLength - 4 - withdrawn.length + rng.int(1, 20)) };
  }
  const body = updateBody(withdrawn, attributes, nlri, override);
  const labels = [shape, ...chosen];
  return framed(
    MessageType.Update,
    body,
    {
      kind: 'update',
      update: {
        lengthFault,
        prefixFault,
        attributes: facts,
        headerCut,
        nlri: prefixFault ? 0 : nlriCount,
        notes: [...c.notes],
      },
    },
    `UPDATE ${labels.join('+')}`,
  );
}

/** Another occurrence of a recognized type, valid or not (repeats are not decoded, RFC 7606 §3 g). */
function recognizedCopy(c: Context, typeCode: number): Occurrence | undefined {
  if (!(typeCode in FLAGS)) return undefined;
  const kinds = faultsOf(typeCode, c.lane.external);
  return build(c, typeCode, c.rng.chance(0.3) ? c.rng.pick(kinds) : undefined);
}

function shuffle<T>(rng: Random, items: T[]): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
}
