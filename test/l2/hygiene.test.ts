import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Lab, type LabDaemon, waitForOutput } from '../../lab/netns.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import { decodeFrame, encodeArpFrame, encodeNdpFrame } from '../../speaker/l2/frames/frame.ts';
import { l2Command, NODE } from '../support/commands.ts';

// Adversarial L2 requests against `metalbeacon l2` (namespaces): requests from a broadcast
// or multicast Ethernet source, from a multicast ARP sender MAC or IPv4 sender, and an NS
// from a multicast IPv6 source are dropped unanswered (the sender, tapping its link, sees no
// answer at all) and counted by reason; the same requests from a unicast source are
// answered; and a flood from 64 MACs gets no more answers than the overall limit allows
// while a client on the LAN asking now and then is still answered. The attacker sits on a
// direct link to the node (its eth1): a Linux bridge drops frames whose source MAC is not
// unicast, a hub or a flooding switch would deliver them, and so does a cable.
const PROBE = new URL('./fixtures/packet-probe.ts', import.meta.url).pathname;
const FLOOD = new URL('./fixtures/flood.ts', import.meta.url).pathname;
const VIP4 = '198.51.100.21';
const VIP6 = '2001:db8:100::21';
const ANSWER_LIMIT = 200;
const ANSWER_BURST = 100;

let lab: Lab;
/** The node's MAC on the attacker's link. */
let nodeMac = '';
let attackerMac = '';
let responder: LabDaemon;
let attacker: LabDaemon;

before(async () => {
  lab = await Lab.create('l2hyg');
  await lab.addBridge('lan');
  for (const host of ['node', 'attacker', 'client']) await lab.addHost(host);
  await lab.connect('node', { ipv4: '192.0.2.50/24', ipv6: '2001:db8:0:1::50/64' });
  await lab.connect('client', { ipv4: '192.0.2.53/24', ipv6: '2001:db8:0:1::53/64' });
  await lab.connectPair(
    { host: 'node', ifName: 'eth1', ipv4: '203.0.113.50/24' },
    { host: 'attacker', ifName: 'eth0', ipv4: '203.0.113.51/24' },
  );
  nodeMac = await lab.mac('node', 'eth1');
  attackerMac = await lab.mac('attacker', 'eth0');
  await lab.ip('client', ['route', 'add', '198.51.100.0/24', 'dev', 'eth0']);
  responder = lab.spawn('node', [
    ...l2Command('--interface', 'eth0,eth1'),
    ...['--announce', `${VIP4},${VIP6}`, '--metrics-listen', '127.0.0.1:7474'],
    ...['--answer-limit', String(ANSWER_LIMIT), '--answer-burst', String(ANSWER_BURST)],
  ]);
  await waitForOutput(responder, /ready: announcing/);
  attacker = lab.spawn('attacker', [NODE, PROBE, 'eth0', 'main', 'all'], { stdin: true });
  await waitForOutput(attacker, /"event":"ready"/);
});
after(() => lab.destroy());

/** Frames a probe printed from output offset `from` on, decoded (ARP and NDP only). */
function received(probe: LabDaemon, from: number) {
  return probe
    .output()
    .slice(from)
    .split('\n')
    .filter((l) => l.startsWith('{"event":"frame"'))
    .map((l) => decodeFrame(Buffer.from((JSON.parse(l) as { hex: string }).hex, 'hex')))
    .flatMap((d) => (d.ok ? [d.value] : []));
}

/** Answers from the node (ARP replies or solicited NAs, not its gratuitous announcements). */
function answersFromNode(probe: LabDaemon, from: number) {
  return received(probe, from).filter(
    (f) =>
      f.source === nodeMac &&
      ((f.kind === 'arp' && f.arp.operation === 2 && f.arp.senderIp !== f.arp.targetIp) ||
        (f.kind === 'ndp' && f.ndp.type === 'na' && f.ndp.solicited)),
  );
}

async function metrics(): Promise<string> {
  return (await lab.exec('node', ['curl', '-sf', 'http://127.0.0.1:7474/metrics'])).stdout;
}

function counter(text: string, name: string, labels: Record<string, string>): number {
  return text
    .split('\n')
    .filter(
      (l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)),
    )
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

const send = (frame: Uint8Array) =>
  attacker.child.stdin?.write(`${JSON.stringify({ send: Buffer.from(frame).toString('hex') })}\n`);

const arpRequest = (ethernetSource: string, senderMac: string, senderIp: string) =>
  encodeArpFrame('ff:ff:ff:ff:ff:ff', ethernetSource, {
    operation: 1,
    senderMac,
    senderIp,
    targetMac: '00:00:00:00:00:00',
    targetIp: VIP4,
  });
const neighborSolicitation = (source: string) =>
  encodeNdpFrame('33:33:ff:00:00:21', attackerMac, {
    type: 'ns',
    source,
    destination: 'ff02::1:ff00:21',
    hopLimit: 255,
    target: VIP6,
    sourceLinkLayer: attackerMac,
  });

test('requests from broadcast/multicast sources are dropped unanswered and counted by reason; unicast ones are answered', async () => {
  const attackerFrom = attacker.output().length;
  const hostile: [string, Uint8Array][] = [
    ['source-not-unicast', arpRequest('ff:ff:ff:ff:ff:ff', attackerMac, '203.0.113.51')],
    ['source-not-unicast', arpRequest('01:00:5e:00:00:01', attackerMac, '203.0.113.51')],
    ['sender-mac-not-unicast', arpRequest(attackerMac, 'ff:ff:ff:ff:ff:ff', '203.0.113.51')],
    ['sender-ip-not-unicast', arpRequest(attackerMac, attackerMac, '224.0.0.1')],
    ['sender-ip-not-unicast', neighborSolicitation('ff02::1')],
  ];
  for (let round = 0; round < 3; round++) for (const [, frame] of hostile) send(frame);
  const expected = new Map<string, number>();
  for (const [reason] of hostile) expected.set(reason, (expected.get(reason) ?? 0) + 3);
  const counted = await waitFor('every hostile request counted', async () => {
    const text = await metrics();
    const byReason = [...expected.keys()].map(
      (reason) => [reason, counter(text, 'metalbeacon_l2_requests_dropped_total', { reason })] as const,
    );
    return byReason.every(([reason, n]) => n >= expected.get(reason)!) ? byReason : undefined;
  });
  assert.deepEqual(counted, [...expected.entries()]);
  // The same questions from a unicast source, IPv4 and IPv6, are answered (to the asker).
  send(arpRequest(attackerMac, attackerMac, '203.0.113.51'));
  send(neighborSolicitation('fe80::51'));
  await waitFor('the unicast requests answered', () => {
    const answers = answersFromNode(attacker, attackerFrom);
    return answers.some((f) => f.kind === 'arp') && answers.some((f) => f.kind === 'ndp') ? true : undefined;
  });
  // Nothing of the dropped ones was answered, to the asker or to everyone on the link.
  const answers = answersFromNode(attacker, attackerFrom);
  assert.deepEqual(answers.map((f) => [f.kind, f.destination]).sort(), [
    ['arp', attackerMac],
    ['ndp', attackerMac],
  ]);
});

test('a flood from 64 MACs gets at most the overall limit; a client asking now and then is still answered', async () => {
  const before = await metrics();
  const sentBefore = counter(before, 'metalbeacon_l2_responses_sent_total', { ip: VIP4 });
  const startedAt = performance.now();
  const flood = lab.spawn('attacker', [NODE, FLOOD, 'eth0', '5', nodeMac, VIP4]);
  const ask = await lab.exec('client', ['arping', '-c', '20', '-W', '0.2', '-w', '6', '-I', 'eth0', VIP4], {
    allowFailure: true,
  });
  await flood.exited;
  const after = await metrics();
  const seconds = (performance.now() - startedAt) / 1000;
  const answered = counter(after, 'metalbeacon_l2_responses_sent_total', { ip: VIP4 }) - sentBefore;
  const refused = counter(after, 'metalbeacon_l2_requests_dropped_total', { reason: 'overall-budget' });
  const floodStats = JSON.parse(flood.output().trim().split('\n').at(-1) ?? '{}') as { sent?: number };
  const clientAnswers = Number(/(\d+) packets received/.exec(ask.stdout)?.[1] ?? 0);
  const detail = `flood sent ${floodStats.sent} in 5 s; ${answered} answers in ${seconds.toFixed(1)} s; ${refused} refused by the overall budget; client answered ${clientAnswers}/20`;
  assert.ok((floodStats.sent ?? 0) > 10_000, detail);
  assert.ok(answered <= ANSWER_BURST + ANSWER_LIMIT * seconds, detail);
  assert.ok(refused > 0, detail);
  assert.ok(clientAnswers >= 15, detail);
});
