/**
 * The verdict table the fuzzer checks the speaker against: one row per rule, with the RFC
 * section it comes from. Where ADR 0003 deliberately chose among readings or deviates from an
 * RFC, the row says so and follows the ADR. The oracle (oracle.ts) names the rows it applied to
 * each message, and the report prints the table with how often each row was exercised.
 */
export interface Rule {
  /** The verdict in words. */
  readonly verdict: string;
  /** Where it comes from. */
  readonly source: string;
}

export const RULES = {
  // Message header (any state).
  'header.marker': { verdict: '1/1', source: 'RFC 4271 §6.1 Connection Not Synchronized' },
  'header.length': {
    verdict: '1/2',
    source: 'RFC 4271 §6.1: under 19, over the maximum, under the type minimum, KEEPALIVE not 19',
  },
  'header.type': { verdict: '1/3', source: 'RFC 4271 §6.1 Bad Message Type' },
  'header.extended': {
    verdict: 'up to 65,535 octets',
    source: 'RFC 8654 §4: once both sides sent the capability, for all but OPEN and KEEPALIVE',
  },
  'header.open-4096': { verdict: '1/2 above 4,096', source: 'RFC 8654 §4: OPEN never extended' },

  // OPEN (RFC 4271 §6.2 as updated by RFC 5492, 6286, 6793, 7607, 9072).
  'open.valid': { verdict: 'accepted: KEEPALIVE', source: 'RFC 4271 §8.2.2 OpenSent event 19' },
  'open.version': { verdict: '2/1', source: 'RFC 4271 §6.2 Unsupported Version Number' },
  'open.peer-as': {
    verdict: '2/2',
    source: 'RFC 4271 §6.2, RFC 6793 §4.1 (4-octet capability), RFC 7607 §2 (AS 0)',
  },
  'open.bgp-id-zero': { verdict: '2/3', source: 'RFC 6286 §2.2: zero' },
  'open.bgp-id-same-internal': { verdict: '2/3', source: 'RFC 6286 §2.2: ours, from an internal peer' },
  'open.bgp-id-same-external': { verdict: 'accepted', source: 'RFC 6286 §2.2: ours is fine on eBGP' },
  'open.parameter-type': { verdict: '2/4', source: 'RFC 4271 §6.2 Unsupported Optional Parameter' },
  'open.malformed': {
    verdict: '2/0',
    source: 'RFC 4271 §6.2: a recognized optional parameter (capability, RFC 5492) malformed',
  },
  'open.hold-1-2': { verdict: '2/6', source: 'RFC 4271 §6.2 Unacceptable Hold Time' },
  'open.hold-zero': {
    verdict: '2/6 unless we propose 0',
    source: 'RFC 4271 §6.2 allows refusing any hold time; ADR 0003 refuses 0 unless ours is 0',
  },
  'open.unknown-capability': { verdict: 'ignored', source: 'RFC 5492 §5' },
  'open.extended-parameters': { verdict: 'accepted', source: 'RFC 9072 §2' },
  'open.in-openconfirm': { verdict: '5/2', source: 'RFC 4271 §8.2.2 OpenConfirm, RFC 6608 §4' },
  'open.malformed-in-openconfirm': {
    verdict: 'the OPEN error',
    source: 'RFC 4271 §8.2.2 OpenConfirm event 22',
  },
  'open.in-established': {
    verdict: '5/3, malformed or not',
    source: 'RFC 4271 §8.2.2 Established events 19-22, RFC 6608 §4 (as BIRD)',
  },

  // FSM (RFC 4271 §8.2.2, subcodes RFC 6608).
  'fsm.keepalive-in-opensent': { verdict: '5/1', source: 'RFC 4271 §8.2.2 OpenSent event 26' },
  'fsm.keepalive-in-openconfirm': { verdict: 'Established', source: 'RFC 4271 §8.2.2 OpenConfirm event 26' },
  'fsm.update-before-established': {
    verdict: '5/1 or 5/2, malformed or not',
    source: 'RFC 4271 §8.2.2 OpenSent / OpenConfirm events 27-28',
  },
  'fsm.refresh-before-established': {
    verdict: '5/1 or 5/2, malformed or not',
    source: 'RFC 4271 §8.2.2 (not a message of those states), RFC 6608',
  },
  'fsm.notification': { verdict: 'closed, no NOTIFICATION', source: 'RFC 4271 §6.4, §8.2.2 events 24-25' },
  'keepalive.established': { verdict: 'kept', source: 'RFC 4271 §8.2.2 Established event 26' },

  // ROUTE-REFRESH in Established.
  'refresh.answered': { verdict: 'resent', source: 'RFC 2918 §4 (negotiated family, subtype 0)' },
  'refresh.ignored': {
    verdict: 'ignored',
    source: 'RFC 2918 §4 (family not negotiated), RFC 7313 §5 (other subtypes)',
  },
  'refresh.length': {
    verdict: '7/1',
    source:
      'RFC 7313 §5 names 7/1 for subtypes 1 and 2; ADR 0003 (as FRR) answers every length other than 23 so',
  },

  // A second connection from the peer.
  'connection.collision': {
    verdict: 'the connection of the higher BGP Identifier kept, the other 6/7',
    source: 'RFC 4271 §6.8; equal identifiers: the larger AS keeps its own (RFC 6286 §2.3)',
  },
  'connection.restart-replaces': {
    verdict: 'in Established, the new connection replaces the old one, no NOTIFICATION',
    source: 'RFC 4724 §5 (graceful restart received for a family)',
  },
  'connection.established-refuses': {
    verdict: 'in Established, the new connection closed',
    source: 'RFC 4271 §6.8 (CollisionDetectEstablishedState off)',
  },

  // UPDATE in Established (RFC 4271 §6.3 as revised by RFC 7606).
  'update.valid': { verdict: 'kept, no error', source: 'RFC 4271 §9' },
  'update.lengths': { verdict: '3/1', source: 'RFC 7606 §3 b: withdrawn or attribute length overruns' },
  'update.prefix': { verdict: '3/10', source: 'RFC 7606 §5.3, §3 i (withdrawn routes checked like NLRI)' },
  'update.header-cut': { verdict: 'treat-as-withdraw', source: 'RFC 7606 §4' },
  'update.overrun': { verdict: 'treat-as-withdraw', source: 'RFC 7606 §4' },
  'update.overrun-mp': { verdict: '3/1', source: 'RFC 7606 §4, §3 j: MP NLRI not found' },
  'update.repeat': { verdict: 'attribute-discard per repeat', source: 'RFC 7606 §3 g' },
  'update.repeat-mp': { verdict: '3/1', source: 'RFC 7606 §3 g' },
  'update.unknown-well-known': { verdict: '3/2', source: 'RFC 4271 §6.3' },
  'update.unknown-optional': { verdict: 'ignored', source: 'RFC 4271 §5, §9' },
  'update.missing': { verdict: 'treat-as-withdraw (once)', source: 'RFC 7606 §3 d' },
  'update.no-nlri-reset': {
    verdict: '3/x of the error',
    source: 'RFC 7606 §5.2: no reachable NLRI and an error other than attribute discard',
  },
  'update.flags-ot': {
    verdict: "treat-as-withdraw; the attribute's own where its RFC says so",
    source: 'RFC 7606 §3 c; §3 f (ATOMIC_AGGREGATE, AGGREGATOR), RFC 6793 §6 (AS4_*), §5.3 (MP: 3/4)',
  },
  'update.flags-partial': {
    verdict: "the attribute's action, 3/4",
    source: 'RFC 4271 §4.3; RFC 7606 is silent: ADR 0003 takes the attribute action',
  },
  'update.partial-optional-transitive': { verdict: 'no error', source: 'RFC 4271 §4.3' },
  'update.origin': { verdict: 'treat-as-withdraw', source: 'RFC 7606 §7.1' },
  'update.as-path': { verdict: 'treat-as-withdraw', source: 'RFC 7606 §7.2, RFC 7607 §3 (AS 0)' },
  'update.confed-internal': { verdict: 'kept', source: 'RFC 5065 §5' },
  'update.confed-external': {
    verdict: 'treat-as-withdraw',
    source: 'RFC 5065 §5 (we are in no confederation), RFC 7606 §7.2',
  },
  'update.next-hop': { verdict: 'treat-as-withdraw', source: 'RFC 7606 §7.3, RFC 4271 §6.3 (host address)' },
  'update.med': { verdict: 'treat-as-withdraw', source: 'RFC 7606 §7.4' },
  'update.local-pref-internal': { verdict: 'treat-as-withdraw', source: 'RFC 7606 §7.5' },
  'update.local-pref-external': { verdict: 'attribute-discard', source: 'RFC 7606 §7.5' },
  'update.atomic-aggregate': { verdict: 'attribute-discard', source: 'RFC 7606 §7.6' },
  'update.aggregator': { verdict: 'attribute-discard', source: 'RFC 7606 §7.7, RFC 7607 §3 (AS 0)' },
  'update.communities': { verdict: 'treat-as-withdraw', source: 'RFC 7606 §7.8, RFC 8092 §6 (large)' },
  'update.as4-from-new': { verdict: 'attribute-discard', source: 'RFC 6793 §6 (AS4_* between NEW speakers)' },
  'update.as4': { verdict: 'attribute-discard', source: 'RFC 6793 §6, RFC 7607 §3' },
  'update.as4-confed': { verdict: 'value-discard', source: 'RFC 6793 §6 (segments dropped)' },
  'update.mp-reset': { verdict: '3/9', source: 'RFC 7606 §7.11, §5.3; RFC 4760 §7' },
  'update.mp-hop-family': {
    verdict: 'treat-as-withdraw',
    source: 'RFC 7606 §7.11 says reset; ADR 0003 (as BIRD): the length still delimits the NLRI',
  },
  'update.mp-hop-host': {
    verdict: 'treat-as-withdraw',
    source: 'RFC 4271 §6.3 applied to MP_REACH (ADR 0003)',
  },
  'update.mp-second-hop': {
    verdict: 'value-discard',
    source: 'RFC 2545 §3; ADR 0003 (as BIRD, FRR): the global address kept',
  },
  'update.mp-not-negotiated': { verdict: 'kept', source: 'RFC 4760 names no error (BIRD ignores them too)' },

  // Blind mutations (gen-mutate.ts): the oracle knows the type, not what was broken.
  mutated: {
    verdict: 'as the other rows named',
    source: 'a blind mutation whose verdict the type and state decide',
  },
  'mutated.update': {
    verdict: 'kept (any errors) or a 3/x reset; never a close without NOTIFICATION',
    source: 'RFC 4271 §6.3, RFC 7606',
  },
  'mutated.open': { verdict: '5/2 or a 2/x error', source: 'RFC 4271 §8.2.2 OpenConfirm events 19-22, §6.2' },
} as const satisfies Record<string, Rule>;

export type RuleId = keyof typeof RULES;
