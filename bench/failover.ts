/**
 * `npm run bench:failover` — client-observed L2 failover outage on the lab topology, MetalBeacon
 * against keepalived (VRRP) in the same run, plus the speaker's footprint: resident memory with
 * 1,000 announced Services and API requests per minute at rest. Prints a table; not a test.
 *
 * Outage: a client namespace sends an HTTP GET every 20 ms (fresh connection, 500 ms bound) to
 * the VIP; the announcing node's LAN link is cut; outage = start of the first failed request to
 * the answer of the first good one after it (lab/probe.ts). Five runs per contender.
 *
 * Options: --runs N (default 5), --rest-seconds S (API requests window, default 60),
 * --services N (footprint, default 1000), --skip-keepalived. SPEAKER_NODE_ARGS and
 * SPEAKER_NODE_OPTIONS (bench/speaker-flags.ts): the speakers' V8 flags, both on node's command
 * line; default what deploy/ ships, '' for Node's defaults.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { announcers } from '../lab/neighbours.ts';
import { type Probe, startProbe } from '../lab/probe.ts';
import { startTopology } from '../lab/topology.ts';
import { waitFor } from '../shared/runtime/wait-for.ts';
import { speakerDetail } from './failover/footprint-read.ts';
import { startKeepalived, type VrrpNode } from './failover/keepalived.ts';
import { type FailoverSample, measureFailover, summarize } from './failover/measure.ts';
import { speakerNodeArgs, speakerNodeOptions } from './speaker-flags.ts';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const nodeArgs = [
  ...speakerNodeArgs(),
  ...speakerNodeOptions()
    .split(' ')
    .filter((a) => a !== ''),
];
const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    'rest-seconds': { type: 'string', default: '60' },
    services: { type: 'string', default: '1000' },
    'skip-keepalived': { type: 'boolean', default: false },
  },
});
const RUNS = Number(args.runs);
const REST_SECONDS = Number(args['rest-seconds']);
const SERVICES = Number(args.services);
/** keepalived's VIP: in the client's on-link Service range, outside every lab pool. */
const VRRP_VIP = '198.51.100.200';
/** Footprint Services: one IPv6 /128 each, BGP (the benchmark may use a /64 of 2001:db8::/32). */
const FOOTPRINT_RANGE = '2001:db8:1000::/116';

const log = (line: string): void => {
  process.stderr.write(`${new Date().toISOString().slice(11, 23)} ${line}\n`);
};

if (process.getuid?.() !== 0) {
  process.stderr.write('error: bench:failover needs root (network namespaces)\n');
  process.exit(1);
}
execFileSync('bash', [`${REPO}scripts/install-test-deps.sh`, '--bench'], { stdio: 'inherit' });

/** API requests by "METHOD resource" while counting is on. */
const requests = new Map<string, number>();
let counting = false;
/** When the API server last answered a write (POST/PUT/PATCH/DELETE) from anyone. */
let lastWriteAt = Date.now();
let writesSinceAnnounce = 0;
const topo = await startTopology({
  prefix: 'benchfo',
  manifests: [`${REPO}lab/manifests`],
  onApiRequest(method, path) {
    if (method !== 'GET') {
      lastWriteAt = Date.now();
      writesSinceAnnounce++;
    }
    if (!counting) return;
    // Group by resource, without names, query strings or namespaces: "GET services".
    const parts = path.split('?')[0]?.split('/').filter(Boolean) ?? [];
    const nsIndex = parts.indexOf('namespaces');
    const resource = nsIndex >= 0 && parts.length > nsIndex + 2 ? parts[nsIndex + 2] : parts.at(-1);
    const key = `${method} ${resource}${path.includes('watch=') ? ' (watch)' : ''}`;
    requests.set(key, (requests.get(key) ?? 0) + 1);
  },
});

interface Row {
  name: string;
  samples: FailoverSample[];
}
const rows: Row[] = [];
/** Runs that did not start from a steady state (see {@link steadyOwner}). */
const unsteady: string[] = [];

const onInterrupt = (): void => {
  void topo.stop().then(() => process.exit(130));
};
process.once('SIGINT', onInterrupt);
process.once('SIGTERM', onInterrupt);

try {
  const vrrpNodes: VrrpNode[] = topo.nodes.map((n) => ({
    name: n.name,
    short: n.short,
    ifName: 'eth0',
    link: n.link,
  }));
  if (!args['skip-keepalived']) {
    for (const advertInt of [1, 0.1]) {
      const name = `keepalived advert_int ${advertInt}`;
      const row: Row = { name, samples: [] };
      rows.push(row);
      for (let run = 1; run <= RUNS; run++) {
        const cluster = startKeepalived(topo.lab, vrrpNodes, { advertInt, vip: VRRP_VIP });
        const probe = await startProbe({ namespace: topo.lab.ns('client'), url: `http://${VRRP_VIP}/` });
        try {
          const master = await cluster.master();
          const sample = await measureFailover(probe, () => topo.cutLink(master.name));
          row.samples.push(sample);
          log(
            `${name} run ${run}: ${fmt(sample.outageMs)} (${sample.lost} lost, ${sample.servers.join(' -> ')})`,
          );
          await topo.restoreLink(master.name);
        } finally {
          await probe.stop();
          await cluster.stop();
        }
      }
    }
  }

  await topo.startController();
  log(`speaker node flags: ${nodeArgs.join(' ') || 'none'}`);
  for (const [profile, extra] of [
    ['default', []],
    ['fast', ['--membership-profile', 'fast']],
  ] as const) {
    const name = `MetalBeacon ${profile === 'default' ? 'defaults' : '--membership-profile fast'}`;
    await Promise.all(
      topo.nodes.map((n) => topo.startSpeaker(n.name, extra, { timeoutMs: 60_000, nodeArgs })),
    );
    const service = `web-${profile}`;
    topo.createIngressService(service, { pool: 'lab-l2' });
    const [vip] = await topo.waitForServiceIps(service);
    const row: Row = { name, samples: [] };
    rows.push(row);
    const probe = await startProbe({ namespace: topo.lab.ns('client'), url: `http://${vip}/` });
    try {
      for (let run = 1; run <= RUNS; run++) {
        const owner = await steadyOwner(probe, vip as string, name);
        const cutAt = Date.now();
        const sample = await measureFailover(probe, () => topo.cutLink(owner));
        row.samples.push(sample);
        log(
          `${name} run ${run}: ${fmt(sample.outageMs)} (${sample.lost} lost, ${sample.servers.join(' -> ')})`,
        );
        // A failed node stays down 3 s (longer than the speaker's 2 s interface rescan), then
        // comes back and takes its IP back (stable ranking).
        await sleep(Math.max(0, cutAt + 3_000 - Date.now()));
        await topo.restoreLink(owner);
        await sleep(3_000);
      }
    } finally {
      await probe.stop();
    }
    topo.api.deleteObject('v1', 'Service', 'default', service);
    await Promise.all(topo.nodes.map((n) => topo.stopSpeaker(n.name)));
  }

  // Footprint: default speakers, SERVICES BGP Services (one IPv6 each) announced to BIRD.
  await Promise.all(topo.nodes.map((n) => topo.startSpeaker(n.name, [], { timeoutMs: 60_000, nodeArgs })));
  const rssBefore = topo.nodes.map((n) => vmRssMb(n.speaker?.pid ?? -1));
  const detailBefore = topo.nodes.map((n) => speakerDetail(n.speaker?.pid ?? -1));
  topo.applyManifests([
    {
      apiVersion: 'metalbeacon.io/v1beta1',
      kind: 'IPAddressPool',
      metadata: { name: 'bench-footprint', namespace: 'metalbeacon-system' },
      spec: { addresses: [FOOTPRINT_RANGE], autoAssign: false },
    },
    {
      apiVersion: 'metalbeacon.io/v1beta1',
      kind: 'BGPAdvertisement',
      metadata: { name: 'bench-footprint', namespace: 'metalbeacon-system' },
      spec: { ipAddressPools: ['bench-footprint'] },
    },
  ]);
  log(`creating ${SERVICES} Services`);
  for (let i = 0; i < SERVICES; i++) {
    topo.createIngressService(`fp-${i}`, { pool: 'bench-footprint', families: ['IPv6'] });
  }
  const announceStart = Date.now();
  await waitFor(
    `${SERVICES} prefixes with 3 paths each in BIRD`,
    async () => {
      const routes = await topo.birdRoutes(FOOTPRINT_RANGE);
      const full = routes.filter((r) => r.paths.length === topo.nodes.length).length;
      return full >= SERVICES ? full : undefined;
    },
    { timeoutMs: 300_000, intervalMs: 1_000 },
  );
  const announceS = (Date.now() - announceStart) / 1000;
  log(`all ${SERVICES} announced by every node after ${announceS.toFixed(1)} s`);
  // From here on every request is a speaker's: the controller has assigned every IP.
  writesSinceAnnounce = 0;
  await topo.stopController();
  // The speakers write one ServiceBGPStatus per (Service, node): wait until they are done
  // (no write for 15 s), so "at rest" means at rest.
  await waitFor(
    'the speakers to stop writing',
    () => (Date.now() - lastWriteAt > 15_000 ? true : undefined),
    {
      timeoutMs: 600_000,
      intervalMs: 500,
    },
  );
  const quietS = (lastWriteAt - announceStart) / 1000;
  const statusWrites = writesSinceAnnounce;
  log(`last speaker write ${quietS.toFixed(1)} s after creation (${statusWrites} writes)`);
  const rssAfter = topo.nodes.map((n) => vmRssMb(n.speaker?.pid ?? -1));
  const detailAfter = topo.nodes.map((n) => speakerDetail(n.speaker?.pid ?? -1));
  const hwm = topo.nodes.map((n) => vmField(n.speaker?.pid ?? -1, 'VmHWM'));

  log(`counting API requests for ${REST_SECONDS} s at rest`);
  counting = true;
  await sleep(REST_SECONDS * 1000);
  counting = false;
  const total = [...requests.values()].reduce((a, b) => a + b, 0);
  const perSpeakerPerMin = total / topo.nodes.length / (REST_SECONDS / 60);

  // The report.
  const byName = new Map(rows.map((r) => [r.name, summarize(r.samples.map((s) => s.outageMs))]));
  const kaDefault = byName.get('keepalived advert_int 1');
  const ka01 = byName.get('keepalived advert_int 0.1');
  const out: string[] = [];
  out.push(
    '',
    `L2 failover: client-observed outage after the announcing node's link is cut (${RUNS} runs each)`,
  );
  out.push('');
  out.push(
    `${'contender'.padEnd(40)} ${'median'.padStart(9)} ${'max'.padStart(9)} ${'lost (med)'.padStart(11)} ${'vs keepalived 1s'.padStart(17)}`,
  );
  for (const row of rows) {
    const s = summarize(row.samples.map((x) => x.outageMs));
    const lost = summarize(row.samples.map((x) => x.lost)).median;
    const ratio = kaDefault ? (s.median / kaDefault.median).toFixed(3) : 'n/a';
    out.push(
      `${row.name.padEnd(40)} ${fmt(s.median).padStart(9)} ${fmt(s.max).padStart(9)} ${String(lost).padStart(11)} ${ratio.padStart(17)}`,
    );
  }
  const mbDefault = byName.get('MetalBeacon defaults');
  const mbFast = byName.get('MetalBeacon --membership-profile fast');
  out.push('');
  if (mbDefault) {
    const ratio = kaDefault ? mbDefault.median / kaDefault.median : Number.NaN;
    out.push(
      `target: MetalBeacon defaults median <= 500 ms and <= 0.15 x keepalived default: ${fmt(mbDefault.median)}, ${ratio.toFixed(3)} x -> ${mbDefault.median <= 500 && ratio <= 0.15 ? 'met' : 'NOT met'}`,
    );
  }
  if (mbFast && ka01) {
    out.push(
      `target: fast profile no slower than keepalived advert_int 0.1: ${fmt(mbFast.median)} vs ${fmt(ka01.median)} -> ${mbFast.median <= ka01.median ? 'met' : 'NOT met'}`,
    );
  }
  for (const line of unsteady) out.push(`not steady before a run (client ARP entry flushed): ${line}`);
  out.push('');
  out.push(`speaker footprint with ${SERVICES} Services announced over BGP (IPv6 /128 each, 3 nodes):`);
  out.push(
    `  VmRSS before: ${rssBefore.map((v) => `${v.toFixed(1)} MB`).join(', ')}; with ${SERVICES}: ${rssAfter.map((v) => `${v.toFixed(1)} MB`).join(', ')} (target <= 80 MB) -> ${Math.max(...rssAfter) <= 80 ? 'met' : 'NOT met'}`,
  );
  for (const [i, node] of topo.nodes.entries())
    out.push(`  ${node.name}: before ${detailBefore[i]}; with ${SERVICES}: ${detailAfter[i]}`);
  out.push(
    `  VmHWM (peak): ${hwm.map((v) => `${v.toFixed(1)} MB`).join(', ')}; all announced to BIRD ${announceS.toFixed(1)} s after creation`,
  );
  out.push(
    `  API writes by the speakers after BIRD had every route: ${statusWrites}, the last ${quietS.toFixed(1)} s after the Services were created`,
  );
  out.push(
    `API requests at rest (${REST_SECONDS} s after 15 s without writes, ${SERVICES} Services, controller stopped): ${total} in total, ${perSpeakerPerMin.toFixed(1)} per speaker per minute`,
  );
  for (const [key, count] of [...requests.entries()].sort((a, b) => b[1] - a[1]))
    out.push(`  ${key}: ${count}`);
  process.stdout.write(`${out.join('\n')}\n`);
} finally {
  await topo.stop();
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The node the client is served by, once that is also the one node answering ARP for the VIP
 * (a steady state to fail from). If the two differ for 15 s — the client's ARP cache points at
 * a node that no longer announces and nobody sent it a gratuitous ARP — the run is recorded in
 * the report and the client's neighbour entry is flushed so the measurement starts clean.
 */
async function steadyOwner(probe: Probe, vip: string, name: string): Promise<string> {
  const deadline = Date.now() + 15_000;
  let detail = '';
  for (;;) {
    const run = await probe.waitForGood(25, { from: Date.now(), timeoutMs: 30_000 });
    const served = new Set(run.map((r) => r.body));
    const arp = await announcers(topo, vip);
    const [node] = [...served];
    if (served.size === 1 && node !== undefined && arp.length === 1 && arp[0] === node) return node;
    detail = `client served by ${[...served].join('+')}, ARP answered by ${arp.join('+') || 'nobody'}`;
    if (Date.now() > deadline) break;
    await sleep(500);
  }
  unsteady.push(`${name}: ${detail}`);
  log(`WARNING ${name}: not steady after 15 s (${detail}); flushing the client's neighbour entry`);
  await topo.lab.ip('client', ['neigh', 'flush', 'to', vip]);
  return steadyOwner(probe, vip, name);
}

function fmt(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}

/** A `Vm*` field of /proc/PID/status in MB. */
function vmField(pid: number, field: string): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  if (!match) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]) / 1024;
}

function vmRssMb(pid: number): number {
  return vmField(pid, 'VmRSS');
}
