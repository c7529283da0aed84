/**
 * The expected verdict of a message, from the RFCs (the table in rules.ts) and what the
 * generator did to the message, never from the speaker's decoder: the generator records each
 * fault it put in (a Partial flag on MED, a length cut short, AS 0 in AS_PATH) and the facts
 * the rules need (which attributes are present, how many prefixes are reachable), and this
 * module applies the rules, RFC 7606 §3 h (the strongest action wins) included.
 */
import type { RuleId } from './rules.ts';
import { type Expectation, type KeptAction, kept, notify, type Verdict } from './verdict.ts';

/** The states a peer can send in (the speaker has sent its OPEN). */
export type LaneState = 'OpenSent' | 'OpenConfirm' | 'Established';

/** What the lane's configuration of the speaker says (fixed per lane). */
export interface LaneFacts {
  /** Our AS differs from the peer's. */
  readonly external: boolean;
  /** The hold time we propose. */
  readonly holdTimeSec: number;
  readonly localAs: number;
  readonly peerAs: number;
  /** Our BGP Identifier as a number. */
  readonly routerId: number;
}

/** What the OPEN exchange agreed on, read by the fuzzer from the OPEN it sent and the lane's configuration. */
export interface Negotiated {
  readonly fourOctetAs: boolean;
  readonly extendedMessage: boolean;
  /** Unicast AFIs both sides offered (RFC 4760 §8: IPv4 alone when the peer offered none). */
  readonly afis: readonly number[];
  readonly peerGracefulRestart: boolean;
  /** The peer's BGP Identifier as a number. */
  readonly peerBgpId: number;
}

/** The 19 octets of the header as sent. */
export interface HeaderFacts {
  readonly markerOk: boolean;
  readonly length: number;
  readonly type: number;
}

export type OpenFault =
  | 'version'
  | 'peer-as'
  | 'bgp-id-zero'
  | 'bgp-id-same'
  | 'parameter-type'
  | 'malformed'
  | 'hold-1-2'
  | 'hold-zero';

/** A fault put in one attribute occurrence. */
export type AttributeFault =
  | { readonly kind: 'flags-ot' }
  | { readonly kind: 'flags-partial' }
  | { readonly kind: 'length' }
  | { readonly kind: 'value'; readonly what: ValueFault };

/** Faults of a value, by what the rule is about (the rule names the attribute). */
export type ValueFault =
  | 'origin'
  | 'as-path'
  | 'confed'
  | 'next-hop'
  | 'aggregator-as'
  | 'as4'
  | 'as4-confed'
  | 'mp-reset'
  | 'mp-hop-family'
  | 'mp-hop-host'
  | 'mp-second-hop';

/** One attribute occurrence in wire order, as the generator built it. */
export interface AttributeFacts {
  readonly typeCode: number;
  /** The Optional flag as sent. */
  readonly optional: boolean;
  readonly fault?: AttributeFault;
  /** Its length runs past the attributes field (the last attribute). */
  readonly overrun?: boolean;
  /** MP_REACH_NLRI: the prefixes it carries. */
  readonly reachable?: number;
}

export interface UpdateFacts {
  /** The withdrawn or attributes length runs past the message (RFC 7606 §3 b). */
  readonly lengthFault: boolean;
  /** A prefix of the withdrawn routes or NLRI field is malformed (RFC 7606 §5.3). */
  readonly prefixFault: boolean;
  readonly attributes: readonly AttributeFacts[];
  /** The attributes field ends with 1 or 2 octets of a header (RFC 7606 §4). */
  readonly headerCut: boolean;
  /** Prefixes in the NLRI field. */
  readonly nlri: number;
  /** Valid variations it exercises (rows of the table that expect no error). */
  readonly notes: readonly RuleId[];
}

export type MessageFacts =
  | { readonly kind: 'open'; readonly faults: readonly OpenFault[]; readonly rules: readonly RuleId[] }
  | { readonly kind: 'update'; readonly update: UpdateFacts }
  | { readonly kind: 'keepalive' }
  | { readonly kind: 'notification' }
  | { readonly kind: 'route-refresh'; readonly afi: number; readonly safi: number; readonly subtype: number }
  /** A header that names no message type; nothing after it matters. */
  | { readonly kind: 'junk' }
  /** A valid message of `type` mutated blindly (gen-mutate.ts): what it holds is unknown. */
  | { readonly kind: 'mutated'; readonly type: number };

/** Path attribute type codes the speaker implements (ADR 0003); others are unrecognized (RFC 4271 §5). */
export const Attr = {
  Origin: 1,
  AsPath: 2,
  NextHop: 3,
  Med: 4,
  LocalPref: 5,
  AtomicAggregate: 6,
  Aggregator: 7,
  Communities: 8,
  MpReach: 14,
  MpUnreach: 15,
  As4Path: 17,
  As4Aggregator: 18,
  LargeCommunity: 32,
} as const;

const RECOGNIZED = new Set<number>(Object.values(Attr));

export function recognized(typeCode: number): boolean {
  return RECOGNIZED.has(typeCode);
}

/** RFC 7606 action of each recognized attribute when malformed (§7, RFC 6793 §6, RFC 8092 §6). */
function attributeAction(typeCode: number): 'treat-as-withdraw' | 'attribute-discard' | 'session-reset' {
  switch (typeCode) {
    case Attr.AtomicAggregate:
    case Attr.Aggregator:
    case Attr.As4Path:
    case Attr.As4Aggregator:
      return 'attribute-discard';
    case Attr.MpReach:
    case Attr.MpUnreach:
      return 'session-reset';
    default:
      return 'treat-as-withdraw';
  }
}

/** The rule row for a malformed value or length of an attribute. */
function attributeRule(typeCode: number, external: boolean): RuleId {
  switch (typeCode) {
    case Attr.Origin:
      return 'update.origin';
    case Attr.AsPath:
      return 'update.as-path';
    case Attr.NextHop:
      return 'update.next-hop';
    case Attr.Med:
      return 'update.med';
    case Attr.LocalPref:
      return external ? 'update.local-pref-external' : 'update.local-pref-internal';
    case Attr.AtomicAggregate:
      return 'update.atomic-aggregate';
    case Attr.Aggregator:
      return 'update.aggregator';
    case Attr.Communities:
    case Attr.LargeCommunity:
      return 'update.communities';
    case Attr.As4Path:
    case Attr.As4Aggregator:
      return 'update.as4';
    default:
      return 'update.mp-reset';
  }
}

/** Largest message in a state (RFC 4271 §4.1, RFC 8654 §4). */
export function maxLength(type: number, state: LaneState, negotiated: Negotiated | undefined): number {
  if (state === 'OpenSent' || type === 1 || type === 4 || !negotiated?.extendedMessage) return 4096;
  return 65535;
}

const MIN_LENGTH: Record<number, number> = { 1: 29, 2: 23, 3: 21, 4: 19, 5: 19 };

/** RFC 4271 §6.1: the header's errors (several can apply; the RFC orders none). */
function headerErrors(h: HeaderFacts, state: LaneState, negotiated: Negotiated | undefined): Verdict[] {
  const out: Verdict[] = [];
  if (!h.markerOk) out.push(notify(1, 1));
  const min = MIN_LENGTH[h.type];
  if (
    h.length < 19 ||
    h.length > maxLength(h.type, state, negotiated) ||
    (min !== undefined && h.length < min) ||
    (h.type === 4 && h.length !== 19)
  ) {
    out.push(notify(1, 2));
  }
  if (min === undefined) out.push(notify(1, 3));
  return out;
}

const FSM_SUBCODE: Record<LaneState, number> = { OpenSent: 1, OpenConfirm: 2, Established: 3 };

/** The expected verdict of one message sent in `state`. */
export function expect(
  header: HeaderFacts,
  message: MessageFacts,
  state: LaneState,
  lane: LaneFacts,
  negotiated: Negotiated | undefined,
): Expectation {
  const header6_1 = headerErrors(header, state, negotiated);
  if (header6_1.length > 0) {
    const rules: RuleId[] = [];
    if (!header.markerOk) rules.push('header.marker');
    if (header6_1.some((v) => v.kind === 'notification' && v.subcode === 2)) {
      rules.push(header.type === 1 && header.length > 4096 ? 'header.open-4096' : 'header.length');
    }
    if (MIN_LENGTH[header.type] === undefined) rules.push('header.type');
    return { verdicts: header6_1, rules };
  }
  const extendedRule: RuleId[] = header.length > 4096 ? ['header.extended'] : [];
  const fsm = notify(5, FSM_SUBCODE[state]);
  switch (message.kind) {
    case 'junk':
      throw new Error('a junk header must fail RFC 4271 §6.1');
    case 'notification':
      return { verdicts: [{ kind: 'closed' }], rules: ['fsm.notification'] };
    case 'keepalive':
      if (state === 'OpenSent') return { verdicts: [fsm], rules: ['fsm.keepalive-in-opensent'] };
      if (state === 'OpenConfirm') {
        return { verdicts: [{ kind: 'established' }], rules: ['fsm.keepalive-in-openconfirm'] };
      }
      return { verdicts: [kept()], rules: ['keepalive.established'] };
    case 'open':
      return expectOpen(message, state, lane);
    case 'route-refresh':
      if (state !== 'Established') return { verdicts: [fsm], rules: ['fsm.refresh-before-established'] };
      if (header.length !== 23)
        return { verdicts: [notify(7, 1)], rules: ['refresh.length', ...extendedRule] };
      if (message.subtype === 0 && message.safi === 1 && negotiated!.afis.includes(message.afi)) {
        return { verdicts: [{ kind: 'refresh', outcome: 'answered' }], rules: ['refresh.answered'] };
      }
      return { verdicts: [{ kind: 'refresh', outcome: 'ignored' }], rules: ['refresh.ignored'] };
    case 'update': {
      if (state !== 'Established') return { verdicts: [fsm], rules: ['fsm.update-before-established'] };
      const e = expectUpdate(message.update, lane, negotiated!);
      return { verdicts: e.verdicts, rules: [...e.rules, ...extendedRule] };
    }
    case 'mutated':
      return expectMutated(message.type, state, fsm);
  }
}

/** UPDATE errors a session reset can carry (RFC 4271 §6.3; 3/3 is always treat-as-withdraw, RFC 7606 §3 d). */
const UPDATE_RESET_SUBCODES = [1, 2, 4, 5, 6, 8, 9, 10, 11];
/** OPEN errors of RFC 4271 §6.2 (2/0 a malformed optional parameter); we require no capability (2/7). */
const OPEN_SUBCODES = [0, 1, 2, 3, 4, 6];

/** A blind mutation: whatever its type allows in the state, never a close without NOTIFICATION. */
function expectMutated(type: number, state: LaneState, fsm: Verdict): Expectation {
  if (type === 1) {
    if (state === 'Established')
      return { verdicts: [notify(5, 3)], rules: ['open.in-established', 'mutated'] };
    if (state === 'OpenSent') throw new Error('an OPEN is mutated only where none is accepted');
    return {
      verdicts: [notify(5, 2), ...OPEN_SUBCODES.map((s) => notify(2, s))],
      rules: ['mutated.open'],
    };
  }
  if (state !== 'Established') {
    return {
      verdicts: [fsm],
      rules: [type === 2 ? 'fsm.update-before-established' : 'fsm.refresh-before-established', 'mutated'],
    };
  }
  // A ROUTE-REFRESH of 23 octets stays one the oracle reads exactly (gen-mutate.ts): this one is not.
  if (type === 5) return { verdicts: [notify(7, 1)], rules: ['refresh.length', 'mutated'] };
  return {
    verdicts: UPDATE_RESET_SUBCODES.map((s) => notify(3, s)),
    anyKept: true,
    rules: ['mutated.update'],
  };
}

/**
 * What each OPEN fault draws on this lane: the OPEN Message Error subcode (RFC 4271 §6.2; none
 * when the lane accepts the value) and the rule that says so.
 */
const OPEN_FAULTS: Record<
  OpenFault,
  (lane: LaneFacts) => { readonly subcode?: number; readonly rule: RuleId }
> = {
  version: () => ({ subcode: 1, rule: 'open.version' }),
  'peer-as': () => ({ subcode: 2, rule: 'open.peer-as' }),
  'bgp-id-zero': () => ({ subcode: 3, rule: 'open.bgp-id-zero' }),
  'bgp-id-same': (lane) =>
    lane.external ? { rule: 'open.bgp-id-same-external' } : { subcode: 3, rule: 'open.bgp-id-same-internal' },
  'parameter-type': () => ({ subcode: 4, rule: 'open.parameter-type' }),
  malformed: () => ({ subcode: 0, rule: 'open.malformed' }),
  'hold-1-2': () => ({ subcode: 6, rule: 'open.hold-1-2' }),
  'hold-zero': (lane) =>
    lane.holdTimeSec !== 0 ? { subcode: 6, rule: 'open.hold-zero' } : { rule: 'open.hold-zero' },
};

/** OPEN (RFC 4271 §6.2 and §8.2.2). */
function expectOpen(
  message: Extract<MessageFacts, { kind: 'open' }>,
  state: LaneState,
  lane: LaneFacts,
): Expectation {
  if (state === 'Established') return { verdicts: [notify(5, 3)], rules: ['open.in-established'] };
  const errors: Verdict[] = [];
  const rules: RuleId[] = [...message.rules];
  for (const fault of message.faults) {
    const { subcode, rule } = OPEN_FAULTS[fault](lane);
    if (subcode !== undefined) errors.push(notify(2, subcode));
    rules.push(rule);
  }
  if (state === 'OpenConfirm') {
    if (errors.length > 0) return { verdicts: errors, rules: [...rules, 'open.malformed-in-openconfirm'] };
    return { verdicts: [notify(5, 2)], rules: ['open.in-openconfirm'] };
  }
  if (errors.length > 0) return { verdicts: errors, rules };
  return { verdicts: [{ kind: 'opened' }], rules: [...rules, 'open.valid'] };
}

interface Found {
  readonly action: 'session-reset' | KeptAction;
  readonly code: number;
  readonly subcode: number;
  readonly rule: RuleId;
}

/** An UPDATE in Established (RFC 4271 §6.3 as revised by RFC 7606, and the RFCs of each attribute). */
export function expectUpdate(u: UpdateFacts, lane: LaneFacts, negotiated: Negotiated): Expectation {
  const found: Found[] = [];
  const reset = (subcode: number, rule: RuleId) =>
    found.push({ action: 'session-reset', code: 3, subcode, rule });
  if (u.lengthFault) reset(1, 'update.lengths');
  if (u.prefixFault) reset(10, 'update.prefix');
  /** type code → occurrences seen so far. */
  const seen = new Map<number, number>();
  let reachableMp = 0;
  for (const a of u.attributes) {
    if (a.overrun) {
      const mp = a.typeCode === Attr.MpReach || a.typeCode === Attr.MpUnreach;
      if (mp) reset(1, 'update.overrun-mp');
      else found.push({ action: 'treat-as-withdraw', code: 3, subcode: 1, rule: 'update.overrun' });
      continue;
    }
    const before = seen.get(a.typeCode) ?? 0;
    seen.set(a.typeCode, before + 1);
    if (before > 0) {
      if (a.typeCode === Attr.MpReach || a.typeCode === Attr.MpUnreach) reset(1, 'update.repeat-mp');
      else found.push({ action: 'attribute-discard', code: 3, subcode: 1, rule: 'update.repeat' });
      continue;
    }
    const f = firstOccurrence(a, lane, negotiated);
    if (f) found.push(f);
    if (a.typeCode === Attr.MpReach && (f === undefined || f.action !== 'session-reset')) {
      reachableMp = a.reachable ?? 0;
    }
  }
  if (u.headerCut)
    found.push({ action: 'treat-as-withdraw', code: 3, subcode: 1, rule: 'update.header-cut' });
  const reachable = u.nlri > 0 || reachableMp > 0;
  if (reachable) {
    const present = (t: number) => (seen.get(t) ?? 0) > 0;
    const missing = !present(Attr.Origin) || !present(Attr.AsPath) || (u.nlri > 0 && !present(Attr.NextHop));
    if (missing) found.push({ action: 'treat-as-withdraw', code: 3, subcode: 3, rule: 'update.missing' });
  }
  const rules = [...new Set([...found.map((f) => f.rule), ...u.notes])];
  if (u.attributes.some((a) => !recognized(a.typeCode) && a.optional)) rules.push('update.unknown-optional');
  const resets = found.filter((f) => f.action === 'session-reset');
  if (resets.length > 0) return { verdicts: unique(resets.map((f) => notify(f.code, f.subcode))), rules };
  const withdraws = found.filter((f) => f.action === 'treat-as-withdraw');
  if (!reachable && withdraws.length > 0) {
    // RFC 7606 §5.2: without reachable NLRI the attributes cannot be trusted to have been parsed.
    return {
      verdicts: unique(withdraws.map((f) => notify(f.code, f.subcode))),
      rules: [...rules, 'update.no-nlri-reset'],
    };
  }
  const counts: Record<KeptAction, number> = {
    'treat-as-withdraw': 0,
    'attribute-discard': 0,
    'value-discard': 0,
  };
  for (const f of found) counts[f.action as KeptAction]++;
  return { verdicts: [kept(counts)], rules: found.length > 0 ? rules : ['update.valid', ...rules] };
}

/** The first occurrence of an attribute type (repeats are handled by the caller). */
function firstOccurrence(a: AttributeFacts, lane: LaneFacts, negotiated: Negotiated): Found | undefined {
  if (!recognized(a.typeCode)) {
    if (a.optional) return undefined;
    return { action: 'session-reset', code: 3, subcode: 2, rule: 'update.unknown-well-known' };
  }
  // Discarded whatever they hold (flags and length included).
  if (a.typeCode === Attr.LocalPref && lane.external) {
    return { action: 'attribute-discard', code: 3, subcode: 1, rule: 'update.local-pref-external' };
  }
  if ((a.typeCode === Attr.As4Path || a.typeCode === Attr.As4Aggregator) && negotiated.fourOctetAs) {
    return { action: 'attribute-discard', code: 3, subcode: 9, rule: 'update.as4-from-new' };
  }
  const fault = a.fault;
  if (!fault) return undefined;
  const action = attributeAction(a.typeCode);
  switch (fault.kind) {
    case 'flags-ot':
      return { action, code: 3, subcode: 4, rule: 'update.flags-ot' };
    case 'flags-partial':
      return { action, code: 3, subcode: 4, rule: 'update.flags-partial' };
    case 'length':
      return {
        action,
        code: 3,
        subcode: action === 'session-reset' ? 9 : 5,
        rule: attributeRule(a.typeCode, false),
      };
    case 'value':
      return VALUE_FAULTS[fault.what];
  }
}

/** What a fault in a value gets (the rule names the attribute). */
const VALUE_FAULTS: Readonly<Record<ValueFault, Found>> = {
  origin: { action: 'treat-as-withdraw', code: 3, subcode: 6, rule: 'update.origin' },
  'as-path': { action: 'treat-as-withdraw', code: 3, subcode: 11, rule: 'update.as-path' },
  confed: { action: 'treat-as-withdraw', code: 3, subcode: 11, rule: 'update.confed-external' },
  'next-hop': { action: 'treat-as-withdraw', code: 3, subcode: 8, rule: 'update.next-hop' },
  'aggregator-as': { action: 'attribute-discard', code: 3, subcode: 9, rule: 'update.aggregator' },
  as4: { action: 'attribute-discard', code: 3, subcode: 11, rule: 'update.as4' },
  'as4-confed': { action: 'value-discard', code: 3, subcode: 11, rule: 'update.as4-confed' },
  'mp-reset': { action: 'session-reset', code: 3, subcode: 9, rule: 'update.mp-reset' },
  'mp-hop-family': { action: 'treat-as-withdraw', code: 3, subcode: 8, rule: 'update.mp-hop-family' },
  'mp-hop-host': { action: 'treat-as-withdraw', code: 3, subcode: 8, rule: 'update.mp-hop-host' },
  'mp-second-hop': { action: 'value-discard', code: 3, subcode: 8, rule: 'update.mp-second-hop' },
};

function unique(verdicts: Verdict[]): Verdict[] {
  const out: Verdict[] = [];
  for (const v of verdicts) {
    if (!out.some((o) => JSON.stringify(o) === JSON.stringify(v))) out.push(v);
  }
  return out;
}

/**
 * A second connection from the peer while the session is in `state` on the first: in OpenSent
 * and OpenConfirm a collision resolved by the BGP Identifiers (`peerBgpId`: of the OPEN the
 * peer sends on it), in Established replaced or refused by whether the peer can restart.
 */
export function expectSecondConnection(
  state: LaneState,
  lane: LaneFacts,
  negotiated: Negotiated | undefined,
  peerBgpId: number,
): Expectation {
  if (state === 'Established') {
    return negotiated!.peerGracefulRestart
      ? { verdicts: [{ kind: 'replaced' }], rules: ['connection.restart-replaces'] }
      : { verdicts: [{ kind: 'refused' }], rules: ['connection.established-refuses'] };
  }
  const ours = lane.routerId === peerBgpId ? lane.localAs > lane.peerAs : lane.routerId > peerBgpId;
  return {
    verdicts: [{ kind: 'collision', kept: ours ? 'ours' : 'theirs' }],
    rules: ['connection.collision'],
  };
}
