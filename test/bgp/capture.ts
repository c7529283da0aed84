/**
 * Regenerates the capture fixtures (test/bgp/captures/*.json): a real session between
 * `metalbeacon bgp` and BIRD 2 (and GoBGP) in a namespace lab, recorded by tcpdump on the
 * router's interface, cut down to the two TCP byte streams, stored as hex.
 *
 *   node test/bgp/capture.ts      (root, tcpdump, bird2, gobgpd)
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { startSpeaker } from '../../lab/bgp-speaker.ts';
import { Lab } from '../../lab/netns.ts';
import { Bird } from '../../lab/peers/bird.ts';
import { Gobgp } from '../../lab/peers/gobgp.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import { tcpStreams } from './pcap.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

async function capture(name: string, description: string, setup: (lab: Lab) => Promise<() => Promise<void>>) {
  const lab = await Lab.create('bgpcap');
  const pcap = `/tmp/mb-${name}.pcap`;
  try {
    await lab.addBridge();
    await lab.addHost('router', { router: true });
    await lab.addHost('node');
    await lab.connect('router', { ipv4: '192.0.2.1/24', ipv6: '2001:db8:0:1::1/64' });
    await lab.connect('node', { ipv4: '192.0.2.10/24', ipv6: '2001:db8:0:1::10/64' });
    const dump = lab.spawn('router', [
      'tcpdump',
      '-i',
      'eth0',
      '--immediate-mode',
      '-U',
      '-w',
      pcap,
      'tcp port 179',
    ]);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const teardown = await setup(lab);
    const speaker = startSpeaker(lab, 'node', [
      ...['--local-as', '65001', '--peer', '192.0.2.1', '--peer-as', '65000', '--router-id', '192.0.2.10'],
      ...['--announce', '198.51.100.1/32,2001:db8:100::/120', '--community', '65001:100'],
      ...['--large-community', '65001:7:8', '--listen-port', '0', '--drain-time', '1'],
      ...['--shutdown-message', 'capture done'],
    ]);
    await new Promise((resolve) => setTimeout(resolve, 4000));
    speaker.child.kill('SIGTERM');
    const exit = await speaker.exited;
    if (process.env.CAPTURE_DEBUG) process.stderr.write(`${JSON.stringify(exit)}\n${speaker.output()}\n`);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await teardown();
    await dump.stop();
    const { toPort, fromPort } = tcpStreams(new Uint8Array(await readFile(pcap)), 179);
    await writeFile(
      new URL(`captures/${name}.json`, import.meta.url),
      `${JSON.stringify({ description, speakerToPeer: hex(toPort), peerToSpeaker: hex(fromPort) }, null, 2)}\n`,
    );
    process.stdout.write(`${name}: ${toPort.length} + ${fromPort.length} octets\n`);
  } finally {
    await lab.destroy();
    if (!process.env.CAPTURE_DEBUG) await rm(pcap, { force: true });
  }
}

await capture(
  'bird-ebgp',
  'BIRD 2.0.12 (AS 65000, exports 203.0.113.0/24 and 2001:db8:100::80/121) and metalbeacon bgp (AS 65001): ' +
    'OPENs, UPDATEs both ways, End-of-RIB, KEEPALIVEs, graceful shutdown (GRACEFUL_SHUTDOWN re-advertisement, ' +
    'Cease 6/2 "capture done")',
  async (lab) => {
    const bird = await Bird.start(
      lab,
      'router',
      '192.0.2.1',
      [
        {
          name: 'n1',
          localAddress: '192.0.2.1',
          localAs: 65000,
          address: '192.0.2.10',
          as: 65001,
          exportStatic: true,
        },
      ],
      { ipv4: ['203.0.113.0/24'], ipv6: ['2001:db8:100::80/121'] },
    );
    return () => bird.stop();
  },
);

await capture(
  'gobgp-ebgp',
  'GoBGP 3.10 (AS 65000, originates 203.0.113.0/24 and 2001:db8:100::80/121) and metalbeacon bgp (AS 65001)',
  async (lab) => {
    const gobgp = await Gobgp.start(lab, 'router', {
      as: 65000,
      routerId: '192.0.2.1',
      localAddress: '192.0.2.1',
      neighbors: [{ address: '192.0.2.10', as: 65001, passive: true }],
    });
    await gobgp.cli(['global', 'rib', 'add', '203.0.113.0/24', 'community', '65000:1']);
    await gobgp.cli([
      'global',
      'rib',
      '-a',
      'ipv6',
      'add',
      '2001:db8:100::80/121',
      'nexthop',
      '2001:db8:0:1::1',
    ]);
    await waitFor('GoBGP up', async () => true);
    return () => gobgp.stop();
  },
);
