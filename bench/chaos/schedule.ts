/**
 * The chaos run's plan, from a seed: the faults, one at a time with a settle time between, and
 * the user's changes to Services and pools that go on meanwhile. Pure: the same seed, length and
 * nodes give the same plan (the runner prints the seed; `--seed S` repeats a run).
 *
 * Faults come in rounds: each round is every enabled kind once, in a seeded order, so even a
 * short run meets every kind (a 3-minute run in the suite covers each zero-loss class). Targets
 * are roles resolved when the fault starts ("the node serving the L2 VIP"), because which node
 * owns a VIP is the system's decision, not the plan's.
 *
 * A soak plan (`soak: true`) is gentle: a long quiet window after each fault, and the faults that
 * restart a process the soak samples ({@link RESTARTING_KINDS}) only one per second round, so
 * the processes' memory and descriptor series run long (soak.ts).
 */
import { Random } from '../bgp-fuzz/random.ts';

/** The faults of issue 18 item 1. */
export const FAULT_KINDS = [
  'speaker-sigkill',
  'speaker-restart',
  'cable-cut',
  'link-flap',
  'controller-kill',
  'apiserver-restart',
  'watch-cut',
  'bird-restart',
  'cpu-saturate',
  'membership-block',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Kinds that end a process the soak samples (it comes back with another PID). */
export const RESTARTING_KINDS: ReadonlySet<FaultKind> = new Set([
  'speaker-sigkill',
  'speaker-restart',
  'controller-kill',
  'bird-restart',
]);

/** Who a fault hits: the node serving the L2 IPv4 VIP at that moment, or a named node. */
export type FaultTarget = { role: 'l2-owner' } | { role: 'node'; node: string } | { role: 'none' };

/** One fault of the plan. */
export interface FaultStep {
  /** Position in the plan, from 0. */
  readonly index: number;
  readonly kind: FaultKind;
  readonly target: FaultTarget;
  /** How long the fault lasts before it is undone (cable restored, process restarted, ...). */
  readonly holdMs: number;
  /** Time after the fault is undone for the system to converge (the settle time). */
  readonly settleMs: number;
  /** Then a quiet window in which the settled invariants are checked, before the next fault. */
  readonly quietMs: number;
  /**
   * membership-block only: which of the other nodes (sorted by name, this index modulo their
   * number) the target stops hearing on the membership port, and it the target.
   */
  readonly peer?: number;
}

/** The user's changes made while faults run (on their own Services and pool, never the probed ones). */
export type ChurnAction =
  | { readonly op: 'create-service'; readonly name: string; readonly pool: string }
  | { readonly op: 'change-service'; readonly name: string; readonly pool: string }
  | { readonly op: 'delete-service'; readonly name: string }
  | { readonly op: 'create-pool' }
  | { readonly op: 'change-pool'; readonly variant: number }
  | { readonly op: 'delete-pool' };

/** A user's change and when it is due, ms after the start of the run. */
export interface ChurnStep {
  readonly atMs: number;
  readonly action: ChurnAction;
}

/** The pool the churn creates, changes and deletes (L2, in a range no lab pool uses). */
export const CHURN_POOL = 'chaos-pool';
/** Pools a churn Service may be put in (the lab's, plus {@link CHURN_POOL} while it exists). */
export const LAB_POOLS = ['lab-l2', 'lab-dual', 'lab-bgp'] as const;

/** Options of {@link buildPlan}. */
export interface PlanOptions {
  readonly seed: number;
  /** Length of the run (ms); faults and changes are planned to fit in it. */
  readonly durationMs: number;
  /** Node names of the lab. */
  readonly nodes: readonly string[];
  /** Kinds to draw from; default all of {@link FAULT_KINDS}. */
  readonly kinds?: readonly FaultKind[];
  /** Planned time a fault takes beyond its hold (process start-up, waits), for fitting the run. */
  readonly overheadMs?: number;
  /** At most this many churn Services at once. */
  readonly maxChurnServices?: number;
  /** A soak's gentle plan (see the module comment). */
  readonly soak?: boolean;
}

/** The whole plan. */
export interface Plan {
  readonly seed: number;
  readonly faults: readonly FaultStep[];
  readonly churn: readonly ChurnStep[];
}

/** Hold-time ranges per kind (ms): long enough to matter, short enough for many faults per run. */
const HOLD_MS: Record<FaultKind, readonly [number, number]> = {
  'speaker-sigkill': [1_000, 3_000],
  'speaker-restart': [0, 0],
  'cable-cut': [2_000, 5_000],
  'link-flap': [200, 1_500],
  'controller-kill': [1_000, 3_000],
  'apiserver-restart': [200, 2_000],
  'watch-cut': [0, 0],
  'bird-restart': [0, 500],
  'cpu-saturate': [3_000, 8_000],
  // Long enough for observation rounds (each ~2 s of arping/ndisc6) wholly past the bound.
  'membership-block': [5_000, 9_000],
};

/**
 * Settle times per kind (ms): what the system needs to be steady again after the fault is
 * undone: a cut or killed node rejoins membership and its BGP session comes back.
 */
const SETTLE_MS: Record<FaultKind, number> = {
  'speaker-sigkill': 8_000,
  'speaker-restart': 6_000,
  'cable-cut': 10_000,
  'link-flap': 8_000,
  'controller-kill': 5_000,
  'apiserver-restart': 5_000,
  'watch-cut': 4_000,
  'bird-restart': 10_000,
  'cpu-saturate': 6_000,
  'membership-block': 5_000,
};

/** The quiet window after each settle time: room for at least two observation rounds. */
export const QUIET_MS = 5_000;
/** A soak's quiet window: a fault every two minutes or so. */
export const SOAK_QUIET_MS = 90_000;

/** Kinds that hit one node (the others hit the control plane or the router). */
const NODE_KINDS: ReadonlySet<FaultKind> = new Set([
  'speaker-sigkill',
  'speaker-restart',
  'cable-cut',
  'link-flap',
  'cpu-saturate',
  'membership-block',
]);

/** A seeded shuffle (Fisher-Yates). */
function shuffle<T>(items: readonly T[], random: Random): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = random.int(0, i);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/**
 * The plan of a run: fault rounds until the planned time (hold + overhead + settle + quiet per fault)
 * reaches `durationMs`, and a user's change every 4-12 s. Faults and changes draw from separate
 * streams of the seed, so enabling a kind does not move the changes.
 */
export function buildPlan(options: PlanOptions): Plan {
  const kinds = options.kinds ?? FAULT_KINDS;
  for (const kind of kinds) {
    if (!FAULT_KINDS.includes(kind)) throw new Error(`chaos plan: unknown fault kind "${kind}"`);
  }
  if (kinds.length === 0) throw new Error('chaos plan: no fault kind enabled');
  if (options.nodes.length === 0) throw new Error('chaos plan: no nodes');
  if (!(options.durationMs > 0))
    throw new Error(`chaos plan: duration ${options.durationMs} ms is not positive`);
  const faultRandom = Random.stream(options.seed, 0);
  const overheadMs = options.overheadMs ?? 3_000;
  const quietMs = options.soak ? SOAK_QUIET_MS : QUIET_MS;
  const round = roundsOf(kinds, options.soak === true, faultRandom);
  const faults: FaultStep[] = [];
  let plannedMs = 0;
  while (plannedMs < options.durationMs) {
    for (const kind of round()) {
      if (plannedMs >= options.durationMs) break;
      const [lo, hi] = HOLD_MS[kind];
      const holdMs = faultRandom.int(lo, hi);
      const target: FaultTarget = !NODE_KINDS.has(kind)
        ? { role: 'none' }
        : faultRandom.chance(0.6)
          ? { role: 'l2-owner' }
          : { role: 'node', node: faultRandom.pick(options.nodes) };
      const peer =
        kind === 'membership-block' ? faultRandom.int(0, Math.max(0, options.nodes.length - 2)) : undefined;
      const settleMs = SETTLE_MS[kind];
      faults.push({
        index: faults.length,
        kind,
        target,
        holdMs,
        settleMs,
        quietMs,
        ...(peer === undefined ? {} : { peer }),
      });
      plannedMs += holdMs + overheadMs + settleMs + quietMs;
    }
  }
  return { seed: options.seed, faults, churn: buildChurn(options) };
}

/**
 * The kinds of each round, one round per call. A normal round is every kind once, in a seeded
 * order. A soak round is every kind that restarts no sampled process, plus, in every second
 * round (or every round when only restarting kinds are enabled), the next restarting kind in a
 * seeded rotation, at a seeded place.
 */
function roundsOf(kinds: readonly FaultKind[], soak: boolean, random: Random): () => FaultKind[] {
  if (!soak) return () => shuffle(kinds, random);
  const gentle = kinds.filter((k) => !RESTARTING_KINDS.has(k));
  const restarting = shuffle(
    kinds.filter((k) => RESTARTING_KINDS.has(k)),
    random,
  );
  let rounds = 0;
  return () => {
    const out = shuffle(gentle, random);
    const n = rounds++;
    if (restarting.length > 0 && (gentle.length === 0 || n % 2 === 1)) {
      const kind = restarting[Math.floor(n / (gentle.length === 0 ? 1 : 2)) % restarting.length] as FaultKind;
      out.splice(random.int(0, out.length), 0, kind);
    }
    return out;
  };
}

/**
 * The user's changes: create, change (move to another pool: a user's change of the IP) and
 * delete churn Services, and create, change (another range: every IP in it moves) and delete
 * {@link CHURN_POOL}. Tracks what exists, so every change is one a user could make.
 */
function buildChurn(options: PlanOptions): ChurnStep[] {
  const random = Random.stream(options.seed, 1);
  const max = options.maxChurnServices ?? 4;
  const services: string[] = [];
  let nextName = 0;
  let poolExists = false;
  let poolVariant = 0;
  const steps: ChurnStep[] = [];
  const pools = (): string[] => (poolExists ? [...LAB_POOLS, CHURN_POOL] : [...LAB_POOLS]);
  for (let at = random.int(4_000, 12_000); at < options.durationMs; at += random.int(4_000, 12_000)) {
    const choices: (readonly [number, () => ChurnAction])[] = [];
    if (services.length < max) {
      choices.push([
        3,
        () => ({ op: 'create-service', name: `churn-${nextName++}`, pool: random.pick(pools()) }),
      ]);
    }
    if (services.length > 0) {
      choices.push([
        2,
        () => ({ op: 'change-service', name: random.pick(services), pool: random.pick(pools()) }),
      ]);
      choices.push([2, () => ({ op: 'delete-service', name: random.pick(services) })]);
    }
    if (!poolExists) choices.push([1, () => ({ op: 'create-pool' })]);
    else {
      choices.push([1, () => ({ op: 'change-pool', variant: (poolVariant + 1) % 2 })]);
      choices.push([1, () => ({ op: 'delete-pool' })]);
    }
    const action = random.weighted(choices)();
    if (action.op === 'create-service') services.push(action.name);
    if (action.op === 'delete-service') services.splice(services.indexOf(action.name), 1);
    if (action.op === 'create-pool') poolExists = true;
    if (action.op === 'delete-pool') poolExists = false;
    if (action.op === 'change-pool') poolVariant = action.variant;
    steps.push({ atMs: at, action });
  }
  return steps;
}

/** One line per step, for the report and for comparing two runs of a seed. */
export function describePlan(plan: Plan): string[] {
  const target = (t: FaultTarget): string =>
    t.role === 'none' ? '' : t.role === 'l2-owner' ? ' on the L2 owner' : ` on ${t.node}`;
  const peer = (f: FaultStep): string =>
    f.peer === undefined ? '' : ` and other node ${f.peer + 1} (by name)`;
  return [
    ...plan.faults.map(
      (f) =>
        `fault ${f.index}: ${f.kind}${target(f.target)}${peer(f)}, hold ${f.holdMs} ms, settle ${f.settleMs} ms, quiet ${f.quietMs} ms`,
    ),
    ...plan.churn.map((c) => `change at ${(c.atMs / 1000).toFixed(1)} s: ${JSON.stringify(c.action)}`),
  ];
}
