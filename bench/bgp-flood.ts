/**
 * `npm run bench:bgp-flood`: resident memory of `metalbeacon bgp` holding 5,000 IPv6 /64s for a
 * peer of our own on loopback, first at rest for 10 s (the anchor: V8's own drift), then for
 * 10 s after that peer stops reading and sends 20,000 ROUTE-REFRESH (keeping the session alive
 * with KEEPALIVEs; hold time 90 s, so no reset within the window). Prints RSS before, the
 * peak in each phase, the growth, the ratio of the two peaks, and what the speaker's metrics say
 * about the refreshes and its waiting output. The speaker runs as the DaemonSet runs it
 * (`--lite-mode`, `NODE_OPTIONS=--max-semi-space-size=1`); `SPEAKER_NODE_ARGS` and
 * `SPEAKER_NODE_OPTIONS` replace those (empty: Node's defaults); `REFRESHES` sets the count.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { METALBEACON, NODE } from '../lab/bgp-speaker.ts';
import { frameMessage, MessageType } from '../speaker/bgp/codec/index.ts';
import { freePort, PeerListener, peerOpen } from './bgp-hostile-peer.ts';
import { speakerNodeArgs, speakerNodeOptions } from './speaker-flags.ts';

const PREFIXES = 5000;
const REFRESHES = Number(process.env.REFRESHES ?? 20_000);
const PHASE_MS = 10_000;
const SPEAKER_NODE_ARGS = speakerNodeArgs();
const SPEAKER_NODE_OPTIONS = speakerNodeOptions();

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

/** Samples RSS every 100 ms for `ms`: the highest, and the change over the second half (MB/s). */
async function sampleOver(pid: number, ms: number): Promise<{ peak: number; lateSlope: number }> {
  const samples: number[] = [];
  for (const end = Date.now() + ms; Date.now() < end; ) {
    samples.push(await rssMb(pid));
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const half = samples[samples.length >> 1]!;
  return { peak: Math.max(...samples), lateSlope: (samples.at(-1)! - half) / (ms / 2000) };
}

const dir = await mkdtemp(join(tmpdir(), 'mb-bgpflood-'));
const peers = await PeerListener.start();
const metricsPort = await freePort();
const file = join(dir, 'prefixes');
await writeFile(
  file,
  `${Array.from({ length: PREFIXES }, (_, i) => `2001:db8:1:${i.toString(16)}::/64`).join('\n')}\n`,
);
const speaker = spawn(
  NODE,
  [
    ...SPEAKER_NODE_ARGS,
    METALBEACON,
    ...['--log-level', 'warn', 'bgp', '--local-as', '65001', '--peer', '127.0.0.1', '--peer-as', '65000'],
    ...['--router-id', '192.0.2.10', '--peer-port', String(peers.port), '--listen-port', '0'],
    ...['--announce-file', file, '--metrics-listen', `127.0.0.1:${metricsPort}`, '--drain-time', '0'],
  ],
  { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, NODE_OPTIONS: SPEAKER_NODE_OPTIONS } },
);
const exited = new Promise<void>((resolve) => speaker.once('exit', () => resolve()));
let keepalives: NodeJS.Timeout | undefined;
try {
  const pid = speaker.pid!;
  const c = await peers.connection(0);
  await c.establish(peerOpen());
  await c.until('the table', () => (c.endOfRibs().length === 2 ? true : undefined), 60_000);
  keepalives = setInterval(() => c.send({ type: 'keepalive' }), 1000);
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const before = await rssMb(pid);
  const atRest = await sampleOver(pid, PHASE_MS);
  c.pauseReading();
  const refresh = frameMessage(MessageType.RouteRefresh, Uint8Array.of(0, 2, 0, 1));
  const flood = new Uint8Array(refresh.length * REFRESHES);
  for (let i = 0; i < REFRESHES; i++) flood.set(refresh, i * refresh.length);
  c.sendRaw(flood);
  const flooded = await sampleOver(pid, PHASE_MS);
  // A speaker too busy to answer gets no metrics line, not a hung benchmark.
  const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`, {
    signal: AbortSignal.timeout(5000),
  })
    .then((r) => r.text())
    .catch(() => '');
  const pick = (name: string) =>
    metrics
      .split('\n')
      .filter((l) => l.startsWith(name))
      .map((l) => l.replace(/^metalbeacon_bgp_/, ''))
      .join(', ');
  const alive = speaker.exitCode === null;
  console.log(
    `metalbeacon bgp holding ${PREFIXES} IPv6 prefixes, ${REFRESHES} ROUTE-REFRESH from a peer not reading`,
  );
  console.log(
    `  node args: ${SPEAKER_NODE_ARGS.join(' ') || '(none)'}; NODE_OPTIONS: ${SPEAKER_NODE_OPTIONS || '(none)'}; entry ${METALBEACON}`,
  );
  const line = (what: string, r: { peak: number; lateSlope: number }) =>
    console.log(
      `  ${what}: peak ${r.peak.toFixed(1)} MB (+${(r.peak - before).toFixed(1)} MB), second half ${r.lateSlope >= 0 ? '+' : ''}${r.lateSlope.toFixed(2)} MB/s`,
    );
  console.log(`  RSS before: ${before.toFixed(1)} MB`);
  line('at rest, 10 s (anchor)', atRest);
  line('under the flood, 10 s', flooded);
  console.log(`  ratio of the peaks, flood / rest: ${(flooded.peak / atRest.peak).toFixed(3)}`);
  console.log(`  refreshes: ${pick('metalbeacon_bgp_route_refresh_requests_total') || '(no metric)'}`);
  console.log(`  output waiting: ${pick('metalbeacon_bgp_output_queued_bytes') || '(no metric)'}`);
  console.log(`  speaker alive afterwards: ${alive}`);
} finally {
  clearInterval(keepalives);
  speaker.kill('SIGKILL');
  await exited;
  await peers.close();
  await rm(dir, { recursive: true, force: true });
}
