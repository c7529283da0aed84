import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type CoreV1Event, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { Lab, type LabDaemon, waitForOutput } from '../lab/netns.ts';
import {
  apiRelay,
  type Bed,
  createCr,
  createNode,
  createService,
  createSpeakerPod,
  eventually,
  GROUP,
  listCrs,
  metricValue,
  NS,
  setEndpoints,
  spawnSpeaker,
  startBed,
  VERSION,
} from './harness.ts';

// The speaker cannot do what its plan asks, for two causes a real deployment meets:
// - L2: it runs without CAP_NET_RAW (a DaemonSet missing the capability), so the packet socket
//   on the L2Advertisement's interface cannot be opened;
// - BGP: its node is IPv6-only and the BGPPeer sets no routerID, so no BGP identifier exists.
// Each Service gets one Warning `announceFailed` naming the node and the cause, not one per
// retry. Nothing leaves the node namespace: no packet socket opens and no session starts until
// the routerID is set (then it tries a documentation address on the lab's own bridge).

const NODE_IP = '2001:db8:0:1::11';
const L2_VIP = '2001:db8:100::7';
const BGP_VIP = '2001:db8:100::17';
const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const dir = mkdtempSync(join(tmpdir(), 'mb-speaker-af-'));
let lab: Lab;
let bed: Bed;
let relay: Awaited<ReturnType<typeof apiRelay>> | undefined;
let speaker: LabDaemon | undefined;

before(async () => {
  bed = await startBed();
  lab = await Lab.create('spkaf');
  await lab.addBridge();
  await lab.addHost('node1');
  await lab.connect('node1', { ipv6: `${NODE_IP}/64` }); // no IPv4 address at all
  relay = await apiRelay(bed, dir);
  await relay.into(lab, 'node1');
  await createNode(bed, 'node1', NODE_IP);
  await createSpeakerPod(bed, 'node1', NODE_IP);
  await createCr(bed, 'IPAddressPool', 'ipaddresspools', 'l2pool', { addresses: ['2001:db8:100::/124'] });
  await createCr(bed, 'IPAddressPool', 'ipaddresspools', 'bgppool', { addresses: ['2001:db8:100::10/124'] });
  await createCr(bed, 'L2Advertisement', 'l2advertisements', 'lan', {
    ipAddressPools: ['l2pool'],
    interfaces: ['eth0'],
  });
  await createCr(bed, 'BGPPeer', 'bgppeers', 'router', {
    myASN: 65001,
    peerASN: 65000,
    peerAddress: '2001:db8:0:1::1',
  });
  await createCr(bed, 'BGPAdvertisement', 'bgpadvertisements', 'ads', { ipAddressPools: ['bgppool'] });
  await createService(bed, 'web', [L2_VIP]);
  await setEndpoints(bed, 'web', ['node1']);
  await createService(bed, 'api', [BGP_VIP]);
  await setEndpoints(bed, 'api', ['node1']);
});

after(async () => {
  await speaker?.stop();
  await lab?.destroy();
  await relay?.close();
  await bed?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function announceFailed(service: string): Promise<CoreV1Event[]> {
  const list = await bed.core.listNamespacedEvent({ namespace: 'default' });
  return list.items.filter((e) => e.involvedObject.name === service && e.reason === 'announceFailed');
}

async function failures(): Promise<{ layer2: number; bgp: number }> {
  const text = (await lab.exec('node1', ['curl', '-sf', 'http://127.0.0.1:7473/metrics'])).stdout;
  const name = 'metalbeacon_speaker_announce_failures_total';
  return {
    layer2: metricValue(text, name, { protocol: 'layer2' }),
    bgp: metricValue(text, name, { protocol: 'bgp' }),
  };
}

test('L2 without CAP_NET_RAW and BGP without a router ID: one announceFailed per Service naming node and cause, not repeated while the cause stays', async () => {
  speaker = spawnSpeaker(
    lab,
    'node1',
    relay!.kubeconfig,
    [
      ...['--membership-bind-address', NODE_IP, '--bgp-listen-port', '0'],
      ...['--handover-ms', '100', '--bgp-shutdown-drain', '0'],
    ],
    // Drops CAP_NET_RAW from the bounding set: root keeps every other capability.
    ['setpriv', '--inh-caps=-net_raw', '--bounding-set=-net_raw'],
  );
  await waitForOutput(speaker, /"msg":"speaker ready"/, 20_000);

  const [l2Event] = await eventually('announceFailed on web', async () => {
    const events = await announceFailed('web');
    return events.length > 0 ? events : undefined;
  });
  assert.equal(l2Event?.type, 'Warning');
  assert.match(
    l2Event?.message ?? '',
    /^layer2 on node1: cannot announce 2001:db8:100::7: eth0: .*Operation not permitted.*CAP_NET_RAW/,
  );
  const [bgpEvent] = await eventually('announceFailed on api', async () => {
    const events = await announceFailed('api');
    return events.length > 0 ? events : undefined;
  });
  assert.equal(bgpEvent?.type, 'Warning');
  assert.equal(
    bgpEvent?.message,
    'bgp to router on node1: no IPv4 address on this node for the BGP router ID; set spec.routerID',
  );
  const web = await bed.core.readNamespacedService({ name: 'web', namespace: 'default' });
  assert.equal(l2Event?.involvedObject.uid, web.metadata?.uid);
  assert.equal(l2Event?.source?.component, 'metalbeacon-speaker');

  // Several retries with the same causes (a change to the Service replans at once, besides the
  // speaker's own retry): each is counted, none posts another event.
  const first = await failures();
  assert.ok(first.layer2 >= 1 && first.bgp >= 1, JSON.stringify(first));
  let seen = first;
  for (let i = 0; i < 3; i++) {
    await bed.core.patchNamespacedService(
      { name: 'web', namespace: 'default', body: { metadata: { annotations: { 'test/touch': String(i) } } } },
      MERGE,
    );
    const previous = seen;
    seen = await eventually(`retry ${i + 1} counted`, async () => {
      const now = await failures();
      return now.layer2 > previous.layer2 && now.bgp > previous.bgp ? now : undefined;
    });
  }
  assert.ok(speaker.output().includes('"msg":"L2: cannot announce; retrying in 5 s"'));

  // The BGP cause is fixed: the session starts (its state object appears) and stops failing.
  await bed.custom.patchNamespacedCustomObject(
    {
      group: GROUP,
      version: VERSION,
      namespace: NS,
      plural: 'bgppeers',
      name: 'router',
      body: { spec: { routerID: '192.0.2.11' } },
    },
    MERGE,
  );
  await eventually('the BGP session runs', async () =>
    (await listCrs(bed, 'bgpsessionstates')).some((o) => o.metadata.name === 'node1.router')
      ? true
      : undefined,
  );

  // SIGTERM posts what is still queued before exiting: then count.
  const exit = await speaker.stop(10_000);
  speaker = undefined;
  assert.deepEqual(exit, { code: 0, signal: null });
  assert.equal((await announceFailed('web')).length, 1, 'one announceFailed on web');
  assert.equal((await announceFailed('api')).length, 1, 'one announceFailed on api');
});
