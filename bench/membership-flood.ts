/**
 * `npm run bench:membership-flood` — a LAN host floods one node's membership port while the
 * lab cluster (three speakers as shipped, the embedded API server, L2 Services) runs: false
 * failovers, ARP answer latency of the flooded node, and the CPU the flood costs it, against
 * the same run's figures at rest (the anchor). Prints a report; asserts nothing.
 *
 * The flood (bench/membership-flood/flooder.ts, in the client namespace): 100,000 datagrams/s
 * for 30 s by default, well-formed headers with real node names and current timestamps,
 * wrong MACs; half spoofed as another node (its address and the speakers' port) claiming to
 * be it, a quarter spoofed claiming another name, a quarter from the client's own address.
 * ARP: the router namespace asks for a VIP the flooded node owns every 10 ms; latency on the
 * wire (kernel timestamps at the two bridge ports, bench/wire-probe.ts). At the same time it
 * asks for the node's own address, which the node's kernel answers: the machine's noise
 * floor in the same phase (on shared cores it alone can exceed the target).
 *
 * Phases: at rest (the anchor); the same flood sent to a port nobody listens on (the
 * control: the flooder's CPU and the kernel's work on the frames, none of ours — what the
 * machine alone does to the ARP tail); the flood on the membership port. Besides the wire,
 * the flooded speaker's own figure: its network thread's loop iterations in CPU time
 * (metalbeacon_network_thread_*: the longest, and how many took over 0.5/1/2 ms), which
 * the time the thread waits for a core on a busy machine does not change.
 *
 * The flooded speaker's network thread: the scheduling policy it ran under in each phase
 * (the speaker's --network-thread-priority, SCHED_FIFO 1 by default, needs CAP_SYS_NICE, which
 * the bench as root has) and how long it waited for a core (schedstat).
 *
 * Options: --seconds S (flood, default 30), --rate N (datagrams/s, default 100000),
 * --rest-seconds S (anchor, default 15), --control-seconds S (default 30),
 * --network-thread-priority N (passed to the speakers; 0: the fallback, SCHED_OTHER with a
 * short slice), --compare (the speakers start at 0, and after the three phases the flooded
 * node's network thread is put under SCHED_FIFO 1 as the speaker puts it, `chrt -f -R`, and
 * the three phases run again: both in one run, on one machine state). SPEAKER_NODE_ARGS: V8
 * flags for the speakers (default `--lite-mode`, as deploy/ ships them).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { announcers } from '../lab/neighbours.ts';
import { type LabDaemon, waitForOutput } from '../lab/netns.ts';
import { LAB_ADDRESSES, startTopology, type Topology } from '../lab/topology.ts';
import { waitFor } from '../shared/runtime/wait-for.ts';
import { DEFAULT_NETWORK_THREAD_PRIORITY } from '../speaker/network-thread/scheduling.ts';
import type { FloodPlan } from './membership-flood/flooder.ts';
import { speakerNodeArgs } from './speaker-flags.ts';
import { NETWORK_THREAD, threadScheduling } from './thread-scheduling.ts';
import { dumpWire } from './wire-dump.ts';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const FLOODER = fileURLToPath(new URL('./membership-flood/flooder.ts', import.meta.url));
const WIRE_PROBE = fileURLToPath(new URL('./wire-probe.ts', import.meta.url));
const nodeArgs = speakerNodeArgs();
const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '30' },
    rate: { type: 'string', default: '100000' },
    'rest-seconds': { type: 'string', default: '15' },
    'control-seconds': { type: 'string', default: '30' },
    'network-thread-priority': { type: 'string' },
    compare: { type: 'boolean', default: false },
  },
});
const FLOOD_SECONDS = Number(args.seconds);
const RATE = Number(args.rate);
const REST_SECONDS = Number(args['rest-seconds']);
const CONTROL_SECONDS = Number(args['control-seconds']);
const COMPARE = args.compare;
if (COMPARE && args['network-thread-priority'] !== undefined) {
  process.stderr.write('error: --compare sets the priorities itself (0, then SCHED_FIFO 1)\n');
  process.exit(2);
}
const PRIORITY = COMPARE ? '0' : args['network-thread-priority'];
/** The second half of --compare: what the speaker asks for by default. */
const COMPARE_PRIORITY = DEFAULT_NETWORK_THREAD_PRIORITY;
const PORT = 7951;
/** Where the control phase's flood goes: no socket there. */
const UNUSED_PORT = 7959;
const CLOCK_TICKS = 100; // USER_HZ: /proc stat times are in 1/100 s

const log = (line: string): void => {
  process.stderr.write(`${new Date().toISOString().slice(11, 23)} ${line}\n`);
};

if (process.getuid?.() !== 0) {
  process.stderr.write('error: bench:membership-flood needs root (network namespaces)\n');
  process.exit(1);
}
execFileSync('bash', [`${REPO}scripts/install-test-deps.sh`], { stdio: 'inherit' });

const topo = await startTopology({ prefix: 'benchmf', manifests: [`${REPO}lab/manifests`] });
const onInterrupt = (): void => {
  void topo.stop().then(() => process.exit(130));
};
process.once('SIGINT', onInterrupt);
process.once('SIGTERM', onInterrupt);

interface Phase {
  name: string;
  seconds: number;
  arpUs: number[];
  /** The node's kernel answering for its own address, asked alongside. */
  kernelUs: number[];
  arpSent: number;
  processCpu: number;
  threadCpu: number;
  failures: number;
  /** "L2: announcing" lines during the phase: takeovers (a false failover moves IPs). */
  takeovers: number;
  ownerChanges: string[];
  udp: { received: number; bufferErrors: number };
  flood?: { sent: number; perSecond: number };
  /** The speaker's network thread: loop iterations in its CPU time during the phase. */
  loop: { iterations: number; longestMs: number; over500us: number; over1ms: number; over2ms: number };
  /** The flood went to a port nobody listens on. */
  control: boolean;
  /** The flooded speaker's network thread: its policy, and its wait for a core (schedstat). */
  thread: { policy: string; waitMs: number; runMs: number; timeslices: number };
}

try {
  await topo.startController();
  await Promise.all(
    topo.nodes.map((n) =>
      topo.startSpeaker(
        n.name,
        [
          ...['--metrics-listen', '127.0.0.1:7473'],
          ...(PRIORITY === undefined ? [] : ['--network-thread-priority', PRIORITY]),
        ],
        { timeoutMs: 60_000, nodeArgs },
      ),
    ),
  );
  // Services until two VIPs have different owners: the flooded node owns the first (its ARP
  // answers are measured), the other is owned elsewhere (a false failover would move it).
  const owners = new Map<string, string>(); // VIP -> node answering ARP for it
  for (let i = 0; owners.size < 2 || new Set(owners.values()).size < 2; i++) {
    if (i === 12) throw new Error(`no two VIPs with different owners: ${JSON.stringify([...owners])}`);
    topo.createIngressService(`flood-${i}`, { pool: 'lab-l2' });
    const [vip] = await topo.waitForServiceIps(`flood-${i}`);
    const owner = await waitFor(`one node answering ARP for ${vip}`, async () => {
      const nodes = await announcers(topo, vip as string);
      return nodes.length === 1 ? nodes[0] : undefined;
    });
    if (!owners.has(vip as string)) owners.set(vip as string, owner);
  }
  const [[vip, target] = ['', ''], ...rest] = [...owners];
  const other = rest.find(([, node]) => node !== target);
  log(`flooded node ${target} owns ${vip}; ${other?.[1]} owns ${other?.[0]}`);
  const targetNode = topo.node(target);
  const speaker = targetNode.speaker!;

  const routerPort = await bridgePort(topo, 'router');
  const wire = topo.lab.spawn('lan', [process.execPath, WIRE_PROBE, routerPort, targetNode.link.portName], {
    stdin: true,
  });
  await waitForOutput(wire, /"ready":true/);

  const plan: FloodPlan = {
    interface: 'eth0',
    seconds: FLOOD_SECONDS,
    perSecond: RATE,
    targetMac: targetNode.link.mac,
    targetIp: targetNode.ipv4,
    port: PORT,
    ownIp: LAB_ADDRESSES.client.ipv4,
    nodes: topo.nodes.filter((n) => n.name !== target).map((n) => ({ name: n.name, ip: n.ipv4 })),
    targetName: target,
  };
  const halves: Phase[][] = [];
  for (const half of COMPARE ? ['fallback', 'real-time'] : ['']) {
    if (half === 'real-time') {
      // As the first half's rest began: the flood guard lets go of its filter 10 s after a flood.
      await new Promise((resolve) => setTimeout(resolve, 12_000));
      const thread = threadScheduling(speaker.pid, NETWORK_THREAD);
      if (!thread) throw new Error(`no network thread in ${target}'s speaker`);
      execFileSync('chrt', ['-f', '-R', '-p', String(COMPARE_PRIORITY), String(thread.tid)]);
    }
    const tag = half ? `${half}: ` : '';
    const phases: Phase[] = [];
    phases.push(await phase(`${tag}at rest`, REST_SECONDS, undefined));
    if (CONTROL_SECONDS > 0)
      phases.push(await phase(`${tag}control`, CONTROL_SECONDS, { ...plan, port: UNUSED_PORT }));
    phases.push(await phase(`${tag}flood`, FLOOD_SECONDS, plan));
    halves.push(phases);
  }
  const rejected = await scrape(target, 'metalbeacon_membership_');
  report(halves, rejected, { vip, target });

  async function phase(name: string, seconds: number, flood: FloodPlan | undefined): Promise<Phase> {
    log(`${name}: ${seconds} s`);
    await dumpWire(wire);
    const failuresBefore = countFailures(topo);
    const takeoversBefore = countLines(topo, '"msg":"L2: announcing"');
    const ownersBefore = await ownersOf(topo, owners);
    const udpBefore = await udpCounters(topo, target);
    const loopBefore = await loopWork(target);
    const cpuBefore = cpuTicks(speaker);
    const threadBefore = threadScheduling(speaker.pid, NETWORK_THREAD);
    const flooder = flood
      ? topo.lab.spawn('client', [process.execPath, FLOODER, JSON.stringify(flood)])
      : undefined;
    const count = Math.floor(seconds * 100);
    const arping = (ip: string) =>
      topo.lab.exec(
        'router',
        ['arping', '-c', String(count), '-W', '0.01', '-w', String(seconds + 10), '-I', 'eth0', ip],
        { allowFailure: true, timeoutMs: (seconds + 30) * 1000 },
      );
    await Promise.all([arping(vip), arping(targetNode.ipv4)]);
    const floodResult = flooder ? await finish(flooder) : undefined;
    if (floodResult) log(`flooder: ${JSON.stringify(floodResult)}`);
    const cpuAfter = cpuTicks(speaker);
    const threadAfter = threadScheduling(speaker.pid, NETWORK_THREAD);
    const measured = await dumpWire(wire);
    const ownersAfter = await ownersOf(topo, owners);
    const changes = [...ownersAfter]
      .filter(([ip, node]) => ownersBefore.get(ip) !== node)
      .map(([ip, node]) => `${ip}: ${ownersBefore.get(ip)} -> ${node}`);
    const udpAfter = await udpCounters(topo, target);
    const loopAfter = await loopWork(target);
    return {
      name,
      seconds,
      arpUs: measured[vip] ?? [],
      kernelUs: measured[targetNode.ipv4] ?? [],
      arpSent: count,
      processCpu: (cpuAfter.process - cpuBefore.process) / CLOCK_TICKS / seconds,
      threadCpu: (cpuAfter.thread - cpuBefore.thread) / CLOCK_TICKS / seconds,
      failures: countFailures(topo) - failuresBefore,
      takeovers: countLines(topo, '"msg":"L2: announcing"') - takeoversBefore,
      ownerChanges: changes,
      udp: {
        received: udpAfter.received - udpBefore.received,
        bufferErrors: udpAfter.bufferErrors - udpBefore.bufferErrors,
      },
      ...(floodResult ? { flood: floodResult } : {}),
      loop: {
        iterations: loopAfter.iterations - loopBefore.iterations,
        longestMs: loopAfter.longestMs,
        over500us: loopAfter.over500us - loopBefore.over500us,
        over1ms: loopAfter.over1ms - loopBefore.over1ms,
        over2ms: loopAfter.over2ms - loopBefore.over2ms,
      },
      control: flood !== undefined && flood.port !== PORT,
      thread: {
        policy:
          threadBefore?.policy === threadAfter?.policy
            ? `${threadAfter?.policy} ${threadAfter?.priority}`
            : `changed: ${threadBefore?.policy} -> ${threadAfter?.policy}`,
        waitMs: ((threadAfter?.waitNs ?? 0) - (threadBefore?.waitNs ?? 0)) / 1e6,
        runMs: ((threadAfter?.runNs ?? 0) - (threadBefore?.runNs ?? 0)) / 1e6,
        timeslices: (threadAfter?.timeslices ?? 0) - (threadBefore?.timeslices ?? 0),
      },
    };
  }
} finally {
  await topo.stop();
}

/** The bridge port of a host (`p<N>-<host>` in the lan namespace). */
async function bridgePort(topology: Topology, host: string): Promise<string> {
  const { stdout } = await topology.lab.ip('lan', ['-j', 'link', 'show']);
  const port = (JSON.parse(stdout) as { ifname: string }[]).find((l) => l.ifname.endsWith(`-${host}`));
  if (!port) throw new Error(`no bridge port for ${host}`);
  return port.ifname;
}

async function finish(flooder: LabDaemon): Promise<{ sent: number; perSecond: number }> {
  await flooder.exited;
  const last = flooder.output().trim().split('\n').at(-1) ?? '{}';
  try {
    return JSON.parse(last) as { sent: number; perSecond: number };
  } catch {
    throw new Error(`flooder failed: ${flooder.output().slice(-2000)}`);
  }
}

/** "speaker failed" lines (membership declared a peer dead) in every speaker's log so far. */
function countFailures(topology: Topology): number {
  return countLines(topology, '"msg":"speaker failed"');
}

function countLines(topology: Topology, text: string): number {
  return topology.nodes
    .map((n) => (n.speaker?.output().split(text).length ?? 1) - 1)
    .reduce((a, b) => a + b, 0);
}

async function ownersOf(topology: Topology, vips: ReadonlyMap<string, string>): Promise<Map<string, string>> {
  const now = new Map<string, string>();
  for (const ip of vips.keys()) now.set(ip, (await announcers(topology, ip)).join('+') || 'nobody');
  return now;
}

/** The process's and its network thread's CPU time so far, in clock ticks. */
function cpuTicks(daemon: LabDaemon): { process: number; thread: number } {
  const ticks = (stat: string) => {
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime + stime
  };
  const process = ticks(readFileSync(`/proc/${daemon.pid}/stat`, 'utf8'));
  let thread = 0;
  for (const tid of readdir(`/proc/${daemon.pid}/task`)) {
    const comm = readFileSync(`/proc/${daemon.pid}/task/${tid}/comm`, 'utf8').trim();
    if (comm.startsWith(NETWORK_THREAD))
      thread = ticks(readFileSync(`/proc/${daemon.pid}/task/${tid}/stat`, 'utf8'));
  }
  return { process, thread };
}

function readdir(path: string): string[] {
  return execFileSync('ls', [path], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

/** The node namespace's UDP counters (/proc/net/snmp): datagrams delivered and dropped at a full socket buffer. */
async function udpCounters(
  topology: Topology,
  node: string,
): Promise<{ received: number; bufferErrors: number }> {
  const { stdout } = await topology.lab.exec(node, ['cat', '/proc/net/snmp']);
  const [names, values] = stdout.split('\n').filter((l) => l.startsWith('Udp:'));
  const fields = names?.split(' ') ?? [];
  const numbers = values?.split(' ') ?? [];
  const get = (field: string) => Number(numbers[fields.indexOf(field)] ?? 0);
  return { received: get('InDatagrams'), bufferErrors: get('RcvbufErrors') };
}

/** The flooded speaker's network-thread iterations (the longest is since the previous scrape). */
async function loopWork(node: string): Promise<Phase['loop']> {
  const lines = await scrape(node, 'metalbeacon_network_thread_');
  const value = (prefix: string) =>
    Number(
      lines
        .find((l) => l.startsWith(prefix))
        ?.split(' ')
        .at(-1) ?? Number.NaN,
    );
  return {
    iterations: value('metalbeacon_network_thread_iterations_total{over="0"}'),
    longestMs: value('metalbeacon_network_thread_longest_iteration_seconds') * 1000,
    over500us: value('metalbeacon_network_thread_iterations_total{over="0.5ms"}'),
    over1ms: value('metalbeacon_network_thread_iterations_total{over="1ms"}'),
    over2ms: value('metalbeacon_network_thread_iterations_total{over="2ms"}'),
  };
}

async function scrape(node: string, metric: string): Promise<string[]> {
  const { stdout } = await topo.lab.exec(node, ['curl', '-sf', 'http://127.0.0.1:7473/metrics'], {
    allowFailure: true,
  });
  return stdout.split('\n').filter((l) => l.startsWith(metric));
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}

function p99(us: readonly number[]): number {
  return quantile(
    [...us].sort((a, b) => a - b),
    0.99,
  );
}

function report(
  halves: readonly (readonly Phase[])[],
  rejected: readonly string[],
  where: { vip: string; target: string },
): void {
  const phases = halves.flat();
  const out: string[] = [
    '',
    `membership flood: ${where.target} flooded from the client; ARP for ${where.vip} (owned by ${where.target}) asked by the router every 10 ms, latency on the wire`,
    `speaker node flags: ${nodeArgs.join(' ') || 'none'}; --network-thread-priority ${PRIORITY ?? `default (${DEFAULT_NETWORK_THREAD_PRIORITY})`}${COMPARE ? `, then the flooded node's network thread under SCHED_FIFO ${COMPARE_PRIORITY} (chrt -f -R)` : ''}`,
    '',
    'phase                        s   sent/s  ARP answered  median ms  p99 ms  max ms  kernel p99 ms  speaker CPU  network thread  UDP delivered/s  UDP buffer drops  false failovers  takeovers  owner changes',
  ];
  for (const p of phases) {
    const sorted = [...p.arpUs].sort((a, b) => a - b);
    out.push(
      [
        p.name.padEnd(26),
        String(p.seconds).padStart(3),
        String(p.flood?.perSecond ?? 0).padStart(8),
        `${sorted.length}/${p.arpSent}`.padStart(13),
        ms(quantile(sorted, 0.5)).padStart(10),
        ms(quantile(sorted, 0.99)).padStart(7),
        ms(sorted.at(-1) ?? Number.NaN).padStart(7),
        ms(p99(p.kernelUs)).padStart(14),
        `${(p.processCpu * 100).toFixed(1)}%`.padStart(12),
        `${(p.threadCpu * 100).toFixed(1)}%`.padStart(15),
        String(Math.round(p.udp.received / p.seconds)).padStart(16),
        String(p.udp.bufferErrors).padStart(17),
        String(p.failures).padStart(16),
        String(p.takeovers).padStart(10),
        (p.ownerChanges.join('; ') || 'none').padStart(14),
      ].join(' '),
    );
  }
  out.push(
    '',
    "the flooded speaker's network thread: loop iterations in its CPU time (what an ARP request arriving meanwhile waits for), its policy and its wait for a core (schedstat):",
    'phase                      iterations/s  longest ms  over 0.5 ms  over 1 ms  over 2 ms  policy          waited ms  mean wait us',
  );
  for (const p of phases) {
    out.push(
      [
        p.name.padEnd(26),
        String(Math.round(p.loop.iterations / p.seconds)).padStart(12),
        p.loop.longestMs.toFixed(3).padStart(11),
        String(p.loop.over500us).padStart(12),
        String(p.loop.over1ms).padStart(10),
        String(p.loop.over2ms).padStart(10),
        ` ${p.thread.policy}`.padEnd(16),
        p.thread.waitMs.toFixed(1).padStart(9),
        ((p.thread.waitMs * 1000) / Math.max(1, p.thread.timeslices)).toFixed(1).padStart(13),
      ].join(' '),
    );
  }
  out.push('');
  for (const half of halves) out.push(...ratios(half));
  const [fallback, realtime] = halves;
  if (fallback && realtime) {
    out.push('ratio real-time/fallback, ARP p99 per phase (same run):');
    for (const [i, p] of realtime.entries()) {
      const q = fallback[i];
      if (q)
        out.push(
          `  ${p.name}: ${ms(p99(p.arpUs))} / ${ms(p99(q.arpUs))} ms = ${(p99(p.arpUs) / p99(q.arpUs)).toFixed(2)}x`,
        );
    }
  }
  out.push(
    `${where.target}'s membership metrics after the flood (dropped datagrams by reason, flooded sources):`,
    ...rejected.map((l) => `  ${l}`),
  );
  process.stdout.write(`${out.join('\n')}\n`);
}

function ms(us: number): string {
  return (us / 1000).toFixed(3);
}

/** The ratios and targets of one set of phases: at rest, control, flood. */
function ratios(phases: readonly Phase[]): string[] {
  const rest = phases[0];
  const flood = phases.at(-1);
  const control = phases.find((p) => p.control);
  if (!rest || !flood) return [];
  const ours = p99(flood.arpUs);
  return [
    `${flood.name} (${flood.thread.policy}):`,
    `  ratio flood/rest: ARP p99 ${(ours / p99(rest.arpUs)).toFixed(2)}x; speaker CPU +${((flood.processCpu - rest.processCpu) * 100).toFixed(1)} points of a core (network thread +${((flood.threadCpu - rest.threadCpu) * 100).toFixed(1)})`,
    `  ratio ours/kernel ARP p99: at rest ${(p99(rest.arpUs) / p99(rest.kernelUs)).toFixed(2)}x, during the flood ${(ours / p99(flood.kernelUs)).toFixed(2)}x`,
    ...(control
      ? [
          `  ratio flood/control (the same flood at a port nobody listens on): ARP p99 ${(ours / p99(control.arpUs)).toFixed(2)}x (control ${ms(p99(control.arpUs))} ms)`,
        ]
      : []),
    `  target: 0 false failovers -> ${flood.failures === 0 && flood.takeovers === 0 && flood.ownerChanges.length === 0 ? 'met' : 'NOT met'}; ARP p99 <= 2 ms during the flood -> ${ours <= 2000 ? 'met' : 'NOT met'} (${ms(ours)} ms; the kernel's ${ms(p99(flood.kernelUs))} ms)`,
  ];
}
