import {
  BFD_VERSION,
  CONTROL_PACKET_BYTES,
  MIN_AUTHENTICATED_PACKET_BYTES,
  SESSION_STATE_NAMES,
  SessionState,
  type SessionStateName,
} from './constants.ts';
import type { DropReason } from './drop-reasons.ts';

/**
 * The BFD control packet (RFC 5880 §4.1), all integers big-endian:
 *
 * | offset | size | field |
 * |---|---|---|
 * | 0 | 1 | Vers (3 bits) · Diag (5 bits) |
 * | 1 | 1 | Sta (2 bits) · P · F · C · A · D · M |
 * | 2 | 1 | Detect Mult |
 * | 3 | 1 | Length of the whole packet |
 * | 4 | 4 | My Discriminator |
 * | 8 | 4 | Your Discriminator |
 * | 12 | 4 | Desired Min TX Interval (µs) |
 * | 16 | 4 | Required Min RX Interval (µs) |
 * | 20 | 4 | Required Min Echo RX Interval (µs) |
 * | 24 | … | Authentication section when A is set |
 *
 * We run no authentication and no multipoint, so a decoded packet never has A or M set: such
 * packets are dropped with a reason (RFC 5880 §6.8.6), and the encoder never writes them.
 */
export interface ControlPacket {
  /** Diagnostic code (`Diag`), 0..31. */
  readonly diag: number;
  readonly state: SessionStateName;
  /** P: the sender asks for verification (a Poll Sequence, §6.5). */
  readonly poll: boolean;
  /** F: the answer to a Poll. */
  readonly final: boolean;
  /** C: the sender's BFD does not share fate with its control plane. */
  readonly controlPlaneIndependent: boolean;
  /** D: the sender wants Demand mode (§6.6). */
  readonly demand: boolean;
  /** Detect Mult, 1..255. */
  readonly detectMult: number;
  /** The sender's discriminator, non-zero. */
  readonly myDiscriminator: number;
  /** The receiver's discriminator as the sender knows it; 0 until it does. */
  readonly yourDiscriminator: number;
  readonly desiredMinTxUs: number;
  readonly requiredMinRxUs: number;
  /** 0: the sender does not loop Echo packets back. */
  readonly requiredMinEchoRxUs: number;
}

/** Decoding either yields a packet or says why the bytes were dropped. */
export type DecodeResult =
  | { readonly ok: true; readonly packet: ControlPacket }
  | { readonly ok: false; readonly reason: DropReason; readonly detail: string };

/** Thrown by the encoder for a value that cannot go on the wire (a programming error, never input). */
export class BfdEncodeError extends Error {
  readonly field: keyof ControlPacket;
  constructor(field: keyof ControlPacket, message: string) {
    super(`BFD control packet: ${field} ${message}`);
    this.name = 'BfdEncodeError';
    this.field = field;
  }
}

const Bit = {
  Poll: 0x20,
  Final: 0x10,
  ControlPlaneIndependent: 0x08,
  Auth: 0x04,
  Demand: 0x02,
  Multipoint: 0x01,
};
const U32_MAX = 0xffffffff;

function checkRange(packet: ControlPacket, field: keyof ControlPacket, min: number, max: number): void {
  const v = packet[field];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new BfdEncodeError(field, `is ${String(v)}, must be a whole number from ${min} to ${max}`);
  }
}

/** Bytes on the wire of one control packet: always 24 (no authentication section). */
export function encodingLength(): number {
  return CONTROL_PACKET_BYTES;
}

/** Encodes a packet (RFC 5880 §4.1) without an authentication section. */
export function encodeControlPacket(packet: ControlPacket): Uint8Array {
  checkRange(packet, 'diag', 0, 31);
  checkRange(packet, 'detectMult', 1, 255);
  checkRange(packet, 'myDiscriminator', 1, U32_MAX);
  for (const field of [
    'yourDiscriminator',
    'desiredMinTxUs',
    'requiredMinRxUs',
    'requiredMinEchoRxUs',
  ] as const)
    checkRange(packet, field, 0, U32_MAX);
  if (!(packet.state in SessionState)) throw new BfdEncodeError('state', `"${packet.state}" is not a state`);
  if (packet.poll && packet.final) throw new BfdEncodeError('final', 'and poll are both set (RFC 5880 §6.5)');
  const bytes = new Uint8Array(CONTROL_PACKET_BYTES);
  const view = new DataView(bytes.buffer);
  bytes[0] = (BFD_VERSION << 5) | packet.diag;
  bytes[1] =
    (SessionState[packet.state] << 6) |
    (packet.poll ? Bit.Poll : 0) |
    (packet.final ? Bit.Final : 0) |
    (packet.controlPlaneIndependent ? Bit.ControlPlaneIndependent : 0) |
    (packet.demand ? Bit.Demand : 0);
  bytes[2] = packet.detectMult;
  bytes[3] = CONTROL_PACKET_BYTES;
  view.setUint32(4, packet.myDiscriminator);
  view.setUint32(8, packet.yourDiscriminator);
  view.setUint32(12, packet.desiredMinTxUs);
  view.setUint32(16, packet.requiredMinRxUs);
  view.setUint32(20, packet.requiredMinEchoRxUs);
  return bytes;
}

function drop(reason: DropReason, detail: string): DecodeResult {
  return { ok: false, reason, detail };
}

/**
 * Decodes a UDP payload and applies the checks of RFC 5880 §6.8.6 that need no session:
 * version, Length against the minimum and against the payload, Detect Mult, M bit, My
 * Discriminator, Your Discriminator 0 outside Down/AdminDown, and the A bit (we configure no
 * authentication, so §6.8.6 says discard). Bytes after Length are ignored. Never throws.
 */
export function decodeControlPacket(payload: Uint8Array): DecodeResult {
  if (payload.length < CONTROL_PACKET_BYTES) {
    return drop('truncated', `payload is ${payload.length} bytes, a control packet is at least 24`);
  }
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const b0 = payload[0]!;
  const b1 = payload[1]!;
  const version = b0 >>> 5;
  if (version !== BFD_VERSION) return drop('version', `version ${version}, expected ${BFD_VERSION}`);
  const auth = (b1 & Bit.Auth) !== 0;
  const length = payload[3]!;
  const minLength = auth ? MIN_AUTHENTICATED_PACKET_BYTES : CONTROL_PACKET_BYTES;
  if (length < minLength) {
    return drop('length', `Length ${length} is below ${minLength} (A bit ${auth ? 'set' : 'clear'})`);
  }
  if (length > payload.length) {
    return drop('length', `Length ${length} exceeds the ${payload.length}-byte UDP payload`);
  }
  const detectMult = payload[2]!;
  if (detectMult === 0) return drop('detect-mult-zero', 'Detect Mult is 0');
  if ((b1 & Bit.Multipoint) !== 0) return drop('multipoint', 'M bit set');
  const myDiscriminator = view.getUint32(4);
  if (myDiscriminator === 0) return drop('my-discriminator-zero', 'My Discriminator is 0');
  const state = SESSION_STATE_NAMES[b1 >>> 6]!;
  const yourDiscriminator = view.getUint32(8);
  if (yourDiscriminator === 0 && state !== 'Down' && state !== 'AdminDown') {
    return drop('your-discriminator-zero', `Your Discriminator is 0 in state ${state}`);
  }
  if (auth) return drop('authentication', 'A bit set but no authentication is configured');
  return {
    ok: true,
    packet: {
      diag: b0 & 0x1f,
      state,
      poll: (b1 & Bit.Poll) !== 0,
      final: (b1 & Bit.Final) !== 0,
      controlPlaneIndependent: (b1 & Bit.ControlPlaneIndependent) !== 0,
      demand: (b1 & Bit.Demand) !== 0,
      detectMult,
      myDiscriminator,
      yourDiscriminator,
      desiredMinTxUs: view.getUint32(12),
      requiredMinRxUs: view.getUint32(16),
      requiredMinEchoRxUs: view.getUint32(20),
    },
  };
}
