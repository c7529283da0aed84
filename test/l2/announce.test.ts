import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Lab, type LabDaemon, type LabLink, waitForOutput } from '../../lab/netns.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import { encodeNdpFrame } from '../../speaker/l2/frames/frame.ts';
import { acceptVips } from '../support/lan.ts';

// `metalbeacon l2` end to end against the kernel's own ARP/NDP clients (issue 5):
// arping / ndisc6 / ip neigh / ping / curl in a client namespace, the responder in node
// namespaces, a service IP routed `local` on the nodes with arp_ignore=1 / arp_announce=2.
const NODE = process.execPath;
const CLI = new URL('../../bin/metalbeacon.js', import.meta.url).pathname;
const PROBE = new URL('./fixtures/packet-probe.ts', import.meta.url).pathname;
const VIP4 = '198.51.100.7';
const VIP6 = '2001:db8:100::7';
const FOREIGN4 = '198.51.100.8';
const FOREIGN6 = '2001:db8:100::8';

let lab: Lab;
const macs: Record<string, string> = {};
const links: Record<string, LabLink> = {};

async function setUpNode(name: string, index: number): Promise<void> {
  await lab.addHost(name);
  links[name] = await lab.connect(name, { ipv4: `192.0.2.${index}/24`, ipv6: `2001:db8:0:1::${index}/64` });
  macs[name] = links[name].mac;
  await acceptVips(lab, name, [VIP4, VIP6]);
  const server = `require('node:http').createServer((q, r) => r.end('${name}')).listen(8080, '::', () => console.log('listening'))`;
  await waitForOutput(lab.spawn(name, [NODE, '-e', server]), /listening/);
}

function startL2(name: string, args: string[]): LabDaemon {
  return lab.spawn(name, [NODE, CLI, '--log-format', 'json', 'l2', ...args]);
}

const arping = (ip: string, ns = 'client', count = 2) =>
  lab.exec(ns, ['arping', '-c', String(count), '-w', '2', '-I', 'eth0', ip], { allowFailure: true });
const ndisc = (ip: string, ns = 'client') =>
  lab.exec(ns, ['ndisc6', '-1', '-r', '2', '-w', '300', ip, 'eth0'], { allowFailure: true });
const curl = (url: string) =>
  lab.exec('client', ['curl', '-gsS', '--max-time', '3', url], { allowFailure: true });
/** Sum of the metric lines matching `pattern` (over all other labels). */
const metric = async (ns: string, port: number, pattern: RegExp): Promise<number> => {
  const { stdout } = await lab.exec(ns, ['curl', '-sS', `http://127.0.0.1:${port}/metrics`]);
  return stdout
    .split('\n')
    .filter((l) => pattern.test(l))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
};

before(async () => {
  lab = await Lab.create('l2ann');
  await lab.addBridge('lan');
  await lab.addBridge('lan2');
  await lab.addHost('client');
  await lab.connect('client', { ipv4: '192.0.2.10/24', ipv6: '2001:db8:0:1::10/64' });
  // The service pool is on-link for the client: it resolves service IPs itself.
  await lab.ip('client', ['route', 'add', '198.51.100.0/24', 'dev', 'eth0']);
  await lab.ip('client', ['-6', 'route', 'add', '2001:db8:100::/120', 'dev', 'eth0']);
  await setUpNode('node1', 11);
  await setUpNode('node2', 12);
  // node1's second interface, on another LAN with its own client: not selected.
  await lab.addHost('client2');
  await lab.connect('client2', { bridge: 'lan2', ipv4: '192.0.2.20/24', ipv6: '2001:db8:0:1::20/64' });
  await lab.connect('node1', { bridge: 'lan2', ifName: 'eth1' });
});
after(() => lab.destroy());

describe('one node announcing IPv4 and IPv6', () => {
  let l2: LabDaemon;
  before(async () => {
    l2 = startL2('node1', [
      '--interface',
      'eth0',
      '--announce',
      `${VIP4},${VIP6}`,
      '--metrics-listen',
      '127.0.0.1:7473',
    ]);
    await waitForOutput(l2, /ready: announcing/);
  });
  after(() => l2.stop());

  test('arping gets replies with the node MAC; the kernel neighbour table resolves the VIP; ping and HTTP reach the node', async () => {
    const result = await arping(VIP4);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(
      result.stdout.toLowerCase(),
      new RegExp(`from ${macs.node1} \\(${VIP4.replaceAll('.', '\\.')}\\)`),
    );
    assert.doesNotMatch(result.stdout.toLowerCase(), new RegExp(macs.node2!));
    await lab.exec('client', ['ping', '-c', '1', '-W', '2', VIP4]);
    assert.equal((await lab.neighbour('client', VIP4))?.mac, macs.node1);
    assert.equal((await curl(`http://${VIP4}:8080/`)).stdout, 'node1');
  });

  test('ndisc6 gets an NA with the node MAC; ip -6 neigh resolves the VIP; ping and HTTP over IPv6', async () => {
    const result = await ndisc(VIP6);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout.toLowerCase(), new RegExp(`target link-layer address: ${macs.node1}`));
    await lab.exec('client', ['ping', '-c', '1', '-W', '2', VIP6]);
    assert.equal((await lab.neighbour('client', VIP6))?.mac, macs.node1);
    assert.equal((await curl(`http://[${VIP6}]:8080/`)).stdout, 'node1');
  });

  test('no answer for IPs it does not own', async () => {
    assert.notEqual((await arping(FOREIGN4)).code, 0);
    assert.notEqual((await ndisc(FOREIGN6)).code, 0);
  });

  test('no answer on an interface that is not selected', async () => {
    assert.notEqual((await arping(VIP4, 'client2')).code, 0);
    assert.notEqual((await ndisc(VIP6, 'client2')).code, 0);
  });

  test('malformed and fuzzed frames are counted and dropped; the responder keeps answering', async () => {
    const injector = lab.spawn('client', [NODE, PROBE, 'eth0'], { stdin: true });
    await waitForOutput(injector, /"event":"ready"/);
    // Sender 192.0.2.250 (nobody): frames claiming a real host's IP would poison node1's neighbour table.
    const arpRequest = `ffffffffffff02f1000000aa0806000108000604000102f1000000aac00002fa000000000000c6336407`;
    const frames: string[] = [
      arpRequest.slice(0, 40), // cut inside the ARP header
      arpRequest.slice(0, 70), // cut inside the addresses
      arpRequest.replace('00010800', '00060800'), // hardware type 6
      arpRequest.replace('0604', '0804'), // hardware address length 8
    ];
    // Seeded mutations of a valid request: deterministic fuzzing.
    let seed = 12345;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    for (let i = 0; i < 300; i++) {
      const bytes = Buffer.from(arpRequest, 'hex');
      for (let j = 0; j < 3; j++) bytes[14 + (random() % 28)] = random() & 0xff;
      frames.push(bytes.subarray(0, 14 + (random() % 29)).toString('hex'));
    }
    // NS for the owned IPv6 address: one with a broken checksum, one with hop limit 64, one cut short.
    const ns = Buffer.from(
      encodeNdpFrame('33:33:ff:00:00:07', '02:f1:00:00:00:aa', {
        type: 'ns',
        source: '2001:db8:0:1::250',
        destination: 'ff02::1:ff00:7',
        hopLimit: 255,
        target: VIP6,
        sourceLinkLayer: '02:f1:00:00:00:aa',
      }),
    );
    const corrupted = Buffer.from(ns);
    corrupted[57] = (corrupted[57] ?? 0) ^ 0xff;
    const lowHopLimit = Buffer.from(ns);
    lowHopLimit[21] = 64;
    frames.push(corrupted.toString('hex'), lowHopLimit.toString('hex'), ns.subarray(0, 70).toString('hex'));
    // Not padded to 60 bytes: veth carries short frames, so truncation really reaches the responder.
    for (const hex of frames) injector.child.stdin?.write(`${JSON.stringify({ send: hex })}\n`);
    await waitFor('all frames sent', () =>
      (injector.output().match(/"event":"sent"/g) ?? []).length >= frames.length ? true : undefined,
    );
    await injector.stop();
    const malformedLine = /^metalbeacon_l2_malformed_dropped_total\{.*interface="eth0"/;
    const malformed = await waitFor('malformed frames counted', async () => {
      const n = await metric('node1', 7473, malformedLine);
      return n >= 4 ? n : undefined;
    });
    const dropped = (reason: string) =>
      metric('node1', 7473, new RegExp(`^metalbeacon_l2_malformed_dropped_total\\{.*reason="${reason}"`));
    const truncated = await dropped('truncated');
    const badHardware = await dropped('bad-hardware-type');
    const badChecksum = await dropped('bad-checksum');
    const badHopLimit = await dropped('bad-hop-limit');
    const counts = `malformed ${malformed}, truncated ${truncated}, bad hw ${badHardware}, bad checksum ${badChecksum}, bad hop limit ${badHopLimit}`;
    assert.ok(truncated >= 3 && badHardware >= 1 && badChecksum === 1 && badHopLimit === 1, counts);
    assert.equal(l2.child.exitCode, null, 'the responder is still running');
    assert.equal((await arping(VIP4)).code, 0);
  });

  test('metrics count requests, responses and gratuitous announcements per IP and interface', async () => {
    const labels = `interface="eth0",ip="${VIP4}"`;
    const requests = await metric(
      'node1',
      7473,
      new RegExp(`^metalbeacon_l2_requests_received_total\\{.*ip="${VIP4}"`),
    );
    const responses = await metric(
      'node1',
      7473,
      new RegExp(`^metalbeacon_l2_responses_sent_total\\{.*ip="${VIP4}"`),
    );
    const gratuitous = await metric(
      'node1',
      7473,
      new RegExp(`^metalbeacon_l2_gratuitous_sent_total\\{.*ip="${VIP6}"`),
    );
    assert.ok(requests >= 2 && responses >= 2, `${labels}: ${requests} requests, ${responses} responses`);
    assert.ok(gratuitous >= 1, `gratuitous NA counted: ${gratuitous}`);
  });

  test('after it stops (withdraw), nobody answers', async () => {
    await l2.stop();
    assert.notEqual((await arping(VIP4)).code, 0);
    assert.notEqual((await ndisc(VIP6)).code, 0);
  });
});

describe('takeover between two nodes', () => {
  test("the client's entries switch to node 2 within the first burst, and traffic follows", async () => {
    await lab.ip('client', ['neigh', 'flush', 'dev', 'eth0']);
    const first = startL2('node1', ['--interface', 'eth0', '--announce', `${VIP4},${VIP6}`]);
    await waitForOutput(first, /ready: announcing/);
    await lab.exec('client', ['ping', '-c', '1', '-W', '2', VIP4]);
    await lab.exec('client', ['ping', '-c', '1', '-W', '2', VIP6]);
    assert.equal((await lab.neighbour('client', VIP4))?.mac, macs.node1);
    assert.equal((await lab.neighbour('client', VIP6))?.mac, macs.node1);
    assert.equal((await curl(`http://${VIP4}:8080/`)).stdout, 'node1');

    const second = startL2('node2', ['--interface', 'eth0', '--announce', `${VIP4},${VIP6}`]);
    await first.stop();
    await waitForOutput(second, /ready: announcing/);
    // The burst lasts 2 s (5 announcements, 500 ms apart) and there is no refresh; on its own
    // the client would keep its REACHABLE entry for node1 for tens of seconds (reachable time,
    // then NUD probes). So a switch seen within 4 s (2 s + slack for polling on a loaded
    // machine) can only come from the burst.
    for (const vip of [VIP4, VIP6]) {
      await waitFor(
        `client entry for ${vip} → node2`,
        async () => ((await lab.neighbour('client', vip))?.mac === macs.node2 ? true : undefined),
        { timeoutMs: 4000 },
      );
    }
    assert.equal((await curl(`http://${VIP4}:8080/`)).stdout, 'node2');
    assert.equal((await curl(`http://[${VIP6}]:8080/`)).stdout, 'node2');
    await second.stop();
  });
});
