import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Pool } from '../../shared/config/types.ts';
import { formatIp, type IpFamily, type IpValue } from '../../shared/net/ip.ts';
import { Allocator, isBuggyIp, poolRefusal, type ServiceFacts } from './allocator.ts';
import { converge } from './converge.ts';
import { ip, makeFacts, makePool } from './test-helpers.ts';

// A small universe so that pools fill up, sharing collides and edits move things around.
const BLOCKS = [
  '198.51.100.0/29',
  '198.51.100.8/29',
  '198.51.100.16/29',
  '2001:db8:100::/125',
  '2001:db8:100::8/125',
];
const POOL_NAMES = ['a', 'b', 'c'];
const KEYS = ['ns1/s0', 'ns1/s1', 'ns1/s2', 'ns2/s3', 'ns2/s4', 'ns2/s5', 'ns1/s6', 'ns2/s7'];
const UNIVERSE = [
  '198.51.100.0',
  '198.51.100.1',
  '198.51.100.9',
  '198.51.100.17',
  '198.51.100.30',
  '2001:db8:100::1',
  '2001:db8:100::9',
];

const poolConfig = fc
  .record({
    owner: fc.array(fc.integer({ min: -1, max: 2 }), { minLength: BLOCKS.length, maxLength: BLOCKS.length }),
    options: fc.array(
      fc.record({
        autoAssign: fc.boolean(),
        avoidBuggyIPs: fc.boolean(),
        restrict: fc.constantFrom('none', 'ns1', 'priority', 'web'),
      }),
      { minLength: 3, maxLength: 3 },
    ),
  })
  .map(({ owner, options }): Pool[] =>
    POOL_NAMES.flatMap((name, i) => {
      const blocks = BLOCKS.filter((_, b) => owner[b] === i);
      if (blocks.length === 0) return [];
      const o = options[i]!;
      const serviceAllocation =
        o.restrict === 'ns1'
          ? { namespaces: ['ns1'] }
          : o.restrict === 'priority'
            ? { priority: i + 1 }
            : o.restrict === 'web'
              ? { serviceSelectors: [{ matchLabels: { app: 'web' } }] }
              : undefined;
      return [
        makePool(name, blocks, {
          autoAssign: o.autoAssign || i === 0,
          avoidBuggyIPs: o.avoidBuggyIPs,
          ...(serviceAllocation ? { serviceAllocation } : {}),
        }),
      ];
    }),
  );

const serviceSpec = fc
  .record({
    key: fc.constantFrom(...KEYS),
    families: fc.constantFrom<IpFamily[]>(['IPv4'], ['IPv6'], ['IPv4', 'IPv6'], ['IPv6', 'IPv4']),
    policy: fc.constantFrom('SingleStack', 'PreferDualStack', 'RequireDualStack'),
    sharingKey: fc.constantFrom(undefined, undefined, 'k', 'j'),
    backendKey: fc.constantFrom('', '', 'app=x'),
    ports: fc.subarray(['TCP/80', 'UDP/53', 'TCP/53'], { minLength: 1 }),
    web: fc.boolean(),
    pool: fc.constantFrom(undefined, undefined, undefined, 'a', 'b'),
    requested: fc.option(fc.constantFrom(...UNIVERSE), { freq: 4 }),
  })
  .map(({ key, families, policy, sharingKey, backendKey, ports, web, pool, requested }) => {
    const facts = makeFacts(key, {
      families,
      familyPolicy: (families.length === 1 ? 'SingleStack' : policy) as ServiceFacts['familyPolicy'],
      sharingKey,
      backendKey,
      labels: web ? { app: 'web' } : {},
      pool,
      ports: ports.map((p) => {
        const [protocol, port] = p.split('/');
        return { protocol: protocol!, port: Number(port) };
      }),
    });
    return { facts, requested: requested === null ? undefined : [ip(requested)] };
  });

type Op =
  | { kind: 'upsert'; spec: { facts: ServiceFacts; requested: IpValue[] | undefined } }
  | { kind: 'delete'; key: string }
  | { kind: 'pools'; pools: Pool[] }
  | { kind: 'restart' };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: serviceSpec.map((spec) => ({ kind: 'upsert' as const, spec })) },
  { weight: 2, arbitrary: fc.constantFrom(...KEYS).map((key) => ({ kind: 'delete' as const, key })) },
  { weight: 1, arbitrary: poolConfig.map((pools) => ({ kind: 'pools' as const, pools })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'restart' as const }) },
);

interface World {
  pools: Pool[];
  allocator: Allocator;
  specs: Map<string, { facts: ServiceFacts; requested: IpValue[] | undefined }>;
  /** key -> IPs written to status */
  status: Map<string, readonly IpValue[]>;
}

function poolFor(pools: readonly Pool[], address: IpValue): Pool | undefined {
  return pools.find((p) =>
    p.ranges.some((r) => r.family === address.family && r.first <= address.value && address.value <= r.last),
  );
}

/** May this Service hold this address under this config? */
function allowedHere(pools: readonly Pool[], facts: ServiceFacts, address: IpValue): boolean {
  const pool = poolFor(pools, address);
  if (!pool || poolRefusal(pool, facts)) return false;
  if (facts.pool !== undefined && facts.pool !== pool.name) return false;
  if (pool.avoidBuggyIPs && isBuggyIp(address.family, address.value)) return false;
  const families = facts.familyPolicy === 'SingleStack' ? facts.families.slice(0, 1) : facts.families;
  return families.includes(address.family);
}

function reconcile(world: World, key: string): void {
  const spec = world.specs.get(key);
  if (!spec) return;
  const outcome = converge(world.allocator, spec.facts, world.status.get(key) ?? [], spec.requested);
  world.status.set(key, outcome.assignment?.ips ?? []);
}

/** Level-triggered: everything with status first (the restore order), then the rest. */
function reconcileAll(world: World): void {
  const keys = [...world.specs.keys()].sort(
    (x, y) => Number((world.status.get(y)?.length ?? 0) > 0) - Number((world.status.get(x)?.length ?? 0) > 0),
  );
  for (const key of keys) reconcile(world, key);
}

function apply(world: World, step: Op): void {
  switch (step.kind) {
    case 'upsert':
      world.specs.set(step.spec.facts.key, step.spec);
      reconcile(world, step.spec.facts.key);
      break;
    case 'delete':
      world.specs.delete(step.key);
      world.status.delete(step.key);
      world.allocator.release(step.key);
      break;
    case 'pools':
      world.pools = step.pools;
      world.allocator.setPools(step.pools);
      // Before any reconcile, the allocator itself kept every IP still inside one pool.
      for (const [key, ips] of world.status) {
        const homes = new Set(ips.map((a) => poolFor(step.pools, a)?.name));
        if (ips.length === 0 || homes.size !== 1 || homes.has(undefined)) continue;
        assert.deepEqual(
          world.allocator.lookup(key)?.ips.map(formatIp),
          ips.map(formatIp),
          `${key} after setPools`,
        );
      }
      break;
    case 'restart':
      world.allocator = new Allocator(world.pools);
      break;
  }
  reconcileAll(world);
}

function checkInvariants(world: World, before: Map<string, readonly IpValue[]>, step: Op): void {
  // 1. No two incompatible Services on one IP; the allocator agrees with status.
  const byIp = new Map<string, string[]>();
  for (const [key, ips] of world.status) {
    for (const address of ips) {
      const text = formatIp(address);
      byIp.set(text, [...(byIp.get(text) ?? []), key]);
    }
  }
  for (const [text, keys] of byIp) {
    assert.deepEqual(world.allocator.holdersOf(ip(text)).sort(), [...keys].sort(), `holders of ${text}`);
    if (keys.length < 2) continue;
    const facts = keys.map((k) => world.specs.get(k)!.facts);
    const first = facts[0]!;
    for (const f of facts) {
      assert.ok(
        f.sharingKey !== undefined && f.sharingKey === first.sharingKey,
        `${text}: sharing keys differ`,
      );
      assert.equal(f.backendKey, first.backendKey, `${text}: backend keys differ`);
    }
    const ports = facts.flatMap((f) => f.ports.map((p) => `${p.protocol}/${p.port}`));
    assert.equal(new Set(ports).size, ports.length, `${text}: overlapping ports ${ports.join(' ')}`);
  }
  // 2. Every IP lies in one pool the Service may use.
  for (const [key, ips] of world.status) {
    const facts = world.specs.get(key)!.facts;
    const pools = new Set(ips.map((a) => poolFor(world.pools, a)?.name));
    assert.ok(pools.size <= 1, `${key}: IPs from several pools`);
    for (const address of ips) {
      assert.ok(allowedHere(world.pools, facts, address), `${key}: ${formatIp(address)} not allowed`);
    }
  }
  // 3. Sticky: a Service not touched by this step keeps every IP it may still hold.
  for (const [key, ips] of before) {
    if (
      (step.kind === 'upsert' && step.spec.facts.key === key) ||
      (step.kind === 'delete' && step.key === key)
    ) {
      continue;
    }
    const facts = world.specs.get(key)!.facts;
    const homes = new Set(ips.map((a) => poolFor(world.pools, a)?.name));
    const pool = poolFor(world.pools, ips[0]!);
    const lostFamily =
      facts.familyPolicy === 'RequireDualStack' &&
      (homes.size > 1 || !pool || !facts.families.every((f) => pool.ranges.some((r) => r.family === f)));
    if (homes.size > 1 || lostFamily) continue;
    const after = world.status.get(key) ?? [];
    for (const address of ips) {
      if (!allowedHere(world.pools, facts, address)) continue;
      if (
        facts.familyPolicy === 'RequireDualStack' &&
        !ips.every((a) => allowedHere(world.pools, facts, a))
      ) {
        continue;
      }
      assert.ok(
        after.some((a) => a.family === address.family && a.value === address.value),
        `${key} lost ${formatIp(address)} after ${step.kind}`,
      );
    }
  }
}

describe('allocator property: random creates, updates, deletes, pool edits and restarts', () => {
  it('keeps IPs compatible, inside allowed pools, and sticky', () => {
    fc.assert(
      fc.property(poolConfig, fc.array(op, { minLength: 1, maxLength: 40 }), (pools, ops) => {
        const world: World = { pools, allocator: new Allocator(pools), specs: new Map(), status: new Map() };
        for (const step of ops) {
          const before = new Map([...world.status].filter(([, ips]) => ips.length > 0));
          apply(world, step);
          checkInvariants(world, before, step);
          // Idempotence: reconciling everything again changes nothing.
          const snapshot = JSON.stringify([...world.status].map(([k, v]) => [k, v.map(formatIp)]));
          reconcileAll(world);
          assert.equal(JSON.stringify([...world.status].map(([k, v]) => [k, v.map(formatIp)])), snapshot);
        }
      }),
      { seed: 20261122, numRuns: 400 },
    );
  });
});
