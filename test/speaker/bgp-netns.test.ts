import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { type Lab, type LabDaemon, waitForOutput } from '../../lab/netns.ts';
import { Bird } from '../../lab/peers/bird.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import {
  type Bed,
  createCr,
  createService,
  listCrs,
  type NodeLab,
  setEndpoints,
  spawnSpeaker,
  startNodeLab,
} from './harness.ts';

// `metalbeacon speaker` in BGP mode inside a node namespace, peering with BIRD 2 in a router
// namespace: the Service's /32 reaches BIRD with the advertisement's community, the
// BGPSessionState says Established with the prefix count, the route goes with the endpoints and
// comes back (the session signed with TCP MD5), and SIGTERM drains (GRACEFUL_SHUTDOWN while still up) before Cease.

const VIP = '198.51.100.9';
let nodes: NodeLab | undefined;
let lab: Lab;
let bed: Bed;
let bird: Bird | undefined;
let speaker: LabDaemon | undefined;

before(async () => {
  nodes = await startNodeLab('spkbgp');
  ({ lab, bed } = nodes);
  await lab.addHost('router', { router: true });
  await lab.connect('router', { ipv4: '192.0.2.1/24' });
  await nodes.addNode('node1', { ipv4: '192.0.2.11/24' }, '192.0.2.11');
  bird = await Bird.start(lab, 'router', '192.0.2.1', [
    {
      name: 'n1',
      localAddress: '192.0.2.1',
      localAs: 65000,
      address: '192.0.2.11',
      as: 65001,
      families: ['ipv4'],
      password: 'mb-md5-key',
    },
  ]);
  await createCr(bed, 'IPAddressPool', 'ipaddresspools', 'pool', { addresses: ['198.51.100.0/28'] });
  await createCr(bed, 'BGPPeer', 'bgppeers', 'router', {
    myASN: 65001,
    peerASN: 65000,
    peerAddress: '192.0.2.1',
    holdTime: '9s',
    password: 'mb-md5-key', // TCP MD5 (RFC 2385) through the native addon, both directions
  });
  await createCr(bed, 'BGPPeer', 'bgppeers', 'strict', {
    myASN: 65001,
    peerASN: 65000,
    peerAddress: '192.0.2.2',
  });
  await createCr(bed, 'BGPAdvertisement', 'bgpadvertisements', 'ads', {
    communities: ['65001:100'],
    peers: ['router'],
  });
  await createService(bed, 'api', [VIP]);
  await setEndpoints(bed, 'api', ['node1']);
});

after(async () => {
  await speaker?.stop();
  await bird?.stop();
  await nodes?.close();
});

const hasRoute = async () => (await bird!.routes('ipv4')).includes(`${VIP}/32`);

test('advertises the VIP to BIRD with its community, follows the endpoints, drains on SIGTERM', async () => {
  speaker = spawnSpeaker(lab, 'node1', nodes!.kubeconfig, [
    ...['--membership-bind-address', '192.0.2.11', '--handover-ms', '100', '--bgp-shutdown-drain', '2'],
  ]);
  await waitForOutput(speaker, /"msg":"speaker ready"/, 20_000);
  await waitFor('the route in BIRD', async () => ((await hasRoute()) ? true : undefined), {
    timeoutMs: 20_000,
  });
  assert.match(await bird!.routes('ipv4'), /\(65001,100\)/);
  const state = await waitFor('BGPSessionState Established with 1 prefix', async () => {
    const items = await listCrs(bed, 'bgpsessionstates');
    const s = items.find((o) => o.metadata.name === 'node1.router');
    return s?.status?.state === 'Established' && s.status.prefixesAdvertised === 1 ? s : undefined;
  });
  assert.equal(state.status?.peerAddress, '192.0.2.1');
  const bgpStatus = await waitFor(
    'ServiceBGPStatus',
    async () => (await listCrs(bed, 'servicebgpstatuses'))[0],
  );
  assert.deepEqual(bgpStatus.status?.peers, ['router']);

  await setEndpoints(bed, 'api', []);
  await waitFor('the route withdrawn', async () => ((await hasRoute()) ? undefined : true), {
    timeoutMs: 10_000,
  });
  await setEndpoints(bed, 'api', ['node1']);
  await waitFor('the route back', async () => ((await hasRoute()) ? true : undefined), { timeoutMs: 10_000 });
  assert.equal(await bird!.protocolState('n1'), 'Established', 'no session reset for route changes');

  // A changed BGPPeer restarts its own session (Cease / Other Configuration Change), and only it.
  const strictBefore = (await listCrs(bed, 'bgpsessionstates')).find(
    (o) => o.metadata.name === 'node1.strict',
  );
  await bed.custom.patchNamespacedCustomObject(
    {
      group: 'metalbeacon.io',
      version: 'v1beta1',
      namespace: 'metalbeacon-system',
      plural: 'bgppeers',
      name: 'router',
      body: { spec: { holdTime: '12s' } },
    },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  await waitFor('BIRD told of the configuration change', () =>
    /Received: Other configuration change/.test(bird!.daemon.output()) ? true : undefined,
  );
  await waitFor('the route back on the new session', async () => ((await hasRoute()) ? true : undefined), {
    timeoutMs: 20_000,
  });
  const strictAfter = (await listCrs(bed, 'bgpsessionstates')).find(
    (o) => o.metadata.name === 'node1.strict',
  );
  assert.ok(strictBefore?.metadata.uid);
  assert.equal(
    strictAfter?.metadata.uid,
    strictBefore?.metadata.uid,
    'the other session object was not recreated',
  );
  assert.match(speaker.output(), /"peer":"router"[^\n]*"msg":"BGPPeer changed; restarting only its session"/);
  assert.doesNotMatch(
    speaker.output(),
    /"peer":"strict"[^\n]*"msg":"BGPPeer changed; restarting only its session"/,
  );

  speaker.child.kill('SIGTERM');
  const drained = await waitFor(
    'GRACEFUL_SHUTDOWN in BIRD',
    async () => {
      const routes = await bird!.routes('ipv4');
      return /\(65535,0\)/.test(routes) ? routes : undefined;
    },
    { timeoutMs: 10_000 },
  );
  assert.match(drained, /\(65001,100\)/, 'the advertisement community stays while draining');
  const exit = await speaker.exited;
  speaker = undefined;
  assert.deepEqual(exit, { code: 0, signal: null });
  assert.match(bird!.daemon.output(), /Administrative shutdown/);
  assert.equal(await hasRoute(), false);
  assert.deepEqual(await listCrs(bed, 'bgpsessionstates'), []);
  assert.deepEqual(await listCrs(bed, 'servicebgpstatuses'), []);
});
