import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { logLines, startSpeaker } from '../../lab/bgp-speaker.ts';
import { Lab, type LabDaemon, type LabLink } from '../../lab/netns.ts';
import { Bird, type BirdNeighbor } from '../../lab/peers/bird.ts';
import { type BirdBfd, sameBirdInstant } from '../../lab/router.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import { BfdNode, FAST } from './harness.ts';

// BFD interop with BIRD 2's `protocol bfd`, driving BGP both ways (RFC 5880, 5881, 5883, 5882,
// RFC 9384). `metalbeacon bgp --bfd` runs on `node` (single hop, IPv4 and IPv6 sessions to the
// router on the LAN) and on `far` (multihop, one router away, IPv4 and IPv6). BIRD proposes a
// 240 s hold time, so a BGP session that goes down within the test went down for BFD. BIRD
// sends single-hop BFD with TTL 255 and multihop BFD with the kernel's default TTL (64), so
// `far` sets --bfd-minimum-ttl 63; we send 255 on both.
//
//   far .20 ── 203.0.113.0/24, 2001:db8:0:2::/64 ── mid .2 ── LAN 192.0.2.0/24 ── router .1 (BIRD)
//                                                              └── node .10, node2 .11
const ROUTER = { v4: '192.0.2.1', v6: '2001:db8:0:1::1' };
const BIRD_BFD: BirdBfd = {
  minRxMs: 50,
  minTxMs: 50,
  multiplier: 3,
  // node2 runs BFD alone (the fixture), without BGP.
  neighbors: [{ address: '192.0.2.11' }],
};
const NEIGHBORS: BirdNeighbor[] = [
  { name: 'n4', localAddress: ROUTER.v4, localAs: 65000, address: '192.0.2.10', as: 65001 },
  { name: 'n6', localAddress: ROUTER.v6, localAs: 65000, address: '2001:db8:0:1::10', as: 65001 },
  {
    name: 'm4',
    localAddress: ROUTER.v4,
    localAs: 65000,
    address: '203.0.113.20',
    as: 65002,
    extra: '  multihop 2;',
  },
  {
    name: 'm6',
    localAddress: ROUTER.v6,
    localAs: 65000,
    address: '2001:db8:0:2::20',
    as: 65002,
    extra: '  multihop 2;',
  },
].map((n) => ({ ...n, holdTimeSec: 240, bfd: true }));
const BFD_FLAGS = '--bfd --bfd-receive-interval 50 --bfd-transmit-interval 50'.split(' ');
const COMMON = '--peer-as 65000 --connect-retry 1 --connect-retry-max 2 --drain-time 0'.split(' ');

describe('BFD interop with BIRD 2: single hop and multihop, IPv4 and IPv6', { timeout: 240_000 }, () => {
  let lab: Lab;
  let bird: Bird;
  let nodeLink: LabLink;
  let node: LabDaemon;
  let far: LabDaemon;

  const protocol = async (name: string) => bird.protocolInfo(name);
  const established = async (names: readonly string[]) => {
    for (const name of names) if (!/BGP state:\s+Established/.test(await protocol(name))) return false;
    return true;
  };
  const birdBfd = async (address: string) => (await bird.bfdSessions()).find((s) => s.address === address);
  const ours = (daemon: LabDaemon, msg: string) => logLines(daemon).filter((l) => l.msg === msg);

  before(async () => {
    lab = await Lab.create('bfdbird');
    await lab.addBridge();
    await lab.addHost('router');
    await lab.addHost('mid', { router: true });
    await lab.addHost('node');
    await lab.addHost('node2');
    await lab.addHost('far');
    await lab.connect('router', { ipv4: '192.0.2.1/24', ipv6: '2001:db8:0:1::1/64' });
    await lab.connect('mid', { ipv4: '192.0.2.2/24', ipv6: '2001:db8:0:1::2/64' });
    nodeLink = await lab.connect('node', { ipv4: '192.0.2.10/24', ipv6: '2001:db8:0:1::10/64' });
    await lab.connect('node2', { ipv4: '192.0.2.11/24' });
    await lab.connectPair(
      { host: 'mid', ifName: 'eth1', ipv4: '203.0.113.2/24', ipv6: '2001:db8:0:2::2/64' },
      { host: 'far', ifName: 'eth0', ipv4: '203.0.113.20/24', ipv6: '2001:db8:0:2::20/64' },
    );
    await lab.ip('far', ['route', 'add', 'default', 'via', '203.0.113.2']);
    await lab.ip('far', ['-6', 'route', 'add', 'default', 'via', '2001:db8:0:2::2']);
    await lab.ip('router', ['route', 'add', '203.0.113.0/24', 'via', '192.0.2.2']);
    await lab.ip('router', ['-6', 'route', 'add', '2001:db8:0:2::/64', 'via', '2001:db8:0:1::2']);
    bird = await Bird.start(lab, 'router', ROUTER.v4, NEIGHBORS, {}, { bfd: BIRD_BFD });
    node = startSpeaker(lab, 'node', [
      ...['--local-as', '65001', '--peer', ROUTER.v4, '--peer', ROUTER.v6, '--router-id', '192.0.2.10'],
      ...['--announce', '198.51.100.1/32,2001:db8:100::1/128', ...COMMON, ...BFD_FLAGS],
    ]);
    far = startSpeaker(lab, 'far', [
      ...['--local-as', '65002', '--peer', ROUTER.v4, '--peer', ROUTER.v6, '--router-id', '203.0.113.20'],
      ...['--announce', '198.51.100.2/32', '--ebgp-multihop', '2', ...COMMON, ...BFD_FLAGS],
      // BIRD sends multihop BFD with the kernel's default TTL (64), one hop away it arrives as 63.
      ...['--bfd-minimum-ttl', '63'],
    ]);
  });
  after(async () => {
    await node?.stop();
    await far?.stop();
    await bird?.stop();
    await lab?.destroy();
  });

  it('comes Up with BIRD on all four sessions; BGP runs over them; our packets carry TTL 255 from 49152-65535', async () => {
    await waitFor(
      'four BFD sessions Up in BIRD',
      async () => {
        const up = (await bird.bfdSessions()).filter((s) => s.state === 'Up').map((s) => s.address);
        return ['192.0.2.10', '2001:db8:0:1::10', '203.0.113.20', '2001:db8:0:2::20'].every((a) =>
          up.includes(a),
        );
      },
      { timeoutMs: 30_000 },
    ).catch(async (error: Error) => {
      throw new Error(
        `${error.message}\n${await bird.birdc(['show', 'bfd', 'sessions'])}\n${far.output().slice(-3000)}\n${bird.daemon.output().slice(-3000)}`,
      );
    });
    await waitFor('BGP Established on all four', () => established(['n4', 'n6', 'm4', 'm6']), {
      timeoutMs: 30_000,
    });
    await waitFor('routes in BIRD', async () => {
      const [v4, v6] = [await bird.routes('ipv4'), await bird.routes('ipv6')];
      return (
        v4.includes('198.51.100.1/32') && v4.includes('198.51.100.2/32') && v6.includes('2001:db8:100::1/128')
      );
    });
    // BIRD runs the negotiated 50 ms both ways: its interval and 3 x 50 ms timeout.
    const single = await birdBfd('192.0.2.10');
    assert.deepEqual([single?.intervalSec, single?.timeoutSec], [0.05, 0.15]);
    for (const daemon of [node, far]) {
      const up = ours(daemon, 'BFD state change')
        .filter((l) => l.to === 'Up')
        .map((l) => l.peer);
      assert.deepEqual(up.sort(), [ROUTER.v4, ROUTER.v6].sort());
    }
    // GTSM on the wire (RFC 5881 §4-5): TTL 255, source port in the dynamic range, to 3784 / 4784.
    const dump = await lab.exec(
      'router',
      [
        'timeout',
        '5',
        'tcpdump',
        '-i',
        'eth0',
        '-c',
        '4',
        '-nv',
        'udp and (dst port 3784 or dst port 4784) and src host 192.0.2.10',
      ],
      { allowFailure: true },
    );
    const packets = [...dump.stdout.matchAll(/ttl (\d+),.*\n\s+192\.0\.2\.10\.(\d+) > 192\.0\.2\.1\.3784:/g)];
    assert.ok(packets.length > 0, dump.stdout);
    for (const [, ttl, port] of packets) {
      assert.equal(ttl, '255');
      assert.ok(Number(port) >= 49152 && Number(port) <= 65535, port);
    }
    const multihop = await lab.exec(
      'mid',
      [
        'timeout',
        '5',
        'tcpdump',
        '-i',
        'eth1',
        '-c',
        '2',
        '-nv',
        'udp and dst port 4784 and src host 203.0.113.20',
      ],
      { allowFailure: true },
    );
    assert.match(multihop.stdout, /ttl 255,/, 'multihop packets leave with TTL 255 too');
  });

  it('our link cut: BIRD takes the BGP sessions down for BFD (hold time 240 s) and withdraws our routes; both come back', async () => {
    await waitFor('steady', () => established(['n4', 'n6']), { timeoutMs: 30_000 });
    const cutAt = Date.now();
    await lab.cutLink(nodeLink);
    try {
      await waitFor(
        'our routes withdrawn by BIRD',
        async () => !/198\.51\.100\.1\/32/.test(await bird.routes('ipv4')),
        {
          timeoutMs: 10_000,
          intervalMs: 20,
        },
      );
      const withdrawnMs = Date.now() - cutAt;
      for (const name of ['n4', 'n6'])
        assert.match(await protocol(name), /Last error:\s+Error: BFD session down/);
      assert.equal((await birdBfd('192.0.2.10'))?.state, 'Down');
      // The multihop sessions of `far` did not notice.
      assert.ok(await established(['m4', 'm6']));
      // Our side reset both sessions for BFD (the NOTIFICATION went nowhere: the cable is out).
      await waitFor(
        'our resets',
        () => ours(node, 'BGP session reset').filter((l) => l.cause === 'bfd-down').length === 2,
      );
      process.stdout.write(`# BIRD withdrew our route ${withdrawnMs} ms after the cut (50 ms x3)\n`);
    } finally {
      await lab.restoreLink(nodeLink);
    }
    await waitFor(
      'BFD and BGP back',
      async () => (await birdBfd('192.0.2.10'))?.state === 'Up' && established(['n4', 'n6']),
      {
        timeoutMs: 30_000,
      },
    );
    await waitFor('route back', async () => /198\.51\.100\.1\/32/.test(await bird.routes('ipv4')));
  });

  it('BIRD stops BFD: our sessions reset with Cease / BFD Down, stay down while BFD is, and return with it', async () => {
    await waitFor('steady', () => established(['n4', 'n6', 'm4', 'm6']), { timeoutMs: 30_000 });
    const resetsBefore = ours(node, 'BGP session reset').length;
    const logBefore = logLines(node).length;
    await bird.birdc(['disable', 'bfd1']);
    try {
      // The IPv4 and IPv6 sessions reset each in its own time: wait for both, not the first.
      const notificationsSent = () =>
        logLines(node)
          .slice(logBefore)
          .filter((l) => l.msg === 'NOTIFICATION sent');
      await waitFor(
        'Cease / BFD Down received by BIRD, and sent on both sessions',
        async () =>
          /Received: Unknown error 6\.10/.test(await protocol('n4')) && notificationsSent().length >= 2
            ? true
            : undefined,
        { timeoutMs: 10_000 },
      );
      const sent = notificationsSent();
      assert.deepEqual(
        sent.map((l) => `${l.peer} ${l.code}/${l.subcode}`).sort(),
        [`${ROUTER.v4} 6/10`, `${ROUTER.v6} 6/10`].sort(),
      );
      assert.equal(ours(node, 'BGP session reset').length, resetsBefore + 2);
      // BIRD keeps trying to connect (connect retry 1 s); our sessions refuse while BFD is down.
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      assert.equal(await established(['n4']), false);
      assert.equal(await established(['n6']), false);
      assert.equal(
        logLines(node)
          .slice(logBefore)
          .filter((l) => l.msg === 'BGP session established').length,
        0,
      );
    } finally {
      await bird.birdc(['enable', 'bfd1']);
    }
    await waitFor('BGP back with BFD', () => established(['n4', 'n6', 'm4', 'm6']), { timeoutMs: 30_000 });
    assert.equal((await birdBfd('192.0.2.10'))?.state, 'Up');
  });

  it('timers change through Poll/Final both ways, without a flap on either side', async () => {
    const fixture = await BfdNode.start(lab, 'node2');
    try {
      fixture.set([
        { key: 'router', peerAddress: ROUTER.v4, multihop: false, minimumTtl: 254, timers: FAST },
      ]);
      await fixture.waitState('router', 'Up');
      const up = await waitFor('BIRD session with node2 Up', async () => {
        const s = await birdBfd('192.0.2.11');
        return s?.state === 'Up' && s.intervalSec === 0.05 ? s : undefined;
      });
      // We ask BIRD to send slower (Required Min RX 200 ms): our Poll, BIRD's Final.
      fixture.set([
        {
          key: 'router',
          peerAddress: ROUTER.v4,
          multihop: false,
          minimumTtl: 254,
          timers: { ...FAST, requiredMinRxUs: 200_000 },
        },
      ]);
      await waitFor(
        'BIRD sends every 200 ms',
        async () => (await birdBfd('192.0.2.11'))?.intervalSec === 0.2,
      );
      await waitFor('our Detection Time follows', async () => {
        const s = (await fixture.snapshot()).sessions[0];
        return s?.detectionTimeMs === 600;
      });
      // BIRD asks us to send slower (its min rx 300 ms): BIRD's Poll, our Final.
      await bird.reconfigure(ROUTER.v4, NEIGHBORS, {}, { bfd: { ...BIRD_BFD, minRxMs: 300 } });
      await waitFor(
        'we send every 300 ms',
        async () => (await fixture.snapshot()).sessions[0]?.transmitIntervalMs === 300,
      );
      await waitFor(
        'BIRD times out after 3 x 300 ms',
        async () => (await birdBfd('192.0.2.11'))?.timeoutSec === 0.9,
      );
      const after = await birdBfd('192.0.2.11');
      assert.equal(after?.state, 'Up');
      assert.ok(sameBirdInstant(after?.since, up.since), 'no flap in BIRD');
      assert.deepEqual(
        fixture
          .transitions()
          .map((t) => `${t.from}->${t.to}`)
          .filter((t) => t !== 'Down->Init' && t !== 'Init->Up' && t !== 'Down->Up'),
        [],
        'no flap on our side',
      );
    } finally {
      await fixture.stop();
      await bird.reconfigure(ROUTER.v4, NEIGHBORS, {}, { bfd: BIRD_BFD });
    }
  });
});
