import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Lab, type LabDaemon, waitForOutput } from '../../lab/netns.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import { asNobody, NODE } from '../support/commands.ts';
import { startLan } from '../support/lan.ts';

// The N-API addon alone (native/packet-socket.cc), against the kernel in a lab: receive
// through the BPF filter on the main thread and in a Worker, send a frame a kernel client
// acts on, and a clear EPERM naming CAP_NET_RAW without the capability.
const PROBE = new URL('./fixtures/packet-probe.ts', import.meta.url).pathname;

let lab: Lab;
before(async () => {
  ({ lab } = await startLan('l2sock', {
    node: { ipv4: '192.0.2.1/24', ipv6: '2001:db8:0:1::1/64' },
    client: { ipv4: '192.0.2.2/24', ipv6: '2001:db8:0:1::2/64' },
  }));
});
after(() => lab.destroy());

interface ProbeLine {
  event: string;
  hex?: string;
  code?: string;
  message?: string;
  thread?: string;
}
const lines = (probe: LabDaemon): ProbeLine[] =>
  probe
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as ProbeLine);
const frames = (probe: LabDaemon) =>
  lines(probe)
    .filter((l) => l.event === 'frame')
    .map((l) => l.hex!);

for (const mode of ['main', 'worker'] as const) {
  describe(`PacketSocket on the ${mode} thread`, () => {
    let probe: LabDaemon;
    before(async () => {
      probe = lab.spawn('node', [NODE, PROBE, 'eth0', mode], { stdin: true });
      await waitForOutput(probe, /"event":"ready"/);
      assert.equal(lines(probe).find((l) => l.event === 'ready')?.thread, mode);
    });
    after(() => probe.stop());

    test('receives ARP requests and Neighbor Solicitations, and the filter drops other traffic', async () => {
      await lab.exec('client', ['arping', '-c', '1', '-w', '1', '-I', 'eth0', '192.0.2.99'], {
        allowFailure: true,
      });
      await lab.exec('client', ['ndisc6', '-1', '-r', '1', '-w', '200', '2001:db8:0:1::99', 'eth0'], {
        allowFailure: true,
      });
      await lab.exec('client', ['ping', '-c', '2', '-i', '0.2', '-W', '1', '192.0.2.1']);
      await lab.exec('client', ['ping', '-c', '2', '-i', '0.2', '-W', '1', '2001:db8:0:1::1']);
      const received = await waitFor('an ARP request and an NS', () => {
        const all = frames(probe);
        const arp = all.find((f) => f.slice(24, 28) === '0806' && f.slice(76, 84) === 'c0000263');
        const ns = all.find((f) => f.slice(24, 28) === '86dd' && f.slice(108, 110) === '87');
        return arp && ns ? all : undefined;
      });
      for (const frame of received) {
        const etherType = frame.slice(24, 28);
        assert.ok(etherType === '0806' || (etherType === '86dd' && frame.slice(108, 110) === '87'), frame);
      }
    });

    test('a sent gratuitous ARP reply updates the client kernel neighbour entry', async () => {
      await lab.exec('client', ['ping', '-c', '1', '-W', '1', '192.0.2.1']);
      const realMac = await lab.mac('node', 'eth0');
      assert.equal((await lab.neighbour('client', '192.0.2.1'))?.mac, realMac);
      const fakeMac = mode === 'main' ? '020000000077' : '020000000078';
      // Broadcast, ARP reply, sender 02:00:00:00:00:7x / 192.0.2.1, target same (RFC 2002 §4.6).
      const frame =
        `ffffffffffff${fakeMac}0806000108000604000${2}${fakeMac}c0000201${fakeMac}c0000201`.padEnd(120, '0');
      probe.child.stdin?.write(`${JSON.stringify({ send: frame })}\n`);
      const expected = fakeMac.match(/../g)!.join(':');
      await waitFor(`client entry for 192.0.2.1 → ${expected}`, async () =>
        (await lab.neighbour('client', '192.0.2.1'))?.mac === expected ? true : undefined,
      );
      assert.equal(lines(probe).find((l) => l.event === 'sent')?.event, 'sent');
      await lab.ip('client', ['neigh', 'flush', 'dev', 'eth0']);
    });
  });
}

test('without CAP_NET_RAW the socket fails with EPERM naming the capability; with it alone it opens', async () => {
  const denied = lab.spawn('node', [...asNobody(), NODE, PROBE]);
  await denied.exited;
  const error = lines(denied).find((l) => l.event === 'error');
  assert.equal(error?.code, 'EPERM', denied.output());
  assert.match(error?.message ?? '', /CAP_NET_RAW/);

  const allowed = lab.spawn('node', [...asNobody('net_raw'), NODE, PROBE]);
  await waitForOutput(allowed, /"event":"ready"/);
  await allowed.stop();
});
