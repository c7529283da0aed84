import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualTimers } from '../../shared/daemon/manual-timers.ts';
import { withdrawnPlan } from '../announce/applied-plan.ts';
import type { NodePlan, PlanInput } from '../announce/types.ts';
import { SpeakerMetrics } from './metrics.ts';
import { PlanLoop } from './plan-loop.ts';
import { capturedLog, l2At, peerPlan, planOf, route } from './test-helpers.ts';

const plan = planOf(
  [l2At('198.51.100.1', ['default/web'])],
  [peerPlan('r1', [route('198.51.100.2/32', ['default/api'])])],
);
const input = { nodeName: 'node-a', aliveNodes: new Set(['node-a', 'node-b']) } as unknown as PlanInput;

/**
 * A plan loop over parts that record what reaches them. `world` is what the test changes: the
 * input (undefined: no valid configuration), membership, the guard's verdict, what L2 and BGP refuse.
 */
function planLoop() {
  const timers = new ManualTimers();
  const metrics = new SpeakerMetrics();
  const { log, messages } = capturedLog();
  const world = {
    input: input as PlanInput | undefined,
    planned: plan,
    plannerError: undefined as Error | undefined,
    settled: true,
    alive: ['node-a', 'node-b'],
    /** The guard's check comes back with the alive set changed to this (the API probe took a while). */
    aliveAfterCheck: undefined as string[] | undefined,
    rejoined: false,
    isolated: false,
    stopping: false,
    refuseL2: new Map<string, string>(),
    refuseBgp: new Map<string, string>(),
    plans: 0,
    applied: [] as string[],
    failed: [] as string[][],
    assigned: [] as NodePlan[],
    statusWrites: 0,
    /** What L2 answers for after each apply: the plan's IPs it did not refuse. */
    announced: [] as string[],
    holdingsSet: [] as (readonly string[])[],
  };
  const loop = new PlanLoop({
    nodeName: 'node-a',
    log,
    metrics,
    timers,
    debounceMs: 100,
    planner: () => {
      world.plans++;
      if (world.plannerError) throw world.plannerError;
      return world.planned;
    },
    // As the speaker's: the alive set membership has now.
    input: () => world.input && ({ ...world.input, aliveNodes: new Set(world.alive) } as PlanInput),
    membership: {
      get settled() {
        return world.settled;
      },
      alive: () => world.alive,
      setHoldings: (holdings) => world.holdingsSet.push(holdings),
      takeRejoin: () => {
        const back = world.rejoined;
        world.rejoined = false;
        return back;
      },
    },
    guard: {
      check: async (p) => {
        if (world.aliveAfterCheck) world.alive = world.aliveAfterCheck;
        return world.isolated ? withdrawnPlan(p) : p;
      },
      get isolated() {
        return world.isolated;
      },
    },
    l2: {
      apply: async (p, superseded) => {
        if (superseded()) return undefined;
        world.applied.push(`l2 ${p.l2.map((a) => a.ip).join(',')}`);
        world.announced = p.l2.map((a) => a.ip).filter((ip) => !world.refuseL2.has(ip));
        return new Map(world.refuseL2);
      },
      reassert: async () => void world.applied.push('l2 reassert'),
      announced: () => world.announced,
    },
    bgp: {
      apply: async (peers) => {
        world.applied.push(`bgp ${peers.map((p) => `${p.peer.name}:${p.routes.length}`).join(',')}`);
        return new Map(world.refuseBgp);
      },
    },
    events: {
      failed: (failures) => world.failed.push(failures.map((f) => `${f.service} ${f.topic}`)),
      assigned: (p) => world.assigned.push(p),
    },
    onApplied: () => world.statusWrites++,
    stopping: () => world.stopping,
  });
  return { loop, timers, world, metrics, messages };
}

describe('PlanLoop', () => {
  it('tells membership the L2 IPs announced after each plan, in address order, without the refused ones', async () => {
    const { loop, timers, world } = planLoop();
    world.planned = planOf([
      l2At('2001:db8::1', ['default/v6']),
      l2At('198.51.100.9', ['default/b']),
      l2At('198.51.100.10', ['default/c']),
    ]);
    world.refuseL2.set('198.51.100.9', 'no interface');
    loop.schedule(0);
    await timers.advance(0);
    assert.deepEqual(world.holdingsSet, [['198.51.100.10', '2001:db8::1']]);
    world.refuseL2.clear();
    world.planned = planOf([]);
    loop.schedule(0);
    await timers.advance(0);
    assert.deepEqual(world.holdingsSet.at(-1), []);
    await loop.stop();
  });

  it('applies L2 then BGP, posts events and asks for status; ready after the first plan', async () => {
    const { loop, timers, world, messages, metrics } = planLoop();
    loop.schedule(0);
    await timers.advance(0);
    assert.deepEqual(world.applied, ['l2 198.51.100.1', 'bgp r1:1']);
    assert.deepEqual(world.failed, [[]]);
    assert.deepEqual(world.assigned, [plan]);
    assert.equal(world.statusWrites, 1);
    assert.equal(loop.ready, true);
    assert.equal(loop.lastPlan, plan);
    assert.equal(messages().filter((m) => m === 'speaker ready').length, 1);
    assert.deepEqual(
      (await metrics.announcedIps.get()).values.map((v) => [v.labels.protocol, v.value]),
      [
        ['layer2', 1],
        ['bgp', 1],
      ],
    );
    await loop.stop();
  });

  it('API changes wait for the debounce and merge into one plan', async () => {
    const { loop, timers, world } = planLoop();
    loop.schedule();
    await timers.advance(50);
    loop.schedule();
    await timers.advance(49);
    assert.equal(world.plans, 0);
    await timers.advance(1);
    assert.equal(world.plans, 1);
    await loop.stop();
  });

  it('waits for membership to settle and for a valid configuration', async () => {
    const { loop, timers, world, messages } = planLoop();
    world.settled = false;
    loop.schedule(0);
    await timers.advance(0);
    world.settled = true;
    world.input = undefined;
    loop.schedule(0);
    await timers.advance(0);
    assert.equal(world.plans, 0);
    assert.equal(loop.ready, false);
    assert.ok(messages().includes('waiting for a valid configuration'));
    await loop.stop();
  });

  it('what failed is left out of lastPlan and the events, reported as announceFailed, and retried in 5 s', async () => {
    const { loop, timers, world } = planLoop();
    world.refuseL2.set('198.51.100.1', 'EPERM');
    world.refuseBgp.set('r1', 'no router ID');
    loop.schedule(0);
    await timers.advance(0);
    assert.deepEqual(world.failed, [['default/api bgp r1', 'default/web layer2 198.51.100.1']]);
    assert.deepEqual(loop.lastPlan, { l2: [], peers: [], skipped: [] });
    assert.deepEqual(world.assigned, [loop.lastPlan]);
    world.refuseL2.clear();
    world.refuseBgp.clear();
    await timers.advance(4999);
    assert.equal(world.plans, 1);
    await timers.advance(1);
    assert.equal(world.plans, 2);
    assert.equal(loop.lastPlan, plan);
    await loop.stop();
  });

  it('isolated: applies the withdrawn plan, posts no nodeAssigned, and keeps a rejoin for later', async () => {
    const { loop, timers, world } = planLoop();
    world.isolated = true;
    world.rejoined = true;
    loop.schedule(0);
    await timers.advance(0);
    assert.deepEqual(world.applied, ['l2 ', 'bgp r1:0']);
    assert.deepEqual(world.assigned, []);
    world.isolated = false;
    loop.schedule(0);
    await timers.advance(0);
    assert.deepEqual(world.applied.slice(2), ['l2 198.51.100.1', 'l2 reassert', 'bgp r1:1']);
    assert.deepEqual(world.assigned, [plan]);
    await loop.stop();
  });

  it('a planner that throws keeps the current announcements', async () => {
    const { loop, timers, world, messages } = planLoop();
    world.plannerError = new Error('pool web: 198.51.100.0/24 overlaps pool api');
    loop.schedule(0);
    await timers.advance(0);
    assert.equal(world.plans, 1);
    assert.deepEqual(world.applied, []);
    assert.equal(loop.ready, false);
    assert.ok(messages().includes('the planner refused the input; keeping the current announcements'));
    await loop.stop();
  });

  it('stopping: nothing is applied, and after stop() nothing runs', async () => {
    const { loop, timers, world } = planLoop();
    world.stopping = true;
    loop.schedule(0);
    await timers.advance(0);
    world.stopping = false;
    await loop.stop();
    loop.schedule(0);
    await timers.advance(1000);
    assert.equal(world.plans, 0);
    assert.equal(loop.busy, false);
  });

  it('the alive set changed while the guard asked the API server: nothing announced, the next plan at once', async () => {
    const { loop, timers, world, messages } = planLoop();
    world.alive = ['node-a'];
    world.aliveAfterCheck = ['node-a', 'node-b'];
    loop.schedule(0);
    await timers.advance(0);
    // The first plan (node-b dead) announced nothing; the second, from both alive, all of it.
    assert.ok(messages().includes('the alive speakers changed while planning; planning again'));
    assert.equal(world.plans, 2);
    assert.deepEqual(world.applied, ['l2 198.51.100.1', 'bgp r1:1']);
    await loop.stop();
  });
});
