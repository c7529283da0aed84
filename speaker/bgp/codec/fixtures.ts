import { hex, MARKER } from './test-helpers.ts';
import type { BgpMessage, CodecContext, UpdateMessage } from './types.ts';

/** One annotated wire fixture: bytes written by hand from the RFC layouts, and their meaning. */
export interface Fixture {
  readonly name: string;
  readonly context: CodecContext;
  readonly bytes: Uint8Array;
  readonly message: BgpMessage;
}

const FOUR: CodecContext = { fourOctetAs: true, extendedMessage: false };
const TWO: CodecContext = { fourOctetAs: false, extendedMessage: false };

/** Valid messages; each decodes to `message` and `message` encodes to exactly `bytes`. */
export const FIXTURES: readonly Fixture[] = [
  {
    name: 'KEEPALIVE (RFC 4271 §4.4)',
    context: TWO,
    bytes: hex(`${MARKER} 0013 # length 19
                04 # type KEEPALIVE`),
    message: { type: 'keepalive' },
  },
  {
    name: 'OPEN without optional parameters (RFC 4271 §4.2)',
    context: TWO,
    bytes: hex(`${MARKER} 001d 01 # length 29, type OPEN
                04       # version 4
                fde8     # my AS 65000
                00b4     # hold time 180 s
                c0000201 # BGP identifier 192.0.2.1
                00       # optional parameters length 0`),
    message: {
      type: 'open',
      version: 4,
      myAs: 65000,
      holdTimeSec: 180,
      bgpId: '192.0.2.1',
      capabilities: [],
    },
  },
  {
    name: 'OPEN with every capability (RFC 5492, 4760, 2918, 6793, 4724, 8654)',
    context: TWO,
    bytes: hex(`${MARKER} 003f 01 # length 63, type OPEN
                04 5ba0 # version 4, my AS = AS_TRANS 23456 (RFC 6793)
                005a    # hold time 90 s
                c0000202 # BGP identifier 192.0.2.2
                22      # optional parameters length 34
                02 20   # parameter type 2 (capabilities), length 32
                01 04 0001 00 01 # multiprotocol IPv4 unicast
                01 04 0002 00 01 # multiprotocol IPv6 unicast
                02 00            # route refresh
                41 04 fa56ea01   # 4-octet AS 4200000001
                40 06 8078 0002 01 80 # graceful restart: R bit, 120 s; IPv6 unicast with forwarding state
                06 00            # extended message
                46 00            # code 70 (enhanced route refresh): kept raw`),
    message: {
      type: 'open',
      version: 4,
      myAs: 23456,
      holdTimeSec: 90,
      bgpId: '192.0.2.2',
      capabilities: [
        { kind: 'multiprotocol', afi: 1, safi: 1 },
        { kind: 'multiprotocol', afi: 2, safi: 1 },
        { kind: 'route-refresh' },
        { kind: 'four-octet-as', asn: 4200000001 },
        {
          kind: 'graceful-restart',
          restartState: true,
          notification: false,
          restartTimeSec: 120,
          families: [{ afi: 2, safi: 1, forwardingState: true }],
        },
        { kind: 'extended-message' },
        { kind: 'unknown', code: 70, value: new Uint8Array(0) },
      ],
    },
  },
  {
    name: 'UPDATE IPv4 with communities and large communities (RFC 4271 §4.3, 1997, 8092)',
    context: FOUR,
    bytes: hex(`${MARKER} 0055 02 # length 85, type UPDATE
                0000 # withdrawn routes length 0
                0035 # total path attribute length 53
                40 01 01 00          # ORIGIN (well-known transitive) IGP
                40 02 06 02 01 0000fde8 # AS_PATH: AS_SEQUENCE of 1: 65000 (4-octet)
                40 03 04 c0000201    # NEXT_HOP 192.0.2.1
                80 04 04 00000064    # MULTI_EXIT_DISC 100 (optional non-transitive)
                c0 08 08 fde80064 ffff0000 # COMMUNITIES 65000:100, GRACEFUL_SHUTDOWN (RFC 8326)
                c0 20 0c 0000fde8 00000001 00000002 # LARGE_COMMUNITY 65000:1:2
                18 c63364   # NLRI 198.51.100.0/24
                20 c6336401 # NLRI 198.51.100.1/32`),
    message: {
      type: 'update',
      withdrawn: [],
      attributes: {
        origin: 0,
        asPath: [{ type: 'sequence', asns: [65000] }],
        nextHop: '192.0.2.1',
        med: 100,
        communities: [0xfde80064, 0xffff0000],
        largeCommunities: [{ globalAdmin: 65000, localData1: 1, localData2: 2 }],
      },
      nlri: ['198.51.100.0/24', '198.51.100.1/32'],
    },
  },
  {
    name: 'UPDATE withdrawing an IPv4 prefix',
    context: FOUR,
    bytes: hex(`${MARKER} 001b 02 # length 27, type UPDATE
                0004 18 c63364 # withdrawn routes length 4: 198.51.100.0/24
                0000           # no path attributes`),
    message: { type: 'update', withdrawn: ['198.51.100.0/24'], attributes: {}, nlri: [] },
  },
  {
    name: 'UPDATE IPv6 MP_REACH_NLRI with global and link-local next hop, iBGP (RFC 4760, 2545)',
    context: FOUR,
    bytes: hex(`${MARKER} 0066 02 # length 102, type UPDATE
                0000 004f # no withdrawn routes; attributes length 79
                40 01 01 00 # ORIGIN IGP
                40 02 00    # AS_PATH empty (iBGP)
                40 05 04 00000064 # LOCAL_PREF 100
                80 0e 3e    # MP_REACH_NLRI, length 62
                  0002 01   # AFI IPv6, SAFI unicast
                  20        # next hop length 32
                  20010db8000000010000000000000001 # global 2001:db8:0:1::1
                  fe800000000000000000000000000001 # link-local fe80::1
                  00        # reserved
                  40 20010db801000000 # 2001:db8:100::/64
                  78 20010db8 01000000 00000000 000000 # 2001:db8:100::/120 (15 octets)`),
    message: {
      type: 'update',
      withdrawn: [],
      attributes: {
        origin: 0,
        asPath: [],
        localPref: 100,
        mpReach: {
          afi: 2,
          safi: 1,
          nextHops: ['2001:db8:0:1::1', 'fe80::1'],
          nlri: ['2001:db8:100::/64', '2001:db8:100::/120'],
        },
      },
      nlri: [],
    },
  },
  {
    name: 'UPDATE IPv6 MP_UNREACH_NLRI (RFC 4760 §4)',
    context: FOUR,
    bytes: hex(`${MARKER} 0026 02 # length 38
                0000 000f   # no withdrawn; attributes length 15
                80 0f 0c 0002 01 40 20010db801000000 # MP_UNREACH_NLRI IPv6 unicast 2001:db8:100::/64`),
    message: {
      type: 'update',
      withdrawn: [],
      attributes: { mpUnreach: { afi: 2, safi: 1, withdrawn: ['2001:db8:100::/64'] } },
      nlri: [],
    },
  },
  {
    name: 'End-of-RIB IPv4 unicast (RFC 4724 §2)',
    context: FOUR,
    bytes: hex(`${MARKER} 0017 02 0000 0000 # empty UPDATE`),
    message: { type: 'update', withdrawn: [], attributes: {}, nlri: [] },
  },
  {
    name: 'End-of-RIB IPv6 unicast (RFC 4724 §2)',
    context: FOUR,
    bytes: hex(`${MARKER} 001d 02 0000 0006
                80 0f 03 0002 01 # MP_UNREACH_NLRI IPv6 unicast with no prefixes`),
    message: {
      type: 'update',
      withdrawn: [],
      attributes: { mpUnreach: { afi: 2, safi: 1, withdrawn: [] } },
      nlri: [],
    },
  },
  {
    name: 'UPDATE to a 2-octet AS peer: AS_TRANS and AS4_PATH (RFC 6793 §4.2.2)',
    context: TWO,
    bytes: hex(`${MARKER} 0036 02 # length 54
                0000 001b # attributes length 27
                40 01 01 00             # ORIGIN IGP
                40 02 04 02 01 5ba0     # AS_PATH AS_SEQUENCE: 23456 (AS_TRANS, 2-octet)
                40 03 04 c0000201       # NEXT_HOP 192.0.2.1
                c0 11 06 02 01 fa56ea01 # AS4_PATH AS_SEQUENCE: 4200000001
                18 c63364               # 198.51.100.0/24`),
    message: {
      type: 'update',
      withdrawn: [],
      attributes: {
        origin: 0,
        asPath: [{ type: 'sequence', asns: [23456] }],
        nextHop: '192.0.2.1',
        as4Path: [{ type: 'sequence', asns: [4200000001] }],
      },
      nlri: ['198.51.100.0/24'],
    },
  },
  {
    name: 'UPDATE with AS_SET, ATOMIC_AGGREGATE and AGGREGATOR',
    context: FOUR,
    bytes: hex(`${MARKER} 004c 02 # length 76
                0000 0030 # attributes length 48
                40 01 01 02 # ORIGIN INCOMPLETE
                40 02 14 02 02 0000fde9 0000fdea 01 02 0000fdeb 0000fdec # AS_SEQUENCE 65001 65002, AS_SET {65003 65004}
                40 03 04 c0000201 # NEXT_HOP 192.0.2.1
                40 06 00          # ATOMIC_AGGREGATE
                c0 07 08 0000fdeb c0000202 # AGGREGATOR AS 65003, 192.0.2.2
                19 c6336480       # 198.51.100.128/25`),
    message: {
      type: 'update',
      withdrawn: [],
      attributes: {
        origin: 2,
        asPath: [
          { type: 'sequence', asns: [65001, 65002] },
          { type: 'set', asns: [65003, 65004] },
        ],
        nextHop: '192.0.2.1',
        atomicAggregate: true,
        aggregator: { asn: 65003, address: '192.0.2.2' },
      },
      nlri: ['198.51.100.128/25'],
    },
  },
  {
    name: 'UPDATE to a 2-octet AS peer: AGGREGATOR with AS_TRANS and AS4_AGGREGATOR (RFC 6793 §4.2.2)',
    context: TWO,
    bytes: hex(`${MARKER} 004a 02 # length 74
                0000 002f # attributes length 47
                40 01 01 00                # ORIGIN IGP
                40 02 04 02 01 5ba0        # AS_PATH AS_SEQUENCE: 23456 (AS_TRANS, 2-octet)
                40 03 04 c0000201          # NEXT_HOP 192.0.2.1
                c0 07 06 5ba0 c0000202     # AGGREGATOR AS_TRANS (2-octet), 192.0.2.2
                c0 11 06 02 01 fa56ea01    # AS4_PATH AS_SEQUENCE: 4200000001
                c0 12 08 fa56ea01 c0000202 # AS4_AGGREGATOR AS 4200000001, 192.0.2.2
                18 c63364                  # 198.51.100.0/24`),
    message: {
      type: 'update',
      withdrawn: [],
      attributes: {
        origin: 0,
        asPath: [{ type: 'sequence', asns: [23456] }],
        nextHop: '192.0.2.1',
        aggregator: { asn: 23456, address: '192.0.2.2' },
        as4Path: [{ type: 'sequence', asns: [4200000001] }],
        as4Aggregator: { asn: 4200000001, address: '192.0.2.2' },
      },
      nlri: ['198.51.100.0/24'],
    },
  },
  {
    name: 'UPDATE with an unknown optional transitive attribute, kept raw (RFC 4271 §5)',
    context: FOUR,
    bytes: hex(`${MARKER} 001c 02 0000 0005
                c0 63 02 abcd # type 99, optional transitive, value abcd`),
    message: {
      type: 'update',
      withdrawn: [],
      attributes: { unknown: [{ flags: 0xc0, typeCode: 99, value: Uint8Array.of(0xab, 0xcd) }] },
      nlri: [],
    },
  },
  {
    name: 'UPDATE inside a confederation: AS_CONFED_SEQUENCE, AS_CONFED_SET, AS_SEQUENCE (RFC 5065 §3)',
    context: FOUR,
    bytes: hex(`${MARKER} 003f 02 # length 63
                0000 0024 # attributes length 36
                40 01 01 00 # ORIGIN IGP
                40 02 16 # AS_PATH, 22 octets:
                  03 01 0000fde9 # AS_CONFED_SEQUENCE 65001
                  04 02 0000fdea 0000fdeb # AS_CONFED_SET {65002 65003}
                  02 01 0000fde8 # AS_SEQUENCE 65000
                40 03 04 c0000201 # NEXT_HOP 192.0.2.1
                18 c63364 # 198.51.100.0/24`),
    message: {
      type: 'update',
      withdrawn: [],
      attributes: {
        origin: 0,
        asPath: [
          { type: 'confed-sequence', asns: [65001] },
          { type: 'confed-set', asns: [65002, 65003] },
          { type: 'sequence', asns: [65000] },
        ],
        nextHop: '192.0.2.1',
      },
      nlri: ['198.51.100.0/24'],
    },
  },
  {
    name: 'NOTIFICATION Hold Timer Expired (RFC 4271 §6.5)',
    context: TWO,
    bytes: hex(`${MARKER} 0015 03 04 00`),
    message: { type: 'notification', code: 4, subcode: 0, data: new Uint8Array(0) },
  },
  {
    name: 'NOTIFICATION Cease / Administrative Shutdown with "bye" (RFC 4486, RFC 9003)',
    context: TWO,
    bytes: hex(`${MARKER} 0019 03 06 02 # length 25, Cease, Administrative Shutdown
                03 627965 # shutdown communication: length 3, "bye"`),
    message: { type: 'notification', code: 6, subcode: 2, data: Uint8Array.of(3, 0x62, 0x79, 0x65) },
  },
  {
    name: 'ROUTE-REFRESH IPv6 unicast (RFC 2918 §3)',
    context: TWO,
    bytes: hex(`${MARKER} 0017 05 0002 00 01 # AFI 2, reserved, SAFI 1`),
    message: { type: 'route-refresh', afi: 2, safi: 1, subtype: 0 },
  },
];

/** An UPDATE over 4,096 octets: valid only once extended messages are negotiated (RFC 8654). */
export const LARGE_UPDATE: UpdateMessage = {
  type: 'update',
  withdrawn: [],
  attributes: {
    origin: 0,
    asPath: [],
    nextHop: '192.0.2.1',
    communities: Array.from({ length: 2000 }, (_, i) => i),
  },
  nlri: ['198.51.100.0/24'],
};
