import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { Lab, type LabDaemon, type LabLink, waitForOutput } from '../../lab/netns.ts';
import { Bird, type BirdNeighbor } from '../../lab/peers/bird.ts';
import { type BirdBfd, sameBirdInstant } from '../../lab/router.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import {
  apiRelay,
  type Bed,
  createCr,
  createNode,
  createService,
  createSpeakerPod,
  listCrs,
  metricValue,
  NS,
  setEndpoints,
  spawnSpeaker,
  startBed,
} from '../speaker/harness.ts';

// `metalbeacon speaker` honours BGPPeer.spec.bfdProfile (speaker/bfd/io/peer-bfd.ts): the
// BFDProfile's timers and passiveMode run against BIRD's `protocol bfd`, a changed profile
// reaches the running session through Poll/Final without a reset, a BFD session that never came
// up does not keep BGP down (RFC 5882 §4.3), and a cut link takes BGP down for BFD. What it
// shows (issue 16 item 4): BGPSessionState.status.bfd, `metalbeacon status`, the metalbeacon_bfd_*
// metrics and a bfdDown Event on the BGPPeer for the Down that reset the session.

const VIP = '198.51.100.9';
const dir = mkdtempSync(join(tmpdir(), 'mb-speaker-bfd-'));
const NEIGHBOR: BirdNeighbor = {
  name: 'n1',
  localAddress: '192.0.2.1',
  localAs: 65000,
  address: '192.0.2.11',
  as: 65001,
  families: ['ipv4'],
  holdTimeSec: 240,
  bfd: true,
};
const BIRD_BFD: BirdBfd = { minRxMs: 100, minTxMs: 100, multiplier: 3 };
const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
let lab: Lab;
let bed: Bed;
let bird: Bird;
let link: LabLink;
let relay: Awaited<ReturnType<typeof apiRelay>> | undefined;
let speaker: LabDaemon | undefined;

async function patchProfile(spec: object): Promise<void> {
  await bed.custom.patchNamespacedCustomObject(
    {
      group: 'metalbeacon.io',
      version: 'v1beta1',
      namespace: 'metalbeacon-system',
      plural: 'bfdprofiles',
      name: 'fast',
      body: { spec },
    },
    MERGE,
  );
}

const birdSession = async () => (await bird.bfdSessions()).find((s) => s.address === '192.0.2.11');
const hasRoute = async () => (await bird.routes('ipv4')).includes(`${VIP}/32`);
const sessionBfd = async () =>
  (await listCrs(bed, 'bgpsessionstates')).find((o) => o.metadata.name === 'node1.router')?.status?.bfd as
    | { state?: string; since?: string; diagnostic?: string }
    | undefined;
const metrics = async () =>
  (await lab.exec('node1', ['curl', '-sf', '--max-time', '5', 'http://127.0.0.1:7473/metrics'])).stdout;
const bfdDownEvents = async () =>
  (await bed.core.listNamespacedEvent({ namespace: NS })).items.filter(
    (e) =>
      e.reason === 'bfdDown' && e.involvedObject.kind === 'BGPPeer' && e.involvedObject.name === 'router',
  );
/** `metalbeacon status` against the API server, its BGP SESSIONS row of node1. */
async function statusRow(): Promise<string> {
  const kubeconfig = join(dir, 'host-kubeconfig');
  writeFileSync(kubeconfig, bed.server.kubeconfigText);
  const bin = fileURLToPath(new URL('../../bin/metalbeacon.js', import.meta.url));
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, [bin, '--kubeconfig', kubeconfig, 'status'], { timeout: 30_000 }, (e, out) =>
      e ? reject(e) : resolve(out),
    ),
  );
  return stdout.split('\n').find((l) => /^node1\s+router\s/.test(l)) ?? stdout;
}
const bgpSince = async () => /n1\s+BGP\s+\S+\s+up\s+(\S+)/.exec(await bird.birdc(['show', 'protocols']))?.[1];

before(async () => {
  bed = await startBed();
  lab = await Lab.create('bfdspk');
  await lab.addBridge();
  await lab.addHost('router');
  await lab.addHost('node1');
  await lab.connect('router', { ipv4: '192.0.2.1/24' });
  link = await lab.connect('node1', { ipv4: '192.0.2.11/24' });
  // Both sides passive first: nobody may speak.
  bird = await Bird.start(
    lab,
    'router',
    '192.0.2.1',
    [NEIGHBOR],
    {},
    { bfd: { ...BIRD_BFD, passive: true } },
  );
  relay = await apiRelay(bed, dir);
  await relay.into(lab, 'node1');
  await createNode(bed, 'node1', '192.0.2.11');
  await createSpeakerPod(bed, 'node1', '192.0.2.11');
  await createCr(bed, 'IPAddressPool', 'ipaddresspools', 'pool', { addresses: ['198.51.100.0/28'] });
  await createCr(bed, 'BFDProfile', 'bfdprofiles', 'fast', {
    receiveInterval: 100,
    transmitInterval: 100,
    detectMultiplier: 3,
    passiveMode: true,
  });
  await createCr(bed, 'BGPPeer', 'bgppeers', 'router', {
    myASN: 65001,
    peerASN: 65000,
    peerAddress: '192.0.2.1',
    holdTime: '240s',
    bfdProfile: 'fast',
  });
  await createCr(bed, 'BGPAdvertisement', 'bgpadvertisements', 'ads', {});
  await createService(bed, 'api', [VIP]);
  await setEndpoints(bed, 'api', ['node1']);
});

after(async () => {
  await speaker?.stop();
  await bird?.stop();
  await lab?.destroy();
  await relay?.close();
  await bed?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the speaker runs BFD as the BGPPeer’s BFDProfile says, and BFD drives its BGP session', async () => {
  speaker = spawnSpeaker(lab, 'node1', relay!.kubeconfig, [
    ...['--membership-bind-address', '192.0.2.11', '--handover-ms', '100', '--bgp-shutdown-drain', '0'],
  ]);
  await waitForOutput(speaker, /"msg":"speaker ready"/, 20_000);
  await waitFor('the route in BIRD', hasRoute, { timeoutMs: 20_000 });

  // passiveMode on both sides: not one packet from us, and BGP is not held for a BFD that never came up.
  const silent = await lab.exec(
    'router',
    [
      'timeout',
      '2',
      'tcpdump',
      '-i',
      'eth0',
      '-c',
      '1',
      '-n',
      'udp and src host 192.0.2.11 and dst port 3784',
    ],
    { allowFailure: true },
  );
  assert.doesNotMatch(silent.stdout, /3784/, 'a passive session sends nothing before the peer does');
  assert.notEqual((await birdSession())?.state, 'Up');
  assert.equal(await bird.protocolState('n1'), 'Established');

  // BIRD active: BIRD speaks first, we answer, Up at 100 ms.
  await bird.reconfigure('192.0.2.1', [NEIGHBOR], {}, { bfd: BIRD_BFD });
  await waitFor('BFD Up at 100 ms', async () => {
    const s = await birdSession();
    return s?.state === 'Up' && s.intervalSec === 0.1;
  });
  const upSince = (await birdSession())!.since;
  const sessionSince = await bgpSince();
  // Every new BGP session starts with an OPEN from BIRD: the count moves on any reset.
  const opensReceived = async () =>
    metricValue(await metrics(), 'metalbeacon_bgp_messages_received_total', { peer: 'router', type: 'open' });
  const opensBefore = await opensReceived();
  await waitFor('BGPSessionState shows BFD Up', async () => (await sessionBfd())?.state === 'Up');
  assert.match(await statusRow(), /Established, BFD Up/);
  const sentBefore = metricValue(await metrics(), 'metalbeacon_bfd_control_packets_sent_total', {
    peer: 'router',
  });
  assert.ok(sentBefore > 0, 'control packets sent are counted');
  assert.equal(metricValue(await metrics(), 'metalbeacon_bfd_session_state', { peer: 'router' }), 3, 'Up');
  assert.deepEqual(await bfdDownEvents(), [], 'no bfdDown Event while BFD has not gone down');

  // A changed profile reaches the running session through Poll/Final: no BFD flap, no BGP reset.
  await patchProfile({ receiveInterval: 300 });
  await waitFor('BIRD sends every 300 ms', async () => (await birdSession())?.intervalSec === 0.3);
  assert.ok(sameBirdInstant((await birdSession())?.since, upSince), 'no BFD flap');
  assert.deepEqual(await bfdDownEvents(), [], 'no bfdDown Event');
  assert.ok(sameBirdInstant(await bgpSince(), sessionSince), 'no BGP reset in BIRD');
  assert.equal(await opensReceived(), opensBefore, 'no new BGP session on our side');
  assert.doesNotMatch(speaker.output(), /"msg":"BGPPeer changed; restarting only its session"/);

  // The cable: BIRD takes BGP down for BFD (its hold time is 240 s) and withdraws the route; we
  // reset ours for BFD too; both come back with the link.
  await lab.cutLink(link);
  try {
    await waitFor('the route withdrawn', async () => !(await hasRoute()), { timeoutMs: 10_000 });
    assert.match(await bird.protocolInfo('n1'), /Last error:\s+Error: BFD session down/);
    await waitForOutput(speaker, /"cause":"bfd-down"[^\n]*"msg":"BGP session reset"/);
    // Visible: the session state, `metalbeacon status`, the metrics and one Event on the BGPPeer.
    await waitFor('BGPSessionState shows BFD Down', async () => (await sessionBfd())?.state === 'Down');
    assert.equal((await sessionBfd())?.diagnostic, 'ControlDetectionTimeExpired');
    assert.match(await statusRow(), /BFD Down \(ControlDetectionTimeExpired\)/);
    const down = await waitFor('the bfdDown Event', async () => {
      const events = await bfdDownEvents();
      return events.length > 0 ? events : undefined;
    });
    assert.equal(down.length, 1);
    assert.equal(down[0]!.type, 'Warning');
    assert.match(
      down[0]!.message ?? '',
      /node node1: BFD session with 192\.0\.2\.1 went Down \(ControlDetectionTimeExpired\)/,
    );
    const text = await metrics();
    assert.equal(metricValue(text, 'metalbeacon_bfd_session_state', { peer: 'router' }), 1, 'Down');
    assert.equal(metricValue(text, 'metalbeacon_bfd_session_downs_total', { peer: 'router' }), 1);
    assert.ok(metricValue(text, 'metalbeacon_bfd_state_transitions_total', { peer: 'router' }) >= 2);
    assert.ok(metricValue(text, 'metalbeacon_bfd_control_packets_received_total', { peer: 'router' }) > 0);
    assert.ok(
      metricValue(text, 'metalbeacon_bfd_control_packets_sent_total', { peer: 'router' }) > sentBefore,
    );
  } finally {
    await lab.restoreLink(link);
  }
  await waitFor('the route back', hasRoute, { timeoutMs: 30_000 });
  assert.equal((await birdSession())?.state, 'Up');
  await waitFor('BGPSessionState shows BFD Up again', async () => (await sessionBfd())?.state === 'Up');
  assert.equal((await bfdDownEvents()).length, 1, 'one Event for one Down');
});
