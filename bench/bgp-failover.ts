/**
 * `npm run bench:bgp-failover` — BGP-mode failover on the lab topology: the client sends a fresh
 * HTTP GET every 20 ms through the router to an ECMP VIP announced by three speakers; a node's
 * cable is pulled; the flows the router hashes to that node fail until BIRD drops its next hop.
 * Contenders in one run, with the same speakers and router: BFD 50 ms x3, BFD with the
 * BFDProfile defaults (300 ms x3), and no BFD (BIRD's 9 s hold time: the anchor). Outage per run:
 * from the cut to the first request after the last failed one (lab/failover.ts
 * analyzeEcmpFailover). Then BFD flaps over a window with both cores kept busy, at the defaults
 * and at 50 ms x3. Prints a table; not a test.
 *
 * Options: --runs N (per contender, default 5), --flap-seconds S (per profile, default 60; the
 * figure the issue asks for is 600), --skip-flaps, --skip-failover. SPEAKER_NODE_ARGS as in
 * bench:failover.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { analyzeEcmpFailover } from '../lab/failover.ts';
import { startProbe } from '../lab/probe.ts';
import type { BirdBfd } from '../lab/router.ts';
import { startTopology } from '../lab/topology.ts';
import { waitFor } from '../shared/runtime/wait-for.ts';
import { countFlaps } from './failover/flaps.ts';
import { summarize } from './failover/measure.ts';
import { speakerNodeArgs } from './speaker-flags.ts';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const nodeArgs = speakerNodeArgs();
const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    'flap-seconds': { type: 'string', default: '60' },
    'skip-flaps': { type: 'boolean', default: false },
    'skip-failover': { type: 'boolean', default: false },
  },
});
const RUNS = Number(args.runs);
const FLAP_SECONDS = Number(args['flap-seconds']);
const HOLD_TIME_SEC = 9;

interface Contender {
  readonly name: string;
  /** BFDProfile of the speakers' BGPPeer; undefined: no BFD. */
  readonly profile: string | undefined;
  readonly bird: BirdBfd | undefined;
  /** The outage the issue sets as the target (ms). */
  readonly targetMs?: number;
}
const CONTENDERS: readonly Contender[] = [
  {
    name: 'BFD 50 ms x3',
    profile: 'bench-fast',
    bird: { minRxMs: 50, minTxMs: 50, multiplier: 3 },
    targetMs: 300,
  },
  {
    name: 'BFD profile defaults 300 ms x3',
    profile: 'bench-defaults',
    bird: { minRxMs: 300, minTxMs: 300, multiplier: 3 },
    targetMs: 1200,
  },
  { name: `no BFD (hold time ${HOLD_TIME_SEC} s)`, profile: undefined, bird: undefined },
];

const log = (line: string): void => {
  process.stderr.write(`${new Date().toISOString().slice(11, 23)} ${line}\n`);
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`);

if (process.getuid?.() !== 0) {
  process.stderr.write('error: bench:bgp-failover needs root (network namespaces)\n');
  process.exit(1);
}
execFileSync('bash', [`${REPO}scripts/install-test-deps.sh`, '--bench'], { stdio: 'inherit' });

const topo = await startTopology({
  prefix: 'benchbfd',
  manifests: [`${REPO}lab/manifests`],
  birdHoldTimeSec: HOLD_TIME_SEC,
  // Each contender sets BIRD's BFD itself (configure()).
  birdBfd: null,
});
const busy: ChildProcess[] = [];
const onInterrupt = (): void => {
  for (const child of busy) child.kill('SIGKILL');
  void topo.stop().then(() => process.exit(130));
};
process.once('SIGINT', onInterrupt);
process.once('SIGTERM', onInterrupt);

/** Sets the BGPPeer's bfdProfile (null: none) and BIRD's BFD to match. */
async function configure(contender: Contender): Promise<void> {
  await topo.configureRouter({
    holdTimeSec: HOLD_TIME_SEC,
    ...(contender.bird ? { bfd: contender.bird } : {}),
  });
  const res = await fetch(
    `${topo.api.url}/apis/metalbeacon.io/v1beta1/namespaces/metalbeacon-system/bgppeers/lab-router`,
    {
      method: 'PATCH',
      headers: { 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ spec: { bfdProfile: contender.profile ?? null } }),
    },
  );
  if (!res.ok) throw new Error(`PATCH BGPPeer: ${res.status} ${await res.text()}`);
}

/** Every node is a next hop of the VIP in the router's kernel, and (with BFD) BIRD's sessions run its timers. */
async function steady(vip: string, contender: Contender): Promise<void> {
  await waitFor(
    `${vip} via all ${topo.nodes.length} nodes${contender.bird ? ' with BFD Up' : ''}`,
    async () => {
      const [route] = await topo.kernelRoutes('IPv4', `${vip}/32`);
      if (route?.nextHops.length !== topo.nodes.length) return undefined;
      if (!contender.bird) return true;
      const sessions = await topo.birdBfdSessions();
      const interval = Math.max(contender.bird.minTxMs, contender.bird.minRxMs) / 1000;
      return (
        sessions.filter((s) => s.state === 'Up' && s.intervalSec === interval).length === topo.nodes.length
      );
    },
    { timeoutMs: 60_000, intervalMs: 100 },
  );
}

interface Row {
  readonly contender: Contender;
  readonly outages: number[];
  readonly lost: number[];
}
const rows: Row[] = [];
const flaps: { name: string; seconds: number; bfdDowns: number; bgpResets: number }[] = [];

try {
  topo.applyManifests([
    profile('bench-fast', { receiveInterval: 50, transmitInterval: 50, detectMultiplier: 3 }),
    profile('bench-defaults', {}),
  ]);
  await topo.startController();
  await Promise.all(topo.nodes.map((n) => topo.startSpeaker(n.name, [], { timeoutMs: 60_000, nodeArgs })));
  topo.createIngressService('web', { pool: 'lab-bgp', families: ['IPv4'] });
  const [vip] = await topo.waitForServiceIps('web');
  if (!vip) throw new Error('no VIP');
  log(`VIP ${vip}; speaker node flags: ${nodeArgs.join(' ') || 'none'}`);

  for (const contender of args['skip-failover'] ? [] : CONTENDERS) {
    await configure(contender);
    await steady(vip, contender);
    const row: Row = { contender, outages: [], lost: [] };
    rows.push(row);
    const probe = await startProbe({ namespace: topo.lab.ns('client'), url: `http://${vip}/` });
    try {
      for (let run = 0; run < RUNS; run++) {
        const victim = topo.nodes[run % topo.nodes.length]!.name;
        await probe.waitForGood(25, { from: Date.now(), timeoutMs: 30_000 });
        const cutAt = Date.now();
        await topo.cutLink(victim);
        await probe.waitForGood(50, { from: cutAt, timeoutMs: 30_000 });
        const outcome = analyzeEcmpFailover(probe.records(), cutAt);
        if (!outcome) throw new Error(`${contender.name}: the client was not served again`);
        row.outages.push(outcome.outageMs);
        row.lost.push(outcome.failedRequests);
        log(
          `${contender.name} run ${run + 1}: ${victim} cut, ${fmt(outcome.outageMs)} (${outcome.failedRequests} lost)`,
        );
        await topo.restoreLink(victim);
        await steady(vip, contender);
      }
    } finally {
      await probe.stop();
    }
  }

  if (!args['skip-flaps']) {
    for (const contender of CONTENDERS.filter((c) => c.bird)) {
      await configure(contender);
      await steady(vip, contender);
      const before = speakerFlaps();
      log(`${contender.name}: ${FLAP_SECONDS} s with both cores kept busy`);
      for (let i = 0; i < 2; i++)
        busy.push(spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
      await sleep(FLAP_SECONDS * 1000);
      for (const child of busy.splice(0)) child.kill('SIGKILL');
      const now = speakerFlaps();
      flaps.push({
        name: contender.name,
        seconds: FLAP_SECONDS,
        bfdDowns: now.bfdDowns - before.bfdDowns,
        bgpResets: now.bgpResets - before.bgpResets,
      });
    }
  }

  const anchor = rows.find((r) => r.contender.profile === undefined);
  const anchorMedian = anchor ? summarize(anchor.outages).median : Number.NaN;
  const out = [
    '',
    `BGP failover: outage of the flows hashed to a node whose cable is pulled (ECMP over ${topo.nodes.length} nodes, ${RUNS} runs each)`,
    '',
    `${'contender'.padEnd(34)} ${'median'.padStart(9)} ${'max'.padStart(9)} ${'lost (med)'.padStart(11)} ${'vs no BFD'.padStart(10)}  target`,
  ];
  for (const row of rows) {
    const s = summarize(row.outages);
    const ratio = (s.median / anchorMedian).toFixed(3);
    const target =
      row.contender.targetMs === undefined
        ? 'anchor'
        : `<= ${fmt(row.contender.targetMs)}: ${s.median <= row.contender.targetMs ? 'met' : 'NOT met'}`;
    out.push(
      `${row.contender.name.padEnd(34)} ${fmt(s.median).padStart(9)} ${fmt(s.max).padStart(9)} ${String(summarize(row.lost).median).padStart(11)} ${ratio.padStart(10)}  ${target}`,
    );
  }
  if (flaps.length > 0) {
    out.push('', `BFD flaps with both cores kept busy (${topo.nodes.length} sessions each):`);
    for (const f of flaps) {
      out.push(
        `  ${f.name.padEnd(32)} ${f.seconds} s: ${f.bfdDowns} BFD session down, ${f.bgpResets} BGP reset${
          f.name.includes('defaults') ? ` (target 0: ${f.bfdDowns === 0 ? 'met' : 'NOT met'})` : ''
        }`,
      );
    }
  }
  process.stdout.write(`${out.join('\n')}\n`);
} finally {
  for (const child of busy) child.kill('SIGKILL');
  await topo.stop();
}

function profile(name: string, spec: object) {
  return {
    apiVersion: 'metalbeacon.io/v1beta1',
    kind: 'BFDProfile',
    metadata: { name, namespace: 'metalbeacon-system' },
    spec,
  };
}

/** Flaps in every speaker's log so far (a deliberate AdminDown is none: bench/failover/flaps.ts). */
function speakerFlaps(): { bfdDowns: number; bgpResets: number } {
  return topo.nodes.reduce(
    (sum, node) => {
      const f = countFlaps(node.speaker?.output() ?? '');
      return { bfdDowns: sum.bfdDowns + f.bfdDowns, bgpResets: sum.bgpResets + f.bgpResets };
    },
    { bfdDowns: 0, bgpResets: 0 },
  );
}
