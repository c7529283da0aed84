import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, test } from 'node:test';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import { startProxy } from '../controller/proxy.ts';
import { freePort } from '../support/free-port.ts';
import {
  type Bed,
  createCr,
  createNode,
  createService,
  createSpeakerPod,
  listCrs,
  NS,
  setEndpoints,
  startBed,
} from './harness.ts';

// One speaker (node-a, a one-node cluster) against the embedded API server through the real
// client: configuration and Services in, ServiceL2Status / ServiceBGPStatus / BGPSessionState out.
// L2 uses no interface (nothing leaves loopback); the BGP peer is a closed port on loopback.

let bed: Bed;
let closedPort = 0;
before(async () => {
  bed = await startBed();
  // A port nobody listens on: the session keeps trying (Connect/Active), no traffic leaves loopback.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
  closedPort = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
});
after(async () => {
  await bed.close();
});

const statusOf = (items: Awaited<ReturnType<typeof listCrs>>) =>
  items.map((o) => ({ node: o.status?.node, service: o.status?.serviceName, peers: o.status?.peers })).sort();

/** An empty ServiceL2Status owned by `node`, as a speaker of that node leaves it. */
async function createL2StatusOf(on: Bed, name: string, node: string): Promise<void> {
  await on.custom.createNamespacedCustomObject({
    group: 'metalbeacon.io',
    version: 'v1beta1',
    namespace: NS,
    plural: 'servicel2statuses',
    body: {
      apiVersion: 'metalbeacon.io/v1beta1',
      kind: 'ServiceL2Status',
      metadata: { name, labels: { 'metalbeacon.io/node': node } },
    },
  });
}

test('config + Services + EndpointSlices give the right status objects, a bad CR keeps the last good config, SIGTERM deletes them', async (t) => {
  await createNode(bed, 'node-a', '192.0.2.11');
  await createSpeakerPod(bed, 'node-a', '127.0.0.1');
  await createCr(bed, 'IPAddressPool', 'ipaddresspools', 'l2pool', { addresses: ['198.51.100.0/28'] });
  await createCr(bed, 'IPAddressPool', 'ipaddresspools', 'bgppool', { addresses: ['198.51.100.64/28'] });
  await createCr(bed, 'L2Advertisement', 'l2advertisements', 'l2', { ipAddressPools: ['l2pool'] });
  await createCr(bed, 'BGPAdvertisement', 'bgpadvertisements', 'bgp', { ipAddressPools: ['bgppool'] });
  await createCr(bed, 'BGPPeer', 'bgppeers', 'router', {
    myASN: 64512,
    peerASN: 64513,
    peerAddress: '127.0.0.1',
    peerPort: closedPort,
  });
  await createService(bed, 'web', ['198.51.100.1']);
  await setEndpoints(bed, 'web', ['node-a']);
  await createService(bed, 'api', ['198.51.100.65']);
  await setEndpoints(bed, 'api', ['node-a']);
  await createService(bed, 'idle', ['198.51.100.2']); // no endpoints: not announced
  await createService(bed, 'other-class', ['198.51.100.3'], { loadBalancerClass: 'example.com/other' });
  await setEndpoints(bed, 'other-class', ['node-a']);
  // Left behind by an earlier run of this node (nothing wants it) and by a node with no speaker.
  for (const [name, node] of [
    ['stale-mine', 'node-a'],
    ['stale-gone', 'node-z'],
  ] as const) {
    await createL2StatusOf(bed, name, node);
  }

  const speaker = await bed.startSpeaker('node-a', '127.0.0.1');
  t.after(() => speaker.kill()); // frees the membership port for the next test even on failure

  const l2 = await waitFor('ServiceL2Status for web only', async () => {
    const items = await listCrs(bed, 'servicel2statuses');
    return items.length === 1 && items[0]?.status?.serviceName === 'web' ? items : undefined;
  });
  assert.deepEqual(l2[0]?.metadata.labels, {
    'metalbeacon.io/node': 'node-a',
    'metalbeacon.io/service-name': 'web',
    'metalbeacon.io/service-namespace': 'default',
  });
  assert.equal(l2[0]?.status?.node, 'node-a');
  const bgp = await waitFor('ServiceBGPStatus for api', async () => {
    const items = await listCrs(bed, 'servicebgpstatuses');
    return items.length === 1 ? items : undefined;
  });
  assert.deepEqual(statusOf(bgp), [{ node: 'node-a', service: 'api', peers: ['router'] }]);
  const session = await waitFor('BGPSessionState node-a.router', async () => {
    const items = await listCrs(bed, 'bgpsessionstates');
    return items.find((o) => o.metadata.name === 'node-a.router' && o.status?.state !== undefined);
  });
  assert.equal(session.status?.peer, 'router');
  assert.equal(session.status?.peerAddress, '127.0.0.1');
  assert.notEqual(session.status?.state, 'Established');
  assert.equal(session.metadata.labels?.['metalbeacon.io/peer'], 'router');
  assert.ok(speaker.ready());
  const plan = speaker.lastPlan();
  assert.deepEqual(
    plan?.l2.map((a) => a.ip),
    ['198.51.100.1'],
  );

  // The controller's events: nodeAssigned once per Service, not per plan.
  const events = await waitFor('nodeAssigned on web', async () => {
    const list = await bed.core.listNamespacedEvent({ namespace: 'default' });
    const mine = list.items.filter((e) => e.involvedObject.name === 'web' && e.reason === 'nodeAssigned');
    return mine.length > 0 ? mine : undefined;
  });
  assert.match(events[0]?.message ?? '', /node-a.*layer2 198\.51\.100\.1/);

  // A bad CR (overlapping pool) is rejected: the last good config stays, announcements too.
  await createCr(bed, 'IPAddressPool', 'ipaddresspools', 'overlap', { addresses: ['198.51.100.0/24'] });
  await waitFor('config_stale', async () => {
    const text = await speaker.metrics.registry.getSingleMetricAsString(
      'metalbeacon_speaker_config_stale_bool',
    );
    return /config_stale_bool 1/.test(text) ? true : undefined;
  });
  await setEndpoints(bed, 'idle', ['node-a']); // still planned on the last good config
  await waitFor('idle announced on the last good config', async () => {
    const items = await listCrs(bed, 'servicel2statuses');
    return items.length === 2 ? items : undefined;
  });

  // Several plans later (config rejected, another Service announced): still one nodeAssigned on web.
  const webEvents = (await bed.core.listNamespacedEvent({ namespace: 'default' })).items.filter(
    (e) => e.involvedObject.name === 'web' && e.reason === 'nodeAssigned',
  );
  assert.equal(webEvents.length, 1);
  const plans = Number(/plans_applied_total (\d+)/.exec(await speaker.metrics.registry.metrics())?.[1]);
  assert.ok(plans >= 2, `plans applied: ${plans}`);

  // The Service loses its endpoints: its status object goes.
  await setEndpoints(bed, 'web', []);
  await waitFor('web no longer announced', async () => {
    const items = await listCrs(bed, 'servicel2statuses');
    return items.length === 1 && items[0]?.status?.serviceName === 'idle' ? true : undefined;
  });

  const metrics = await speaker.metrics.registry.metrics();
  assert.match(metrics, /metalbeacon_speaker_announced_services\{protocol="layer2"\} 1/);
  assert.match(metrics, /metalbeacon_speaker_announced_services\{protocol="bgp"\} 1/);
  assert.match(metrics, /metalbeacon_bgp_session_state\{peer="127.0.0.1"\} [1-3]/);

  // SIGTERM path: every object of this node is deleted.
  await speaker.stop();
  assert.deepEqual(await listCrs(bed, 'servicel2statuses'), []);
  assert.deepEqual(await listCrs(bed, 'servicebgpstatuses'), []);
  assert.deepEqual(await listCrs(bed, 'bgpsessionstates'), []);
});

test('Node and Service changes reach the plan: exclusion label, ETP Local without a local endpoint', async () => {
  // The first test left a rejected pool: a fresh speaker has no last good config to fall back on.
  await bed.custom.deleteNamespacedCustomObject({
    group: 'metalbeacon.io',
    version: 'v1beta1',
    namespace: NS,
    plural: 'ipaddresspools',
    name: 'overlap',
  });
  await createService(bed, 'local', ['198.51.100.4'], { externalTrafficPolicy: 'Local' });
  await setEndpoints(bed, 'local', ['node-b']); // serving, but not on this node
  await setEndpoints(bed, 'web', ['node-a']);
  const speaker = await bed.startSpeaker('node-a', '127.0.0.1');
  const announced = async () =>
    (await listCrs(bed, 'servicel2statuses')).map((o) => o.status?.serviceName as string).sort();
  await waitFor('web announced, local not', async () => {
    const names = await announced();
    return names.includes('web') && !names.includes('local') ? names : undefined;
  });
  await setEndpoints(bed, 'local', ['node-a', 'node-b']);
  await waitFor('local announced once it has an endpoint here', async () =>
    (await announced()).includes('local') ? true : undefined,
  );
  await bed.core.patchNode(
    {
      name: 'node-a',
      body: { metadata: { labels: { 'node.kubernetes.io/exclude-from-external-load-balancers': '' } } },
    },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  await waitFor('nothing announced from an excluded node', async () =>
    (await announced()).length === 0 ? true : undefined,
  );
  assert.deepEqual(speaker.lastPlan()?.l2, []);
  await speaker.stop();
});

const REFUSED_LISTS = 3;

// The API server fails the speaker's first LISTs of speaker Pods (issue 17 item 5). A speaker
// that took the failed LIST for "no other speakers" would, in its first garbage collection,
// delete the status objects of every other node. It must wait until the LIST succeeds
// (shared/daemon/informer-set.ts). L2 uses no interface; nothing leaves loopback.

test("a speaker whose first Pod LISTs fail waits for a real one and deletes no other node's status", async (t) => {
  const bed = await startBed();
  t.after(() => bed.close());
  await createNode(bed, 'node-a', '192.0.2.11');
  await createNode(bed, 'node-b', '192.0.2.12');
  await createSpeakerPod(bed, 'node-a', '127.0.0.1');
  await createSpeakerPod(bed, 'node-b', '127.0.0.2');
  await createCr(bed, 'IPAddressPool', 'ipaddresspools', 'pool', { addresses: ['198.51.100.0/28'] });
  await createCr(bed, 'L2Advertisement', 'l2advertisements', 'l2', { ipAddressPools: ['pool'] });
  await createService(bed, 'web', ['198.51.100.1']);
  await setEndpoints(bed, 'web', ['node-a']);
  // node-b's speaker is alive as far as the API says (its Pod runs): its objects are not garbage.
  await createL2StatusOf(bed, 'of-node-b', 'node-b');

  const proxy = await startProxy(bed.server.url);
  t.after(async () => {
    proxy.client.close();
    await proxy.close();
  });
  const podsPath = `/api/v1/namespaces/${NS}/pods`;
  proxy.refuse((method, path) => method === 'GET' && path === podsPath, 500, REFUSED_LISTS);
  const refused = () => proxy.log.filter((r) => r.status === 500 && r.path.startsWith(podsPath));
  const endpoints = `http://127.0.0.1:${await freePort()}`;
  let started = false;
  const starting = bed
    .startSpeaker('node-a', '127.0.0.1', { client: proxy.client, metricsListen: endpoints.slice(7) })
    .then((speaker) => {
      started = true;
      return speaker;
    });
  await waitFor('two refused Pod LISTs', async () => (refused().length >= 2 ? true : undefined));
  assert.equal(started, false, 'the speaker must not run on a cache whose LIST failed');
  assert.equal((await fetch(`${endpoints}/healthz`)).status, 200, 'alive meanwhile');
  assert.equal((await fetch(`${endpoints}/readyz`)).status, 503, 'and not ready');
  const speaker = await starting;
  t.after(() => speaker.kill());
  assert.equal(refused().length, REFUSED_LISTS, 'every refused LIST was retried until one succeeded');
  await waitFor('ready', async () =>
    (await fetch(`${endpoints}/readyz`)).status === 200 ? true : undefined,
  );

  // Its own status object is written: status sync, and with it garbage collection, has run.
  await waitFor('ServiceL2Status of node-a for web', async () => {
    const items = await listCrs(bed, 'servicel2statuses');
    return items.some((o) => o.status?.node === 'node-a' && o.status?.serviceName === 'web')
      ? true
      : undefined;
  });
  await speaker.idle();
  const names = (await listCrs(bed, 'servicel2statuses')).map((o) => o.metadata.name);
  assert.ok(names.includes('of-node-b'), `node-b's status object was deleted; left: ${names.join(', ')}`);
});
