import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Topology } from '../../lab/topology.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import type { StatusReport } from '../../shared/status/report.ts';
import { startE2eTopology } from '../e2e/harness.ts';

/**
 * `metalbeacon status` against what the real programs write: the lab topology (controller,
 * three speakers, BIRD) with an L2 Service, a BGP Service and one that cannot get an IP. The
 * CLI must show who announces what, the three BGP sessions Established with their prefix
 * counts, pool usage, the pending Service with the controller's reason, and a session that
 * goes down when a node's link is cut. Needs root (network namespaces), like test/e2e.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NODE = `${ROOT}node_modules/.bin/node`;

function status(
  kubeconfig: string,
  args: string[] = [],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      NODE,
      ['bin/metalbeacon.js', '--kubeconfig', kubeconfig, 'status', ...args],
      { cwd: ROOT, encoding: 'utf8', timeout: 30_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
    );
  });
}

async function report(topo: Topology): Promise<StatusReport> {
  const run = await status(topo.kubeconfig, ['-o', 'json']);
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout) as StatusReport;
}

describe('metalbeacon status on the lab', { timeout: 240_000 }, () => {
  let topo: Topology;
  const nodes = ['node-1', 'node-2', 'node-3'];

  before(async () => {
    topo = await startE2eTopology('ststatus');
    topo.createIngressService('l2-web', { pool: 'lab-dual', families: ['IPv4', 'IPv6'] });
    topo.createIngressService('bgp-web', { pool: 'lab-bgp', families: ['IPv4', 'IPv6'] });
    topo.createIngressService('nowhere', { pool: 'no-such-pool' });
    await topo.waitForServiceIps('l2-web');
    await topo.waitForServiceIps('bgp-web');
  });
  after(() => topo?.stop());

  it('shows announcers, sessions, pool usage and the pending Service as the programs wrote them', async () => {
    const r = await waitFor(
      'status showing L2 and BGP announcements and three Established sessions',
      async () => {
        const r = await report(topo);
        const bgp = r.services.find((s) => s.name === 'bgp-web');
        const l2 = r.services.find((s) => s.name === 'l2-web');
        const nowhere = r.services.find((s) => s.name === 'nowhere');
        const ready =
          bgp?.announcements.length === 3 &&
          bgp.announcements.every(
            (a) => a.protocol === 'BGP' && a.peers.every((p) => p.state === 'Established'),
          ) &&
          l2 &&
          l2.announcements.length >= 1 &&
          nowhere?.pendingReason &&
          // The lab's BGPPeer names the BFDProfile lab-bfd: each session's BFD state shows too.
          r.bgpSessions.filter(
            (s) => s.state === 'Established' && s.bfd?.state === 'Up' && (s.prefixesAdvertised ?? 0) >= 2,
          ).length === 3;
        return ready ? r : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    const bgp = r.services.find((s) => s.name === 'bgp-web')!;
    assert.equal(bgp.state, 'announced');
    assert.equal(bgp.protocol, 'BGP');
    assert.equal(bgp.pool, 'lab-bgp');
    assert.deepEqual(bgp.ips, await topo.serviceIps('bgp-web'));
    assert.deepEqual(
      bgp.announcements.map((a) => a.node),
      nodes,
    );
    for (const a of bgp.announcements)
      assert.deepEqual(a.protocol === 'BGP' ? a.peers : [], [{ name: 'lab-router', state: 'Established' }]);

    const l2 = r.services.find((s) => s.name === 'l2-web')!;
    assert.equal(l2.protocol, 'L2');
    assert.equal(l2.pool, 'lab-dual');
    assert.ok(l2.announcements.every((a) => a.protocol === 'L2' && nodes.includes(a.node)));

    const nowhere = r.services.find((s) => s.name === 'nowhere')!;
    assert.equal(nowhere.state, 'pending');
    assert.equal(nowhere.pendingReason?.reason, 'AllocationFailed');
    assert.ok((nowhere.pendingReason?.message ?? '').length > 0);

    assert.deepEqual(
      r.bgpSessions.map((s) => [s.node, s.peer, s.peerAddress, s.state]),
      nodes.map((n) => [n, 'lab-router', '192.0.2.1', 'Established']),
    );
    for (const s of r.bgpSessions) assert.ok(s.since && !Number.isNaN(Date.parse(s.since)));

    const pools = new Map(r.pools.map((p) => [p.name, p]));
    assert.deepEqual(pools.get('lab-bgp')?.assigned, { IPv4: '1', IPv6: '1' });
    assert.deepEqual(pools.get('lab-dual')?.assigned, { IPv4: '1', IPv6: '1' });
    assert.equal(pools.get('lab-bgp')?.configValid?.status, 'True');
    assert.deepEqual(
      r.problems.map((p) => [p.kind, p.object]),
      [['ServicePending', 'default/nowhere']],
    );

    const table = await status(topo.kubeconfig);
    assert.equal(table.code, 0, table.stderr);
    assert.match(
      table.stdout,
      /^default\/bgp-web +198\.51\.100\.\d+, 2001:db8:100::[0-9a-f]+ +lab-bgp +BGP +node-1 -> lab-router; node-2 -> lab-router; node-3 -> lab-router$/m,
    );
    assert.match(table.stdout, /^node-2 +lab-router +192\.0\.2\.1 +Established, BFD Up +\d+s +\d+$/m);
    assert.match(table.stdout, /^default\/nowhere +<pending> +- +- +AllocationFailed: /m);
  });

  it('a session that goes down is listed under problems, and clears when it comes back', async () => {
    await topo.cutLink('node-3');
    try {
      const down = await waitFor(
        'node-3 session not Established',
        async () => {
          const r = await report(topo);
          return r.problems.find((p) => p.kind === 'SessionNotEstablished') ? r : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 500 },
      );
      assert.deepEqual(
        down.problems.filter((p) => p.kind === 'SessionNotEstablished').map((p) => p.object),
        ['node-3/lab-router'],
      );
      const table = await status(topo.kubeconfig);
      assert.match(
        table.stdout,
        /^- node-3\/lab-router: BGP session to lab-router \(192\.0\.2\.1\) from node-3 is (Idle|Connect|Active)/m,
      );
    } finally {
      await topo.restoreLink('node-3');
    }
    await waitFor(
      'node-3 session Established again',
      async () =>
        (await report(topo)).bgpSessions.every((s) => s.state === 'Established') ? true : undefined,
      { timeoutMs: 90_000, intervalMs: 500 },
    );
  });
});
