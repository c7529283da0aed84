import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startHeldRequests } from '../../lab/held-requests.ts';
import type { Lab, LabDaemon, LabLink } from '../../lab/netns.ts';
import { waitForOutput } from '../../lab/netns.ts';
import { analyzeProbe, type Probe, startProbe } from '../../lab/probe.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import { type Bed, listCrs, type NodeLab, spawnSpeaker, startVipLab } from './harness.ts';

// Restart in place (docs/adr/0013-l2-restart-in-place.md), with the kernel's ARP in node
// namespaces, an HTTP server on each node standing in for the ingress (it keeps running while the
// speaker restarts, as kube-proxy and the ingress do on a node), and a client sending a fresh
// request every 20 ms plus requests held open. SIGTERM on the owner's speaker: the other speaker
// keeps the VIP for it, nobody answers ARP meanwhile, the client keeps its neighbour entry to the
// same node, and the new speaker takes the VIP again: the same node answers throughout, no request
// is lost or reset. Then a node whose speaker is restarting dies (its cable cut): its kernel no
// longer refuses the other's heartbeats, and the other takes the VIP over without waiting for
// the hold to run out.

const VIP = '198.51.100.7';
const NODES = { node1: '192.0.2.11', node2: '192.0.2.12' } as const;
type NodeName = keyof typeof NODES;
/** The default: the node dying during it is told by its silence (docs/adr/0013), long before. */
const HOLD_SEC = 10;
const INGRESS = fileURLToPath(new URL('../../lab/ingress-server.ts', import.meta.url));
let nodes: NodeLab | undefined;
let lab: Lab;
let bed: Bed;
let probe: Probe | undefined;
const links = new Map<NodeName, LabLink>();
const speakers = new Map<NodeName, LabDaemon>();

const start = (node: NodeName) =>
  spawnSpeaker(lab, node, nodes!.kubeconfig, [
    ...['--membership-bind-address', NODES[node], '--bgp-shutdown-drain', '0'],
    ...['--restart-hold', String(HOLD_SEC)],
  ]);

/** Log time (epoch ms) of the first line of a daemon's output matching `pattern`, at or after `from`. */
function lineTime(daemon: LabDaemon, pattern: RegExp, from = 0): number | undefined {
  for (const line of daemon.output().split('\n')) {
    if (!pattern.test(line)) continue;
    const time = (JSON.parse(line) as { time: number }).time;
    if (time >= from) return time;
  }
  return undefined;
}
const ANNOUNCING = /"ip":"198\.51\.100\.7".*"msg":"L2: announcing"/;
const KEEP = /"msg":"the peers keep our L2 IPs for the next speaker; L2 stops"/;

before(async () => {
  let made: Map<string, LabLink>;
  ({ nodes, links: made } = await startVipLab('spkrip', NODES, VIP));
  ({ lab, bed } = nodes);
  for (const [node, link] of made) links.set(node as NodeName, link);
  for (const node of Object.keys(NODES)) {
    const ingress = lab.spawn(node, [process.execPath, INGRESS, node]);
    await waitForOutput(ingress, /listening/, 20_000);
  }
  for (const node of Object.keys(NODES) as NodeName[]) speakers.set(node, start(node));
  for (const s of speakers.values()) await waitForOutput(s, /"msg":"speaker ready"/, 20_000);
  probe = await startProbe({ namespace: lab.ns('client'), url: `http://${VIP}/` });
});

after(async () => {
  await probe?.stop();
  for (const s of speakers.values()) await s.stop();
  await nodes?.close();
});

/** The node the client is served by, once it is the one the ServiceL2Status names and 25 requests in a row agree. */
async function steadyOwner(): Promise<NodeName> {
  return waitFor('one ServiceL2Status, naming the node that serves the client', async () => {
    const items = await listCrs(bed, 'servicel2statuses');
    if (items.length !== 1) return undefined;
    const node = items[0]?.status?.node as NodeName;
    const run = await probe!.waitForGood(25, { from: Date.now(), timeoutMs: 10_000 });
    return run.every((r) => r.body === node) ? node : undefined;
  });
}

test('SIGTERM on the owner restarts it in place: the same node answers throughout, no request lost or reset', async (t) => {
  const owner = await steadyOwner();
  const other: NodeName = owner === 'node1' ? 'node2' : 'node1';
  const ownerMac = await lab.mac(owner, 'eth0');
  const since = Date.now();
  const otherAnnouncedBefore = (speakers.get(other)!.output().match(new RegExp(ANNOUNCING, 'g')) ?? [])
    .length;
  const held = await startHeldRequests({ namespace: lab.ns('client'), ip: VIP, count: 8 });
  try {
    const leaving = speakers.get(owner)!;
    const exit = await leaving.stop(15_000);
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.match(leaving.output(), KEEP);
    await waitForOutput(
      speakers.get(other)!,
      /"msg":"speaker restarts in place; keeping its L2 IPs for it"/,
      5_000,
    );
    const next = start(owner);
    speakers.set(owner, next);
    await waitForOutput(next, /"msg":"speaker ready"/, 20_000);
    await waitForOutput(next, ANNOUNCING, 10_000);
    assert.match(next.output(), /"msg":"membership: the peers say we held these L2 IPs before our restart"/);
    // Long enough for several plans and membership rounds of both speakers.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const results = await held.finish();
    assert.deepEqual(
      results.map((r) => ({ ok: r.ok, body: r.body })),
      results.map(() => ({ ok: true, body: owner })),
      `requests held across the restart: ${JSON.stringify(results)}`,
    );
    const stoppedAt = lineTime(leaving, KEEP)!;
    const backAt = lineTime(next, ANNOUNCING)!;
    t.diagnostic(
      `restart in place: nobody answered ARP for ${backAt - stoppedAt} ms (the old speaker's stop to the new one's announcement)`,
    );
  } finally {
    await held.stop();
  }
  const otherAnnounced = (speakers.get(other)!.output().match(new RegExp(ANNOUNCING, 'g')) ?? []).length;
  assert.equal(otherAnnounced, otherAnnouncedBefore, `${other} announced ${VIP} during the restart`);
  const report = analyzeProbe(probe!.records(), { from: since });
  const failures = probe!.records().filter((r) => r.start >= since && !r.ok);
  const detail = `lost ${report.lost} of ${report.requests} (${failures.map((f) => f.error).join(', ')}); served by ${report.servers.join(' -> ')}`;
  t.diagnostic(`probe: ${detail}`);
  assert.ok(report.requests > 100, detail);
  assert.equal(report.lost, 0, detail);
  assert.deepEqual(report.servers, [owner], detail);
  assert.equal((await lab.neighbour('client', VIP))?.mac, ownerMac);
  assert.equal(await steadyOwner(), owner);
});

test('the node dies while its speaker restarts: the other node sees its kernel fall silent and takes the VIP over', async (t) => {
  const owner = await steadyOwner();
  const other: NodeName = owner === 'node1' ? 'node2' : 'node1';
  const leaving = speakers.get(owner)!;
  const exit = await leaving.stop(15_000);
  assert.deepEqual(exit, { code: 0, signal: null });
  const stoppedAt = lineTime(leaving, KEEP)!;
  await lab.cutLink(links.get(owner)!);
  try {
    const since = Date.now();
    await waitFor(`${other} announcing ${VIP}`, () => lineTime(speakers.get(other)!, ANNOUNCING, stoppedAt), {
      timeoutMs: (HOLD_SEC + 10) * 1000,
      intervalMs: 50,
    });
    const run = await probe!.waitForGood(25, { from: Date.now(), timeoutMs: 10_000 });
    assert.ok(
      run.every((r) => r.body === other),
      JSON.stringify(run.map((r) => r.body)),
    );
    // Told by its node's silence (its kernel refused our heartbeats, then nothing), not the hold.
    assert.match(speakers.get(other)!.output(), /"cause":"node-gone".*"msg":"membership: peer failed"/);
    const takenAt = lineTime(speakers.get(other)!, ANNOUNCING, stoppedAt)!;
    const report = analyzeProbe(probe!.records(), { from: since });
    t.diagnostic(
      `node dead during the hold (${HOLD_SEC} s): ${other} announced ${takenAt - stoppedAt} ms after the Restarting; client outage ${JSON.stringify(report.outages.map((o) => o.ms))} ms`,
    );
  } finally {
    await lab.restoreLink(links.get(owner)!);
  }
  const back = start(owner);
  speakers.set(owner, back);
  await waitForOutput(back, /"msg":"speaker ready"/, 20_000);
  // Back, it leaves the VIP with the node that took it over.
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  assert.equal(lineTime(back, ANNOUNCING), undefined, `${owner} took ${VIP} back`);
});
