import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toHex } from '../codec/test-helpers.ts';
import { validateFsmConfig } from './config.ts';
import { buildOpen, holdTimeAcceptable, negotiate } from './negotiation.ts';
import { CONFIG, PEER_OPEN } from './test-config.ts';
import type { Negotiated } from './types.ts';

describe('OPEN negotiation (RFC 4271 §4.2, §6.2)', () => {
  it('hold time: 1 and 2 s never, 0 from the peer only when we propose 0 too', () => {
    // [ours, peer's, accepted]
    const table: [number, number, boolean][] = [
      [90, 30, true],
      [90, 3, true],
      [90, 1, false],
      [90, 2, false],
      [90, 0, false],
      [0, 0, true],
      [0, 30, true],
      [0, 2, false],
    ];
    for (const [ours, peers, accepted] of table) {
      assert.equal(holdTimeAcceptable(ours, peers), accepted, `ours ${ours} s, peer ${peers} s`);
    }
  });

  it('a peer proposing hold time 0 to our 90 s gets 2/6 Unacceptable Hold Time', () => {
    const r = negotiate(CONFIG, { ...PEER_OPEN, holdTimeSec: 0 });
    assert.ok('type' in r, 'refused');
    assert.deepStrictEqual([r.code, r.subcode], [2, 6]);
  });

  it('hold time 0 on both sides: no hold timer, no KEEPALIVEs', () => {
    const n = negotiate({ ...CONFIG, holdTimeSec: 0 }, { ...PEER_OPEN, holdTimeSec: 0 }) as Negotiated;
    assert.deepStrictEqual([n.holdTimeSec, n.keepaliveMs], [0, 0]);
    // Ours 0 and the peer's 30: the smaller one, 0, again.
    const m = negotiate({ ...CONFIG, holdTimeSec: 0 }, PEER_OPEN) as Negotiated;
    assert.deepStrictEqual([m.holdTimeSec, m.keepaliveMs], [0, 0]);
  });

  it('AS 0 in OPEN gets 2/2 Bad Peer AS (RFC 7607 §3)', () => {
    const twoOctet = negotiate(CONFIG, { ...PEER_OPEN, myAs: 0, capabilities: [] });
    assert.ok('type' in twoOctet);
    assert.deepStrictEqual([twoOctet.code, twoOctet.subcode, toHex(twoOctet.data)], [2, 2, '0000']);
    const fourOctet = negotiate(CONFIG, {
      ...PEER_OPEN,
      capabilities: [{ kind: 'four-octet-as', asn: 0 }],
    });
    assert.ok('type' in fourOctet);
    assert.deepStrictEqual([fourOctet.code, fourOctet.subcode], [2, 2]);
  });

  it('a configured keepalive shortens a third of the hold time, never lengthens it', () => {
    assert.equal((negotiate({ ...CONFIG, keepaliveSec: 3 }, PEER_OPEN) as Negotiated).keepaliveMs, 3000);
    // Peer hold 30 s: even with 60 s configured, KEEPALIVEs go every 10 s.
    assert.equal((negotiate({ ...CONFIG, keepaliveSec: 60 }, PEER_OPEN) as Negotiated).keepaliveMs, 10_000);
    assert.match(
      validateFsmConfig({ ...CONFIG, keepaliveSec: 0 }).join(),
      /keepaliveTime 0 s must be at least 1 s/,
    );
  });

  it('our own BGP identifier is refused from an internal peer only (RFC 6286 §2.2)', () => {
    const internal = { ...CONFIG, localAs: CONFIG.peerAs };
    const r = negotiate(internal, { ...PEER_OPEN, bgpId: CONFIG.routerId });
    assert.ok('type' in r && r.code === 2 && r.subcode === 3);
    const external = negotiate(CONFIG, { ...PEER_OPEN, bgpId: CONFIG.routerId });
    assert.ok(!('type' in external), 'accepted on eBGP');
  });

  it('without MP capabilities the peer is IPv4 unicast only (RFC 4760 §8)', () => {
    const n = negotiate(CONFIG, { ...PEER_OPEN, capabilities: [] }) as Negotiated;
    assert.deepStrictEqual(n.families, [{ afi: 1, safi: 1 }]);
    assert.deepStrictEqual(n.context, { fourOctetAs: false, extendedMessage: false, externalPeer: true });
    // Same AS: internal, so the decoder keeps LOCAL_PREF (RFC 7606 §7.5).
    const ibgp = negotiate({ ...CONFIG, localAs: CONFIG.peerAs }, { ...PEER_OPEN, capabilities: [] });
    assert.equal((ibgp as Negotiated).context.externalPeer, false);
  });

  it('a 4-octet local AS is sent as AS_TRANS with the capability (RFC 6793)', () => {
    const open = buildOpen({ ...CONFIG, localAs: 4200000001 });
    assert.equal(open.myAs, 23456);
    assert.ok(open.capabilities.some((c) => c.kind === 'four-octet-as' && c.asn === 4200000001));
  });
});
