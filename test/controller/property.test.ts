import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PatchStrategy, setHeaderOptions, type V1Service } from '@kubernetes/client-node';
import fc from 'fast-check';
import type { ControllerHandle } from '../../controller/shell/controller.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import { type Bed, createNamespace, createPool, createService, NS, startBed } from './harness.ts';

/**
 * Random short histories of Service creates, updates, deletes, pool edits and controller
 * restarts against the embedded API server and the real controller. After every step the test
 * waits until the controller has seen the step and is idle, then checks through the API alone,
 * with its own pool arithmetic (nothing from the allocator):
 * - no two incompatible Services hold the same IP (sharing only with the same allow-shared-ip
 *   key, disjoint ports);
 * - every held IP lies in a current pool the Service may use, and the pool annotation names it;
 * - a Service that is not of type LoadBalancer holds nothing;
 * - no Service that had an IP lost it while its pool still contains it and the Service, unchanged,
 *   still wants it (sticky IPs, across restarts too) — except where a co-holder of a shared IP
 *   switched to another sharing key while no controller ran (see switchedKey: undecidable);
 * - no LoadBalancer Service waits without an IP while one it may have is free.
 * FC_SEED=<n> replays a seed, FC_RUNS=<n> runs more, FC_SHRINK=1 shrinks a failure (slow: each run
 * is a cluster).
 */

const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const A = 'metalbeacon.io/';
const NAMES = ['s0', 's1', 's2', 's3', 's4', 's5'];

/** Each pool keeps to its own block, so edits never make pools overlap (a config error). */
const POOL_CHOICES: Record<string, string[][]> = {
  a: [
    ['198.51.100.0/31'],
    ['198.51.100.0/30'],
    ['198.51.100.1-198.51.100.3'],
    ['198.51.100.2/31'],
    ['198.51.100.0/32', '198.51.100.7/32'],
  ],
  b: [
    ['198.51.100.16/32', '2001:db8:100::/127'],
    ['198.51.100.16/31', '2001:db8:100::/126'],
    ['198.51.100.17-198.51.100.18', '2001:db8:100::1-2001:db8:100::2'],
    ['198.51.100.16/30'],
  ],
  c: [['198.51.100.32/31'], ['198.51.100.32/32'], ['198.51.100.33/32']],
};
/** Requested IPs: in a, b (both families), the manual pool c, the barrier pool, and in no pool. */
const REQUESTS = [
  '198.51.100.1',
  '198.51.100.3',
  '198.51.100.17',
  '198.51.100.33',
  '2001:db8:100::1',
  '198.51.100.250',
  '192.0.2.100',
];

interface Props {
  family: 'IPv4' | 'IPv6';
  key: string | undefined;
  requested: string | undefined;
  pool: string | undefined;
  port: number;
}

type ServiceOp =
  | { kind: 'create'; svc: number; props: Props }
  | { kind: 'type'; svc: number; loadBalancer: boolean }
  | { kind: 'request'; svc: number; ip: string | undefined }
  | { kind: 'key'; svc: number; key: string | undefined }
  | { kind: 'delete'; svc: number }
  | { kind: 'pool'; pool: string; choice: number };
type Op = ServiceOp | { kind: 'restart'; whileDown: ServiceOp | undefined };

const svcIndex = fc.integer({ min: 0, max: NAMES.length - 1 });
const keyArb = fc.constantFrom(undefined, 'k1', 'k2');
const propsArb = (svc: number) =>
  fc.record({
    family: fc.constantFrom('IPv4' as const, 'IPv4' as const, 'IPv6' as const),
    key: keyArb,
    requested: fc.oneof(
      { weight: 3, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.constantFrom(...REQUESTS) },
    ),
    pool: fc.constantFrom(undefined, undefined, undefined, 'b', 'c'),
    // Port 80 for some: same-key Services on it cannot share.
    port: fc.constantFrom(80, 8000 + svc),
  });
const serviceOp: fc.Arbitrary<ServiceOp> = fc.oneof(
  {
    weight: 4,
    arbitrary: svcIndex.chain((svc) =>
      propsArb(svc).map((props) => ({ kind: 'create' as const, svc, props })),
    ),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('type' as const), svc: svcIndex, loadBalancer: fc.boolean() }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('request' as const),
      svc: svcIndex,
      ip: fc.option(fc.constantFrom(...REQUESTS), { nil: undefined }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('key' as const), svc: svcIndex, key: keyArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), svc: svcIndex }) },
  {
    weight: 3,
    arbitrary: fc
      .constantFrom(...Object.keys(POOL_CHOICES))
      .chain((pool) =>
        fc
          .integer({ min: 0, max: POOL_CHOICES[pool]!.length - 1 })
          .map((choice) => ({ kind: 'pool' as const, pool, choice })),
      ),
  },
);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 9, arbitrary: serviceOp },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('restart' as const),
      whileDown: fc.option(serviceOp, { nil: undefined }),
    }),
  },
);
const scenarioArb = fc.record({
  /** Services that exist before the controller first starts. */
  initial: fc.array(
    svcIndex.chain((svc) => propsArb(svc).map((props) => ({ svc, props }))),
    { minLength: 3, maxLength: 6 },
  ),
  steps: fc.array(opArb, { minLength: 8, maxLength: 12 }),
});

// ---- IP arithmetic of the test's own ------------------------------------------------------------

interface Ip {
  family: 'IPv4' | 'IPv6';
  value: bigint;
}

function parseIp(text: string): Ip | undefined {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(text)) {
    const parts = text.split('.').map(Number);
    if (parts.some((p) => p > 255)) return undefined;
    return { family: 'IPv4', value: parts.reduce((v, p) => (v << 8n) | BigInt(p), 0n) };
  }
  if (!text.includes(':')) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const all = [...head, ...Array<string>(fill).fill('0'), ...tail];
  if (all.length !== 8 || all.some((g) => !/^[0-9a-f]{1,4}$/i.test(g))) return undefined;
  return { family: 'IPv6', value: all.reduce((v, g) => (v << 16n) | BigInt(`0x${g}`), 0n) };
}

interface Range {
  family: 'IPv4' | 'IPv6';
  first: bigint;
  last: bigint;
}

function parseRange(text: string): Range {
  if (text.includes('-')) {
    const [a, b] = text.split('-').map((t) => parseIp(t.trim())!);
    return { family: a!.family, first: a!.value, last: b!.value };
  }
  const [addr, len] = text.split('/');
  const ip = parseIp(addr!)!;
  const bits = ip.family === 'IPv4' ? 32n : 128n;
  const host = bits - BigInt(len!);
  const first = (ip.value >> host) << host;
  return { family: ip.family, first, last: first + (1n << host) - 1n };
}

const sameIp = (a: Ip, b: Ip) => a.family === b.family && a.value === b.value;

// ---- the cluster as the API shows it ------------------------------------------------------------

interface PoolView {
  name: string;
  ranges: Range[];
  autoAssign: boolean;
  namespaces: string[];
}

interface SvcView {
  key: string;
  uid: string;
  namespace: string;
  type: string;
  family: string;
  sharingKey: string | undefined;
  requested: string | undefined;
  poolAnnotation: string | undefined;
  allocatedFrom: string | undefined;
  ports: string[];
  backend: string;
  ips: Ip[];
  /** What the Service asks for; an unchanged wish must keep its IP. */
  wish: string;
}

function viewOf(s: V1Service): SvcView {
  const ann = s.metadata?.annotations ?? {};
  const local = s.spec?.externalTrafficPolicy === 'Local';
  const view = {
    key: `${s.metadata?.namespace}/${s.metadata?.name}`,
    uid: s.metadata?.uid ?? '',
    namespace: s.metadata?.namespace ?? '',
    type: s.spec?.type ?? '',
    family: s.spec?.ipFamilies?.[0] ?? 'IPv4',
    sharingKey: ann[`${A}allow-shared-ip`] || undefined,
    requested: ann[`${A}loadBalancerIPs`] || undefined,
    poolAnnotation: ann[`${A}address-pool`] || undefined,
    allocatedFrom: ann[`${A}ip-allocated-from-pool`],
    ports: (s.spec?.ports ?? []).map((p) => `${p.protocol ?? 'TCP'}/${p.port}`),
    backend: local ? `local:${JSON.stringify(s.spec?.selector ?? {})}` : '',
    ips: (s.status?.loadBalancer?.ingress ?? []).map((i) => parseIp(i.ip ?? '')!),
  };
  const wish = JSON.stringify([
    view.type,
    view.family,
    view.sharingKey,
    view.requested,
    view.poolAnnotation,
    view.ports,
    view.backend,
  ]);
  return { ...view, wish };
}

interface State {
  pools: PoolView[];
  services: SvcView[];
}

async function readState(bed: Bed): Promise<State> {
  const list = (await bed.custom.listNamespacedCustomObject({
    group: 'metalbeacon.io',
    version: 'v1beta1',
    namespace: NS,
    plural: 'ipaddresspools',
  })) as { items: { metadata: { name: string }; spec: Record<string, unknown> }[] };
  const pools = list.items.map((p) => ({
    name: p.metadata.name,
    ranges: (p.spec.addresses as string[]).map(parseRange),
    autoAssign: p.spec.autoAssign !== false,
    namespaces: (
      (p.spec.serviceAllocation as { namespaces?: string[] } | undefined)?.namespaces ?? []
    ).slice(),
  }));
  const services = (await bed.core.listServiceForAllNamespaces()).items.map(viewOf);
  return { pools, services };
}

function poolOf(state: State, ip: Ip): PoolView | undefined {
  return state.pools.find((p) =>
    p.ranges.some((r) => r.family === ip.family && r.first <= ip.value && ip.value <= r.last),
  );
}

function allowsNamespace(pool: PoolView, namespace: string): boolean {
  return pool.namespaces.length === 0 || pool.namespaces.includes(namespace);
}

/**
 * May `s` hold `ip` of `pool` at all (ignoring who else holds it)? `kept`: it held the IP
 * before this step. An autoAssign=false pool gives IPs only to Services naming the pool or
 * requesting the IP; one that then drops the request keeps what it has (sticky, as MetalLB).
 */
function mayUse(s: SvcView, pool: PoolView, ip: Ip, kept = false): boolean {
  if (ip.family !== s.family) return false;
  if (!allowsNamespace(pool, s.namespace)) return false;
  if (s.poolAnnotation !== undefined && s.poolAnnotation !== pool.name) return false;
  if (s.requested !== undefined) {
    const want = parseIp(s.requested);
    return want !== undefined && sameIp(want, ip);
  }
  return pool.autoAssign || s.poolAnnotation === pool.name || kept;
}

/** Could `s` join the Services in `holders` on one IP? */
function compatible(s: SvcView, holders: SvcView[]): boolean {
  return holders.every(
    (h) =>
      h.sharingKey !== undefined &&
      h.sharingKey === s.sharingKey &&
      h.backend === s.backend &&
      !h.ports.some((p) => s.ports.includes(p)),
  );
}

function holdersOf(state: State, ip: Ip, except?: SvcView): SvcView[] {
  return state.services.filter((s) => s !== except && s.ips.some((x) => sameIp(x, ip)));
}

function* poolAddresses(pool: PoolView, family: string): Generator<Ip> {
  for (const r of pool.ranges) {
    if (r.family !== family) continue;
    for (let v = r.first; v <= r.last; v++) yield { family: r.family, value: v };
  }
}

function fmt(ip: Ip): string {
  if (ip.family === 'IPv4') return [24n, 16n, 8n, 0n].map((shift) => (ip.value >> shift) & 255n).join('.');
  return Array.from({ length: 8 }, (_, i) =>
    ((ip.value >> BigInt(112 - 16 * i)) & 0xffffn).toString(16),
  ).join(':');
}

/**
 * The invariants; returns the violations found. `restarted`: the step restarted the controller
 * (and may have changed something while it was down).
 */
function violations(state: State, previous: State | undefined, restarted: boolean): string[] {
  const out: string[] = [];
  // 1. No incompatible sharing.
  const byIp = new Map<string, SvcView[]>();
  for (const s of state.services)
    for (const ip of s.ips) byIp.set(fmt(ip), [...(byIp.get(fmt(ip)) ?? []), s]);
  for (const [ip, holders] of byIp) {
    for (let i = 0; i < holders.length; i++) {
      if (!compatible(holders[i]!, holders.slice(0, i)) && i > 0)
        out.push(`${ip} held by incompatible ${holders.map((h) => h.key).join(', ')}`);
    }
  }
  for (const s of state.services) {
    if (s.namespace === 'barrier') continue;
    // 3. Only LoadBalancer Services hold IPs.
    if (s.type !== 'LoadBalancer') {
      if (s.ips.length > 0) out.push(`${s.key} is ${s.type} but holds ${s.ips.map(fmt)}`);
      if (s.allocatedFrom !== undefined) out.push(`${s.key} is ${s.type} but keeps the pool annotation`);
      continue;
    }
    // 2. Each held IP in a current pool the Service may use, named by the annotation.
    if (s.ips.length > 1) out.push(`${s.key} (single-stack) holds ${s.ips.length} IPs`);
    for (const ip of s.ips) {
      const pool = poolOf(state, ip);
      if (!pool) out.push(`${s.key} holds ${fmt(ip)}, in no current pool`);
      else if (!mayUse(s, pool, ip, heldBefore(previous, s, ip)))
        out.push(`${s.key} holds ${fmt(ip)} of pool ${pool.name}, which it may not use`);
      else if (s.allocatedFrom !== pool.name)
        out.push(`${s.key} holds ${fmt(ip)} of pool ${pool.name} but its annotation says ${s.allocatedFrom}`);
    }
    // 5. Nobody waits while an IP it may have is free (or shareable with it).
    if (s.ips.length === 0) {
      const candidates: Ip[] = [];
      if (s.requested !== undefined) {
        const want = parseIp(s.requested);
        if (want) candidates.push(want);
      } else {
        for (const pool of state.pools) candidates.push(...poolAddresses(pool, s.family));
      }
      for (const ip of candidates) {
        const pool = poolOf(state, ip);
        if (pool && mayUse(s, pool, ip) && compatible(s, holdersOf(state, ip, s))) {
          out.push(`${s.key} has no IP although ${fmt(ip)} of pool ${pool.name} is free for it`);
          break;
        }
      }
    }
  }
  // 4. Sticky: an unchanged Service keeps an IP its pool still contains.
  for (const before of previous?.services ?? []) {
    if (before.namespace === 'barrier' || before.ips.length === 0) continue;
    const now = state.services.find((s) => s.key === before.key && s.uid === before.uid);
    if (!now || now.wish !== before.wish) continue;
    for (const ip of before.ips) {
      const pool = poolOf(state, ip);
      if (!pool || pool.name !== before.allocatedFrom || !mayUse(now, pool, ip, true)) continue;
      // The one case a restarted controller cannot decide: a co-holder switched to another
      // sharing key while no controller ran. Status shows both on the IP, nothing says which
      // one changed, and one of them must go. (A co-holder that dropped its key is decidable.)
      if (restarted && switchedKey(previous!, state, ip, before)) continue;
      if (!now.ips.some((x) => sameIp(x, ip)))
        out.push(`${now.key} lost ${fmt(ip)} though its pool ${pool.name} still has it`);
    }
  }
  return out;
}

function heldBefore(previous: State | undefined, s: SvcView, ip: Ip): boolean {
  const before = previous?.services.find((p) => p.key === s.key && p.uid === s.uid);
  return before?.ips.some((x) => sameIp(x, ip)) ?? false;
}

/** Did another holder of `ip` change from one sharing key to a different one? */
function switchedKey(previous: State, state: State, ip: Ip, except: SvcView): boolean {
  return holdersOf(previous, ip, except).some((o) => {
    const now = state.services.find((s) => s.key === o.key && s.uid === o.uid);
    return now?.sharingKey !== undefined && now.sharingKey !== o.sharingKey;
  });
}

// ---- driving the cluster ------------------------------------------------------------------------

interface World {
  bed: Bed;
  controller: ControllerHandle | undefined;
  barrierFlip: number;
}

async function exists(bed: Bed, name: string): Promise<boolean> {
  try {
    await bed.core.readNamespacedService({ name, namespace: 'default' });
    return true;
  } catch {
    return false;
  }
}

async function create(bed: Bed, svc: number, props: Props): Promise<void> {
  const name = NAMES[svc]!;
  const annotations: Record<string, string> = {};
  if (props.key) annotations[`${A}allow-shared-ip`] = props.key;
  if (props.requested) annotations[`${A}loadBalancerIPs`] = props.requested;
  if (props.pool) annotations[`${A}address-pool`] = props.pool;
  await createService(bed, name, {
    annotations,
    ports: [{ port: props.port }],
    spec: { ipFamilies: [props.family], ipFamilyPolicy: 'SingleStack' },
  });
}

async function patchService(bed: Bed, svc: number, body: object): Promise<void> {
  await bed.core.patchNamespacedService({ name: NAMES[svc]!, namespace: 'default', body }, MERGE);
}

/** Applies one operation through the API; an operation on a missing (or existing, for create) Service is skipped. */
async function apply(world: World, op: ServiceOp): Promise<void> {
  const { bed } = world;
  if (op.kind === 'pool') {
    await bed.custom.patchNamespacedCustomObject(
      {
        group: 'metalbeacon.io',
        version: 'v1beta1',
        namespace: NS,
        plural: 'ipaddresspools',
        name: op.pool,
        body: { spec: { addresses: POOL_CHOICES[op.pool]![op.choice] } },
      },
      MERGE,
    );
    return;
  }
  const present = await exists(bed, NAMES[op.svc]!);
  if (op.kind === 'create') {
    if (!present) await create(bed, op.svc, op.props);
    return;
  }
  if (!present) return;
  const annotation = (name: string, value: string | undefined) => ({
    metadata: { annotations: { [`${A}${name}`]: value ?? null } },
  });
  if (op.kind === 'delete')
    await bed.core.deleteNamespacedService({ name: NAMES[op.svc]!, namespace: 'default' });
  else if (op.kind === 'request') await patchService(bed, op.svc, annotation('loadBalancerIPs', op.ip));
  else if (op.kind === 'key') await patchService(bed, op.svc, annotation('allow-shared-ip', op.key));
  else {
    const current = await bed.core.readNamespacedService({ name: NAMES[op.svc]!, namespace: 'default' });
    const ports = (current.spec?.ports ?? []).map((p) => ({ port: p.port, protocol: p.protocol }));
    await patchService(bed, op.svc, {
      spec: { type: op.loadBalancer ? 'LoadBalancer' : 'ClusterIP', ports },
    });
  }
}

/**
 * Waits until the controller has seen everything done so far and is idle. Services: a barrier
 * Service on the same watch stream changes its requested IP, and once that shows in its status,
 * every earlier Service event was queued. Pools: each pool's status.observedGeneration has caught
 * up with its generation, which the controller writes after it re-queued everything for it.
 */
async function settle(world: World): Promise<void> {
  const { bed } = world;
  const ip = `198.51.100.${250 + (world.barrierFlip++ % 2)}`;
  await bed.core.patchNamespacedService(
    {
      name: 'barrier',
      namespace: 'barrier',
      body: { metadata: { annotations: { [`${A}loadBalancerIPs`]: ip } } },
    },
    MERGE,
  );
  await waitFor(`barrier Service at ${ip}`, async () => {
    const s = await bed.core.readNamespacedService({ name: 'barrier', namespace: 'barrier' });
    return s.status?.loadBalancer?.ingress?.[0]?.ip === ip;
  });
  await waitFor('pool status caught up with every pool edit', async () => {
    const list = (await bed.custom.listNamespacedCustomObject({
      group: 'metalbeacon.io',
      version: 'v1beta1',
      namespace: NS,
      plural: 'ipaddresspools',
    })) as { items: { metadata: { generation: number }; status?: { observedGeneration?: number } }[] };
    return list.items.every((p) => p.status?.observedGeneration === p.metadata.generation);
  });
  // A controller that keeps rewriting (churning) never gets idle: fail instead of hanging.
  let timer: NodeJS.Timeout | undefined;
  const never = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error('the controller did not become idle (does it keep rewriting?)')),
      30_000,
    );
  });
  try {
    await Promise.race([world.controller!.idle(), never]);
  } finally {
    clearTimeout(timer);
  }
}

async function startWorld(initial: { svc: number; props: Props }[]): Promise<World> {
  const bed = await startBed({ dualStack: true });
  // Small pools, so that Services wait for IPs and edits move them.
  await createPool(bed, 'a', { addresses: POOL_CHOICES.a![0] });
  await createPool(bed, 'b', { addresses: POOL_CHOICES.b![0] });
  await createPool(bed, 'c', { addresses: POOL_CHOICES.c![0], autoAssign: false });
  await createPool(bed, 'barrier', {
    addresses: ['198.51.100.250-198.51.100.251'],
    autoAssign: false,
    serviceAllocation: { namespaces: ['barrier'] },
  });
  await createNamespace(bed, 'barrier');
  await createService(bed, 'barrier', {
    namespace: 'barrier',
    annotations: { [`${A}address-pool`]: 'barrier' },
  });
  for (const { svc, props } of initial) if (!(await exists(bed, NAMES[svc]!))) await create(bed, svc, props);
  const world: World = { bed, controller: undefined, barrierFlip: 0 };
  world.controller = await bed.startController({ leaderElect: false });
  return world;
}

describe('controller property: random histories keep the allocation invariants', () => {
  it('no incompatible sharing, IPs only from allowed current pools, sticky IPs, no needless waiting', async () => {
    const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined;
    await fc.assert(
      fc.asyncProperty(scenarioArb, async ({ initial, steps }) => {
        const world = await startWorld(initial);
        try {
          await settle(world);
          let previous: State | undefined;
          let state = await readState(world.bed);
          const check = (label: string, restarted = false) => {
            const found = violations(state, previous, restarted);
            assert.deepEqual(
              found,
              [],
              `after ${label}:\n${found.join('\n')}\nstate: ${describeState(state)}`,
            );
          };
          check('the first start');
          for (const [i, op] of steps.entries()) {
            if (op.kind === 'restart') {
              await world.controller!.stop();
              if (op.whileDown) await apply(world, op.whileDown);
              world.controller = await world.bed.startController({ leaderElect: false });
            } else {
              await apply(world, op);
            }
            await settle(world);
            previous = state;
            state = await readState(world.bed);
            check(`step ${i}: ${JSON.stringify(op)}`, op.kind === 'restart');
          }
        } finally {
          await world.bed.close();
        }
      }),
      {
        numRuns: process.env.FC_RUNS ? Number(process.env.FC_RUNS) : 12,
        ...(seed !== undefined ? { seed } : {}),
        endOnFailure: process.env.FC_SHRINK !== '1',
      },
    );
  });
});

function describeState(state: State): string {
  const pools = state.pools.map(
    (p) =>
      `${p.name}[${p.ranges.map((r) => `${fmt({ family: r.family, value: r.first })}-${fmt({ family: r.family, value: r.last })}`).join(' ')}]`,
  );
  const services = state.services.map(
    (s) =>
      `${s.key} ${s.type} ${s.family} key=${s.sharingKey} req=${s.requested} pool=${s.poolAnnotation} from=${s.allocatedFrom} ports=${s.ports} ips=${s.ips.map(fmt)}`,
  );
  return [...pools, ...services].join('\n  ');
}
