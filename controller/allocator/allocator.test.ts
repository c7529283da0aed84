import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatIp } from '../../shared/net/ip.ts';
import { type AllocationResult, Allocator, RefusalReason } from './allocator.ts';
import { ip, makeFacts, makePool } from './test-helpers.ts';

function ipsOf(result: AllocationResult): string[] {
  assert.ok(result.ok, `expected success, got ${JSON.stringify(!result.ok && result.refusals)}`);
  return result.assignment.ips.map(formatIp);
}

function poolOf(result: AllocationResult): string {
  assert.ok(result.ok);
  return result.assignment.pool;
}

function refusalsOf(result: AllocationResult): { pool: string | undefined; reason: string }[] {
  assert.ok(!result.ok, 'expected a refusal');
  return result.refusals.map((r) => ({ pool: r.pool, reason: r.reason }));
}

describe('allocator: picking addresses', () => {
  it('hands out never-used addresses in address order, across ranges', () => {
    const a = new Allocator([makePool('p', ['198.51.100.1-198.51.100.2', '198.51.100.10/31'])]);
    const got = ['s1', 's2', 's3', 's4'].map((n) => ipsOf(a.allocate(makeFacts(`ns/${n}`)))[0]);
    assert.deepEqual(got, ['198.51.100.1', '198.51.100.2', '198.51.100.10', '198.51.100.11']);
    assert.deepEqual(refusalsOf(a.allocate(makeFacts('ns/s5'))), [{ pool: 'p', reason: 'Exhausted' }]);
  });

  it('reuses a released address last, oldest release first', () => {
    const a = new Allocator([makePool('p', ['198.51.100.0/29'])]);
    for (const n of [0, 1, 2]) a.allocate(makeFacts(`ns/s${n}`));
    a.release('ns/s1'); // frees .1
    a.release('ns/s0'); // frees .0
    assert.deepEqual(ipsOf(a.allocate(makeFacts('ns/new1'))), ['198.51.100.3']);
    for (const n of [2, 3, 4, 5]) a.allocate(makeFacts(`ns/fill${n}`)); // .4 .. .7
    assert.deepEqual(ipsOf(a.allocate(makeFacts('ns/late1'))), ['198.51.100.1']);
    assert.deepEqual(ipsOf(a.allocate(makeFacts('ns/late2'))), ['198.51.100.0']);
  });

  it('evicted history (beyond the per-pool limit) comes before the remembered releases', () => {
    const a = new Allocator([makePool('p', ['198.51.100.0/29'])], { releasedHistoryPerPool: 2 });
    for (const n of [0, 1, 2, 3]) a.allocate(makeFacts(`ns/s${n}`));
    for (const n of [2, 0, 1]) a.release(`ns/s${n}`); // queue holds .0, .1; .2 evicted
    for (const n of [4, 5, 6, 7]) a.allocate(makeFacts(`ns/fill${n}`));
    assert.deepEqual(ipsOf(a.allocate(makeFacts('ns/x1'))), ['198.51.100.2']);
    assert.deepEqual(ipsOf(a.allocate(makeFacts('ns/x2'))), ['198.51.100.0']);
    assert.deepEqual(ipsOf(a.allocate(makeFacts('ns/x3'))), ['198.51.100.1']);
  });

  it('avoidBuggyIPs skips .0 and .255 arithmetically and counts them out', () => {
    const a = new Allocator([
      makePool('p', ['198.51.100.254-198.51.101.1'], { avoidBuggyIPs: true }),
      makePool('q', ['203.0.113.0/24'], { avoidBuggyIPs: true, autoAssign: false }),
    ]);
    assert.deepEqual(ipsOf(a.allocate(makeFacts('ns/a'))), ['198.51.100.254']);
    assert.deepEqual(ipsOf(a.allocate(makeFacts('ns/b'))), ['198.51.101.1']);
    assert.deepEqual(refusalsOf(a.allocate(makeFacts('ns/c'))), [
      { pool: 'q', reason: 'AutoAssignOff' },
      { pool: 'p', reason: 'Exhausted' },
    ]);
    assert.equal(a.counts('q')?.available.IPv4, 254n);
    assert.deepEqual(refusalsOf(a.assign(makeFacts('ns/d'), [ip('203.0.113.255')])), [
      { pool: 'q', reason: 'BuggyIp' },
    ]);
    assert.deepEqual(ipsOf(a.assign(makeFacts('ns/d'), [ip('203.0.113.7')])), ['203.0.113.7']);
  });

  it('without avoidBuggyIPs the .0 address is handed out', () => {
    const a = new Allocator([makePool('p', ['198.51.100.0/24'])]);
    assert.deepEqual(ipsOf(a.allocate(makeFacts('ns/a'))), ['198.51.100.0']);
  });
});

describe('allocator: pools', () => {
  it('autoAssign=false pools serve only the address-pool annotation or requested IPs', () => {
    const a = new Allocator([makePool('manual', ['198.51.100.0/30'], { autoAssign: false })]);
    assert.deepEqual(refusalsOf(a.allocate(makeFacts('ns/a'))), [
      { pool: 'manual', reason: 'AutoAssignOff' },
    ]);
    assert.equal(poolOf(a.allocate(makeFacts('ns/b', { pool: 'manual' }))), 'manual');
    assert.deepEqual(ipsOf(a.assign(makeFacts('ns/c'), [ip('198.51.100.3')])), ['198.51.100.3']);
  });

  it('an unknown address-pool or no pool at all is refused with its reason', () => {
    assert.deepEqual(refusalsOf(new Allocator([]).allocate(makeFacts('ns/a'))), [
      { pool: undefined, reason: 'NoPools' },
    ]);
    const a = new Allocator([makePool('p', ['198.51.100.0/30'])]);
    assert.deepEqual(refusalsOf(a.allocate(makeFacts('ns/a', { pool: 'nope' }))), [
      { pool: 'nope', reason: 'PoolNotFound' },
    ]);
  });

  it('orders by priority (lower first, unset last), then pinned pools, then name', () => {
    const pools = [
      makePool('zeta', ['198.51.100.0/30']),
      makePool('alpha', ['198.51.100.4/30']),
      makePool('prio2', ['198.51.100.8/30'], { serviceAllocation: { priority: 2 } }),
      makePool('prio1', ['198.51.100.12/30'], { serviceAllocation: { priority: 1 } }),
      makePool('pinned', ['198.51.100.16/30'], { serviceAllocation: { namespaces: ['team'] } }),
    ];
    const a = new Allocator(pools);
    assert.equal(poolOf(a.allocate(makeFacts('team/a'))), 'prio1');
    a.setPools(pools.filter((p) => p.name !== 'prio1' && p.name !== 'prio2'));
    assert.equal(poolOf(a.allocate(makeFacts('team/b'))), 'pinned');
    assert.equal(poolOf(a.allocate(makeFacts('other/c'))), 'alpha');
    // The same inputs in another order give the same pool: no randomness, no map order.
    const b = new Allocator([...pools].reverse().filter((p) => p.name !== 'prio1' && p.name !== 'prio2'));
    assert.equal(poolOf(b.allocate(makeFacts('other/c'))), 'alpha');
  });

  it('namespaces, namespaceSelectors and serviceSelectors restrict a pool, with reasons', () => {
    const a = new Allocator([
      makePool('ns-pool', ['198.51.100.0/30'], {
        serviceAllocation: { namespaces: ['red'], namespaceSelectors: [{ matchLabels: { tier: 'gold' } }] },
      }),
      makePool('svc-pool', ['198.51.100.4/30'], {
        serviceAllocation: {
          serviceSelectors: [{ matchExpressions: [{ key: 'app', operator: 'In', values: ['web'] }] }],
        },
      }),
    ]);
    assert.equal(poolOf(a.allocate(makeFacts('red/a'))), 'ns-pool');
    assert.equal(poolOf(a.allocate(makeFacts('blue/b', { namespaceLabels: { tier: 'gold' } }))), 'ns-pool');
    assert.equal(poolOf(a.allocate(makeFacts('blue/c', { labels: { app: 'web' } }))), 'svc-pool');
    assert.deepEqual(refusalsOf(a.allocate(makeFacts('blue/d', { labels: { app: 'db' } }))), [
      { pool: 'ns-pool', reason: 'NamespaceNotAllowed' },
      { pool: 'svc-pool', reason: 'ServiceSelectorMismatch' },
    ]);
    assert.deepEqual(refusalsOf(a.assign(makeFacts('blue/e'), [ip('198.51.100.1')])), [
      { pool: 'ns-pool', reason: 'NamespaceNotAllowed' },
    ]);
  });

  it('counts exactly, also for a /64 (no saturation) and never negative', () => {
    const a = new Allocator([makePool('big', ['2001:db8:100::/64', '198.51.100.0/24'])]);
    assert.deepEqual(a.counts('big'), {
      assigned: { IPv4: 0n, IPv6: 0n },
      available: { IPv4: 256n, IPv6: 18446744073709551616n },
    });
    a.allocate(makeFacts('ns/a', { families: ['IPv6', 'IPv4'], familyPolicy: 'RequireDualStack' }));
    assert.deepEqual(a.counts('big'), {
      assigned: { IPv4: 1n, IPv6: 1n },
      available: { IPv4: 255n, IPv6: 18446744073709551615n },
    });
    a.release('ns/a');
    a.release('ns/a');
    assert.deepEqual(a.counts('big')?.assigned, { IPv4: 0n, IPv6: 0n });
    assert.equal(a.counts('nope'), undefined);
  });

  it('a /8 and a /64 cost a few fragments, not their size', () => {
    const a = new Allocator([makePool('v4', ['10.0.0.0/8']), makePool('v6', ['2001:db8::/64'])]);
    for (let i = 0; i < 2000; i++) {
      a.allocate(makeFacts(`ns/v4-${i}`));
      a.allocate(makeFacts(`ns/v6-${i}`, { families: ['IPv6'] }));
    }
    assert.deepEqual(ipsOf(a.allocate(makeFacts('ns/v6-last', { families: ['IPv6'] }))), ['2001:db8::7d0']);
    assert.equal(a.counts('v4')?.available.IPv4, 16777216n - 2000n);
  });
});

describe('allocator: dual-stack', () => {
  const pools = () => [
    makePool('v4only', ['198.51.100.0/30'], { serviceAllocation: { priority: 1 } }),
    makePool('dual', ['198.51.100.8/30', '2001:db8:100::/126'], { serviceAllocation: { priority: 2 } }),
    makePool('v6only', ['2001:db8:100::10/126'], { serviceAllocation: { priority: 3 } }),
  ];

  it('SingleStack follows ipFamilies[0]', () => {
    const a = new Allocator(pools());
    assert.equal(poolOf(a.allocate(makeFacts('ns/v4'))), 'v4only');
    assert.deepEqual(ipsOf(a.allocate(makeFacts('ns/v6', { families: ['IPv6'] }))), ['2001:db8:100::']);
  });

  it('RequireDualStack takes a pool with both families, in ipFamilies order', () => {
    const a = new Allocator(pools());
    const result = a.allocate(
      makeFacts('ns/d', { families: ['IPv6', 'IPv4'], familyPolicy: 'RequireDualStack' }),
    );
    assert.equal(poolOf(result), 'dual');
    assert.deepEqual(ipsOf(result), ['2001:db8:100::', '198.51.100.8']);
  });

  it('RequireDualStack with one ipFamily, or no dual pool, is refused with FamilyMissing', () => {
    const a = new Allocator(pools().filter((p) => p.name !== 'dual'));
    assert.deepEqual(refusalsOf(a.allocate(makeFacts('ns/x', { familyPolicy: 'RequireDualStack' }))), [
      { pool: undefined, reason: 'FamilyMissing' },
    ]);
    const refusals = refusalsOf(
      a.allocate(makeFacts('ns/y', { families: ['IPv4', 'IPv6'], familyPolicy: 'RequireDualStack' })),
    );
    assert.deepEqual(refusals, [
      { pool: 'v4only', reason: 'FamilyMissing' },
      { pool: 'v6only', reason: 'FamilyMissing' },
    ]);
  });

  it('PreferDualStack prefers a dual pool, else falls back to the primary then the secondary family', () => {
    const facts = (key: string) =>
      makeFacts(key, { families: ['IPv4', 'IPv6'], familyPolicy: 'PreferDualStack' });
    const a = new Allocator(pools());
    assert.deepEqual(ipsOf(a.allocate(facts('ns/a'))), ['198.51.100.8', '2001:db8:100::']);
    const b = new Allocator(pools().filter((p) => p.name !== 'dual'));
    assert.equal(poolOf(b.allocate(facts('ns/b'))), 'v4only');
    const c = new Allocator(pools().filter((p) => p.name === 'v6only'));
    assert.deepEqual(ipsOf(c.allocate(facts('ns/c'))), ['2001:db8:100::10']);
  });

  it('adds the missing family later from the same pool only', () => {
    const a = new Allocator(pools());
    const facts = makeFacts('ns/a', { families: ['IPv4', 'IPv6'], familyPolicy: 'PreferDualStack' });
    assert.deepEqual(ipsOf(a.assign(facts, [ip('198.51.100.9')])), ['198.51.100.9']);
    assert.deepEqual(ipsOf(a.allocateAdditional(facts, 'IPv6')), ['198.51.100.9', '2001:db8:100::']);
    const b = makeFacts('ns/b', { families: ['IPv4', 'IPv6'], familyPolicy: 'PreferDualStack' });
    a.assign(b, [ip('198.51.100.1')]);
    assert.deepEqual(refusalsOf(a.allocateAdditional(b, 'IPv6')), [
      { pool: 'v4only', reason: 'FamilyMissing' },
    ]);
    assert.deepEqual(refusalsOf(a.allocateAdditional(makeFacts('ns/none'), 'IPv6')), [
      { pool: undefined, reason: 'NotAssigned' },
    ]);
  });
});

describe('allocator: requested IPs', () => {
  const a = () =>
    new Allocator([
      makePool('p', ['198.51.100.0/28', '2001:db8:100::/124']),
      makePool('q', ['198.51.100.16/28']),
    ]);

  it('refuses each invalid request with a precise reason', () => {
    const dual = makeFacts('ns/d', { families: ['IPv4', 'IPv6'], familyPolicy: 'RequireDualStack' });
    const cases = [
      { facts: makeFacts('ns/a'), ips: ['2001:db8:100::1'], reason: 'WrongFamily' },
      {
        facts: makeFacts('ns/a', { families: ['IPv4', 'IPv6'] }),
        ips: ['2001:db8:100::1'],
        reason: 'WrongFamily',
      },
      { facts: makeFacts('ns/a'), ips: ['198.51.100.1', '198.51.100.2'], reason: 'DuplicateFamily' },
      { facts: makeFacts('ns/a'), ips: ['203.0.113.1'], reason: 'NotInAnyPool' },
      { facts: dual, ips: ['198.51.100.1'], reason: 'FamilyMissing' },
      { facts: dual, ips: ['198.51.100.17', '2001:db8:100::1'], reason: 'DifferentPools' },
      { facts: makeFacts('ns/a', { pool: 'q' }), ips: ['198.51.100.1'], reason: 'NotInRequestedPool' },
      { facts: makeFacts('ns/a'), ips: [], reason: 'FamilyMissing' },
    ];
    for (const c of cases) {
      const result = a().assign(c.facts, c.ips.map(ip));
      assert.ok(!result.ok);
      assert.equal(result.refusals[0]?.reason, c.reason, `${c.ips.join(',')} -> ${c.reason}`);
      assert.match(result.refusals[0]?.message ?? '', /\S/);
    }
  });

  it('a taken IP names its holder; the requester gets nothing, the holder keeps it', () => {
    const alloc = a();
    alloc.assign(makeFacts('ns/owner'), [ip('198.51.100.5')]);
    const result = alloc.assign(makeFacts('ns/thief'), [ip('198.51.100.5')]);
    assert.ok(!result.ok);
    assert.equal(result.refusals[0]?.reason, RefusalReason.Taken);
    assert.match(result.refusals[0]?.message ?? '', /198\.51\.100\.5 is already used by ns\/owner/);
    assert.deepEqual(alloc.holdersOf(ip('198.51.100.5')), ['ns/owner']);
    assert.equal(alloc.lookup('ns/thief'), undefined);
  });

  it('a failed re-assignment keeps the previous assignment', () => {
    const alloc = a();
    alloc.assign(makeFacts('ns/x'), [ip('198.51.100.1')]);
    alloc.assign(makeFacts('ns/y'), [ip('198.51.100.2')]);
    assert.ok(!alloc.assign(makeFacts('ns/x'), [ip('198.51.100.2')]).ok);
    assert.deepEqual(alloc.lookup('ns/x')?.ips.map(formatIp), ['198.51.100.1']);
    assert.deepEqual(ipsOf(alloc.assign(makeFacts('ns/x'), [ip('198.51.100.3')])), ['198.51.100.3']);
    assert.deepEqual(alloc.holdersOf(ip('198.51.100.1')), []);
  });
});

describe('allocator: sharing', () => {
  const pool = () => new Allocator([makePool('p', ['198.51.100.0/29'])]);
  const dns = (key: string, protocol: string, extra: Partial<Parameters<typeof makeFacts>[1]> = {}) =>
    makeFacts(key, { sharingKey: 'dns', ports: [{ protocol, port: 53 }], ...extra });

  it('same key, same backend, disjoint ports: shares (TCP/53 and UDP/53), also automatically', () => {
    const a = pool();
    const first = ipsOf(a.allocate(dns('ns/dns-tcp', 'TCP')));
    assert.deepEqual(ipsOf(a.allocate(dns('ns/dns-udp', 'UDP'))), first);
    assert.deepEqual(a.holdersOf(ip(first[0]!)).sort(), ['ns/dns-tcp', 'ns/dns-udp']);
    assert.equal(a.counts('p')?.assigned.IPv4, 1n);
    // Overlapping port: automatic allocation picks another IP rather than failing.
    assert.notDeepEqual(ipsOf(a.allocate(dns('ns/dns-tcp2', 'TCP'))), first);
    // Releasing one sharer keeps the IP with the other.
    a.release('ns/dns-tcp');
    assert.deepEqual(a.holdersOf(ip(first[0]!)), ['ns/dns-udp']);
  });

  it('refuses sharing with the precise reason', () => {
    const a = pool();
    a.assign(dns('ns/base', 'TCP'), [ip('198.51.100.1')]);
    a.assign(makeFacts('ns/plain'), [ip('198.51.100.2')]);
    const local = dns('ns/local', 'TCP', { backendKey: 'app=dns' });
    a.assign(local, [ip('198.51.100.3')]);
    const cases = [
      { facts: dns('ns/x', 'TCP'), at: '198.51.100.1', reason: 'PortConflict' },
      {
        facts: dns('ns/x', 'UDP', { sharingKey: 'other' }),
        at: '198.51.100.1',
        reason: 'SharingKeyMismatch',
      },
      { facts: dns('ns/x', 'UDP', { sharingKey: undefined }), at: '198.51.100.1', reason: 'Taken' },
      { facts: dns('ns/x', 'UDP'), at: '198.51.100.2', reason: 'Taken' },
      { facts: dns('ns/x', 'UDP'), at: '198.51.100.3', reason: 'BackendKeyMismatch' },
      {
        facts: dns('ns/x', 'UDP', { backendKey: 'app=other' }),
        at: '198.51.100.3',
        reason: 'BackendKeyMismatch',
      },
    ];
    for (const c of cases) {
      const result = a.assign(c.facts, [ip(c.at)]);
      assert.ok(!result.ok);
      assert.equal(result.refusals[0]?.reason, c.reason, `${c.facts.sharingKey} at ${c.at}`);
    }
    assert.ok(a.assign(dns('ns/local2', 'UDP', { backendKey: 'app=dns' }), [ip('198.51.100.3')]).ok);
  });

  it('a sole user may change its sharing key in place; then the old key no longer matches', () => {
    const a = pool();
    a.assign(dns('ns/solo', 'TCP'), [ip('198.51.100.4')]);
    assert.ok(a.assign(dns('ns/solo', 'TCP', { sharingKey: 'web' }), [ip('198.51.100.4')]).ok);
    const result = a.assign(dns('ns/other', 'UDP'), [ip('198.51.100.4')]);
    assert.equal(!result.ok && result.refusals[0]?.reason, 'SharingKeyMismatch');
    assert.ok(a.assign(dns('ns/other', 'UDP', { sharingKey: 'web' }), [ip('198.51.100.4')]).ok);
  });

  it('a sharer whose ports change to overlap can no longer keep the IP', () => {
    const a = pool();
    a.assign(dns('ns/a', 'TCP'), [ip('198.51.100.1')]);
    a.assign(dns('ns/b', 'UDP'), [ip('198.51.100.1')]);
    const result = a.assign(dns('ns/b', 'TCP'), [ip('198.51.100.1')]);
    assert.equal(!result.ok && result.refusals[0]?.reason, 'PortConflict');
  });
});

describe('allocator: stickiness and idempotence', () => {
  it('repeating allocate, assign and release changes nothing', () => {
    const a = new Allocator([makePool('p', ['198.51.100.0/28'])]);
    const facts = makeFacts('ns/a');
    const first = ipsOf(a.allocate(facts));
    const counts = a.counts('p');
    assert.deepEqual(ipsOf(a.allocate(facts)), first);
    assert.deepEqual(ipsOf(a.assign(facts, [ip(first[0]!)])), first);
    assert.deepEqual(a.counts('p'), counts);
    a.release('ns/a');
    const after = a.counts('p');
    a.release('ns/a');
    assert.deepEqual(a.counts('p'), after);
    assert.equal(after?.assigned.IPv4, 0n);
  });

  it('other Services leaving never moves an IP', () => {
    const a = new Allocator([makePool('p', ['198.51.100.0/28'])]);
    const ips = ['a', 'b', 'c'].map((n) => ipsOf(a.allocate(makeFacts(`ns/${n}`)))[0]);
    a.release('ns/a');
    a.release('ns/b');
    assert.deepEqual(a.lookup('ns/c')?.ips.map(formatIp), [ips[2]]);
    assert.deepEqual(ipsOf(a.allocate(makeFacts('ns/c'))), [ips[2]]);
  });

  it('pool edits keep IPs still inside, rename pools silently, drop only IPs left outside', () => {
    const a = new Allocator([makePool('p', ['198.51.100.0/28'])]);
    a.assign(makeFacts('ns/low'), [ip('198.51.100.1')]);
    a.assign(makeFacts('ns/high'), [ip('198.51.100.14')]);
    let change = a.setPools([makePool('p', ['198.51.100.0/28', '198.51.100.64/28'])]);
    assert.deepEqual(change, { dropped: [], trimmed: [], rehomed: [] });
    change = a.setPools([makePool('renamed', ['198.51.100.0/29']), makePool('x', ['198.51.100.8/29'])]);
    assert.deepEqual(change, { dropped: [], trimmed: [], rehomed: ['ns/low', 'ns/high'] });
    assert.deepEqual(a.lookup('ns/high'), { pool: 'x', ips: [ip('198.51.100.14')] });
    change = a.setPools([makePool('renamed', ['198.51.100.0/29'])]);
    assert.deepEqual(change, { dropped: ['ns/high'], trimmed: [], rehomed: [] });
    assert.equal(a.lookup('ns/high'), undefined);
    assert.deepEqual(a.counts('renamed')?.assigned, { IPv4: 1n, IPv6: 0n });
  });

  it('a pool extended with a new range hands out its never-used addresses before released ones', () => {
    const a = new Allocator([makePool('p', ['198.51.100.8/31'])]);
    a.allocate(makeFacts('ns/a'));
    a.allocate(makeFacts('ns/b'));
    a.release('ns/a');
    a.setPools([makePool('p', ['198.51.100.0/31', '198.51.100.8/31'])]);
    assert.deepEqual(ipsOf(a.allocate(makeFacts('ns/c'))), ['198.51.100.0']);
    assert.deepEqual(ipsOf(a.allocate(makeFacts('ns/d'))), ['198.51.100.1']);
    assert.deepEqual(ipsOf(a.allocate(makeFacts('ns/e'))), ['198.51.100.8']);
  });

  it('a restart that restores status first gives every Service its IP back', () => {
    const pools = [makePool('p', ['198.51.100.0/28'])];
    const before = new Allocator(pools);
    const names = ['a', 'b', 'c', 'd'];
    for (const n of names) before.allocate(makeFacts(`ns/${n}`));
    before.release('ns/b');
    const status = new Map([...before.assignments()].map(([key, a]) => [key, a.ips]));
    const after = new Allocator(pools);
    for (const [key, ips] of status) assert.ok(after.assign(makeFacts(key), ips).ok);
    for (const [key, ips] of status) assert.deepEqual(after.lookup(key)?.ips, ips);
    const fresh = ipsOf(after.allocate(makeFacts('ns/new')))[0];
    assert.ok(![...status.values()].some((ips) => formatIp(ips[0]!) === fresh));
  });
});
