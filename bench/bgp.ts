/**
 * `npm run bench:bgp`: time until BIRD holds all N IPv6 /64s (N = 10,000 and 100,000, out of
 * 2001:db8::/32), counted from the moment the session is up and the prefixes are handed to
 * the announcer: `metalbeacon bgp` (SIGHUP on a new announce file) against GoBGP (`gobgp mrt
 * inject global` of an MRT dump), same run, same BIRD (no kernel protocol). Three runs each;
 * medians, the ratio, and our speaker's RSS holding 100k prefixes. Also the CPU time our
 * speaker spends in that interval (all its threads, from /proc): the share of the wall time
 * that is ours, and a figure a busy machine inflates far less than the wall time.
 *
 * Our speaker runs with the V8 flags deploy/ ships unless told otherwise: SPEAKER_NODE_ARGS (on
 * node's command line, default `--lite-mode`) and SPEAKER_NODE_OPTIONS (NODE_OPTIONS, default
 * `--max-semi-space-size=1`); set both to '' for Node's defaults. BENCH_BGP_SIZES and
 * BENCH_BGP_RUNS change N and the number of runs.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSpeaker } from '../lab/bgp-speaker.ts';
import { Lab } from '../lab/netns.ts';
import { Bird } from '../lab/peers/bird.ts';
import { Gobgp } from '../lab/peers/gobgp.ts';
import { waitFor } from '../shared/runtime/wait-for.ts';
import { ipv6Prefixes, mrtIpv6Dump } from './bgp-mrt.ts';
import {
  SHIPPED_NODE_ARGS,
  SHIPPED_NODE_OPTIONS,
  speakerNodeArgs,
  speakerNodeOptions,
} from './speaker-flags.ts';

const SIZES = (process.env.BENCH_BGP_SIZES ?? '10000,100000').split(',').map(Number);
const RUNS = Number(process.env.BENCH_BGP_RUNS ?? 3);
const SPEAKER_NODE_ARGS = speakerNodeArgs();
const SPEAKER_NODE_OPTIONS = speakerNodeOptions();
/** Our speaker's environment: NODE_OPTIONS as chosen above (never the bench's own). */
const SPEAKER_ENV: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: SPEAKER_NODE_OPTIONS };

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

async function waitCount(bird: Bird, n: number, timeoutMs: number): Promise<number> {
  await waitFor(`${n} routes in BIRD`, async () => (await bird.count('ipv6')) >= n, {
    timeoutMs: timeoutMs,
    intervalMs: 20,
  });
  return performance.now();
}

/** CPU seconds (user + system, all threads) the process has used, from /proc/PID/stat. */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at its closing parenthesis;
  // utime and stime are fields 14 and 15, in clock ticks (USER_HZ, 100 on Linux).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

const lab = await Lab.create('bgpbench');
const dir = await mkdtemp(join(tmpdir(), 'mb-bgpbench-'));
try {
  await lab.addBridge();
  await lab.addHost('router', { router: true });
  await lab.addHost('node');
  await lab.addHost('gobgp');
  await lab.connect('router', { ipv4: '192.0.2.1/24', ipv6: '2001:db8:0:1::1/64' });
  await lab.connect('node', { ipv4: '192.0.2.10/24', ipv6: '2001:db8:0:1::10/64' });
  await lab.connect('gobgp', { ipv4: '192.0.2.20/24', ipv6: '2001:db8:0:1::20/64' });
  const bird = await Bird.start(lab, 'router', '192.0.2.1', [
    {
      name: 'mb',
      localAddress: '192.0.2.1',
      localAs: 65000,
      address: '192.0.2.10',
      as: 65001,
      families: ['ipv6'],
    },
    {
      name: 'gobgp',
      localAddress: '192.0.2.1',
      localAs: 65000,
      address: '192.0.2.20',
      as: 65002,
      families: ['ipv6'],
    },
  ]);
  const results: {
    n: number;
    ours: number[];
    oursCpu: number[];
    gobgp: number[];
    rss?: { idle: number; peak: number; settled: number };
  }[] = [];
  try {
    for (const n of SIZES) {
      const file = join(dir, `announce-${n}`);
      const mrt = join(dir, `dump-${n}.mrt`);
      await writeFile(file, ipv6Prefixes(n));
      await writeFile(
        mrt,
        // Originated by AS 64512 behind GoBGP (its own AS in the path would be a loop); 2,000
        // padding records absorb gobgp's lost tail (see bgp-mrt.ts).
        mrtIpv6Dump(
          n,
          64512,
          [192, 0, 2, 20],
          [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0x20],
          2000,
        ),
      );
      const row: (typeof results)[number] = { n, ours: [], oursCpu: [], gobgp: [] };
      for (let run = 0; run < RUNS; run++) {
        // Ours: session up with nothing, then hand over the N prefixes with SIGHUP.
        const empty = join(dir, 'empty');
        await writeFile(empty, '');
        const speaker = startSpeaker(
          lab,
          'node',
          [
            ...[
              '--local-as',
              '65001',
              '--peer',
              '192.0.2.1',
              '--peer-as',
              '65000',
              '--router-id',
              '192.0.2.10',
            ],
            ...['--announce-file', empty, '--listen-port', '0', '--drain-time', '0'],
          ],
          SPEAKER_ENV,
          SPEAKER_NODE_ARGS,
        );
        speaker.child.stdout?.resume();
        await waitFor('our session up', async () => (await bird.protocolState('mb')) === 'Established', {
          timeoutMs: 20_000,
        });
        const idleRss = await rssMb(speaker.pid);
        await writeFile(empty, await readFile(file));
        const cpu0 = await cpuSeconds(speaker.pid);
        const t0 = performance.now();
        speaker.child.kill('SIGHUP');
        const t1 = await waitCount(bird, n, 120_000);
        row.ours.push(t1 - t0);
        row.oursCpu.push((await cpuSeconds(speaker.pid)) - cpu0);
        if (n === Math.max(...SIZES) && run === 0) {
          const peak = await rssMb(speaker.pid);
          await new Promise((resolve) => setTimeout(resolve, 5000));
          row.rss = { idle: idleRss, peak, settled: await rssMb(speaker.pid) };
        }
        await speaker.stop(10_000);
        await waitFor('routes gone', async () => (await bird.count('ipv6')) === 0, { timeoutMs: 60_000 });

        // GoBGP: session up, then inject the MRT dump.
        const gobgp = await Gobgp.start(lab, 'gobgp', {
          as: 65002,
          routerId: '192.0.2.20',
          localAddress: '192.0.2.20',
          neighbors: [{ address: '192.0.2.1', as: 65000 }],
        });
        await waitFor('GoBGP session up', async () => (await bird.protocolState('gobgp')) === 'Established', {
          timeoutMs: 30_000,
        });
        const g0 = performance.now();
        await gobgp.cli(['mrt', 'inject', 'global', mrt]);
        const g1 = await waitCount(bird, n, 300_000);
        row.gobgp.push(g1 - g0);
        await gobgp.stop();
        await waitFor('routes gone', async () => (await bird.count('ipv6')) === 0, { timeoutMs: 60_000 });
        process.stdout.write(
          `N=${n} run ${run + 1}: metalbeacon ${(row.ours.at(-1)! / 1000).toFixed(3)} s ` +
            `(CPU ${row.oursCpu.at(-1)!.toFixed(2)} s), GoBGP ${(row.gobgp.at(-1)! / 1000).toFixed(3)} s\n`,
        );
      }
      results.push(row);
    }
  } finally {
    await bird.stop();
  }
  process.stdout.write('\nBGP advertise: time until BIRD holds N IPv6 /64s (median of runs)\n');
  const shipped =
    SPEAKER_NODE_ARGS.join(' ') === SHIPPED_NODE_ARGS && SPEAKER_NODE_OPTIONS === SHIPPED_NODE_OPTIONS;
  process.stdout.write(
    `our speaker: node ${SPEAKER_NODE_ARGS.join(' ') || '(no flags)'}, NODE_OPTIONS=${SPEAKER_NODE_OPTIONS || '(none)'}` +
      `${shipped ? ' (as deploy/ ships it)' : ''}\n`,
  );
  process.stdout.write(
    'N        metalbeacon   GoBGP (MRT inject)   ratio   routes/s (ours)   our CPU (min-max)\n',
  );
  for (const r of results) {
    const ours = median(r.ours) / 1000;
    const theirs = median(r.gobgp) / 1000;
    const cpu = `${median(r.oursCpu).toFixed(2)} s (${Math.min(...r.oursCpu).toFixed(2)}-${Math.max(...r.oursCpu).toFixed(2)})`;
    process.stdout.write(
      `${String(r.n).padEnd(8)} ${`${ours.toFixed(3)} s`.padEnd(13)} ${`${theirs.toFixed(3)} s`.padEnd(20)} ` +
        `${(ours / theirs).toFixed(3).padEnd(7)} ${String(Math.round(r.n / ours)).padEnd(17)} ${cpu}\n`,
    );
  }
  const big = results.find((r) => r.rss !== undefined);
  if (big?.rss) {
    const { idle, peak, settled } = big.rss;
    process.stdout.write(
      `speaker RSS: ${idle.toFixed(1)} MB with the session up and no prefixes; holding ${big.n} prefixes ` +
        `${peak.toFixed(1)} MB when BIRD has them all, ${settled.toFixed(1)} MB 5 s later\n`,
    );
  }
} finally {
  await lab.destroy();
  await rm(dir, { recursive: true, force: true });
}
