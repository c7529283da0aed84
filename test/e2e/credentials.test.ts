import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Topology } from '../../lab/topology.ts';
import { startE2eTopology, urlOf, waitForAnnouncers } from './harness.ts';

// The controller and the speakers talk to the API server as in a real install (HTTPS, the
// server's CA, a ServiceAccount token mount each, the install's RBAC): their tokens are
// rotated under them with the old ones revoked at once, and they go on.
describe('credentials end to end', { timeout: 240_000 }, () => {
  let topo: Topology;

  before(async () => {
    topo = await startE2eTopology('e2ecred');
  });
  after(() => topo?.stop());

  it('runs the programs in-cluster over TLS and keeps serving after every token is rotated', async () => {
    topo.createIngressService('before-rotation', { pool: 'lab-l2' });
    const [first] = await topo.waitForServiceIps('before-rotation');
    await waitForAnnouncers(topo, first!, (n) => n.length === 1, `one announcer of ${first}`);
    assert.ok((await topo.curlFrom('client', urlOf(first!))).ok);

    const old = topo.nodes.map((n) => readFileSync(`${n.serviceAccountDir}/token`, 'utf8'));
    topo.rotateToken('controller');
    for (const node of topo.nodes) topo.rotateToken(node.name);
    assert.ok(topo.nodes.every((n, i) => readFileSync(`${n.serviceAccountDir}/token`, 'utf8') !== old[i]));
    // Every watch ends: the programs list and watch again, first with their revoked tokens.
    topo.api.cutWatches();

    topo.createIngressService('after-rotation', { pool: 'lab-l2' });
    const [second] = await topo.waitForServiceIps('after-rotation');
    await waitForAnnouncers(topo, second!, (n) => n.length === 1, `one announcer of ${second}`);
    assert.ok((await topo.curlFrom('client', urlOf(second!))).ok);
    assert.ok((await topo.curlFrom('client', urlOf(first!))).ok);
    assert.equal(topo.controller?.child.exitCode, null);
    for (const node of topo.nodes)
      assert.equal(node.speaker?.child.exitCode, null, `${node.name}'s speaker runs`);
  });
});
