import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StatusGarbage } from './status-garbage.ts';
import { MemoryObjects } from './test-helpers.ts';
import type { CachedPod } from './trim.ts';

const PLURALS = ['servicel2statuses', 'servicebgpstatuses', 'bgpsessionstates'];

/** One object of `node` in every plural. */
async function objectsOf(objects: MemoryObjects, node: string): Promise<void> {
  for (const plural of PLURALS) {
    await objects.put(
      { kind: 'X', plural, name: `${node}-x`, labels: { 'metalbeacon.io/node': node }, status: {} },
      undefined,
    );
  }
}

function garbage(pods: string[], sessionStates = true) {
  const objects = new MemoryObjects();
  const world = { pods: pods.map((node): CachedPod => ({ spec: { nodeName: node } })), sessionStates };
  const collector = new StatusGarbage({
    objects,
    nodeName: 'node-a',
    pods: () => world.pods,
    sessionStates: () => world.sessionStates,
  });
  return { objects, collector, world };
}

describe('StatusGarbage', () => {
  it('at start deletes the objects of every node without a speaker Pod, this node kept', async () => {
    const { objects, collector } = garbage(['node-b']);
    for (const node of ['node-a', 'node-b', 'node-c']) await objectsOf(objects, node);
    await objects.put(
      { kind: 'X', plural: PLURALS[0] as string, name: 'nobody', labels: {}, status: {} },
      undefined,
    );
    await collector.collect();
    assert.deepEqual(
      objects.names('servicel2statuses'),
      ['nobody', 'node-a-x', 'node-b-x'],
      "unlabelled: nobody's",
    );
    assert.deepEqual(objects.names('servicebgpstatuses'), ['node-a-x', 'node-b-x']);
    assert.deepEqual(objects.names('bgpsessionstates'), ['node-a-x', 'node-b-x']);
  });

  it('later deletes only the objects of nodes whose Pod disappeared since', async () => {
    const { objects, collector, world } = garbage(['node-b', 'node-c']);
    await collector.collect();
    for (const node of ['node-b', 'node-c', 'node-d']) await objectsOf(objects, node);
    world.pods = [{ spec: { nodeName: 'node-c' } }];
    await collector.collect();
    assert.deepEqual(objects.names('servicel2statuses'), ['node-c-x', 'node-d-x']);
    await collector.collect();
    assert.deepEqual(
      objects.names('servicel2statuses'),
      ['node-c-x', 'node-d-x'],
      'node-d was never seen: left alone',
    );
  });

  it('leaves BGPSessionStates alone while their CRD is not installed', async () => {
    const { objects, collector } = garbage([], false);
    await objectsOf(objects, 'node-z');
    await collector.collect();
    assert.deepEqual(objects.names('bgpsessionstates'), ['node-z-x']);
    assert.deepEqual(objects.names('servicel2statuses'), []);
  });
});
