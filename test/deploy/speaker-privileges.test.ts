import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { V1DaemonSet } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { NETWORK_THREAD, threadScheduling, threadSchedulingOf } from '../../bench/thread-scheduling.ts';
import { type Lab, type LabDaemon, waitForOutput } from '../../lab/netns.ts';
import { Bird } from '../../lab/peers/bird.ts';
import { REPO_ROOT } from '../../scripts/sync-config.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import {
  type Bed,
  createCr,
  createService,
  type NodeLab,
  NS,
  setEndpoints,
  spawnSpeaker,
  startNodeLab,
} from '../speaker/harness.ts';

/**
 * The speaker's privileges on this kernel, each case under the credentials a container runtime
 * gives (uid 0, bounding set = the DaemonSet's `capabilities.add`, no_new_privs), via util-linux
 * setpriv. First why uid 0 with capabilities rather than a non-root user (the real Node and
 * native addon, in a network namespace of their own, loopback only). Then that the granted set
 * is exactly what the features use: `metalbeacon speaker` with exactly that set, in a lab of
 * network namespaces, answers ARP and NDP, holds BGP sessions with TCP MD5 in both directions
 * (it connects to BIRD; BIRD connects to its listener on 179) and runs BFD with BIRD on one of
 * them; and with any one of the granted capabilities removed, something of that breaks (BFD,
 * which needs none, stays Up). Runs as root.
 */

const run = promisify(execFile);
const node = process.execPath;
const NATIVE = join(REPO_ROOT, 'native/index.ts');
const NOBODY = '65532';

/** The speaker container's securityContext, from the manifest users apply. */
function speakerSecurity(): { uid: number; add: string[]; drop: string[] } {
  const text = readFileSync(join(REPO_ROOT, 'deploy/kustomize/default/speaker.yaml'), 'utf8');
  const ds = parseAllDocuments(text)
    .map((d) => d.toJS() as { kind?: string })
    .find((o) => o.kind === 'DaemonSet') as V1DaemonSet;
  const sc = ds.spec?.template.spec?.containers[0]?.securityContext;
  assert.ok(sc?.capabilities, 'the speaker sets capabilities');
  return { uid: sc.runAsUser ?? 0, add: sc.capabilities.add ?? [], drop: sc.capabilities.drop ?? [] };
}

/**
 * Opens (and closes) an ARP packet socket on lo, puts its thread under SCHED_FIFO (the network
 * thread's real-time priority), then tries to listen on TCP 179; prints the three outcomes.
 */
const PROBE = `
const { loadNative } = await import(${JSON.stringify(NATIVE)});
const out = {};
try {
  const s = new (loadNative().PacketSocket)({ ifindex: 1, protocol: 0x0806, onFrame() {} });
  s.close();
  out.packet = 'ok';
} catch (e) { out.packet = e.code ?? e.message; }
try {
  loadNative().setThreadRealtime(1);
  out.realtime = 'ok';
} catch (e) { out.realtime = e.code ?? e.message; }
const net = await import('node:net');
out.bgp = await new Promise((resolve) => {
  const srv = net.createServer();
  srv.once('error', (e) => resolve(e.code));
  srv.listen(179, '127.0.0.1', () => srv.close(() => resolve('ok')));
});
console.log(JSON.stringify(out));
`;

/** Runs the probe in a new network namespace under the given setpriv credentials. */
async function probe(
  setpriv: string[],
  binary = node,
): Promise<{ packet: string; bgp: string; realtime: string }> {
  const { stdout } = await run('unshare', [
    '--net',
    'setpriv',
    ...setpriv,
    '--',
    binary,
    '--input-type=module',
    '-e',
    PROBE,
  ]);
  return JSON.parse(stdout) as { packet: string; bgp: string; realtime: string };
}

function capList(names: string[]): string {
  return names.map((n) => `+${n.toLowerCase()}`).join(',');
}

describe('speaker privileges', () => {
  const sc = speakerSecurity();
  let scratch: string;

  before(() => {
    assert.equal(process.getuid?.(), 0, 'this test starts processes under other credentials: run it as root');
    scratch = mkdtempSync(join(tmpdir(), 'mb-deploy-caps-'));
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  test('the manifest: uid 0, every capability dropped but NET_RAW, NET_BIND_SERVICE and SYS_NICE', () => {
    assert.equal(sc.uid, 0);
    assert.deepEqual(sc.drop, ['ALL']);
    assert.deepEqual(sc.add, ['NET_RAW', 'NET_BIND_SERVICE', 'SYS_NICE']);
  });

  test('as the DaemonSet runs it (uid 0, bounding set = the three, no_new_privs) the speaker opens packet sockets', async () => {
    const result = await probe([
      `--bounding-set=-all,${capList(sc.add)}`,
      '--inh-caps=-all',
      '--no-new-privs',
    ]);
    assert.equal(result.packet, 'ok');
    assert.equal(result.bgp, 'ok', 'CAP_NET_BIND_SERVICE: the BGP listener on 179');
    assert.equal(result.realtime, 'ok', 'CAP_SYS_NICE: the network thread under SCHED_FIFO');
  });

  test('a non-root user given the same capabilities as Kubernetes gives them (no ambient set) cannot', async () => {
    const user = [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups'];
    const withoutAmbient = await probe([
      ...user,
      `--bounding-set=-all,${capList(sc.add)}`,
      '--inh-caps=-all',
      '--no-new-privs',
    ]);
    assert.equal(withoutAmbient.packet, 'EPERM');
    assert.equal(withoutAmbient.realtime, 'EPERM');
    // The ambient set would do it; Kubernetes has no field for it (kubernetes/kubernetes#56374).
    const withAmbient = await probe([
      ...user,
      `--bounding-set=-all,${capList(sc.add)}`,
      `--inh-caps=${capList(sc.add)}`,
      `--ambient-caps=${capList(sc.add)}`,
      '--no-new-privs',
    ]);
    assert.equal(withAmbient.packet, 'ok');
    assert.equal(withAmbient.realtime, 'ok');
  });

  test('file capabilities on the shared node binary would stop the controller (all capabilities dropped) from starting', async () => {
    const binary = join(scratch, 'node');
    copyFileSync(node, binary);
    await run('setcap', [`${sc.add.map((c) => `cap_${c.toLowerCase()}`).join(',')}+ep`, binary]);
    const controllerLike = [
      `--reuid=${NOBODY}`,
      `--regid=${NOBODY}`,
      '--clear-groups',
      '--bounding-set=-all',
    ];
    await assert.rejects(
      run('setpriv', [...controllerLike, '--inh-caps=-all', '--no-new-privs', '--', binary, '-e', '0']),
      (error: Error & { stderr?: string }) => /Operation not permitted/.test(error.stderr ?? ''),
    );
  });
});

/**
 * What each granted capability is for: removing it must break this (checked below). A
 * capability the DaemonSet grants without an entry here fails the test: nothing is granted in
 * vain. BFD (UDP 3784/4784 from source ports 49152-65535, TTL 255) needs none of them — ports
 * above 1023, IP_TTL and IP_RECVTTL are unprivileged — so each case below also finds it Up.
 */
const BREAKS_WITHOUT: Record<string, { what: string; check: (run: SpeakerRun) => Promise<void> }> = {
  NET_RAW: {
    what: 'no packet socket: ARP and NDP go unanswered',
    check: async (run) => {
      // The speaker stays up (BGP and BFD need no packet socket) and says why it cannot announce.
      await waitForOutput(run.daemon, /"msg":"L2: cannot announce; retrying in 5 s"/, 30_000);
      await bfdUp(run);
      assert.match(
        run.daemon.output(),
        /"err":"[^"]*(EPERM|Operation not permitted)[^"]*","msg":"L2: cannot announce/,
      );
      const r = await run.lab.exec('client', ['arping', '-c', '2', '-w', '2', '-I', 'eth0', '198.51.100.5'], {
        allowFailure: true,
      });
      assert.notEqual(r.code, 0, `no ARP answer: ${r.stdout}`);
    },
  },
  SYS_NICE: {
    what: 'no real-time priority: the network thread runs under SCHED_OTHER with a short slice, and says why',
    check: async (run) => {
      await waitForOutput(run.daemon, /"msg":"speaker ready"/, 30_000);
      assert.match(
        run.daemon.output(),
        /"error":"sched_setattr: [^"]*","code":"EPERM","msg":"network thread: the kernel refused real-time scheduling \(SCHED_FIFO priority 1\); it needs CAP_SYS_NICE[^"]*Falling back to a short scheduler slice/,
      );
      assert.doesNotMatch(run.daemon.output(), /"msg":"network thread: real-time scheduling"/);
      const thread = threadScheduling(run.daemon.pid, NETWORK_THREAD);
      assert.equal(thread?.policy, 'SCHED_OTHER', JSON.stringify(thread));
      assert.equal(thread?.priority, 0);
      // Everything else works: ARP answered, BFD Up.
      await arpAnswered(run);
      await bfdUp(run);
    },
  },
  NET_BIND_SERVICE: {
    what: 'no listener on 179: the router cannot connect, only our own connections work',
    check: async (run) => {
      await waitForOutput(run.daemon, /"msg":"speaker ready"/, 30_000);
      await waitFor(
        'the session we open Established',
        async () => (await run.bird.protocolState('outbound')) === 'Established',
        {
          timeoutMs: 30_000,
        },
      );
      assert.match(
        run.daemon.output(),
        /"port":179,"err":"[^"]*EACCES[^"]*","msg":"cannot listen for BGP connections; sessions connect actively only"/,
      );
      const listening = await run.lab.exec('node1', ['ss', '-ltnH', 'sport = :179']);
      assert.equal(listening.stdout.trim(), '', 'nothing listens on 179');
      assert.notEqual(await run.bird.protocolState('inbound'), 'Established');
      await bfdUp(run);
    },
  },
};

/** The client gets an ARP answer for the L2 VIP from node1. */
async function arpAnswered(run: SpeakerRun): Promise<void> {
  const mac = await run.lab.mac('node1', 'eth0');
  const arp = await waitFor('an ARP reply for the VIP', async () => {
    const r = await run.lab.exec('client', ['arping', '-c', '1', '-w', '1', '-I', 'eth0', '198.51.100.5'], {
      allowFailure: true,
    });
    return r.code === 0 ? r.stdout.toLowerCase() : undefined;
  });
  assert.ok(arp.includes(mac), arp);
}

/** BIRD's BFD session with the speaker (BGPPeer outbound, BFDProfile caps-bfd) is Up at 100 ms. */
async function bfdUp(run: SpeakerRun): Promise<void> {
  await waitFor(
    'BFD Up with BIRD at 100 ms',
    async () => {
      const s = (await run.bird.bfdSessions()).find((b) => b.address === '192.0.2.11');
      return s?.state === 'Up' && s.intervalSec === 0.1;
    },
    { timeoutMs: 30_000 },
  );
}

interface SpeakerRun {
  readonly lab: Lab;
  readonly bird: Bird;
  readonly daemon: LabDaemon;
}

describe('the speaker with exactly the granted capabilities, in a lab of namespaces', {
  timeout: 300_000,
}, () => {
  const sc = speakerSecurity();
  const VIP4 = '198.51.100.5';
  const VIP6 = '2001:db8:100::5';
  const BGP_VIP = '198.51.100.17';
  let nodes: NodeLab | undefined;
  let lab: Lab;
  let bed: Bed;
  let bird: Bird;
  let running: LabDaemon | undefined;

  before(async () => {
    nodes = await startNodeLab('caps');
    ({ lab, bed } = nodes);
    await lab.addHost('router', { router: true });
    await lab.addHost('client');
    await lab.connect('router', { ipv4: '192.0.2.1/24' });
    // A second address: BIRD's neighbor that connects to us has its own.
    await lab.ip('router', ['addr', 'add', '192.0.2.2/24', 'dev', 'eth0']);
    await lab.connect('client', { ipv4: '192.0.2.100/24', ipv6: '2001:db8:0:1::100/64' });
    await nodes.addNode('node1', { ipv4: '192.0.2.11/24', ipv6: '2001:db8:0:1::11/64' }, '192.0.2.11');
    // BIRD locks a neighbor address per protocol: the one that connects to us dials another
    // address of the node (the speaker listens on all of them).
    await lab.ip('node1', ['addr', 'add', '192.0.2.12/24', 'dev', 'eth0']);
    bird = await Bird.start(
      lab,
      'router',
      '192.0.2.254',
      [
        // BIRD waits: the speaker must connect (its socket carries the MD5 key before the SYN).
        {
          name: 'outbound',
          localAddress: '192.0.2.1',
          localAs: 65000,
          address: '192.0.2.11',
          as: 65001,
          families: ['ipv4'],
          password: 'pw-outbound',
          extra: '  passive on;',
          bfd: true,
        },
        // BIRD connects to the speaker's listener on 179 (the listener carries the key); the
        // speaker's own attempts go to a port nobody listens on, so only BIRD's can succeed.
        {
          name: 'inbound',
          localAddress: '192.0.2.2',
          localAs: 65000,
          address: '192.0.2.12',
          as: 65001,
          families: ['ipv4'],
          password: 'pw-inbound',
        },
      ],
      {},
      { bfd: { minRxMs: 100, minTxMs: 100, multiplier: 3 } },
    );
    bed.server.applyObjects(
      ['outbound', 'inbound'].map((name) => ({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: `pw-${name}`, namespace: NS },
        type: 'kubernetes.io/basic-auth',
        stringData: { password: `pw-${name}` },
      })) as never,
    );
    await createCr(bed, 'IPAddressPool', 'ipaddresspools', 'l2', {
      addresses: ['198.51.100.0/28', '2001:db8:100::/124'],
    });
    await createCr(bed, 'IPAddressPool', 'ipaddresspools', 'bgp', { addresses: ['198.51.100.16/28'] });
    await createCr(bed, 'L2Advertisement', 'l2advertisements', 'lan', {
      ipAddressPools: ['l2'],
      interfaces: ['eth0'],
    });
    await createCr(bed, 'BGPAdvertisement', 'bgpadvertisements', 'router', { ipAddressPools: ['bgp'] });
    const peer = { myASN: 65001, peerASN: 65000, holdTime: '9s' };
    await createCr(bed, 'BFDProfile', 'bfdprofiles', 'caps-bfd', {
      receiveInterval: 100,
      transmitInterval: 100,
    });
    await createCr(bed, 'BGPPeer', 'bgppeers', 'outbound', {
      ...peer,
      peerAddress: '192.0.2.1',
      passwordSecret: { name: 'pw-outbound' },
      bfdProfile: 'caps-bfd',
    });
    await createCr(bed, 'BGPPeer', 'bgppeers', 'inbound', {
      ...peer,
      peerAddress: '192.0.2.2',
      peerPort: 1179,
      passwordSecret: { name: 'pw-inbound' },
    });
    // The harness writes each Service's status as the controller would (no controller runs).
    for (const [name, ip] of [
      ['web4', VIP4],
      ['web6', VIP6],
      ['routed', BGP_VIP],
    ] as const) {
      await createService(bed, name, [ip]);
      await setEndpoints(bed, name, ['node1']);
    }
  });

  after(async () => {
    await running?.stop();
    await bird?.stop();
    await nodes?.close();
  });

  /**
   * `metalbeacon speaker` in node1 as the DaemonSet runs it, with the bounding set `caps`; a
   * speaker an earlier failed test left running is stopped first (it holds the ports).
   */
  async function startWith(caps: readonly string[]): Promise<SpeakerRun> {
    if (running) await stopRunning();
    const wrapper = [
      'setpriv',
      `--bounding-set=-all${caps.length ? `,${capList([...caps])}` : ''}`,
      '--inh-caps=-all',
      '--no-new-privs',
    ];
    running = spawnSpeaker(
      lab,
      'node1',
      nodes!.kubeconfig,
      [
        ...['--membership-bind-address', '192.0.2.11', '--handover-ms', '0', '--bgp-shutdown-drain', '0'],
        // As the manifest binds it: the node's own address, not every address.
        ...['--metrics-listen', '[192.0.2.11]:7473'],
      ],
      wrapper,
    );
    return { lab, bird, daemon: running };
  }

  async function stopRunning(): Promise<void> {
    await running?.stop();
    running = undefined;
    await waitFor(
      'BIRD sees both sessions down',
      async () =>
        (await bird.protocolState('outbound')) !== 'Established' &&
        (await bird.protocolState('inbound')) !== 'Established',
    );
  }

  /** Runs `check`; a failure carries `what`, the speaker's output and BIRD's view. */
  async function explained(run: SpeakerRun, what: string, check: () => Promise<void>): Promise<void> {
    try {
      await check();
    } catch (error) {
      const birdSays = await run.bird.birdc(['show', 'protocols', 'all'], true);
      throw new Error(
        `${what}: ${(error as Error).message}\nspeaker:\n${run.daemon.output()}\nBIRD:\n${birdSays}\n${run.bird.daemon.output().slice(-4000)}`,
      );
    }
  }

  test('with exactly the granted set: ARP and NDP answered, BGP with MD5 both ways, BFD Up, metrics on the node address', async () => {
    const run = await startWith(sc.add);
    await explained(run, 'with the granted set', async () => {
      await waitForOutput(run.daemon, /"msg":"speaker ready"/, 30_000);
      const mac = await lab.mac('node1', 'eth0');
      await arpAnswered(run);
      // CAP_SYS_NICE: the network thread (ARP/NDP, membership, BFD) runs under SCHED_FIFO 1,
      // the main thread does not.
      const thread = threadScheduling(run.daemon.pid, NETWORK_THREAD);
      assert.deepEqual([thread?.policy, thread?.priority], ['SCHED_FIFO', 1], JSON.stringify(thread));
      assert.equal(
        threadSchedulingOf(run.daemon.pid, run.daemon.pid)?.policy,
        'SCHED_OTHER',
        'the main thread',
      );
      assert.match(
        run.daemon.output(),
        /"policy":"SCHED_FIFO","priority":1,"msg":"network thread: real-time scheduling"/,
      );
      const nd = await waitFor('an NA for the IPv6 VIP', async () => {
        const r = await lab.exec('client', ['ndisc6', '-1', '-r', '2', '-w', '300', VIP6, 'eth0'], {
          allowFailure: true,
        });
        return r.code === 0 ? r.stdout.toLowerCase() : undefined;
      });
      assert.match(nd, new RegExp(`target link-layer address: ${mac}`));
      for (const protocol of ['outbound', 'inbound']) {
        await waitFor(
          `BIRD's ${protocol} session Established`,
          async () => (await bird.protocolState(protocol)) === 'Established',
          {
            timeoutMs: 30_000,
          },
        );
      }
      await waitFor('the BGP VIP in BIRD', async () => (await bird.routes('ipv4')).includes(`${BGP_VIP}/32`));
      await bfdUp(run);
      const listening = await lab.exec('node1', ['ss', '-ltnH', 'sport = :179']);
      assert.notEqual(listening.stdout.trim(), '', 'the speaker listens on 179');
      assert.doesNotMatch(run.daemon.output(), /cannot listen for BGP connections/);
      const health = await lab.exec('node1', ['curl', '-sf', 'http://192.0.2.11:7473/healthz']);
      assert.equal(health.stdout.trim(), 'ok');
      const loopback = await lab.exec(
        'node1',
        ['curl', '-sf', '--max-time', '2', 'http://127.0.0.1:7473/healthz'],
        { allowFailure: true },
      );
      assert.notEqual(loopback.code, 0, 'nothing on the other addresses of the host');
    });
    await stopRunning();
  });

  test('every granted capability is needed: without any one of them something breaks', async () => {
    for (const cap of sc.add) {
      const breaks = BREAKS_WITHOUT[cap];
      assert.ok(breaks, `the DaemonSet grants ${cap}, but nothing here shows what needs it`);
      const run = await startWith(sc.add.filter((c) => c !== cap));
      await explained(run, `without ${cap} (${breaks.what})`, () => breaks.check(run));
      await stopRunning();
    }
  });
});
