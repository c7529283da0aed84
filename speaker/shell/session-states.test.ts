import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SessionReport } from '../status/status-objects.ts';
import { sessionReport as report } from '../status/test-helpers.ts';
import { SessionStates } from './session-states.ts';
import { capturedLog, MemoryObjects } from './test-helpers.ts';

const PLURAL = 'bgpsessionstates';

function states(reports: SessionReport[] = []) {
  const objects = new MemoryObjects();
  const { log, messages } = capturedLog();
  const world = { reports };
  const sessions = new SessionStates({ objects, nodeName: 'node-a', reports: () => world.reports, log });
  return { objects, sessions, world, messages };
}

/** A state a previous run of node-a left behind. */
async function leftBehind(objects: MemoryObjects, peer: string): Promise<void> {
  await objects.put(
    {
      kind: 'BGPSessionState',
      plural: PLURAL,
      name: `node-a.${peer}`,
      labels: { 'metalbeacon.io/node': 'node-a', 'metalbeacon.io/peer': peer },
      status: { state: 'Idle' },
    },
    undefined,
  );
  objects.writes.length = 0;
}

describe('SessionStates', () => {
  it('rewrites what a previous run left for a running session, deletes the rest, then writes only changes', async () => {
    const { objects, sessions, world } = states([report('r1')]);
    await leftBehind(objects, 'r1');
    await leftBehind(objects, 'gone');
    await sessions.load();
    await sessions.sync();
    assert.deepEqual(objects.writes, [`delete ${PLURAL}/node-a.gone`, `patch ${PLURAL}/node-a.r1`]);
    assert.equal(objects.store.get(PLURAL)?.get('node-a.r1')?.status?.state, 'Established');
    await sessions.sync();
    assert.equal(objects.writes.length, 2, 'nothing changed: nothing written');
    world.reports = [report('r1', 4)];
    assert.equal(sessions.prefixesMoved(), true);
    await sessions.sync();
    assert.equal(sessions.prefixesMoved(), false);
    assert.deepEqual(objects.writes.slice(2), [`patch ${PLURAL}/node-a.r1`]);
  });

  it('without the CRD at start: publishes nothing and says so through `missing`', async () => {
    const { objects, sessions } = states([report('r1')]);
    objects.missing.add(PLURAL);
    await sessions.load();
    assert.equal(sessions.missing, true);
    await sessions.sync();
    assert.deepEqual(objects.writes, []);
  });

  it('the CRD removed while running: a 404 on the type stops publishing with a warning, no error', async () => {
    const { objects, sessions, messages } = states([report('r1')]);
    await sessions.load();
    objects.missing.add(PLURAL);
    await sessions.sync();
    assert.equal(sessions.missing, true);
    assert.ok(messages().includes('BGPSessionState CRD not installed; session states are not published'));
  });

  it('any other failure at start is thrown', async () => {
    const { objects, sessions } = states();
    objects.list = async () => {
      throw new Error('connect ECONNREFUSED 192.0.2.1:6443');
    };
    await assert.rejects(sessions.load(), /ECONNREFUSED/);
    assert.equal(sessions.missing, false);
  });
});
