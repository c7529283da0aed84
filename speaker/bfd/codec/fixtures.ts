import fc from 'fast-check';
import { hex } from '../../bgp/codec/test-helpers.ts';
import { SESSION_STATE_NAMES } from './constants.ts';
import type { ControlPacket } from './control-packet.ts';
import type { DropReason } from './drop-reasons.ts';

/** One annotated wire fixture, written by hand from RFC 5880 §4.1: bytes and their meaning. */
export interface PacketFixture {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly packet: ControlPacket;
}

const NO_FLAGS = { poll: false, final: false, controlPlaneIndependent: false, demand: false };

/** The first packet of a session, as the first fixture spells it out. */
const FIRST: ControlPacket = {
  ...NO_FLAGS,
  diag: 0,
  state: 'Down',
  detectMult: 3,
  myDiscriminator: 1,
  yourDiscriminator: 0,
  desiredMinTxUs: 1_000_000,
  requiredMinRxUs: 300_000,
  requiredMinEchoRxUs: 0,
};

/** An Up packet at 300 ms x3 with no flags, Your Discriminator 0, changed by `extra` (tests build theirs from it). */
export function controlPacket(extra: Partial<ControlPacket> = {}): ControlPacket {
  return { ...FIRST, state: 'Up', desiredMinTxUs: 300_000, myDiscriminator: 0x4242, ...extra };
}

/** Valid packets: each decodes to `packet`, and `packet` encodes to exactly `bytes`. */
export const PACKET_FIXTURES: readonly PacketFixture[] = [
  {
    name: 'first packet of a session: Down, Your Discriminator still 0, slow 1 s (§6.8.3)',
    bytes: hex(`20       # version 1, diag 0 (No Diagnostic)
                40       # state Down, no flags
                03 18    # detect mult 3, length 24
                00000001 # my discriminator 1
                00000000 # your discriminator 0
                000f4240 # desired min TX 1,000,000 us
                000493e0 # required min RX 300,000 us
                00000000 # required min echo RX 0: no echo`),
    packet: FIRST,
  },
  {
    name: 'Init, answering the Down packet above',
    bytes: hex(`20 80 05 18 # version 1, diag 0; state Init; detect mult 5, length 24
                c0000201    # my discriminator 0xc0000201
                00000001    # your discriminator 1
                000f4240 0000c350 00000000 # 1 s TX, 50 ms RX, no echo`),
    packet: {
      ...NO_FLAGS,
      diag: 0,
      state: 'Init',
      detectMult: 5,
      myDiscriminator: 0xc0000201,
      yourDiscriminator: 1,
      desiredMinTxUs: 1_000_000,
      requiredMinRxUs: 50_000,
      requiredMinEchoRxUs: 0,
    },
  },
  {
    name: 'Up with Poll: the faster timers after Up (§6.5, §6.8.3)',
    bytes: hex(`20 e0 03 18 # version 1, diag 0; state Up (0xc0) + P (0x20); mult 3, length 24
                00000001 c0000201 # my 1, your 0xc0000201
                000493e0 000493e0 00000000 # 300 ms TX, 300 ms RX, no echo`),
    packet: {
      ...NO_FLAGS,
      poll: true,
      diag: 0,
      state: 'Up',
      detectMult: 3,
      myDiscriminator: 1,
      yourDiscriminator: 0xc0000201,
      desiredMinTxUs: 300_000,
      requiredMinRxUs: 300_000,
      requiredMinEchoRxUs: 0,
    },
  },
  {
    name: 'Up with Final and C, diag kept from the last Down, echo offered',
    bytes: hex(`21 d8 03 18 # version 1, diag 1 (Control Detection Time Expired); Up + F (0x10) + C (0x08)
                c0000201 00000001 # my 0xc0000201, your 1
                0000c350 0000c350 0000c350 # 50 ms TX, RX and echo RX`),
    packet: {
      ...NO_FLAGS,
      final: true,
      controlPlaneIndependent: true,
      diag: 1,
      state: 'Up',
      detectMult: 3,
      myDiscriminator: 0xc0000201,
      yourDiscriminator: 1,
      desiredMinTxUs: 50_000,
      requiredMinRxUs: 50_000,
      requiredMinEchoRxUs: 50_000,
    },
  },
  {
    name: 'AdminDown with diag Administratively Down, Your Discriminator 0 allowed',
    bytes: hex(`27 00 03 18 # version 1, diag 7; state AdminDown, no flags
                00000001 00000000 000f4240 000493e0 00000000`),
    packet: { ...FIRST, diag: 7, state: 'AdminDown' },
  },
  {
    name: 'Demand bit, reserved diag 31, every counter at its maximum',
    bytes: hex(`3f c2 ff 18 # version 1, diag 31 (reserved); Up + D (0x02); detect mult 255, length 24
                ffffffff ffffffff ffffffff ffffffff ffffffff`),
    packet: {
      ...NO_FLAGS,
      demand: true,
      diag: 31,
      state: 'Up',
      detectMult: 255,
      myDiscriminator: 0xffffffff,
      yourDiscriminator: 0xffffffff,
      desiredMinTxUs: 0xffffffff,
      requiredMinRxUs: 0xffffffff,
      requiredMinEchoRxUs: 0xffffffff,
    },
  },
];

/** A valid Up packet in hex, the base the drop fixtures change one thing in. */
const UP = '20c00318 00000001 00000002 000493e0 000493e0 00000000';

/** Payloads RFC 5880 §6.8.6 discards before any session is involved, with the reason counted. */
export const DROP_FIXTURES: readonly { name: string; bytes: Uint8Array; reason: DropReason }[] = [
  { name: 'empty datagram', bytes: new Uint8Array(0), reason: 'truncated' },
  { name: '23 bytes', bytes: hex(UP).subarray(0, 23), reason: 'truncated' },
  { name: 'version 0', bytes: hex(`00 ${UP.slice(2)}`), reason: 'version' },
  { name: 'version 2', bytes: hex(`40 ${UP.slice(2)}`), reason: 'version' },
  { name: 'Length 23 (below 24)', bytes: hex(`20c00317 ${UP.slice(8)}`), reason: 'length' },
  {
    name: 'Length 25 beyond a 24-byte payload',
    bytes: hex(`20c00319 ${UP.slice(8)}`),
    reason: 'length',
  },
  {
    name: 'A bit set with Length 24 (below 26)',
    bytes: hex(`20c40318 ${UP.slice(8)}`),
    reason: 'length',
  },
  { name: 'Detect Mult 0', bytes: hex(`20c00018 ${UP.slice(8)}`), reason: 'detect-mult-zero' },
  { name: 'M bit set', bytes: hex(`20c10318 ${UP.slice(8)}`), reason: 'multipoint' },
  {
    name: 'My Discriminator 0',
    bytes: hex('20c00318 00000000 00000002 000493e0 000493e0 00000000'),
    reason: 'my-discriminator-zero',
  },
  {
    name: 'Your Discriminator 0 in state Up',
    bytes: hex('20c00318 00000001 00000000 000493e0 000493e0 00000000'),
    reason: 'your-discriminator-zero',
  },
  {
    name: 'Your Discriminator 0 in state Init',
    bytes: hex('20800318 00000001 00000000 000493e0 000493e0 00000000'),
    reason: 'your-discriminator-zero',
  },
  {
    name: 'Keyed SHA1 authentication section (A bit, Length 52): we configure none',
    bytes: hex(`20c40334 ${UP.slice(8)}
                04 1c 01 00       # auth type 4 (Keyed SHA1), auth len 28, key id 1, reserved
                00000007          # sequence number
                0000000000000000000000000000000000000000 # 20-byte hash`),
    reason: 'authentication',
  },
];

const u32 = fc.integer({ min: 0, max: 0xffffffff });

/** Any packet decodeControlPacket() can return (a received packet may have P and F together). */
export const anyControlPacket: fc.Arbitrary<ControlPacket> = fc.record({
  diag: fc.integer({ min: 0, max: 31 }),
  state: fc.constantFrom(...SESSION_STATE_NAMES),
  poll: fc.boolean(),
  final: fc.boolean(),
  controlPlaneIndependent: fc.boolean(),
  demand: fc.boolean(),
  detectMult: fc.integer({ min: 1, max: 255 }),
  myDiscriminator: fc.integer({ min: 1, max: 0xffffffff }),
  yourDiscriminator: u32,
  // Small intervals too, not only the far end of the u32 range.
  desiredMinTxUs: fc.oneof(u32, fc.integer({ min: 0, max: 2_000_000 })),
  requiredMinRxUs: fc.oneof(u32, fc.integer({ min: 0, max: 2_000_000 })),
  requiredMinEchoRxUs: u32,
});
