import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualTimers } from '../../shared/daemon/manual-timers.ts';
import type { Logger } from '../../shared/log/logger.ts';
import type { NodePlan } from '../announce/types.ts';
import { sessionReport } from '../status/test-helpers.ts';
import { StatusWriter } from './status-writer.ts';
import { capturedLog, l2At, MemoryObjects, peerPlan, planOf, route } from './test-helpers.ts';

const L2 = 'servicel2statuses';
const BGP = 'servicebgpstatuses';
const SESSIONS = 'bgpsessionstates';
const both = planOf(
  [l2At('198.51.100.1', ['default/web'])],
  [peerPlan('r1', [route('198.51.100.2/32', ['default/api'])])],
);

/** This node's objects of both kinds, "cached" straight from the store (an informer in sync). */
const ownOf = (objects: MemoryObjects) =>
  [L2, BGP].map((plural) => ({
    plural,
    cache: {
      list: () => [...(objects.store.get(plural)?.values() ?? [])],
      get: (name: string) => objects.store.get(plural)?.get(name),
    },
  }));

/** What every writer here writes as: node-a, over `objects`, its own objects cached from them. */
const nodeA = (objects: MemoryObjects, log: Logger, timers: ManualTimers) => ({
  objects,
  nodeName: 'node-a',
  namespace: 'metalbeacon-system',
  log,
  timers,
  own: ownOf(objects),
});

/**
 * A writer over objects in memory; this node's objects are "cached" straight from the store (an
 * informer in sync). Session states and garbage collection count their calls.
 */
function writer() {
  const timers = new ManualTimers();
  const objects = new MemoryObjects();
  const { log, messages } = capturedLog();
  const world = {
    isolated: false,
    stopping: false,
    plan: undefined as NodePlan | undefined,
    prefixesMoved: false,
    sessionSyncs: 0,
    collections: 0,
    sessionsMissing: false,
  };
  const statuses = new StatusWriter({
    ...nodeA(objects, log, timers),
    sessions: {
      load: async () => {},
      sync: async () => void world.sessionSyncs++,
      get missing() {
        return world.sessionsMissing;
      },
      prefixesMoved: () => world.prefixesMoved,
    },
    garbage: { collect: async () => void world.collections++ },
    plan: () => world.plan,
    isolated: () => world.isolated,
    stopping: () => world.stopping,
  });
  /** Asks for a write and lets it happen. */
  const write = async () => {
    statuses.schedule();
    await timers.advance(50);
  };
  return { timers, objects, statuses, world, write, messages };
}

describe('StatusWriter', () => {
  it('writes nothing before the first plan, nor while isolated or stopping', async () => {
    const { objects, world, write } = writer();
    await write();
    world.plan = both;
    world.isolated = true;
    await write();
    world.isolated = false;
    world.stopping = true;
    await write();
    assert.deepEqual(objects.writes, []);
    assert.equal(world.sessionSyncs, 0);
  });

  it('puts the objects of the plan, then session states, then collects garbage; removes what the plan dropped', async () => {
    const { objects, world, write } = writer();
    world.plan = both;
    await write();
    assert.equal(objects.names(L2).length, 1);
    assert.equal(objects.names(BGP).length, 1);
    assert.deepEqual([world.sessionSyncs, world.collections], [1, 1]);
    const bgpObject = objects.names(BGP)[0];
    world.plan = planOf([l2At('198.51.100.1', ['default/web'])]);
    objects.writes.length = 0;
    await write();
    assert.deepEqual(objects.writes, [`patch ${L2}/${objects.names(L2)[0]}`, `delete ${BGP}/${bgpObject}`]);
  });

  it('deletes at its first write what an earlier run of this node left and the plan does not want', async () => {
    const { objects, world, write } = writer();
    await objects.put(
      {
        kind: 'ServiceL2Status',
        plural: L2,
        name: 'l2-old',
        labels: { 'metalbeacon.io/node': 'node-a' },
        status: {},
      },
      undefined,
    );
    world.plan = planOf([]);
    await write();
    assert.deepEqual(objects.names(L2), []);
  });

  it('a failed write is logged and the whole pass retried 2 s later', async () => {
    const { objects, world, write, timers, messages } = writer();
    world.plan = both;
    const put = objects.put.bind(objects);
    let refuse = true;
    objects.put = async (desired, cached) => {
      if (refuse) throw new Error('HTTP 503: etcdserver: request timed out');
      return put(desired, cached);
    };
    await write();
    assert.ok(messages().includes('status write failed; retrying in 2 s'));
    refuse = false;
    await timers.advance(1999);
    assert.equal(objects.names(L2).length, 0);
    await timers.advance(1);
    assert.equal(objects.names(L2).length, 1);
  });

  it('once started, looks at the prefix counts every second and writes when one moved', async () => {
    const { statuses, world, timers } = writer();
    world.plan = both;
    statuses.start();
    await timers.advance(1050);
    assert.equal(world.sessionSyncs, 0);
    world.prefixesMoved = true;
    await timers.advance(1050);
    assert.equal(world.sessionSyncs, 1);
    await statuses.stop();
    assert.equal(timers.pending, 0, 'stop ends the watch and the loop');
  });

  it('deleteOwn removes every object of this node, BGPSessionStates only while their CRD exists; failures are logged', async () => {
    const { objects, world, statuses, messages } = writer();
    for (const plural of [L2, BGP, 'bgpsessionstates']) {
      for (const node of ['node-a', 'node-b'])
        await objects.put(
          { kind: 'X', plural, name: `${node}-x`, labels: { 'metalbeacon.io/node': node }, status: {} },
          undefined,
        );
    }
    world.sessionsMissing = true;
    objects.missing.add(BGP);
    await statuses.deleteOwn();
    assert.deepEqual(objects.names(L2), ['node-b-x']);
    assert.deepEqual(objects.names('bgpsessionstates'), ['node-a-x', 'node-b-x']);
    assert.ok(messages().includes('could not delete own status objects'));
  });
});

describe('StatusWriter.forNode (with its real helpers, over objects in memory)', () => {
  /** node-a's writer; node-b's speaker Pod is gone and it left objects; `reports` are node-a's sessions. */
  async function nodeWriter(sessionStatesInstalled: boolean) {
    const timers = new ManualTimers();
    const objects = new MemoryObjects();
    const { log, lines } = capturedLog();
    const leave = async (plural: string, name: string, node: string) =>
      objects.put(
        { kind: 'X', plural, name, labels: { 'metalbeacon.io/node': node }, status: {} },
        undefined,
      );
    await leave(L2, 'node-b-x', 'node-b');
    await leave(SESSIONS, 'node-b.r1', 'node-b');
    await leave(SESSIONS, 'node-a.gone', 'node-a');
    if (!sessionStatesInstalled) objects.missing.add(SESSIONS);
    const statuses = StatusWriter.forNode({
      ...nodeA(objects, log, timers),
      reports: () => [sessionReport('r1')],
      pods: () => [{ spec: { nodeName: 'node-a' } }],
      plan: () => both,
      isolated: () => false,
      stopping: () => false,
    });
    await statuses.load();
    statuses.schedule();
    await timers.advance(50);
    return { objects, warnings: lines.filter((l) => l.level >= 40).map((l) => l.msg) };
  }

  it('one pass writes the plan, replaces what an earlier run left with the sessions now, and collects a gone node', async () => {
    const { objects, warnings } = await nodeWriter(true);
    assert.equal(objects.names(L2).length, 1);
    assert.ok(objects.names(L2)[0] !== 'node-b-x', "node-b's object is gone, node-a's written");
    assert.equal(objects.names(BGP).length, 1);
    assert.deepEqual(objects.names(SESSIONS), ['node-a.r1']);
    assert.deepEqual(warnings, []);
  });

  it('without the BGPSessionState CRD the rest is written and collected all the same', async () => {
    const { objects, warnings } = await nodeWriter(false);
    assert.equal(objects.names(L2).length, 1);
    assert.ok(objects.names(L2)[0] !== 'node-b-x');
    assert.equal(objects.names(BGP).length, 1);
    assert.deepEqual(warnings, []);
  });
});
