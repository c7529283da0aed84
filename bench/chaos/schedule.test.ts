import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildPlan,
  CHURN_POOL,
  describePlan,
  FAULT_KINDS,
  LAB_POOLS,
  QUIET_MS,
  RESTARTING_KINDS,
  SOAK_QUIET_MS,
} from './schedule.ts';

const NODES = ['node-1', 'node-2', 'node-3'];

describe('chaos plan', () => {
  it('is the same for the same seed and differs for another', () => {
    const a = buildPlan({ seed: 7, durationMs: 600_000, nodes: NODES });
    const b = buildPlan({ seed: 7, durationMs: 600_000, nodes: NODES });
    const c = buildPlan({ seed: 8, durationMs: 600_000, nodes: NODES });
    assert.deepEqual(describePlan(a), describePlan(b));
    assert.notDeepEqual(describePlan(a), describePlan(c));
  });

  it('meets every fault kind in each round, so a 3-minute run covers them all', () => {
    const plan = buildPlan({ seed: 1, durationMs: 180_000, nodes: NODES });
    const firstRound = plan.faults.slice(0, FAULT_KINDS.length).map((f) => f.kind);
    assert.deepEqual([...firstRound].sort(), [...FAULT_KINDS].sort());
    for (const seed of [2, 3, 4, 5]) {
      const kinds = new Set(buildPlan({ seed, durationMs: 180_000, nodes: NODES }).faults.map((f) => f.kind));
      assert.equal(kinds.size, FAULT_KINDS.length, `seed ${seed}: ${[...kinds].join(', ')}`);
    }
  });

  it('fits the planned time into the run: hold + overhead + settle + quiet of all but the last fault end before it', () => {
    for (const minutes of [1, 3, 30]) {
      const durationMs = minutes * 60_000;
      const plan = buildPlan({ seed: 11, durationMs, nodes: NODES, overheadMs: 3_000 });
      const planned = plan.faults
        .slice(0, -1)
        .reduce((sum, f) => sum + f.holdMs + 3_000 + f.settleMs + f.quietMs, 0);
      assert.ok(planned < durationMs, `${minutes} min: ${planned} ms planned`);
      assert.ok(plan.faults.length >= minutes * 2, `${minutes} min: only ${plan.faults.length} faults`);
    }
  });

  it('targets a node only for node faults, and only lab nodes', () => {
    const plan = buildPlan({ seed: 3, durationMs: 1_800_000, nodes: NODES });
    for (const f of plan.faults) {
      const nodeFault = [
        'speaker-sigkill',
        'speaker-restart',
        'cable-cut',
        'link-flap',
        'cpu-saturate',
        'membership-block',
      ].includes(f.kind);
      assert.equal(f.target.role !== 'none', nodeFault, JSON.stringify(f));
      // A membership block names its second node among the two others; no other fault has one.
      assert.equal(f.peer !== undefined, f.kind === 'membership-block', JSON.stringify(f));
      if (f.peer !== undefined) assert.ok(f.peer === 0 || f.peer === 1, JSON.stringify(f));
      if (f.target.role === 'node') assert.ok(NODES.includes(f.target.node));
      assert.ok(f.holdMs >= 0 && f.settleMs > 0 && f.quietMs > 0);
    }
    assert.ok(plan.faults.some((f) => f.target.role === 'l2-owner'));
    assert.ok(plan.faults.some((f) => f.target.role === 'node'));
  });

  it('draws only the kinds asked for, and refuses an unknown or empty list', () => {
    const plan = buildPlan({
      seed: 1,
      durationMs: 300_000,
      nodes: NODES,
      kinds: ['watch-cut', 'bird-restart'],
    });
    assert.deepEqual([...new Set(plan.faults.map((f) => f.kind))].sort(), ['bird-restart', 'watch-cut']);
    assert.throws(
      () => buildPlan({ seed: 1, durationMs: 1, nodes: NODES, kinds: ['nope' as never] }),
      /unknown fault kind "nope"/,
    );
    assert.throws(() => buildPlan({ seed: 1, durationMs: 1, nodes: NODES, kinds: [] }), /no fault kind/);
    assert.throws(() => buildPlan({ seed: 1, durationMs: 0, nodes: NODES }), /not positive/);
  });

  it('makes only changes a user could make: existing Services and pools, at most the maximum at once', () => {
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const plan = buildPlan({ seed, durationMs: 1_800_000, nodes: NODES, maxChurnServices: 3 });
      const services = new Set<string>();
      let pool = false;
      let last = 0;
      for (const { atMs, action } of plan.churn) {
        assert.ok(atMs > last && atMs < 1_800_000);
        last = atMs;
        const poolOk = (p: string) =>
          (LAB_POOLS as readonly string[]).includes(p) || (p === CHURN_POOL && pool);
        switch (action.op) {
          case 'create-service':
            assert.ok(!services.has(action.name) && poolOk(action.pool), JSON.stringify(action));
            services.add(action.name);
            break;
          case 'change-service':
            assert.ok(services.has(action.name) && poolOk(action.pool), JSON.stringify(action));
            break;
          case 'delete-service':
            assert.ok(services.delete(action.name), JSON.stringify(action));
            break;
          case 'create-pool':
            assert.ok(!pool);
            pool = true;
            break;
          default:
            assert.ok(pool, JSON.stringify(action));
            if (action.op === 'delete-pool') pool = false;
        }
        assert.ok(services.size <= 3);
      }
      const ops = new Set(plan.churn.map((c) => c.action.op));
      assert.equal(ops.size, 6, `seed ${seed}: ${[...ops].join(', ')}`);
    }
  });

  it('plans a membership-port block with a seeded second node, printed by --plan', () => {
    const plan = buildPlan({ seed: 5, durationMs: 1_800_000, nodes: NODES, kinds: ['membership-block'] });
    assert.ok(plan.faults.length > 10);
    assert.deepEqual(new Set(plan.faults.map((f) => f.peer)), new Set([0, 1]));
    for (const f of plan.faults) assert.ok(f.holdMs >= 5_000 && f.holdMs <= 9_000, JSON.stringify(f));
    const lines = describePlan(plan);
    assert.match(
      lines[0] ?? '',
      /^fault 0: membership-block on (the L2 owner|node-\d) and other node [12] \(by name\), hold \d+ ms/,
    );
  });

  it('a soak plan is gentle: long quiet windows, a restarting fault only in every second round', () => {
    const durationMs = 3_600_000;
    const soak = buildPlan({ seed: 9, durationMs, nodes: NODES, soak: true });
    const normal = buildPlan({ seed: 9, durationMs, nodes: NODES });
    assert.ok(soak.faults.every((f) => f.quietMs === SOAK_QUIET_MS));
    assert.ok(normal.faults.every((f) => f.quietMs === QUIET_MS));
    // About a fault every two minutes, against one every ~20 s.
    assert.ok(soak.faults.length >= 25 && soak.faults.length <= 40, `${soak.faults.length} faults`);
    assert.ok(normal.faults.length > 3 * soak.faults.length);
    const gentle = FAULT_KINDS.filter((k) => !RESTARTING_KINDS.has(k));
    const restarts = soak.faults.filter((f) => RESTARTING_KINDS.has(f.kind));
    // Rounds: the gentle kinds, plus one restarting kind in the odd rounds.
    const first = soak.faults.slice(0, gentle.length).map((f) => f.kind);
    assert.deepEqual([...first].sort(), [...gentle].sort(), 'round 0 restarts nothing');
    const second = soak.faults.slice(gentle.length, 2 * gentle.length + 1).map((f) => f.kind);
    assert.equal(second.filter((k) => RESTARTING_KINDS.has(k)).length, 1, second.join(', '));
    assert.ok(
      restarts.length >= 2 && restarts.length <= soak.faults.length / gentle.length,
      `${restarts.length}`,
    );
    // The restarting kinds take turns.
    assert.equal(new Set(restarts.slice(0, 2).map((f) => f.kind)).size, 2);
    // Only restarting kinds enabled: one per round, so the soak still has faults.
    const only = buildPlan({
      seed: 9,
      durationMs: 600_000,
      nodes: NODES,
      soak: true,
      kinds: ['bird-restart'],
    });
    assert.ok(only.faults.length >= 4 && only.faults.every((f) => f.kind === 'bird-restart'));
    assert.deepEqual(
      describePlan(soak),
      describePlan(buildPlan({ seed: 9, durationMs, nodes: NODES, soak: true })),
    );
  });
});
