import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type CoreV1Event, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { type Lab, type LabDaemon, waitForOutput } from '../../lab/netns.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import {
  type Bed,
  createCr,
  createService,
  GROUP,
  listCrs,
  metricValue,
  type NodeLab,
  NS,
  setEndpoints,
  spawnSpeaker,
  startNodeLab,
  VERSION,
} from './harness.ts';

// The speaker cannot do what its plan asks, for two causes a real deployment meets:
// - L2: it runs without CAP_NET_RAW (a DaemonSet missing the capability), so the packet socket
//   on the L2Advertisement's interface cannot be opened;
// - BGP: its node is IPv6-only and the BGPPeer sets no routerID, so no BGP identifier exists.
// Each Service gets one Warning `announceFailed` per cause naming the node and the cause, not
// one per retry; while a cause lasts, nothing says the node announces what failed (no
// nodeAssigned, no ServiceL2Status / ServiceBGPStatus). Once the BGP cause is fixed, both
// appear; when it comes back, a new announceFailed is posted. `web` is in L2 and BGP, `api` in
// BGP only: web's BGP cause clearing and coming back does not repeat its lasting L2 one. Nothing leaves the
// node namespace: no packet socket opens and no session starts until the routerID is set (then
// it tries a documentation address on the lab's own bridge).

const NODE_IP = '2001:db8:0:1::11';
const L2_VIP = '2001:db8:100::7';
const BGP_VIP = '2001:db8:100::17';
const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
let nodes: NodeLab | undefined;
let lab: Lab;
let bed: Bed;
let speaker: LabDaemon | undefined;

before(async () => {
  nodes = await startNodeLab('spkaf');
  ({ lab, bed } = nodes);
  await nodes.addNode('node1', { ipv6: `${NODE_IP}/64` }, NODE_IP); // no IPv4 address at all
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
  await createCr(bed, 'BGPAdvertisement', 'bgpadvertisements', 'ads', {
    ipAddressPools: ['bgppool', 'l2pool'],
  });
  await createService(bed, 'web', [L2_VIP]);
  await setEndpoints(bed, 'web', ['node1']);
  await createService(bed, 'api', [BGP_VIP]);
  await setEndpoints(bed, 'api', ['node1']);
  // What an earlier run of this speaker left behind: the first status sync deletes it, after
  // writing (or not) the L2 and BGP status objects of the plan it follows.
  await bed.custom.createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace: NS,
    plural: 'bgpsessionstates',
    body: {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'BGPSessionState',
      metadata: { name: 'node1.gone', labels: { 'metalbeacon.io/node': 'node1' } },
    },
  });
});

after(async () => {
  await speaker?.stop();
  await nodes?.close();
});

async function eventsOf(service: string, reason: string): Promise<CoreV1Event[]> {
  const list = await bed.core.listNamespacedEvent({ namespace: 'default' });
  return list.items
    .filter((e) => e.involvedObject.name === service && e.reason === reason)
    .sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
}
const announceFailed = (service: string) => eventsOf(service, 'announceFailed');
const messages = async (service: string, reason: string) =>
  (await eventsOf(service, reason)).map((e) => e.message ?? '');

/** Service name -> peers (BGP) or interfaces (L2) of this node's status objects. */
async function statuses(
  plural: 'servicel2statuses' | 'servicebgpstatuses',
): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const o of await listCrs(bed, plural)) {
    if (o.metadata.labels?.['metalbeacon.io/node'] !== 'node1') continue;
    out[String(o.status?.serviceName)] =
      plural === 'servicel2statuses' ? o.status?.interfaces : o.status?.peers;
  }
  return out;
}

async function setRouterId(routerID: string | null): Promise<void> {
  await bed.custom.patchNamespacedCustomObject(
    {
      group: GROUP,
      version: VERSION,
      namespace: NS,
      plural: 'bgppeers',
      name: 'router',
      body: { spec: { routerID } },
    },
    MERGE,
  );
}

const sessionStateNames = async () => (await listCrs(bed, 'bgpsessionstates')).map((o) => o.metadata.name);
const BGP_CAUSE = 'no IPv4 address on this node for the BGP router ID; set spec.routerID';

async function failures(): Promise<{ layer2: number; bgp: number }> {
  const text = (await lab.exec('node1', ['curl', '-sf', 'http://127.0.0.1:7473/metrics'])).stdout;
  const name = 'metalbeacon_speaker_announce_failures_total';
  return {
    layer2: metricValue(text, name, { protocol: 'layer2' }),
    bgp: metricValue(text, name, { protocol: 'bgp' }),
  };
}

test('L2 without CAP_NET_RAW and BGP without a router ID: one announceFailed per Service and cause, not repeated while the cause stays; no nodeAssigned or status object for what failed; a cause coming back is posted again', async () => {
  speaker = spawnSpeaker(
    lab,
    'node1',
    nodes!.kubeconfig,
    [
      ...['--membership-bind-address', NODE_IP, '--bgp-listen-port', '0'],
      ...['--handover-ms', '100', '--bgp-shutdown-drain', '0'],
    ],
    // Drops CAP_NET_RAW from the bounding set: root keeps every other capability.
    ['setpriv', '--inh-caps=-net_raw', '--bounding-set=-net_raw'],
  );
  await waitForOutput(speaker, /"msg":"speaker ready"/, 20_000);

  const [bgpWebEvent, l2Event] = await waitFor('both causes on web', async () => {
    const events = await announceFailed('web');
    return events.length === 2
      ? events.sort((a, b) => (a.message ?? '').localeCompare(b.message ?? ''))
      : undefined;
  });
  assert.equal(bgpWebEvent?.message, `bgp to router on node1: ${BGP_CAUSE}`);
  assert.equal(l2Event?.type, 'Warning');
  assert.match(
    l2Event?.message ?? '',
    /^layer2 on node1: cannot announce 2001:db8:100::7: eth0: .*Operation not permitted.*CAP_NET_RAW/,
  );
  const [bgpEvent] = await waitFor('announceFailed on api', async () => {
    const events = await announceFailed('api');
    return events.length > 0 ? events : undefined;
  });
  assert.equal(bgpEvent?.type, 'Warning');
  assert.equal(bgpEvent?.message, `bgp to router on node1: ${BGP_CAUSE}`);
  const web = await bed.core.readNamespacedService({ name: 'web', namespace: 'default' });
  assert.equal(l2Event?.involvedObject.uid, web.metadata?.uid);
  assert.equal(l2Event?.source?.component, 'metalbeacon-speaker');

  // Nothing claims this node announces what failed. The leftover session state going proves a
  // status sync ran after a failing plan (it deletes only after writing the status objects).
  await waitFor('the leftover BGPSessionState deleted', async () =>
    (await sessionStateNames()).includes('node1.gone') ? undefined : true,
  );
  assert.deepEqual(await statuses('servicel2statuses'), {});
  assert.deepEqual(await statuses('servicebgpstatuses'), {});

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
    seen = await waitFor(`retry ${i + 1} counted`, async () => {
      const now = await failures();
      return now.layer2 > previous.layer2 && now.bgp > previous.bgp ? now : undefined;
    });
  }
  assert.ok(speaker.output().includes('"msg":"L2: cannot announce; retrying in 5 s"'));
  // Several failing plans later: still no nodeAssigned, no status object.
  for (const service of ['web', 'api'])
    assert.deepEqual(await messages(service, 'nodeAssigned'), [], `no nodeAssigned on ${service}`);
  assert.deepEqual(await statuses('servicel2statuses'), {});
  assert.deepEqual(await statuses('servicebgpstatuses'), {});

  // The BGP cause is fixed: the session starts (its state object appears), and what it
  // announces gets its nodeAssigned and its ServiceBGPStatus; L2 still fails (web has no
  // ServiceL2Status, and its nodeAssigned names BGP only).
  await setRouterId('192.0.2.11');
  await waitFor('the BGP session runs', async () =>
    (await sessionStateNames()).includes('node1.router') ? true : undefined,
  );
  assert.deepEqual(
    await waitFor('ServiceBGPStatus for api and web', async () => {
      const now = await statuses('servicebgpstatuses');
      return Object.keys(now).length === 2 ? now : undefined;
    }),
    { api: ['router'], web: ['router'] },
  );
  for (const service of ['api', 'web']) {
    assert.deepEqual(
      await waitFor(`nodeAssigned on ${service}`, async () => {
        const list = await messages(service, 'nodeAssigned');
        return list.length > 0 ? list : undefined;
      }),
      [`announcing from node node1: bgp ${service === 'api' ? BGP_VIP : L2_VIP}/128 to router`],
    );
  }
  assert.deepEqual(await statuses('servicel2statuses'), {});

  // The cause comes back: without routerID the changed BGPPeer restarts its session, which
  // cannot start again. A new announceFailed on each Service it carries; the session state and
  // the ServiceBGPStatus go.
  await setRouterId(null);
  for (const service of ['api', 'web']) {
    await waitFor(`a second BGP announceFailed on ${service}`, async () => {
      const list = await messages(service, 'announceFailed');
      return list.filter((m) => m === `bgp to router on node1: ${BGP_CAUSE}`).length === 2 ? true : undefined;
    });
  }
  await waitFor('the ServiceBGPStatus objects deleted', async () =>
    Object.keys(await statuses('servicebgpstatuses')).length === 0 ? true : undefined,
  );
  await waitFor('the session state deleted', async () =>
    (await sessionStateNames()).includes('node1.router') ? undefined : true,
  );

  // SIGTERM posts what is still queued before exiting: then count.
  const exit = await speaker.stop(10_000);
  speaker = undefined;
  assert.deepEqual(exit, { code: 0, signal: null });
  const bgpFailed = `bgp to router on node1: ${BGP_CAUSE}`;
  assert.deepEqual(
    await messages('api', 'announceFailed'),
    [bgpFailed, bgpFailed],
    'the cause came back once',
  );
  // web: its L2 cause lasted throughout and was posted once; its BGP cause twice.
  const webFailed = await messages('web', 'announceFailed');
  assert.equal(
    webFailed.filter((m) => m.startsWith('layer2 on node1: ')).length,
    1,
    JSON.stringify(webFailed),
  );
  assert.equal(webFailed.filter((m) => m === bgpFailed).length, 2, JSON.stringify(webFailed));
  assert.equal(webFailed.length, 3);
  assert.equal((await messages('api', 'nodeAssigned')).length, 1);
  assert.equal((await messages('web', 'nodeAssigned')).length, 1);
});
