import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { Lab, type LabDaemon, waitForOutput } from '../../lab/netns.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import { asNobody, CLI, l2Command, NODE } from '../support/commands.ts';

// The announcer API (withdraw stops answering at once; interfaces appearing later are
// picked up), capabilities, the kernel-ARP (strictARP) check, and a 10 s ARP flood.
const DRIVER = new URL('./fixtures/announcer-driver.ts', import.meta.url).pathname;
const FLOOD = new URL('./fixtures/flood.ts', import.meta.url).pathname;
const VIP4 = '198.51.100.17';
const VIP4B = '198.51.100.18';
const VIP6 = '2001:db8:100::17';

let lab: Lab;
let nodeMac = '';

before(async () => {
  lab = await Lab.create('l2rob');
  await lab.addBridge('lan');
  await lab.addHost('client');
  await lab.addHost('client2');
  await lab.addHost('node');
  await lab.connect('client', { ipv4: '192.0.2.30/24', ipv6: '2001:db8:0:1::30/64' });
  await lab.connect('client2', { ipv4: '192.0.2.31/24', ipv6: '2001:db8:0:1::31/64' });
  nodeMac = (await lab.connect('node', { ipv4: '192.0.2.32/24', ipv6: '2001:db8:0:1::32/64' })).mac;
  for (const client of ['client', 'client2'])
    await lab.ip(client, ['route', 'add', '198.51.100.0/24', 'dev', 'eth0']);
});
after(() => lab.destroy());

const arping = (ip: string, count = 2, ns = 'client') =>
  lab.exec(ns, ['arping', '-c', String(count), '-w', '2', '-I', 'eth0', ip], { allowFailure: true });
const ndisc = (ip: string) =>
  lab.exec('client', ['ndisc6', '-1', '-r', '2', '-w', '300', ip, 'eth0'], { allowFailure: true });

describe('announcer API', () => {
  let driver: LabDaemon;
  let sent = 0;
  const run = async (command: object) => {
    sent++;
    driver.child.stdin?.write(`${JSON.stringify(command)}\n`);
    await waitForOutput(driver, new RegExp(`"done":${sent}}`));
    const line = driver
      .output()
      .split('\n')
      .find((l) => l.includes(`"done":${sent}}`));
    assert.doesNotMatch(line ?? '', /"error"/);
  };
  before(async () => {
    driver = lab.spawn('node', [NODE, DRIVER], { stdin: true });
    await waitForOutput(driver, /"ready":true/);
  });
  after(() => driver.stop());

  test('withdraw(ip) stops answering for that IP as soon as it resolves; others are still answered', async () => {
    await run({ op: 'announce', ip: VIP4 });
    await run({ op: 'announce', ip: VIP4B });
    await run({ op: 'announce', ip: VIP6 });
    assert.equal((await arping(VIP4, 1)).code, 0);
    assert.equal((await ndisc(VIP6)).code, 0);
    await run({ op: 'withdraw', ip: VIP4 });
    await run({ op: 'withdraw', ip: VIP6 });
    assert.notEqual((await arping(VIP4)).code, 0);
    assert.notEqual((await ndisc(VIP6)).code, 0);
    const still = await arping(VIP4B, 1);
    assert.equal(still.code, 0);
    assert.match(still.stdout, new RegExp(nodeMac));
    await run({ op: 'withdraw', ip: VIP4B });
  });

  test('an interface that appears later is announced on (rescan), with a burst the client sees', async () => {
    await run({ op: 'announce', ip: VIP4, interfaces: ['eth1'] });
    assert.notEqual((await arping(VIP4, 1)).code, 0, 'eth0 is not selected');
    // client2 gets a second link; node gets eth1 on the same LAN.
    await lab.ip('client2', [
      'neigh',
      'replace',
      VIP4,
      'lladdr',
      '02:00:00:00:00:99',
      'dev',
      'eth0',
      'nud',
      'stale',
    ]);
    const eth1 = await lab.connect('node', { ifName: 'eth1' });
    // The gratuitous burst after the rescan updates client2's existing (stale) entry.
    await waitFor('client2 entry → node eth1', async () =>
      (await lab.neighbour('client2', VIP4))?.mac === eth1.mac ? true : undefined,
    );
    await run({ op: 'withdraw', ip: VIP4 });
  });
});

describe('capabilities', () => {
  test('as nobody without CAP_NET_RAW: one clear error naming the capability, exit 1', async () => {
    const denied = lab.spawn('node', [...asNobody(), NODE, CLI, 'l2', '--announce', VIP4]);
    const { code } = await denied.exited;
    assert.equal(code, 1);
    assert.match(denied.output(), /^error: .*CAP_NET_RAW/m);
    assert.match(denied.output(), /^hint: .*NET_RAW/m);
    assert.doesNotMatch(denied.output(), /\n\s+at /, 'no stack trace');
  });

  test('as nobody with only CAP_NET_RAW: it announces and answers', async () => {
    const allowed = lab.spawn('node', [...asNobody('net_raw'), ...l2Command('--announce', VIP4)]);
    await waitForOutput(allowed, /ready: announcing/);
    const result = await arping(VIP4, 1);
    assert.equal(result.code, 0, allowed.output());
    const { code } = await allowed.stop();
    assert.equal(code, 0, 'SIGTERM ends it cleanly');
  });
});

describe('kernel answering ARP for a local service IP (strictARP)', () => {
  before(async () => {
    await lab.ip('node', ['route', 'add', 'local', `${VIP4}/32`, 'dev', 'lo']);
    await lab.exec('node', [
      'sysctl',
      '-qw',
      'net.ipv4.conf.all.arp_ignore=0',
      'net.ipv4.conf.eth0.arp_ignore=0',
    ]);
  });
  after(async () => {
    await lab.ip('node', ['route', 'del', 'local', `${VIP4}/32`, 'dev', 'lo']);
  });

  test('the kernel answers too, and the tool says so', async () => {
    const l2 = lab.spawn('node', l2Command('--interface', 'eth0', '--announce', VIP4));
    await waitForOutput(l2, /ready: announcing/);
    assert.match(
      l2.output(),
      /the kernel also answers ARP for this IP.*"interfaces":"eth0"|"interfaces":"eth0".*the kernel also answers ARP/,
    );
    await l2.stop();
    // With the responder gone the kernel still answers: the situation the warning is about.
    assert.equal((await arping(VIP4, 1)).code, 0);
  });

  test('--set-arp-sysctls sets arp_ignore=1 / arp_announce=2, and then only the responder answers', async () => {
    const l2 = lab.spawn('node', l2Command('--interface', 'eth0', '--announce', VIP4, '--set-arp-sysctls'));
    await waitForOutput(l2, /ready: announcing/);
    assert.match(l2.output(), /set net\.ipv4\.conf\.all\.arp_ignore=1/);
    const ignore = await lab.exec('node', ['sysctl', '-n', 'net.ipv4.conf.all.arp_ignore']);
    const announce = await lab.exec('node', ['sysctl', '-n', 'net.ipv4.conf.all.arp_announce']);
    assert.equal(ignore.stdout.trim(), '1');
    assert.equal(announce.stdout.trim(), '2');
    await l2.stop();
    assert.notEqual((await arping(VIP4)).code, 0, 'the kernel no longer answers');
  });
});

describe('ARP flood', () => {
  test('10 s flood of owned and foreign requests: the responder stays up, memory flat, owned IPs still answered', async (t) => {
    const l2 = lab.spawn('node', [
      ...l2Command('--interface', 'eth0', '--announce', VIP4),
      '--metrics-listen',
      '127.0.0.1:7474',
    ]);
    await waitForOutput(l2, /ready: announcing/);
    const rssKb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${l2.pid}/status`, 'utf8'))?.[1]);
    // Unicast to the node (as kernels send ARP probes): the whole storm reaches the responder,
    // without also drowning the other hosts' receive queues, which would test the bridge instead.
    const flood = lab.spawn('client', [
      NODE,
      FLOOD,
      'eth0',
      '10',
      nodeMac,
      VIP4,
      '198.51.100.200',
      '198.51.100.201',
    ]);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const rssEarly = rssKb();
    // A legitimate client (its own MAC, its own rate bucket) keeps asking during the flood.
    // The node's own address, answered by its kernel, is the anchor: what the stack carries.
    const ask = (ns: string, ip: string) =>
      lab.exec(ns, ['arping', '-c', '40', '-W', '0.15', '-w', '8', '-I', 'eth0', ip], { allowFailure: true });
    const counts = (stdout: string) => ({
      sent: Number(/(\d+) packets transmitted/.exec(stdout)?.[1] ?? 0),
      received: Number(/(\d+) packets received/.exec(stdout)?.[1] ?? 0),
    });
    const [during, kernel] = (await Promise.all([ask('client2', VIP4), ask('client', '192.0.2.32')])).map(
      (r) => counts(r.stdout),
    ) as [{ sent: number; received: number }, { sent: number; received: number }];
    await flood.exited;
    const rssLate = rssKb();
    const floodStats = JSON.parse(flood.output().trim().split('\n').at(-1) ?? '{}') as { sent?: number };
    const received = during.received;
    const { stdout: metrics } = await lab.exec('node', ['curl', '-sS', 'http://127.0.0.1:7474/metrics']);
    const value = (name: string) =>
      metrics
        .split('\n')
        .filter((l) => l.startsWith(`metalbeacon_l2_${name}_total{`) && l.includes(`ip="${VIP4}"`))
        .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
    const diagnostics =
      `flood sent ${floodStats.sent}; legit client answered ${during.received}/${during.sent} ` +
      `(the kernel for its own address, same flood: ${kernel.received}/${kernel.sent}); ` +
      `RSS ${rssEarly} → ${rssLate} kB; requests ${value('requests_received')}, ` +
      `responses ${value('responses_sent')}, rate-limited ${value('rate_limited')}`;
    t.diagnostic(diagnostics);
    assert.ok((floodStats.sent ?? 0) > 100_000, diagnostics);
    assert.equal(l2.child.exitCode, null, `the responder is still running; ${diagnostics}`);
    // Most of a legitimate client's requests are answered while the storm goes on (the
    // kernel answering its own address in the same storm is printed alongside).
    assert.ok(during.sent >= 30 && received >= during.sent / 2, `owned IP still answered; ${diagnostics}`);
    assert.ok(rssLate - rssEarly < 50_000, `memory flat (< 50 MB growth); ${diagnostics}`);
    assert.ok(value('rate_limited') > 0, `per-requester limit engaged; ${diagnostics}`);
    assert.equal((await arping(VIP4, 1, 'client2')).code, 0, 'answers after the flood');
    await l2.stop();
  });
});
