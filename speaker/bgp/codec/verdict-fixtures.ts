import type { ErrorAction } from './errors.ts';
import { updateMessage } from './test-helpers.ts';
import type { CodecContext, PathAttributes } from './types.ts';

/**
 * What the receiver makes of a strictly checked UPDATE: the errors it keeps (or the one it
 * resets the session with), and the attributes left. Bytes written by hand from the RFC
 * layouts; each verdict names the rule it comes from.
 */
export interface VerdictFixture {
  readonly name: string;
  readonly context: CodecContext;
  readonly bytes: Uint8Array;
  /** [code, subcode, action, attribute type code, occurrences]; a session reset is thrown. */
  readonly errors: readonly (readonly [number, number, ErrorAction, number, number?])[];
  /** Data of the first error, in hex, when it matters. */
  readonly data?: string;
  /** Attributes to compare after decoding (a key set to undefined must be absent). */
  readonly attributes?: Partial<PathAttributes>;
}

const FOUR_EXTERNAL: CodecContext = { fourOctetAs: true, extendedMessage: false, externalPeer: true };
const FOUR_INTERNAL: CodecContext = { fourOctetAs: true, extendedMessage: false, externalPeer: false };
const TWO_EXTERNAL: CodecContext = { fourOctetAs: false, extendedMessage: false, externalPeer: true };
const EXTENDED_NEXT_HOP: CodecContext = { ...FOUR_INTERNAL, extendedNextHop: true };

// Pieces most fixtures share.
const ORIGIN = '40 01 01 00 # ORIGIN IGP';
const EMPTY_PATH = '40 02 00 # AS_PATH empty (iBGP)';
const PATH_2 = '40 02 04 02 01 5ba0 # AS_PATH AS_SEQUENCE: AS_TRANS (2-octet)';
const NEXT_HOP = '40 03 04 c0000201 # NEXT_HOP 192.0.2.1';
const NLRI = '18 c63364 # 198.51.100.0/24';
const V6_GLOBAL = '20010db8000000010000000000000001 # 2001:db8:0:1::1';
const V6_NLRI = '40 20010db801000000 # 2001:db8:100::/64';

/** IPv4 routes of a 32-octet IPv6 next hop, global then link-local (RFC 8950 + RFC 2545). */
const IPV4_OVER_IPV6_32 = updateMessage(`0000 0033 ${ORIGIN}
  ${EMPTY_PATH}
  80 0e 29 0001 01 20 # MP_REACH_NLRI, IPv4 unicast, next hop 32 octets
    ${V6_GLOBAL}
    fe800000000000000000000000000001 # fe80::1
    00 18 c63364 # reserved; 198.51.100.0/24`);

/** IPv4 routes with a 16-octet IPv6 next hop: valid only with RFC 8950 negotiated. */
const IPV4_OVER_IPV6 = updateMessage(`0000 0023 ${ORIGIN}
  ${EMPTY_PATH}
  80 0e 19 0001 01 10 ${V6_GLOBAL}
    00 18 c63364 # reserved; 198.51.100.0/24`);

/** A confederation path: AS_CONFED_SEQUENCE (65001) then AS_SEQUENCE (65002), RFC 5065 §3. */
const CONFED_PATH = updateMessage(`0000 001a ${ORIGIN}
  40 02 0c 03 01 0000fde9 02 01 0000fdea # AS_PATH: AS_CONFED_SEQUENCE 65001, AS_SEQUENCE 65002
  ${NEXT_HOP}
  ${NLRI}`);

export const VERDICT_FIXTURES: readonly VerdictFixture[] = [
  {
    name: 'AS 0 in AS_PATH → 3/11 treat-as-withdraw (RFC 7607 §3, RFC 7606 §7.2)',
    context: FOUR_EXTERNAL,
    bytes: updateMessage(`0000 0018 ${ORIGIN}
      40 02 0a 02 02 0000fde9 00000000 # AS_PATH AS_SEQUENCE 65001, 0
      ${NEXT_HOP}
      ${NLRI}`),
    errors: [[3, 11, 'treat-as-withdraw', 2]],
    attributes: { asPath: undefined, nextHop: '192.0.2.1' },
  },
  {
    name: 'AS 0 in AS4_PATH → attribute discard (RFC 7607 §3, RFC 6793 §6)',
    context: TWO_EXTERNAL,
    bytes: updateMessage(`0000 001f ${ORIGIN}
      ${PATH_2}
      ${NEXT_HOP}
      c0 11 0a 02 02 fa56ea01 00000000 # AS4_PATH AS_SEQUENCE 4200000001, 0
      ${NLRI}`),
    errors: [[3, 11, 'attribute-discard', 17]],
    attributes: { as4Path: undefined, asPath: [{ type: 'sequence', asns: [23456] }] },
  },
  {
    name: 'AS 0 in AGGREGATOR → attribute discard (RFC 7607 §3, RFC 7606 §7.7)',
    context: FOUR_EXTERNAL,
    bytes: updateMessage(`0000 001f ${ORIGIN}
      40 02 06 02 01 0000fde9 # AS_PATH AS_SEQUENCE 65001
      ${NEXT_HOP}
      c0 07 08 00000000 c0000202 # AGGREGATOR AS 0, 192.0.2.2
      ${NLRI}`),
    errors: [[3, 9, 'attribute-discard', 7]],
    data: 'c0070800000000c0000202',
    attributes: { aggregator: undefined, nextHop: '192.0.2.1' },
  },
  {
    name: 'AS 0 in AS4_AGGREGATOR → attribute discard (RFC 7607 §3, RFC 6793 §6)',
    context: TWO_EXTERNAL,
    bytes: updateMessage(`0000 001d ${ORIGIN}
      ${PATH_2}
      ${NEXT_HOP}
      c0 12 08 00000000 c0000202 # AS4_AGGREGATOR AS 0, 192.0.2.2
      ${NLRI}`),
    errors: [[3, 9, 'attribute-discard', 18]],
    attributes: { as4Aggregator: undefined },
  },
  {
    name: 'MP_REACH IPv6 with a 4-octet next hop → 3/8 treat-as-withdraw, the NLRI still read',
    context: FOUR_INTERNAL,
    bytes: updateMessage(`0000 001c ${ORIGIN}
      ${EMPTY_PATH}
      80 0e 12 0002 01 04 c0000201 # MP_REACH_NLRI IPv6 unicast, next hop 192.0.2.1 (4 octets)
        00 ${V6_NLRI}`),
    errors: [[3, 8, 'treat-as-withdraw', 14]],
    data: '800e12000201 04 c0000201 00 4020010db801000000',
    attributes: { mpReach: { afi: 2, safi: 1, nextHops: ['192.0.2.1'], nlri: ['2001:db8:100::/64'] } },
  },
  {
    name: 'MP_REACH IPv4 with a 16-octet next hop and no RFC 8950 → 3/8 treat-as-withdraw',
    context: FOUR_INTERNAL,
    bytes: IPV4_OVER_IPV6,
    errors: [[3, 8, 'treat-as-withdraw', 14]],
  },
  {
    name: 'MP_REACH IPv4 with a 16-octet next hop and RFC 8950 negotiated → kept',
    context: EXTENDED_NEXT_HOP,
    bytes: IPV4_OVER_IPV6,
    errors: [],
    attributes: { mpReach: { afi: 1, safi: 1, nextHops: ['2001:db8:0:1::1'], nlri: ['198.51.100.0/24'] } },
  },
  {
    name: 'MP_REACH IPv4 with a 32-octet next hop and RFC 8950 negotiated → kept with the link-local',
    context: EXTENDED_NEXT_HOP,
    bytes: IPV4_OVER_IPV6_32,
    errors: [],
    attributes: {
      mpReach: { afi: 1, safi: 1, nextHops: ['2001:db8:0:1::1', 'fe80::1'], nlri: ['198.51.100.0/24'] },
    },
  },
  {
    name: 'MP_REACH IPv4 with a 32-octet next hop and no RFC 8950 → 3/8 treat-as-withdraw',
    context: FOUR_INTERNAL,
    bytes: IPV4_OVER_IPV6_32,
    errors: [[3, 8, 'treat-as-withdraw', 14]],
  },
  {
    name: 'MP_REACH IPv6, second of 32 octets not link-local → dropped, the route kept (as BIRD, FRR)',
    context: FOUR_INTERNAL,
    bytes: updateMessage(`0000 0038 ${ORIGIN}
      ${EMPTY_PATH}
      80 0e 2e 0002 01 20 ${V6_GLOBAL}
        20010db8000000010000000000000002 # 2001:db8:0:1::2: global, not link-local
        00 ${V6_NLRI}`),
    errors: [[3, 8, 'value-discard', 14]],
    attributes: { mpReach: { afi: 2, safi: 1, nextHops: ['2001:db8:0:1::1'], nlri: ['2001:db8:100::/64'] } },
  },
  {
    name: 'MP_REACH IPv6 next hop ff02::1 (multicast) → 3/8 treat-as-withdraw, like NEXT_HOP',
    context: FOUR_INTERNAL,
    bytes: updateMessage(`0000 0028 ${ORIGIN}
      ${EMPTY_PATH}
      80 0e 1e 0002 01 10 ff020000000000000000000000000001 # ff02::1
        00 ${V6_NLRI}`),
    errors: [[3, 8, 'treat-as-withdraw', 14]],
  },
  {
    name: 'MP_REACH IPv6 next hop :: → 3/8 treat-as-withdraw',
    context: FOUR_INTERNAL,
    bytes: updateMessage(`0000 0028 ${ORIGIN}
      ${EMPTY_PATH}
      80 0e 1e 0002 01 10 00000000000000000000000000000000 # ::
        00 ${V6_NLRI}`),
    errors: [[3, 8, 'treat-as-withdraw', 14]],
  },
  {
    name: 'MP_REACH IPv4 next hop 224.0.0.1 → 3/8 treat-as-withdraw, like NEXT_HOP',
    context: FOUR_INTERNAL,
    bytes: updateMessage(`0000 0017 ${ORIGIN}
      ${EMPTY_PATH}
      80 0e 0d 0001 01 04 e0000001 00 18 c63364 # IPv4 unicast via 224.0.0.1: 198.51.100.0/24`),
    errors: [[3, 8, 'treat-as-withdraw', 14]],
  },
  {
    name: 'NEXT_HOP 224.0.0.5 (multicast) → 3/8 treat-as-withdraw (RFC 4271 §6.3, RFC 7606 §7.3)',
    context: FOUR_INTERNAL,
    bytes: updateMessage(`0000 000e ${ORIGIN}
      ${EMPTY_PATH}
      40 03 04 e0000005 # NEXT_HOP 224.0.0.5
      ${NLRI}`),
    errors: [[3, 8, 'treat-as-withdraw', 3]],
    data: '400304e0000005',
  },
  {
    name: 'MULTI_EXIT_DISC with Partial set → 3/4 treat-as-withdraw (RFC 4271 §4.3, RFC 7606 §7.4)',
    context: FOUR_INTERNAL,
    bytes: updateMessage(`0000 0015 ${ORIGIN}
      ${EMPTY_PATH}
      ${NEXT_HOP}
      a0 04 04 00000064 # MULTI_EXIT_DISC flagged optional, partial
      ${NLRI}`),
    errors: [[3, 4, 'treat-as-withdraw', 4]],
    data: 'a0040400000064',
    attributes: { med: undefined },
  },
  {
    name: 'MP_UNREACH_NLRI with Partial set → 3/4 session reset',
    context: FOUR_INTERNAL,
    bytes: updateMessage('0000 0006 a0 0f 03 0002 01 # MP_UNREACH_NLRI flagged optional, partial'),
    errors: [[3, 4, 'session-reset', 15]],
  },
  {
    name: 'COMMUNITIES with Partial set: optional transitive may carry it → kept',
    context: FOUR_INTERNAL,
    bytes: updateMessage('0000 0007 e0 08 04 fde80064 # COMMUNITIES optional transitive partial: 65000:100'),
    errors: [],
    attributes: { communities: [0xfde80064] },
  },
  {
    name: 'AS_CONFED_SEQUENCE from an internal peer → kept (RFC 5065 §3)',
    context: FOUR_INTERNAL,
    bytes: CONFED_PATH,
    errors: [],
    attributes: {
      asPath: [
        { type: 'confed-sequence', asns: [65001] },
        { type: 'sequence', asns: [65002] },
      ],
    },
  },
  {
    name: 'AS_CONFED_SET from an internal peer → kept (RFC 5065 §3)',
    context: FOUR_INTERNAL,
    bytes: updateMessage(`0000 0018 ${ORIGIN}
      40 02 0a 04 02 0000fde9 0000fdea # AS_PATH: AS_CONFED_SET {65001 65002}
      ${NEXT_HOP}
      ${NLRI}`),
    errors: [],
    attributes: { asPath: [{ type: 'confed-set', asns: [65001, 65002] }] },
  },
  {
    name: 'AS_CONFED_SEQUENCE from an external peer → 3/11 treat-as-withdraw (RFC 5065 §5)',
    context: FOUR_EXTERNAL,
    bytes: CONFED_PATH,
    errors: [[3, 11, 'treat-as-withdraw', 2]],
    attributes: { asPath: undefined },
  },
  {
    name: 'confederation segments in AS4_PATH → dropped, the rest kept (RFC 6793 §6)',
    context: TWO_EXTERNAL,
    bytes: updateMessage(`0000 0021 ${ORIGIN}
      ${PATH_2}
      ${NEXT_HOP}
      c0 11 0c 03 01 0000fde9 02 01 fa56ea01 # AS4_PATH: AS_CONFED_SEQUENCE 65001, AS_SEQUENCE 4200000001
      ${NLRI}`),
    errors: [[3, 11, 'value-discard', 17]],
    attributes: { as4Path: [{ type: 'sequence', asns: [4200000001] }] },
  },
  {
    name: 'AS4_PATH of 0 octets → 3/5 attribute discard (RFC 6793 §6: shorter than 6)',
    context: TWO_EXTERNAL,
    bytes: updateMessage(`0000 0015 ${ORIGIN}
      ${PATH_2}
      ${NEXT_HOP}
      c0 11 00 # AS4_PATH empty
      ${NLRI}`),
    errors: [[3, 5, 'attribute-discard', 17]],
    data: 'c01100',
  },
  {
    name: 'MULTI_EXIT_DISC five times → the first kept, one error for the four repeats (RFC 7606 §3 g)',
    context: FOUR_INTERNAL,
    bytes: updateMessage(`0000 0023
      80 04 04 00000001 # MULTI_EXIT_DISC 1
      80 04 04 00000002 80 04 04 00000003 80 04 04 00000004 80 04 04 00000005 # repeats`),
    errors: [[3, 1, 'attribute-discard', 4, 4]],
    attributes: { med: 1 },
  },
];
