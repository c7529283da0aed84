import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, test } from 'node:test';
import { startProxy } from '../controller/proxy.ts';
import {
  type Bed,
  createCr,
  createNode,
  createService,
  createSpeakerPod,
  eventually,
  listCrs,
  NS,
  setEndpoints,
  startBed,
} from './harness.ts';

const REFUSED_LISTS = 3;

// The API server fails the speaker's first LISTs of speaker Pods (issue 17 item 5). A speaker
// that took the failed LIST for "no other speakers" would, in its first garbage collection,
// delete the status objects of every other node. It must wait until the LIST succeeds
// (shared/daemon/informer-set.ts). L2 uses no interface; nothing leaves loopback.

/** A TCP port on loopback that was free a moment ago (the endpoints must be asked before start-up ends). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

let bed: Bed;
before(async () => {
  bed = await startBed();
});
after(() => bed.close());

test("a speaker whose first Pod LISTs fail waits for a real one and deletes no other node's status", async (t) => {
  await createNode(bed, 'node-a', '192.0.2.11');
  await createNode(bed, 'node-b', '192.0.2.12');
  await createSpeakerPod(bed, 'node-a', '127.0.0.1');
  await createSpeakerPod(bed, 'node-b', '127.0.0.2');
  await createCr(bed, 'IPAddressPool', 'ipaddresspools', 'pool', { addresses: ['198.51.100.0/28'] });
  await createCr(bed, 'L2Advertisement', 'l2advertisements', 'l2', { ipAddressPools: ['pool'] });
  await createService(bed, 'web', ['198.51.100.1']);
  await setEndpoints(bed, 'web', ['node-a']);
  // node-b's speaker is alive as far as the API says (its Pod runs): its objects are not garbage.
  await bed.custom.createNamespacedCustomObject({
    group: 'metalbeacon.io',
    version: 'v1beta1',
    namespace: NS,
    plural: 'servicel2statuses',
    body: {
      apiVersion: 'metalbeacon.io/v1beta1',
      kind: 'ServiceL2Status',
      metadata: { name: 'of-node-b', labels: { 'metalbeacon.io/node': 'node-b' } },
    },
  });

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
  await eventually('two refused Pod LISTs', async () => (refused().length >= 2 ? true : undefined));
  assert.equal(started, false, 'the speaker must not run on a cache whose LIST failed');
  assert.equal((await fetch(`${endpoints}/healthz`)).status, 200, 'alive meanwhile');
  assert.equal((await fetch(`${endpoints}/readyz`)).status, 503, 'and not ready');
  const speaker = await starting;
  t.after(() => speaker.kill());
  assert.equal(refused().length, REFUSED_LISTS, 'every refused LIST was retried until one succeeded');
  await eventually('ready', async () =>
    (await fetch(`${endpoints}/readyz`)).status === 200 ? true : undefined,
  );

  // Its own status object is written: status sync, and with it garbage collection, has run.
  await eventually('ServiceL2Status of node-a for web', async () => {
    const items = await listCrs(bed, 'servicel2statuses');
    return items.some((o) => o.status?.node === 'node-a' && o.status?.serviceName === 'web')
      ? true
      : undefined;
  });
  await speaker.idle();
  const names = (await listCrs(bed, 'servicel2statuses')).map((o) => o.metadata.name);
  assert.ok(names.includes('of-node-b'), `node-b's status object was deleted; left: ${names.join(', ')}`);
});
