import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Lab, type LabDaemon, waitForOutput } from '../../lab/netns.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import {
  type Bed,
  createCr,
  createService,
  listCrs,
  metricValue,
  type NodeLab,
  setEndpoints,
  spawnSpeaker,
  startNodeLab,
} from './harness.ts';

// `metalbeacon speaker` with L2 inside a node namespace (as the lab runs it), reaching the
// embedded API server through a unix-socket forwarder: a client namespace's arping gets the
// node's MAC for the assigned VIP, and no answer once the Service loses its endpoints; the
// speaker's L2 counters (requests received, replies, gratuitous ARP) follow on /metrics. Then
// SIGTERM: exit 0 and the node's status object deleted. Documentation addresses only.

const VIP = '198.51.100.7';
let nodes: NodeLab | undefined;
let lab: Lab;
let bed: Bed;
let speaker: LabDaemon | undefined;

before(async () => {
  nodes = await startNodeLab('spkl2');
  ({ lab, bed } = nodes);
  await lab.addHost('client');
  await lab.connect('client', { ipv4: '192.0.2.100/24' });
  await nodes.addNode('node1', { ipv4: '192.0.2.11/24' }, '192.0.2.11');
  await createCr(bed, 'IPAddressPool', 'ipaddresspools', 'pool', { addresses: ['198.51.100.0/28'] });
  await createCr(bed, 'L2Advertisement', 'l2advertisements', 'lan', { interfaces: ['eth0'] });
  await createService(bed, 'web', [VIP]);
  await setEndpoints(bed, 'web', ['node1']);
});

after(async () => {
  await speaker?.stop();
  await nodes?.close();
});

const ON_ETH0 = { ip: VIP, interface: 'eth0' };

/** The speaker's /metrics, read inside node1. */
async function scrape(): Promise<string> {
  return (await lab.exec('node1', ['curl', '-sf', 'http://127.0.0.1:7473/metrics'])).stdout;
}

async function arping(): Promise<string | undefined> {
  const r = await lab.exec('client', ['arping', '-c', '1', '-w', '1', '-I', 'eth0', VIP], {
    allowFailure: true,
  });
  if (r.code !== 0) return undefined;
  return (
    /\[([0-9a-f:]{17})\]/i.exec(r.stdout)?.[1]?.toLowerCase() ?? /from ([0-9a-f:]{17})/i.exec(r.stdout)?.[1]
  );
}

test('answers arping for the assigned VIP with its MAC, stops when the Service loses its endpoints, SIGTERM exits 0 and cleans up', async () => {
  speaker = spawnSpeaker(lab, 'node1', nodes!.kubeconfig, [
    ...['--membership-bind-address', '192.0.2.11', '--bgp-listen-port', '0'],
    ...['--handover-ms', '100', '--bgp-shutdown-drain', '0'],
  ]);
  await waitForOutput(speaker, /"msg":"speaker ready"/, 20_000);
  const mac = await lab.mac('node1', 'eth0');
  const answered = await waitFor('an ARP reply for the VIP', () => arping(), { timeoutMs: 10_000 });
  assert.equal(answered, mac);
  const status = await waitFor('the ServiceL2Status of node1', async () => {
    const items = await listCrs(bed, 'servicel2statuses');
    return items[0];
  });
  assert.deepEqual(status.status?.interfaces, [{ name: 'eth0' }]);
  // The L2 worker's counters reach /metrics, per IP and interface.
  const metrics = await scrape();
  assert.match(
    metrics,
    new RegExp(`metalbeacon_l2_responses_sent_total\\{ip="${VIP.replaceAll('.', '\\.')}"`),
  );
  assert.match(metrics, /metalbeacon_speaker_announced_services\{protocol="layer2"\} 1/);
  const gratuitous = metricValue(metrics, 'metalbeacon_l2_gratuitous_sent_total', ON_ETH0);
  assert.ok(gratuitous > 0, `the takeover burst is counted: ${gratuitous}`);
  // The arpings answered so far were counted as received; one more adds to both counters.
  const received = metricValue(metrics, 'metalbeacon_l2_requests_received_total', ON_ETH0);
  const replied = metricValue(metrics, 'metalbeacon_l2_responses_sent_total', ON_ETH0);
  assert.ok(received >= 1 && replied >= 1, `received ${received}, replied ${replied}`);
  assert.equal(await arping(), mac);
  await waitFor('the next request and reply counted', async () => {
    const text = await scrape();
    return metricValue(text, 'metalbeacon_l2_requests_received_total', ON_ETH0) > received &&
      metricValue(text, 'metalbeacon_l2_responses_sent_total', ON_ETH0) > replied
      ? true
      : undefined;
  });
  const readyz = await lab.exec('node1', ['curl', '-sf', 'http://127.0.0.1:7473/readyz']);
  assert.equal(readyz.stdout.trim(), 'ok');
  const healthz = await lab.exec('node1', [
    ...['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}'],
    'http://127.0.0.1:7473/healthz',
  ]);
  assert.equal(healthz.stdout, '200');

  await setEndpoints(bed, 'web', []);
  await waitFor('no more ARP replies', async () => ((await arping()) === undefined ? true : undefined), {
    timeoutMs: 10_000,
  });
  assert.deepEqual(await listCrs(bed, 'servicel2statuses'), []);

  const gratuitousBefore = metricValue(await scrape(), 'metalbeacon_l2_gratuitous_sent_total', ON_ETH0);
  await setEndpoints(bed, 'web', ['node1']);
  await waitFor('ARP replies again', () => arping(), { timeoutMs: 10_000 });
  // Announcing again is a takeover: a fresh gratuitous burst, counted on the same series.
  await waitFor('a fresh gratuitous burst counted', async () =>
    metricValue(await scrape(), 'metalbeacon_l2_gratuitous_sent_total', ON_ETH0) > gratuitousBefore
      ? true
      : undefined,
  );
  await waitFor('the status object again', async () => (await listCrs(bed, 'servicel2statuses'))[0]);
  const exit = await speaker.stop(10_000);
  speaker = undefined;
  assert.deepEqual(exit, { code: 0, signal: null });
  assert.deepEqual(await listCrs(bed, 'servicel2statuses'), []);
  assert.equal(await arping(), undefined);
});
