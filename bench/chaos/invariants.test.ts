import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvariantChecker, inRange, type Observation, type ObservedService } from './invariants.ts';

const T0 = 1_000_000;
const POOLS: Observation['pools'] = [
  { name: 'lab-l2', ranges: ['198.51.100.0/26'], autoAssign: false, mode: 'l2' },
  { name: 'lab-dual', ranges: ['198.51.100.128/26', '2001:db8:100::80/122'], autoAssign: false, mode: 'l2' },
  { name: 'lab-bgp', ranges: ['198.51.100.64-198.51.100.127'], autoAssign: false, mode: 'bgp' },
];
const NODES = ['node-1', 'node-2', 'node-3'];

function svc(
  key: string,
  ips: string[],
  pool: string,
  extra: Partial<ObservedService> = {},
): ObservedService {
  return { key, ips, pool, sharingKey: undefined, warnings: [], createdMs: T0 - 600_000, ...extra };
}

/** A settled, healthy cluster: web (L2 dual-stack on node-2), api (BGP on every node). */
function healthy(atMs: number, change: Partial<Observation> = {}): Observation {
  return {
    atMs,
    services: [
      svc('default/web', ['198.51.100.128', '2001:db8:100::80'], 'lab-dual'),
      svc('default/api', ['198.51.100.64'], 'lab-bgp'),
    ],
    pools: POOLS,
    l2Status: new Map([['default/web', ['node-2']]]),
    bgpStatus: new Map([['default/api', NODES]]),
    answerers: new Map([
      ['198.51.100.128', ['node-2']],
      ['2001:db8:100::80', ['node-2']],
    ]),
    routes: new Map([['198.51.100.64', NODES]]),
    healthyNodes: NODES,
    settled: true,
    fault: undefined,
    ...change,
  };
}

/** Checks observations 2 s apart; returns the rules reported at each. */
function run(checker: InvariantChecker, observations: Observation[]): string[][] {
  return observations.map((o) => checker.check(o).map((v) => v.rule));
}

describe('chaos invariants', () => {
  it('a healthy settled cluster breaks none, round after round', () => {
    const checker = new InvariantChecker();
    assert.deepEqual(run(checker, [healthy(T0), healthy(T0 + 2_000), healthy(T0 + 4_000)]), [[], [], []]);
  });

  it('two nodes answering ARP/NDP for one IP, at once, once settled, with the fault in progress named', () => {
    const two = {
      answerers: new Map([
        ['198.51.100.128', ['node-1', 'node-2']],
        ['2001:db8:100::80', ['node-2']],
      ]),
    };
    const checker = new InvariantChecker();
    const [v] = checker.check(healthy(T0, two));
    assert.equal(v?.rule, 'two-answerers');
    assert.match(v?.detail ?? '', /198\.51\.100\.128 \(default\/web\) answered by node-1 and node-2/);
    // During a fault and its settle time two answerers are a handover, not a violation.
    assert.deepEqual(
      new InvariantChecker().check(healthy(T0, { ...two, settled: false, fault: 'cable-cut on node-2' })),
      [],
    );
  });

  it('during a membership-port block past its bound two answerers count, and only the one-answerer rule applies', () => {
    const block = 'membership-block on node-1 and node-2';
    const two = new Map([
      ['198.51.100.128', ['node-1', 'node-2']],
      ['2001:db8:100::80', ['node-2']],
    ]);
    const during = (oneAnswerer: boolean, change: Partial<Observation> = {}) =>
      new InvariantChecker().check(
        healthy(T0, { answerers: two, settled: false, fault: block, oneAnswerer, ...change }),
      );
    const [v, ...rest] = during(true);
    assert.deepEqual(rest, []);
    assert.equal(v?.rule, 'two-answerers');
    assert.equal(v?.fault, block);
    assert.match(v?.detail ?? '', /198\.51\.100\.128 \(default\/web\) answered by node-1 and node-2/);
    // Within the bound: the handover of the block's first moments.
    assert.deepEqual(during(false), []);
    // The settled comparisons stay off during the fault: status on node-1 against node-2 on the wire.
    const mismatch = {
      answerers: new Map([['198.51.100.128', ['node-2']]]),
      l2Status: new Map([['default/web', ['node-1']]]),
    };
    const checker = new InvariantChecker();
    const observe = (at: number) =>
      checker.check(healthy(at, { ...mismatch, settled: false, fault: block, oneAnswerer: true }));
    assert.deepEqual([observe(T0), observe(T0 + 2_000)], [[], []]);
    // A Service the user just changed is spared, as in the settled rules.
    const changed = new InvariantChecker({ convergeMs: 6_000 });
    changed.userChanged({ atMs: T0 - 1_000, service: 'default/web' });
    assert.deepEqual(
      changed.check(healthy(T0, { answerers: two, settled: false, fault: block, oneAnswerer: true })),
      [],
    );
  });

  it('an IP held by two Services: only with one sharing key on both', () => {
    const shared = (a?: string, b?: string) =>
      healthy(T0, {
        services: [
          svc('default/web', ['198.51.100.128', '2001:db8:100::80'], 'lab-dual', { sharingKey: a }),
          svc('default/other', ['198.51.100.128'], 'lab-dual', { sharingKey: b }),
        ],
        l2Status: new Map([
          ['default/web', ['node-2']],
          ['default/other', ['node-2']],
        ]),
      });
    const rules = (o: Observation) => new InvariantChecker().check(o).map((v) => v.rule);
    assert.deepEqual(rules(shared()), ['shared-ip']);
    assert.deepEqual(rules(shared('k', 'other-k')), ['shared-ip']);
    assert.deepEqual(rules(shared('k', undefined)), ['shared-ip']);
    assert.deepEqual(rules(shared('k', 'k')), []);
  });

  it('an IP outside the pool the Service may use; no IP without a Warning after the grace time', () => {
    const checker = new InvariantChecker({ pendingGraceMs: 30_000 });
    const wrongPool = healthy(T0, { services: [svc('default/x', ['198.51.100.5'], 'lab-dual')] });
    assert.deepEqual(
      checker.check(wrongPool).map((v) => v.detail),
      ['default/x holds 198.51.100.5, outside every pool it may use (lab-dual)'],
    );
    const pending = (createdMs: number, warnings: string[]) =>
      new InvariantChecker().check(
        healthy(T0, { services: [svc('default/p', [], 'gone', { createdMs, warnings })] }),
      );
    assert.deepEqual(
      pending(T0 - 60_000, []).map((v) => v.rule),
      ['pool-use'],
    );
    assert.deepEqual(pending(T0 - 60_000, ['AllocationFailed']), []);
    assert.deepEqual(pending(T0 - 5_000, []), [], 'just created: the controller has not decided yet');
  });

  it('an IP change is a violation unless the user changed the Service or its pool shortly before', () => {
    const moved = healthy(T0 + 2_000, {
      services: [
        svc('default/web', ['198.51.100.129', '2001:db8:100::80'], 'lab-dual'),
        svc('default/api', ['198.51.100.64'], 'lab-bgp'),
      ],
      answerers: new Map([
        ['198.51.100.129', ['node-2']],
        ['2001:db8:100::80', ['node-2']],
      ]),
    });
    const checker = new InvariantChecker();
    assert.deepEqual(run(checker, [healthy(T0), moved]), [[], ['ip-changed']]);
    // Checked in fault time too: an API server restart must not move an IP.
    const unsettled = new InvariantChecker();
    assert.deepEqual(run(unsettled, [healthy(T0, { settled: false }), { ...moved, settled: false }]), [
      [],
      ['ip-changed'],
    ]);
    for (const change of [{ service: 'default/web' }, { pool: 'lab-dual' }]) {
      const byUser = new InvariantChecker();
      byUser.userChanged({ atMs: T0 + 1_000, ...change });
      assert.deepEqual(run(byUser, [healthy(T0), moved]), [[], []], JSON.stringify(change));
    }
    const otherPool = new InvariantChecker();
    otherPool.userChanged({ atMs: T0 + 1_000, pool: 'lab-l2' });
    assert.deepEqual(run(otherPool, [healthy(T0), moved]), [[], ['ip-changed']]);
  });

  it('status objects against the wire: L2 owner and BGP routes, reported when seen twice in a row', () => {
    const l2Wrong = (at: number) => healthy(at, { l2Status: new Map([['default/web', ['node-1']]]) });
    const checker = new InvariantChecker();
    assert.deepEqual(
      run(checker, [l2Wrong(T0), l2Wrong(T0 + 2_000), healthy(T0 + 4_000), l2Wrong(T0 + 6_000)]),
      [[], ['status-wire'], [], []],
    );
    const bgpWrong = (at: number) =>
      healthy(at, { bgpStatus: new Map([['default/api', ['node-1', 'node-2']]]) });
    const c2 = new InvariantChecker();
    const [, second] = [c2.check(bgpWrong(T0)), c2.check(bgpWrong(T0 + 2_000))];
    assert.equal(second.length, 1);
    assert.match(
      second[0]?.detail ?? '',
      /ServiceBGPStatus on \[node-1, node-2\], router routes via \[node-1, node-2, node-3\]/,
    );
  });

  it("the router's routes against the healthy nodes", () => {
    const missing = (at: number) =>
      healthy(at, {
        routes: new Map([['198.51.100.64', ['node-1', 'node-3']]]),
        bgpStatus: new Map([['default/api', ['node-1', 'node-3']]]),
      });
    const checker = new InvariantChecker();
    assert.deepEqual(run(checker, [missing(T0), missing(T0 + 2_000)]), [[], ['routes-nodes']]);
    // node-2 is down (its fault): the routes without it are right.
    const down = (at: number) => ({ ...missing(at), healthyNodes: ['node-1', 'node-3'] });
    assert.deepEqual(run(new InvariantChecker(), [down(T0), down(T0 + 2_000)]), [[], []]);
  });

  it('a Service the user just changed is not held to the settled rules until it converged', () => {
    const checker = new InvariantChecker({ convergeMs: 6_000 });
    checker.userChanged({ atMs: T0, service: 'default/web' });
    const stale = (at: number) => healthy(at, { l2Status: new Map([['default/web', ['node-1']]]) });
    assert.deepEqual(
      run(checker, [stale(T0 + 1_000), stale(T0 + 3_000), stale(T0 + 8_000), stale(T0 + 10_000)]),
      [[], [], [], ['status-wire']],
    );
  });

  it('inRange: CIDRs and ranges of both families', () => {
    assert.ok(inRange('198.51.100.63', '198.51.100.0/26'));
    assert.ok(!inRange('198.51.100.64', '198.51.100.0/26'));
    assert.ok(inRange('2001:db8:100::bf', '2001:db8:100::80/122'));
    assert.ok(!inRange('2001:db8:100::c0', '2001:db8:100::80/122'));
    assert.ok(inRange('198.51.100.70', '198.51.100.64-198.51.100.127'));
    assert.ok(!inRange('2001:db8:100::80', '198.51.100.0/24'));
    assert.ok(!inRange('not-an-ip', '198.51.100.0/24'));
    assert.ok(!inRange('198.51.100.1', 'garbage'));
  });
});
