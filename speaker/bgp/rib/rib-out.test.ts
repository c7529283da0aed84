import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { IpFamily } from '../../../shared/net/ip.ts';
import {
  Afi,
  type BgpMessage,
  type CodecContext,
  decodeMessage,
  encodePathAttributes,
  encodeUpdate,
  endOfRib,
  endOfRibFamily,
  formatPrefix,
  maxMessageLength,
  type PathAttributes,
  parsePrefix,
  Safi,
  type UpdateMessage,
} from '../codec/index.ts';
import { EncodedPrefixMap, mapRouteValues } from './encoded-prefix-map.ts';
import { attributeKey, pathAttributesFor, RibOut, type RibSession, type RouteAttributes } from './rib-out.ts';

const CTX: CodecContext = { fourOctetAs: true, extendedMessage: false };
const EBGP: RibSession = {
  localAs: 65001,
  peerAs: 65000,
  context: CTX,
  families: ['IPv4', 'IPv6'],
  nextHopIpv4: '192.0.2.10',
  nextHopIpv6: { global: '2001:db8:0:1::10', linkLocal: 'fe80::10' },
};
const IBGP: RibSession = { ...EBGP, peerAs: 65001 };

function decodeAll(messages: Uint8Array[], context = CTX): UpdateMessage[] {
  return messages.map((m) => {
    const d = decodeMessage(m, context) as BgpMessage;
    assert.equal(d.type, 'update');
    assert.equal((d as UpdateMessage).errors, undefined);
    return d as UpdateMessage;
  });
}

/** A simulated peer Adj-RIB-In: applies UPDATEs the way a router would. */
class PeerTable {
  readonly routes = new Map<string, PathAttributes>();
  endOfRib: number[] = [];
  apply(update: UpdateMessage): void {
    const eor = endOfRibFamily(update);
    if (eor) {
      this.endOfRib.push(eor.afi);
      return;
    }
    for (const p of update.withdrawn) this.routes.delete(p);
    for (const p of update.attributes.mpUnreach?.withdrawn ?? []) this.routes.delete(p);
    const { mpReach, mpUnreach, ...rest } = update.attributes;
    for (const p of update.nlri) this.routes.set(p, rest);
    for (const p of mpReach?.nlri ?? []) this.routes.set(p, { ...rest, mpReach: { ...mpReach!, nlri: [] } });
  }
}

const v6 = (i: number) =>
  formatPrefix('IPv6', 64, Uint8Array.of(0x20, 0x01, 0x0d, 0xb8, i >> 8, i & 0xff, 0, 0), 0);

describe('RibOut', () => {
  it('eBGP IPv4: one UPDATE for prefixes sharing attributes, AS_PATH = our AS, no LOCAL_PREF, then End-of-RIB', () => {
    const rib = new RibOut(EBGP);
    const desired = new Map<string, RouteAttributes>([
      ['198.51.100.1/32', { communities: [0xfde80001] }],
      ['198.51.100.2/32', { communities: [0xfde80001] }],
      [
        '198.51.100.3/32',
        {
          communities: [0xfde80001],
          largeCommunities: [{ globalAdmin: 65001, localData1: 1, localData2: 2 }],
        },
      ],
    ]);
    const updates = decodeAll(rib.update(desired));
    assert.equal(updates.length, 4);
    assert.deepStrictEqual(updates[0]!.nlri, ['198.51.100.1/32', '198.51.100.2/32']);
    assert.deepStrictEqual(updates[0]!.attributes, {
      origin: 0,
      asPath: [{ type: 'sequence', asns: [65001] }],
      nextHop: '192.0.2.10',
      communities: [0xfde80001],
    });
    assert.deepStrictEqual(updates[1]!.nlri, ['198.51.100.3/32']);
    assert.deepStrictEqual(updates[1]!.attributes.largeCommunities, [
      { globalAdmin: 65001, localData1: 1, localData2: 2 },
    ]);
    assert.deepStrictEqual(updates.slice(2).map(endOfRibFamily), [
      { afi: 1, safi: 1 },
      { afi: 2, safi: 1 },
    ]);
    assert.equal(rib.announcedCount, 3);
    assert.deepStrictEqual(rib.update(desired), [], 'no change, nothing sent');
  });

  it('iBGP IPv6: empty AS_PATH, LOCAL_PREF, MP_REACH with global and link-local next hop', () => {
    const rib = new RibOut(IBGP);
    const updates = decodeAll(rib.update(new Map([['2001:db8:100::/120', { localPref: 200 }]])));
    assert.deepStrictEqual(updates[0]!.attributes, {
      origin: 0,
      asPath: [],
      localPref: 200,
      mpReach: { afi: 2, safi: 1, nextHops: ['2001:db8:0:1::10', 'fe80::10'], nlri: ['2001:db8:100::/120'] },
    });
    const plain = decodeAll(new RibOut(IBGP).update(new Map([['198.51.100.0/24', {}]])));
    assert.equal(plain[0]!.attributes.localPref, 100);
  });

  it('toward a 2-octet peer a 4-octet AS goes as AS_TRANS with AS4_PATH (RFC 6793)', () => {
    const ctx2: CodecContext = { fourOctetAs: false, extendedMessage: false };
    const rib = new RibOut({ ...EBGP, localAs: 4200000001, context: ctx2 });
    const [u] = decodeAll(rib.update(new Map([['198.51.100.0/24', {}]])), ctx2);
    assert.deepStrictEqual(u!.attributes.asPath, [{ type: 'sequence', asns: [23456] }]);
    assert.deepStrictEqual(u!.attributes.as4Path, [{ type: 'sequence', asns: [4200000001] }]);
  });

  it('packs 10,000 IPv6 /64s into the fewest UPDATEs that fit 4,096 octets, and 65,535 with extended messages', () => {
    const desired = new Map<string, RouteAttributes>();
    for (let i = 0; i < 10_000; i++) desired.set(v6(i), { communities: [0xfde80064] });
    for (const [extended, max] of [
      [false, 4096],
      [true, 65535],
    ] as const) {
      const context = { fourOctetAs: true, extendedMessage: extended };
      const rib = new RibOut({ ...EBGP, context });
      const messages = rib.update(desired);
      const announce = messages.slice(0, -2);
      assert.ok(messages.every((m) => m.length <= max));
      const updates = decodeAll(announce, context);
      const all = updates.flatMap((u) => u.attributes.mpReach!.nlri);
      assert.equal(all.length, 10_000);
      assert.equal(new Set(all).size, 10_000);
      // Each /64 is 9 octets; all but the last message are full to within one prefix.
      const fixed = announce[0]!.length - 9 * updates[0]!.attributes.mpReach!.nlri.length;
      const perMessage = Math.floor((max - fixed) / 9);
      assert.equal(announce.length, Math.ceil(10_000 / perMessage));
    }
  });

  it('sends only differences: changed attributes re-announced, removed prefixes withdrawn in one batch', () => {
    const rib = new RibOut(EBGP);
    const desired = new Map<string, RouteAttributes>();
    for (let i = 0; i < 100; i++) desired.set(v6(i), {});
    desired.set('198.51.100.1/32', {});
    desired.set('198.51.100.2/32', {});
    rib.update(desired);
    const next = new Map(desired);
    next.delete(v6(1));
    next.delete(v6(2));
    next.delete('198.51.100.2/32');
    next.set(v6(3), { communities: [0xffff0000] });
    const updates = decodeAll(rib.update(next));
    assert.deepStrictEqual(
      updates.map((u) => [
        u.withdrawn,
        u.attributes.mpUnreach?.withdrawn ?? [],
        u.attributes.mpReach?.nlri ?? [],
      ]),
      [
        [['198.51.100.2/32'], [], []],
        [[], [v6(1), v6(2)], []],
        [[], [], [v6(3)]],
      ],
    );
    assert.deepStrictEqual(updates[2]!.attributes.communities, [0xffff0000]);
  });

  it('route refresh resends the requested family (or all) without End-of-RIB again', () => {
    const rib = new RibOut(EBGP);
    const desired = new Map<string, RouteAttributes>([
      ['198.51.100.1/32', {}],
      [v6(7), {}],
    ]);
    rib.update(desired);
    const v6only = decodeAll(rib.refresh(desired, 'IPv6'));
    assert.deepStrictEqual(
      v6only.map((u) => u.attributes.mpReach?.nlri),
      [[v6(7)]],
    );
    const again = decodeAll(rib.refresh(desired));
    assert.equal(again.length, 2);
    assert.ok(again.every((u) => endOfRibFamily(u) === undefined));
  });

  it('skips families not negotiated on the session', () => {
    const rib = new RibOut({ ...EBGP, families: ['IPv4'] });
    const updates = decodeAll(
      rib.update(
        new Map([
          [v6(1), {}],
          ['198.51.100.1/32', {}],
        ]),
      ),
    );
    assert.equal(updates.length, 2);
    assert.deepStrictEqual(updates[0]!.nlri, ['198.51.100.1/32']);
    assert.deepStrictEqual(endOfRibFamily(updates[1]!), { afi: 1, safi: 1 });
  });

  it('property: after any sequence of desired sets the peer table equals the last one', () => {
    const attrs = fc.record(
      {
        communities: fc.array(fc.constantFrom(0xfde80001, 0xfde80002, 0xffff0000), { maxLength: 2 }),
        localPref: fc.constantFrom(100, 200),
      },
      { requiredKeys: [] },
    );
    const prefix = fc.oneof(
      fc.integer({ min: 0, max: 255 }).map((i) => `198.51.100.${i}/32`),
      fc.integer({ min: 0, max: 300 }).map(v6),
    );
    const desiredArb = fc.dictionary(prefix, attrs, { maxKeys: 40 });
    fc.assert(
      fc.property(fc.boolean(), fc.array(desiredArb, { minLength: 1, maxLength: 5 }), (ibgp, steps) => {
        const session = ibgp ? IBGP : EBGP;
        const rib = new RibOut(session);
        const peer = new PeerTable();
        for (const step of steps) {
          const desired = new Map(Object.entries(step));
          for (const u of decodeAll(rib.update(desired))) peer.apply(u);
          assert.deepStrictEqual([...peer.routes.keys()].sort(), [...desired.keys()].sort());
          for (const [p, a] of desired) {
            const got = peer.routes.get(p)!;
            assert.deepStrictEqual(
              got.communities ?? [],
              [...new Set(a.communities ?? [])].sort((x, y) => x - y),
            );
            assert.equal(got.localPref, ibgp ? (a.localPref ?? 100) : undefined);
          }
          assert.equal(rib.announcedCount, desired.size);
        }
        assert.deepStrictEqual(peer.endOfRib, [1, 2], 'End-of-RIB once per family');
      }),
      { numRuns: 150 },
    );
  });
});

/** The same desired set carrying its prefixes' encodings (as addPrefixList builds it). */
function encodedCopy(desired: ReadonlyMap<string, RouteAttributes>): EncodedPrefixMap<RouteAttributes> {
  const out = new EncodedPrefixMap<RouteAttributes>();
  for (const [prefix, route] of desired) {
    out.addEncoded(prefix, route, parsePrefix(prefix).nlri);
  }
  assert.ok(out.nlri, 'encodings kept');
  return out;
}

/** Prefixes in message-sized runs: NLRI octets (by the reference parser) at most `room` per run. */
function runs(prefixes: readonly string[], room: number): string[][] {
  const out: string[][] = [];
  let run: string[] = [];
  let used = 0;
  for (const p of prefixes) {
    const octets = parsePrefix(p).nlri.length;
    if (used + octets > room && run.length > 0) {
      out.push(run);
      run = [];
      used = 0;
    }
    run.push(p);
    used += octets;
  }
  if (run.length > 0) out.push(run);
  return out;
}

/**
 * The reference for RibOut.update: the same rules (withdrawals by family in the order the peer
 * got the prefixes; announcements grouped by family and attributes in first-seen order, packed
 * to fit; End-of-RIB once), each UPDATE built as a message object and encoded by `encodeUpdate`.
 */
class ReferenceRib {
  private readonly sent = new Map<string, string>(); // prefix -> attribute key
  private first = true;
  private readonly session: RibSession;
  constructor(session: RibSession) {
    this.session = session;
  }

  update(desired: ReadonlyMap<string, RouteAttributes>): Uint8Array[] {
    const { session } = this;
    const ctx = session.context;
    const room = maxMessageLength(ctx) - 23;
    const family = (p: string): IpFamily => (p.includes(':') ? 'IPv6' : 'IPv4');
    const out: UpdateMessage[] = [];
    const gone = [...this.sent.keys()].filter((p) => !desired.has(p));
    for (const p of gone) this.sent.delete(p);
    for (const run of runs(
      gone.filter((p) => family(p) === 'IPv4'),
      room,
    )) {
      out.push({ type: 'update', withdrawn: run, attributes: {}, nlri: [] });
    }
    for (const run of runs(
      gone.filter((p) => family(p) === 'IPv6'),
      room - 7,
    )) {
      const mpUnreach = { afi: Afi.Ipv6, safi: Safi.Unicast, withdrawn: run };
      out.push({ type: 'update', withdrawn: [], attributes: { mpUnreach }, nlri: [] });
    }
    const groups = new Map<string, { family: IpFamily; route: RouteAttributes; prefixes: string[] }>();
    for (const [p, route] of desired) {
      const key = attributeKey(route);
      if (this.sent.get(p) === key || !session.families.includes(family(p))) continue;
      this.sent.set(p, key);
      const group = groups.get(family(p) + key) ?? { family: family(p), route, prefixes: [] };
      groups.set(family(p) + key, group);
      group.prefixes.push(p);
    }
    for (const { family, route, prefixes } of groups.values()) {
      const attributes = pathAttributesFor(session, family, route);
      if (family === 'IPv4') {
        for (const run of runs(prefixes, room - encodePathAttributes(attributes, ctx).length)) {
          out.push({ type: 'update', withdrawn: [], attributes, nlri: run });
        }
      } else {
        // -1: MP_REACH_NLRI takes the extended length once it holds prefixes.
        for (const run of runs(prefixes, room - encodePathAttributes(attributes, ctx).length - 1)) {
          const mpReach = { ...attributes.mpReach!, nlri: run };
          out.push({ type: 'update', withdrawn: [], attributes: { ...attributes, mpReach }, nlri: [] });
        }
      }
    }
    if (this.first) {
      this.first = false;
      for (const f of session.endOfRibFamilies ?? session.families) {
        out.push(endOfRib(f === 'IPv4' ? Afi.Ipv4 : Afi.Ipv6, Safi.Unicast));
      }
    }
    return out.map((m) => encodeUpdate(m, ctx));
  }
}

describe('RibOut against the reference encoder', () => {
  const attributes = fc.constantFrom<RouteAttributes>(
    {},
    { communities: [0xfde80001] },
    { communities: [0xfde80002, 0xfde80001, 0xfde80002], localPref: 200, med: 5 },
    { largeCommunities: [{ globalAdmin: 65001, localData1: 1, localData2: 2 }] },
    // Attributes that leave a few dozen octets in a 4,096-octet UPDATE: runs end often.
    { communities: Array.from({ length: 990 }, (_, i) => 0xfde80000 + i) },
  );
  const prefix = fc.oneof(
    fc.nat(0xffffff).map((i) => `10.${i >> 16}.${(i >> 8) & 0xff}.${i & 0xff}/32`),
    fc.nat(0xffff).map((i) => `198.51.${i >> 8}.0/24`),
    fc.nat(0xfffff).map((i) => `2001:db8:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::/64`),
    fc.nat(0xffff).map((i) => `2001:DB8:0:0:0:0:0:${i.toString(16)}/128`),
    fc.nat(0xff).map((i) => `::ffff:198.51.100.${i}/128`), // the reference parser's spelling
    // Any length, so NLRI sizes vary and runs meet the room exactly.
    fc
      .tuple(
        fc.constantFrom<IpFamily>('IPv4', 'IPv6'),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.nat(128),
      )
      .map(([family, bytes, n]) => formatPrefix(family, family === 'IPv4' ? n % 33 : n, bytes, 0)),
  );
  const desiredSet = fc
    .array(fc.tuple(prefix, attributes), { maxLength: 1200, size: 'max' })
    .map((entries) => new Map(entries));
  const session = fc.record({
    ibgp: fc.boolean(),
    fourOctetAs: fc.boolean(),
    extendedMessage: fc.boolean(),
    families: fc.constantFrom<IpFamily[]>(['IPv4', 'IPv6'], ['IPv6'], ['IPv4']),
    endOfRibFamilies: fc.constantFrom<IpFamily[] | undefined>(undefined, ['IPv4', 'IPv6'], ['IPv6']),
    linkLocal: fc.boolean(),
  });

  it('property: the same bytes, UPDATE for UPDATE, for any desired sets one after the other (with their encodings or without)', () => {
    fc.assert(
      fc.property(session, fc.array(desiredSet, { minLength: 1, maxLength: 3 }), (s, steps) => {
        const ribSession: RibSession = {
          localAs: 4200000001,
          peerAs: s.ibgp ? 4200000001 : 65000,
          context: { fourOctetAs: s.fourOctetAs, extendedMessage: s.extendedMessage },
          families: s.families,
          ...(s.endOfRibFamilies ? { endOfRibFamilies: s.endOfRibFamilies } : {}),
          nextHopIpv4: '192.0.2.10',
          nextHopIpv6: s.linkLocal
            ? { global: '2001:db8:0:1::10', linkLocal: 'fe80::10' }
            : { global: '2001:db8::10' },
        };
        const rib = new RibOut(ribSession);
        const ribEncoded = new RibOut(ribSession);
        const reference = new ReferenceRib(ribSession);
        for (const desired of steps) {
          const expected = reference.update(desired).map((m) => Buffer.from(m).toString('hex'));
          const got = rib.update(desired).map((m) => Buffer.from(m).toString('hex'));
          assert.deepStrictEqual(got, expected);
          const gotEncoded = ribEncoded
            .update(encodedCopy(desired))
            .map((m) => Buffer.from(m).toString('hex'));
          assert.deepStrictEqual(gotEncoded, expected, 'from the encodings');
        }
      }),
      { numRuns: 60 },
    );
  });

  it('property: a drain through mapRouteValues (as graceful shutdown builds it) is the same bytes as each prefix given its own replaced attributes', () => {
    const drained = (route: RouteAttributes): RouteAttributes => ({
      ...route,
      communities: [...(route.communities ?? []), 0xffff0000],
      localPref: 0,
    });
    fc.assert(
      fc.property(desiredSet, fc.boolean(), fc.boolean(), (desired, ibgp, withEncodings) => {
        const ribSession: RibSession = { ...EBGP, peerAs: ibgp ? EBGP.localAs : EBGP.peerAs };
        const rib = new RibOut(ribSession);
        const reference = new ReferenceRib(ribSession);
        const source = withEncodings ? encodedCopy(desired) : desired;
        assert.deepStrictEqual(rib.update(source), reference.update(desired));
        const perPrefix = new Map([...desired].map(([p, route]) => [p, drained(route)]));
        const expected = reference.update(perPrefix).map((m) => Buffer.from(m).toString('hex'));
        const got = rib.update(mapRouteValues(source, drained)).map((m) => Buffer.from(m).toString('hex'));
        assert.deepStrictEqual(got, expected);
      }),
      { numRuns: 40 },
    );
  });

  it('the same bytes for 20,000 /64s in extended messages, and for their withdrawal', () => {
    const session: RibSession = { ...EBGP, context: { fourOctetAs: true, extendedMessage: true } };
    const desired = new Map<string, RouteAttributes>();
    const shared = { communities: [0xfde80064] };
    for (let i = 0; i < 20_000; i++) desired.set(v6(i), shared);
    const rib = new RibOut(session);
    const reference = new ReferenceRib(session);
    assert.deepStrictEqual(rib.update(encodedCopy(desired)), reference.update(desired));
    assert.deepStrictEqual(rib.update(new Map()), reference.update(new Map()));
  });
});
