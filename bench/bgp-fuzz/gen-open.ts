/**
 * The peer's OPEN (RFC 4271 §4.2, capabilities of RFC 5492): valid ones offering any mix of
 * 4-octet AS (RFC 6793), extended messages (RFC 8654), graceful restart (RFC 4724), route
 * refresh (RFC 2918) and multiprotocol families (RFC 4760), in classic or RFC 9072 parameter
 * form; or with faults the oracle knows the verdict of. It also says what the OPEN negotiates
 * when accepted, from the fuzzer's own reading of RFC 5492.
 */
import type { LaneConfig } from './lanes.ts';
import type { HeaderFacts, MessageFacts, Negotiated, OpenFault } from './oracle.ts';
import type { Random } from './random.ts';
import type { RuleId } from './rules.ts';
import { capability, concat, frame, ipv4, MessageType, openBody, u16, u32 } from './wire.ts';

export interface GeneratedMessage {
  readonly bytes: Uint8Array;
  readonly header: HeaderFacts;
  readonly facts: MessageFacts;
  /** What it is, for the report. */
  readonly label: string;
  /** A valid OPEN: what the session negotiates once it is accepted. */
  readonly negotiated?: Negotiated;
}

/** A message whose header is what `bytes` holds (marker all ones, true length). */
export function framed(type: number, body: Uint8Array, facts: MessageFacts, label: string): GeneratedMessage {
  const bytes = frame(type, body);
  return { bytes, header: { markerOk: true, length: bytes.length, type }, facts, label };
}

const AS_TRANS = 23456;

/** Families a peer may offer: ours (IPv4 and IPv6 unicast), IPv4 multicast, and one nobody speaks here. */
const OFFERABLE = [
  { afi: 1, safi: 1 },
  { afi: 2, safi: 1 },
  { afi: 1, safi: 2 },
  { afi: 25, safi: 65 },
] as const;

/** Capability codes (RFC 5492 registry). */
const Cap = { Multiprotocol: 1, RouteRefresh: 2, ExtendedMessage: 6, GracefulRestart: 64, FourOctetAs: 65 };

/** Codes no speaker here implements (besides unassigned ones). */
const UNKNOWN_CAPS = [3, 5, 9, 70, 71, 73, 128, 131, 184, 255];

function bgpIdOther(rng: Random, ours: Uint8Array): Uint8Array {
  for (;;) {
    const id = rng.bytes(4);
    if (id.some((b) => b !== 0) && id.some((b, i) => b !== ours[i])) return id;
  }
}

/** An OPEN from the peer of `lane`; `faulty` asks for at least one fault. */
export function peerOpen(rng: Random, lane: LaneConfig, faulty: boolean): GeneratedMessage {
  const faults = new Set<OpenFault>();
  const rules: RuleId[] = [];
  if (faulty) {
    const count = rng.chance(0.85) ? 1 : 2;
    for (let i = 0; i < count; i++) {
      faults.add(
        rng.weighted<OpenFault>([
          [2, 'version'],
          [3, 'peer-as'],
          [1, 'bgp-id-zero'],
          [1, 'bgp-id-same'],
          [2, 'parameter-type'],
          [4, 'malformed'],
          [1, 'hold-1-2'],
          [1, 'hold-zero'],
        ]),
      );
    }
  }
  const fourOctet = rng.chance(0.75);
  // The AS the OPEN speaks for (RFC 6793 §4.1: the capability's when present, else My AS).
  let peerAs = lane.peerAs;
  if (faults.has('peer-as')) peerAs = rng.chance(0.3) ? 0 : lane.peerAs === 1 ? 2 : lane.peerAs - 1;
  // Without the capability a 4-octet AS cannot be spoken: AS_TRANS names another AS (2/2).
  if (!fourOctet && peerAs > 0xffff) faults.add('peer-as');
  const myAs = peerAs > 0xffff ? AS_TRANS : peerAs;
  const offered = rng.chance(0.15) ? [] : rng.subset(OFFERABLE, 0.6);
  const extended = rng.chance(0.5);
  const graceful = rng.chance(0.4);
  const grFamilies = graceful ? rng.subset(OFFERABLE, 0.6) : [];
  const caps: Uint8Array[] = [];
  for (const f of offered)
    caps.push(capability(Cap.Multiprotocol, concat([u16(f.afi), Uint8Array.of(0, f.safi)])));
  if (rng.chance(0.8)) caps.push(capability(Cap.RouteRefresh, new Uint8Array(0)));
  if (fourOctet) caps.push(capability(Cap.FourOctetAs, u32(peerAs)));
  if (extended) caps.push(capability(Cap.ExtendedMessage, new Uint8Array(0)));
  if (graceful) {
    caps.push(
      capability(
        Cap.GracefulRestart,
        concat([
          u16((rng.int(0, 3) << 14) | rng.int(0, 4095)),
          ...grFamilies.map((f) => concat([u16(f.afi), Uint8Array.of(f.safi, rng.chance(0.5) ? 0x80 : 0)])),
        ]),
      ),
    );
  }
  if (rng.chance(0.3)) {
    const code = rng.pick(UNKNOWN_CAPS);
    caps.push(capability(code, rng.bytes(rng.int(0, 12))));
    rules.push('open.unknown-capability');
  }
  for (let i = caps.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [caps[i], caps[j]] = [caps[j]!, caps[i]!];
  }
  if (faults.has('malformed')) {
    // One that runs past its parameter must end it; one of a wrong length may be anywhere.
    if (rng.chance(0.2)) caps.push(overrunningCapability(rng));
    else caps.splice(rng.int(0, caps.length), 0, badLengthCapability(rng));
  }

  let holdTimeSec = rng.chance(0.5) ? 90 : rng.int(20, 65535);
  if (lane.holdTimeSec === 0 && rng.chance(0.5)) holdTimeSec = 0;
  if (faults.has('hold-1-2')) holdTimeSec = rng.int(1, 2);
  else if (faults.has('hold-zero')) holdTimeSec = 0;
  const ours = ipv4(lane.routerId);
  let bgpId = bgpIdOther(rng, ours);
  if (faults.has('bgp-id-zero')) bgpId = new Uint8Array(4);
  else if (faults.has('bgp-id-same')) bgpId = ours;
  const version = faults.has('version') ? rng.pick([0, 1, 2, 3, 5, 6, 255]) : 4;

  const parameters: { type: number; value: Uint8Array; length?: number }[] = [];
  // All capabilities in one parameter, or spread over several (RFC 5492 §4 allows both).
  if (rng.chance(0.7)) {
    if (caps.length > 0) parameters.push({ type: 2, value: concat(caps) });
  } else {
    for (const c of caps) parameters.push({ type: 2, value: c });
  }
  if (faults.has('parameter-type')) {
    parameters.splice(rng.int(0, parameters.length), 0, {
      type: rng.pick([0, 1, 3, 4, 128, 254]),
      value: rng.bytes(rng.int(0, 6)),
    });
  }
  const extendedParams = rng.chance(0.1);
  if (extendedParams) rules.push('open.extended-parameters');
  let body = openBody({ version, myAs, holdTimeSec, bgpId }, parameters, { extended: extendedParams });
  if (faults.has('malformed') && rng.chance(0.25)) {
    // The Optional Parameters Length does not match what follows (RFC 4271 §6.2: malformed).
    const lengthAt = 9;
    const said = extendedParams ? (body[lengthAt + 2]! << 8) | body[lengthAt + 3]! : body[lengthAt]!;
    const wrong = said + rng.pick([-2, -1, 1, 3]);
    if (wrong >= 0 && wrong <= (extendedParams ? 0xffff : 254)) {
      if (extendedParams) body.set(u16(wrong), lengthAt + 2);
      else body[lengthAt] = wrong;
    }
  }
  if (rng.chance(0.01)) {
    // Longer than any OPEN may be (RFC 8654 §4): 1/2 whatever was negotiated.
    body = openBody({ version, myAs, holdTimeSec, bgpId }, [{ type: 2, value: bigCapabilities(rng) }], {
      extended: true,
    });
  }
  const label = faults.size > 0 ? `OPEN ${[...faults].join('+')}` : 'OPEN';
  const afis =
    offered.length === 0 ? [1] : [1, 2].filter((afi) => offered.some((f) => f.afi === afi && f.safi === 1));
  const negotiated: Negotiated = {
    fourOctetAs: fourOctet,
    extendedMessage: lane.extendedMessage && extended,
    afis,
    peerGracefulRestart: grFamilies.length > 0,
    peerBgpId: ((bgpId[0]! << 24) >>> 0) + (bgpId[1]! << 16) + (bgpId[2]! << 8) + bgpId[3]!,
  };
  const message = framed(MessageType.Open, body, { kind: 'open', faults: [...faults], rules }, label);
  return { ...message, negotiated };
}

/** A capability of ours with a length its RFC does not allow (RFC 2918, 4724, 4760, 6793, 8654). */
function badLengthCapability(rng: Random): Uint8Array {
  switch (rng.int(0, 4)) {
    case 0:
      return capability(Cap.Multiprotocol, rng.bytes(rng.pick([0, 2, 3, 5, 8])));
    case 1:
      return capability(Cap.RouteRefresh, rng.bytes(rng.int(1, 4)));
    case 2:
      return capability(Cap.FourOctetAs, rng.bytes(rng.pick([0, 2, 3, 5])));
    case 3:
      return capability(Cap.ExtendedMessage, rng.bytes(rng.int(1, 3)));
    default:
      return capability(Cap.GracefulRestart, rng.bytes(rng.pick([0, 1, 3, 4, 5, 7])));
  }
}

/** A capability whose length runs past the end of its parameter (RFC 5492 §4). */
function overrunningCapability(rng: Random): Uint8Array {
  return concat([Uint8Array.of(rng.pick([1, 2, 64, 65, 99]), 40), rng.bytes(rng.int(0, 3))]);
}

/** Unknown capabilities that make an OPEN longer than 4,096 octets. */
function bigCapabilities(rng: Random): Uint8Array {
  const parts: Uint8Array[] = [];
  let total = 0;
  while (total < 4200) {
    const c = capability(rng.pick(UNKNOWN_CAPS), rng.bytes(255));
    parts.push(c);
    total += c.length;
  }
  return concat(parts);
}
