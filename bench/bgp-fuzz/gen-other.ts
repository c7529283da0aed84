/**
 * KEEPALIVE, NOTIFICATION and ROUTE-REFRESH from the peer, headers broken in each way RFC 4271
 * §6.1 names (marker, length, type), and random octets; and the choice of what to send in each
 * state.
 */
import { mutated } from './gen-mutate.ts';
import { framed, type GeneratedMessage, peerOpen } from './gen-open.ts';
import { peerUpdate } from './gen-update.ts';
import type { LaneConfig } from './lanes.ts';
import { type HeaderFacts, type LaneFacts, type LaneState, maxLength, type Negotiated } from './oracle.ts';
import type { Random } from './random.ts';
import { concat, frame, HEADER_LENGTH, MessageType, u8, u16 } from './wire.ts';

export function keepalive(): GeneratedMessage {
  return framed(MessageType.Keepalive, new Uint8Array(0), { kind: 'keepalive' }, 'KEEPALIVE');
}

/** A NOTIFICATION (RFC 4271 §4.5) of any code, with data or not. */
export function notification(rng: Random): GeneratedMessage {
  const code = rng.int(1, 8);
  const body = concat([u8(code), u8(rng.int(0, 12)), rng.bytes(rng.chance(0.7) ? 0 : rng.int(1, 64))]);
  return framed(MessageType.Notification, body, { kind: 'notification' }, `NOTIFICATION ${code}`);
}

/**
 * ROUTE-REFRESH (RFC 2918 §3): for a family negotiated or not, of any subtype (RFC 7313), or of
 * a length other than 23.
 */
export function routeRefresh(rng: Random, max: number): GeneratedMessage {
  const afi = rng.weighted([
    [4, 1],
    [4, 2],
    [1, rng.int(0, 0xffff)],
  ]);
  const safi = rng.weighted([
    [8, 1],
    [1, rng.pick([2, 4, 128])],
  ]);
  const subtype = rng.weighted([
    [8, 0],
    [1, rng.pick([1, 2])],
    [1, rng.int(3, 255)],
  ]);
  let body = concat([u16(afi), u8(subtype), u8(safi)]);
  let label = `ROUTE-REFRESH ${afi}/${safi}/${subtype}`;
  if (rng.chance(0.15)) {
    const length = rng.chance(0.1)
      ? rng.int(4097 - HEADER_LENGTH, max - HEADER_LENGTH)
      : rng.pick([0, 1, 2, 3, 5, 6, 12]);
    body = rng.bytes(Math.max(0, length));
    label = `ROUTE-REFRESH of ${body.length + HEADER_LENGTH} octets`;
  }
  return framed(MessageType.RouteRefresh, body, { kind: 'route-refresh', afi, safi, subtype }, label);
}

/**
 * A message whose header RFC 4271 §6.1 refuses: the marker not all ones, a length under 19,
 * above the maximum or under the type's minimum (a KEEPALIVE not 19), an unknown type; or
 * random octets. Only the 19 header octets decide; what follows is random.
 */
export function badHeader(
  rng: Random,
  state: LaneState,
  negotiated: Negotiated | undefined,
): GeneratedMessage {
  const junk = (bytes: Uint8Array, header: HeaderFacts, label: string): GeneratedMessage => ({
    bytes,
    header,
    facts: { kind: 'junk' },
    label,
  });
  const tail = rng.bytes(rng.int(0, 40));
  switch (rng.int(0, 4)) {
    case 0: {
      const type = rng.int(1, 5);
      const marker = new Uint8Array(16).fill(0xff);
      marker[rng.int(0, 15)] = rng.int(0, 254);
      const bytes = frame(type, tail, { marker });
      return junk(bytes, { markerOk: false, length: bytes.length, type }, 'header: marker');
    }
    case 1: {
      const type = rng.int(1, 5);
      const max = maxLength(type, state, negotiated);
      const length = rng.chance(0.5) || max === 65535 ? rng.int(0, 18) : rng.int(max + 1, max + 200);
      return junk(frame(type, tail, { length }), { markerOk: true, length, type }, 'header: length');
    }
    case 2: {
      // Shorter than the type's minimum, or a KEEPALIVE with a body (RFC 4271 §6.1).
      const type = rng.int(1, 4);
      const min = [0, 29, 23, 21, 19][type]!;
      const length = type === 4 ? rng.int(20, 40) : rng.int(HEADER_LENGTH, min - 1);
      const bytes = frame(type, rng.bytes(length - HEADER_LENGTH));
      return junk(bytes, { markerOk: true, length, type }, 'header: short for its type');
    }
    case 3: {
      const type = rng.pick([0, 6, 7, 8, 128, 255]);
      const bytes = frame(type, tail);
      return junk(bytes, { markerOk: true, length: bytes.length, type }, 'header: type');
    }
    default: {
      const bytes = rng.bytes(rng.int(HEADER_LENGTH, 80));
      // Random octets: their marker is all ones with probability 2^-128; make sure.
      bytes[0] = rng.int(0, 254);
      const header = { markerOk: false, length: (bytes[16]! << 8) | bytes[17]!, type: bytes[18]! };
      return junk(bytes, header, 'random octets');
    }
  }
}

/** What the peer sends next in `state`: mostly what moves the session on, the rest anything. */
export function nextMessage(
  rng: Random,
  state: LaneState,
  config: LaneConfig,
  lane: LaneFacts,
  negotiated: Negotiated | undefined,
): GeneratedMessage {
  const max = maxLength(2, state, negotiated);
  const any = (): GeneratedMessage =>
    rng.weighted<() => GeneratedMessage>([
      [3, () => badHeader(rng, state, negotiated)],
      [2, () => peerOpen(rng, config, rng.chance(0.5))],
      [2, () => peerUpdate(rng, lane, negotiated ?? FALLBACK, rng.int(0, 2), max)],
      [2, () => routeRefresh(rng, max)],
      [1, () => keepalive()],
      [1, () => notification(rng)],
    ])();
  // An OPEN only where none is accepted (gen-mutate.ts).
  const blind = (open: boolean): GeneratedMessage =>
    mutated(
      rng,
      rng.weighted<() => GeneratedMessage>([
        [8, () => peerUpdate(rng, lane, negotiated ?? FALLBACK, 0, max)],
        [1, () => routeRefresh(rng, max)],
        [open ? 1 : 0, () => peerOpen(rng, config, false)],
      ])(),
    );
  switch (state) {
    case 'OpenSent':
      if (rng.chance(0.02)) return blind(false);
      return rng.chance(0.8) ? peerOpen(rng, config, rng.chance(0.2)) : any();
    case 'OpenConfirm':
      if (rng.chance(0.02)) return blind(true);
      return rng.chance(0.85) ? keepalive() : any();
    case 'Established':
      return rng.weighted<() => GeneratedMessage>([
        [
          80,
          () =>
            peerUpdate(
              rng,
              lane,
              negotiated!,
              rng.weighted([
                [35, 0],
                [50, 1],
                [12, 2],
                [3, 3],
              ]),
              max,
            ),
        ],
        [6, () => routeRefresh(rng, max)],
        [3, () => keepalive()],
        [3, () => badHeader(rng, state, negotiated)],
        [1, () => peerOpen(rng, config, rng.chance(0.5))],
        [1, () => notification(rng)],
        [10, () => blind(true)],
      ])();
  }
}

/** UPDATEs sent before Established are refused for the state whatever they hold; any facts do. */
const FALLBACK: Negotiated = {
  fourOctetAs: true,
  extendedMessage: false,
  afis: [1, 2],
  peerGracefulRestart: false,
  peerBgpId: 1,
};
