// `npm run bench:arp`: ARP request→reply latency seen by a client (arping), MetalBeacon's
// responder vs the kernel answering for an address on the interface, in the same run,
// interleaved in blocks so drift affects both alike, seen by arping and on the wire (kernel
// timestamps at the bridge ports); then again with the speaker's main
// thread kept busy. Prints figures; asserts nothing (speed targets are not tests).

import { metalbeaconEntry } from '../lab/entry.ts';
import { Lab, type LabDaemon, waitForOutput } from '../lab/netns.ts';
import { dumpWire } from './wire-dump.ts';

const NODE = process.execPath;
const CLI = metalbeaconEntry();
/** V8 flags for the responder's node (e.g. `--lite-mode`), to measure their cost; none by default. */
const RESPONDER_NODE_ARGS = (process.env.RESPONDER_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
const WIRE_PROBE = new URL('./wire-probe.ts', import.meta.url).pathname;
const VIP = '198.51.100.77';
const NODE_IP = '192.0.2.41';
const REQUESTS = Number(process.env.BENCH_ARP_REQUESTS ?? 1000);
const BLOCK = 100;

interface Stats {
  count: number;
  lost: number;
  medianUs: number;
  p99Us: number;
  maxUs: number;
}

function stats(samplesUs: number[], sent: number): Stats {
  const sorted = [...samplesUs].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return {
    count: sorted.length,
    lost: sent - sorted.length,
    medianUs: at(0.5),
    p99Us: at(0.99),
    maxUs: sorted.at(-1) ?? Number.NaN,
  };
}

/** arping's own request→reply times, in µs. */
async function arping(lab: Lab, ip: string, count: number): Promise<number[]> {
  const { stdout } = await lab.exec(
    'client',
    ['arping', '-c', String(count), '-W', '0.005', '-w', '30', '-I', 'eth0', ip],
    {
      allowFailure: true,
      timeoutMs: 120_000,
    },
  );
  const samples: number[] = [];
  for (const match of stdout.matchAll(/time=([\d.]+) (usec|msec|sec)/g)) {
    const value = Number(match[1]);
    samples.push(match[2] === 'usec' ? value : match[2] === 'msec' ? value * 1000 : value * 1e6);
  }
  return samples;
}

interface Phase {
  client: { ours: Stats; kernel: Stats };
  wire: { ours: Stats; kernel: Stats };
}

async function measure(lab: Lab, wire: LabDaemon): Promise<Phase> {
  await arping(lab, VIP, 20); // warm-up, not counted
  await dumpWire(wire);
  const ours: number[] = [];
  const kernel: number[] = [];
  for (let done = 0; done < REQUESTS; done += BLOCK) {
    ours.push(...(await arping(lab, VIP, BLOCK)));
    kernel.push(...(await arping(lab, NODE_IP, BLOCK)));
  }
  const onWire = await dumpWire(wire);
  return {
    client: { ours: stats(ours, REQUESTS), kernel: stats(kernel, REQUESTS) },
    wire: { ours: stats(onWire[VIP] ?? [], REQUESTS), kernel: stats(onWire[NODE_IP] ?? [], REQUESTS) },
  };
}

const ms = (us: number) => (us / 1000).toFixed(3);

function report(title: string, phase: Phase, busy: boolean): void {
  console.log(
    `\n${title} (${REQUESTS} requests each, arping -W 0.005, responder node flags: ${RESPONDER_NODE_ARGS.join(' ') || 'none'})`,
  );
  table('seen by the client (arping)', phase.client, busy);
  table('on the wire (kernel timestamps at the bridge ports)', phase.wire, busy);
}

function table(title: string, { ours, kernel }: { ours: Stats; kernel: Stats }, busy: boolean): void {
  console.log(`  ${title}`);
  console.log('                      median ms    p99 ms    max ms   lost');
  for (const [name, s] of [
    ['MetalBeacon', ours],
    ['kernel (anchor)', kernel],
  ] as const) {
    console.log(
      `  ${name.padEnd(18)} ${ms(s.medianUs).padStart(9)} ${ms(s.p99Us).padStart(9)} ${ms(s.maxUs).padStart(9)} ${String(s.lost).padStart(6)}`,
    );
  }
  console.log(
    `  ratio ours/kernel    median ${(ours.medianUs / kernel.medianUs).toFixed(2)}x, p99 ${(ours.p99Us / kernel.p99Us).toFixed(2)}x, max ${(ours.maxUs / kernel.maxUs).toFixed(2)}x`,
  );
  if (!busy) return;
  console.log(
    `  target (busy main thread): median <= 0.5 ms ${ours.medianUs <= 500 ? 'met' : 'NOT met'}, p99 <= 2 ms ${ours.p99Us <= 2000 ? 'met' : 'NOT met'}`,
  );
}

async function withResponder(lab: Lab, extra: string[], run: () => Promise<void>): Promise<void> {
  const l2: LabDaemon = lab.spawn('node', [
    NODE,
    ...RESPONDER_NODE_ARGS,
    CLI,
    '--log-format',
    'json',
    'l2',
    '--interface',
    'eth0',
    '--announce',
    VIP,
    // One client asking 200 times a second: lift the per-requester limit for the benchmark.
    '--rate-limit',
    '100000',
    '--rate-burst',
    '100000',
    ...extra,
  ]);
  try {
    await waitForOutput(l2, /ready: announcing/, 20_000);
    await run();
  } finally {
    await l2.stop();
  }
}

const lab = await Lab.create('benarp');
try {
  await lab.addBridge();
  await lab.addHost('client');
  await lab.addHost('node');
  const clientLink = await lab.connect('client', { ipv4: '192.0.2.40/24' });
  const nodeLink = await lab.connect('node', { ipv4: `${NODE_IP}/24` });
  const wire = lab.spawn('lan', [NODE, WIRE_PROBE, clientLink.portName, nodeLink.portName], { stdin: true });
  await waitForOutput(wire, /"ready":true/);
  await lab.exec('node', [
    'sysctl',
    '-qw',
    'net.ipv4.conf.all.arp_ignore=1',
    'net.ipv4.conf.all.arp_announce=2',
  ]);
  await lab.ip('client', ['route', 'add', '198.51.100.0/24', 'dev', 'eth0']);
  console.log('ARP request→reply latency seen by the client (arping), lab namespaces over a bridge');
  await withResponder(lab, [], async () => {
    report('idle main thread', await measure(lab, wire), false);
  });
  await withResponder(lab, ['--debug-busy-main-thread-ms', '50'], async () => {
    report('main thread busy (blocked in 50 ms slices)', await measure(lab, wire), true);
  });
} finally {
  await lab.destroy();
}
