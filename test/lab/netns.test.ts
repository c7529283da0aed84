import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Lab, type LabLink, listNamespaces, waitForOutput } from '../../lab/netns.ts';
import { startLan } from '../support/lan.ts';

// The lab library itself: two hosts on one bridge reach each other over IPv4 and IPv6,
// daemons are children we stop by PID, and nothing is left behind.
let lab: Lab;
let linkB: LabLink;
before(async () => {
  ({
    lab,
    links: { b: linkB },
  } = await startLan('labself', {
    a: { ipv4: '192.0.2.1/24', ipv6: '2001:db8:0:1::1/64' },
    b: { ipv4: '192.0.2.2/24', ipv6: '2001:db8:0:1::2/64' },
  }));
});
after(() => lab.destroy());

test('hosts on the bridge ping each other over IPv4 and IPv6', async () => {
  const v4 = await lab.exec('a', ['ping', '-c', '1', '-W', '2', '192.0.2.2']);
  assert.match(v4.stdout, /1 received/);
  const v6 = await lab.exec('b', ['ping', '-c', '1', '-W', '2', '2001:db8:0:1::1']);
  assert.match(v6.stdout, /1 received/);
  const neighbour = await lab.neighbour('a', '192.0.2.2');
  assert.equal(neighbour?.mac, await lab.mac('b', 'eth0'));
});

test('a cut link stops traffic and keeps the IPv6 address; restoring it brings traffic back', async () => {
  const link = linkB;
  await lab.cutLink(link);
  const cut = await lab.exec('a', ['ping', '-c', '1', '-W', '1', '192.0.2.2'], { allowFailure: true });
  assert.notEqual(cut.code, 0);
  const addrs = await lab.ip('b', ['-6', 'addr', 'show', 'dev', 'eth0']);
  assert.match(addrs.stdout, /2001:db8:0:1::2\/64/);
  await lab.restoreLink(link);
  const back = await lab.exec('a', ['ping', '-c', '1', '-W', '2', '2001:db8:0:1::2']);
  assert.match(back.stdout, /1 received/);
});

test('a daemon runs inside its namespace as our child and stops by PID', async () => {
  const daemon = lab.spawn('a', ['sh', '-c', 'ip -o addr show dev eth0; echo ready; exec sleep 60']);
  await waitForOutput(daemon, /ready/);
  assert.match(daemon.output(), /192\.0\.2\.1\/24/);
  const pids = await lab.exec('a', ['ip', 'netns', 'pids', lab.ns('a')], { allowFailure: true });
  assert.ok(pids.stdout.split('\n').includes(String(daemon.pid)), 'the spawned PID is the daemon itself');
  const result = await daemon.stop();
  assert.equal(result.signal, 'SIGTERM');
});

test('destroy removes every namespace and a new lab cleans stale ones of its prefix', async () => {
  const stale = await Lab.create('labstale');
  await stale.addHost('x');
  // Simulate a crashed run: a second create with the same prefix must remove "x".
  const fresh = await Lab.create('labstale');
  assert.deepEqual(await listNamespaces('labstale'), []);
  await fresh.destroy();
  await stale.destroy();
});
