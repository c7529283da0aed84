import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Lab, type LabDaemon, waitForOutput } from '../../lab/netns.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import { type Bed, listCrs, type NodeLab, spawnSpeaker, startVipLab } from './harness.ts';

// Graceful handover between two speakers in node namespaces (`--restart-hold 0`: a speaker
// leaving for good; restart in place is restart-netns.test.ts): the owner gets SIGTERM while a
// client pings the VIP every 20 ms; the other node takes the IP over (the client's neighbour
// entry moves to its MAC through the gratuitous ARP) and not one ping is lost. Both nodes
// accept the VIP (routed `local`, with arp_ignore/arp_announce so only the speaker answers ARP),
// as every node running the ingress does.

const VIP = '198.51.100.7';
const NODES = { node1: '192.0.2.11', node2: '192.0.2.12' } as const;
type NodeName = keyof typeof NODES;
let nodes: NodeLab | undefined;
let lab: Lab;
let bed: Bed;
const speakers = new Map<NodeName, LabDaemon>();

before(async () => {
  ({ nodes } = await startVipLab('spkho', NODES, VIP));
  ({ lab, bed } = nodes);
});

after(async () => {
  for (const s of speakers.values()) await s.stop();
  await nodes?.close();
});

test('SIGTERM on the owner: the other node takes over before it stops answering, no ping lost', async () => {
  for (const [node, ip] of Object.entries(NODES) as [NodeName, string][]) {
    // Leaving for good (a node going away), not the default restart in place.
    const args = ['--membership-bind-address', ip, '--restart-hold', '0'];
    speakers.set(node, spawnSpeaker(lab, node, nodes!.kubeconfig, args));
  }
  for (const s of speakers.values()) await waitForOutput(s, /"msg":"speaker ready"/, 20_000);
  // From a steady state: while the speakers start, the first one up owns the VIP until the
  // others have joined, so one ServiceL2Status alone may still name the interim owner. Steady
  // is when the client, asking afresh, resolves the VIP to the node the status object names.
  const owner = await waitFor(
    'one ServiceL2Status, naming the node the client resolves the VIP to',
    async () => {
      const items = await listCrs(bed, 'servicel2statuses');
      if (items.length !== 1) return undefined;
      const node = items[0]?.status?.node as NodeName;
      await lab.ip('client', ['neigh', 'flush', 'to', VIP]);
      await lab.exec('client', ['ping', '-c', '1', '-W', '2', VIP], { allowFailure: true });
      return (await lab.neighbour('client', VIP))?.mac === (await lab.mac(node, 'eth0')) ? node : undefined;
    },
  );
  const other: NodeName = owner === 'node1' ? 'node2' : 'node1';
  const otherMac = await lab.mac(other, 'eth0');

  // 4 s of pings every 20 ms across the handover.
  const pinging = lab.exec('client', ['ping', '-q', '-i', '0.02', '-c', '200', '-W', '1', VIP], {
    allowFailure: true,
  });
  await new Promise((resolve) => setTimeout(resolve, 500));
  const leaving = speakers.get(owner)!;
  speakers.delete(owner);
  const exit = await leaving.stop(15_000);
  assert.deepEqual(exit, { code: 0, signal: null });
  assert.match(leaving.output(), /"msg":"leaving: handing over to the other speakers"/);
  await waitFor('the client follows the gratuitous ARP', async () =>
    (await lab.neighbour('client', VIP))?.mac === otherMac ? true : undefined,
  );
  const result = await pinging;
  const summary = /(\d+) packets transmitted, (\d+) received/.exec(result.stdout);
  assert.ok(summary, result.stdout);
  assert.equal(summary[2], summary[1], `lost pings during the handover: ${result.stdout}`);
  // The order that makes it lossless for clients resolving meanwhile: the new owner announced
  // (and sent its gratuitous ARP) before the leaver stopped answering.
  const lineTime = (daemon: LabDaemon, pattern: RegExp) => {
    const line = daemon
      .output()
      .split('\n')
      .find((l) => pattern.test(l));
    return line ? (JSON.parse(line) as { time: number }).time : undefined;
  };
  const announcedAt = lineTime(speakers.get(other)!, /"ip":"198\.51\.100\.7".*"msg":"L2: announcing"/);
  const withdrawnAt = lineTime(leaving, /"msg":"handover window over; withdrawing L2"/);
  assert.ok(announcedAt !== undefined && withdrawnAt !== undefined, leaving.output());
  assert.ok(
    announcedAt < withdrawnAt,
    `new owner announced at ${announcedAt}, old withdrew at ${withdrawnAt}`,
  );
  const status = await waitFor('the status object on the other node', async () => {
    const items = await listCrs(bed, 'servicel2statuses');
    return items.length === 1 && items[0]?.status?.node === other ? items[0] : undefined;
  });
  assert.equal(status.status?.serviceName, 'web');
});
