import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { announcedServiceObjects } from '../../lab/objects.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import {
  type Bed,
  createCr,
  createNode,
  createSpeakerPod,
  listCrs,
  metricValue,
  NS,
  startBed,
} from './harness.ts';

// No API requests per Service at rest (issue 6, item 3): `metalbeacon speaker` as a child
// process holds 200 announced L2 Services (as bench/footprint.ts builds them; L2 on no
// interface, nothing is sent). Once its status objects exist, every request it makes over a rest
// window is a resumed watch: through Node heartbeats (it replans each time) and a cut of every
// watch stream, no GET/PUT/PATCH/POST of Services, EndpointSlices or status objects, no relist.
// The test itself makes no API request during the window (objects change through the server's
// in-process hook, metrics come from the speaker's own HTTP server).

const COUNT = 200;
const BIN = fileURLToPath(new URL('../../bin/metalbeacon.js', import.meta.url));
const CR = `/apis/metalbeacon.io/v1beta1/namespaces/${NS}`;
/** The collections the speaker watches (one informer each). */
const WATCHED = [
  '/api/v1/services',
  '/apis/discovery.k8s.io/v1/endpointslices',
  '/api/v1/nodes',
  `/api/v1/namespaces/${NS}/pods`,
  ...[
    'ipaddresspools',
    'l2advertisements',
    'bgpadvertisements',
    'bgppeers',
    'communities',
    'bfdprofiles',
    'servicel2statuses',
    'servicebgpstatuses',
  ].map((plural) => `${CR}/${plural}`),
].sort();

interface Request {
  readonly method: string;
  readonly path: string;
  readonly status: number;
}
/** Requests the server answered while `recording` (a watch is reported when it ends). */
const requests: Request[] = [];
let recording = false;
const dir = mkdtempSync(join(tmpdir(), 'mb-speaker-rest-'));
let bed: Bed;
let child: ChildProcess | undefined;
let output = '';

before(async () => {
  bed = await startBed({
    onRequest: (method, path, status) => {
      if (recording) requests.push({ method, path, status });
    },
  });
  await createNode(bed, 'node-a', '192.0.2.11');
  await createSpeakerPod(bed, 'node-a', '127.0.0.1');
  await createCr(bed, 'IPAddressPool', 'ipaddresspools', 'pool', { addresses: ['198.51.100.0/24'] });
  await createCr(bed, 'L2Advertisement', 'l2advertisements', 'l2', {});
  bed.server.applyObjects(announcedServiceObjects(COUNT, 'node-a'));
  bed.server.writeKubeconfig(join(dir, 'kubeconfig'));
});

after(async () => {
  recording = false;
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child?.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
  await bed?.close();
  rmSync(dir, { recursive: true, force: true });
});

const isWatch = (r: Request) => /[?&]watch=(true|1)(&|$)/.test(r.path) || r.path.includes('/watch/');
const pathOf = (r: Request) => r.path.split('?')[0] ?? '';

test(`a speaker holding ${COUNT} announced Services makes only watch requests at rest`, async () => {
  child = spawn(
    process.execPath,
    [
      BIN,
      ...['--log-format', 'json', 'speaker', '--kubeconfig', join(dir, 'kubeconfig')],
      ...['--node-name', 'node-a', '--membership-bind-address', '127.0.0.1'],
      ...['--membership-port', String(bed.membershipPort), '--metrics-listen', '127.0.0.1:0'],
      ...['--exclude-interfaces', '.*', '--bgp-listen-port', '0'],
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  for (const stream of [child.stdout, child.stderr]) stream?.on('data', (c: Buffer) => (output += c));
  const metricsAddress = await waitFor('the metrics address in the log', async () => {
    const line = output.split('\n').find((l) => l.includes('"msg":"serving /metrics, /healthz, /readyz"'));
    return line ? (JSON.parse(line) as { address: string }).address : undefined;
  });
  const scrape = async () => (await fetch(`http://${metricsAddress}/metrics`)).text();
  await waitFor(
    `${COUNT} ServiceL2Status objects with their status`,
    async () => {
      const items = await listCrs(bed, 'servicel2statuses');
      return items.length === COUNT && items.every((o) => o.status?.node === 'node-a') ? true : undefined;
    },
    { timeoutMs: 60_000 },
  );

  // Node heartbeats, as kubelets write them: the speaker replans on each, nothing changes.
  const node = (await (await fetch(`${bed.server.url}/api/v1/nodes/node-a`)).json()) as {
    status: Record<string, unknown>;
  };
  let beats = 0;
  const plans = async () => metricValue(await scrape(), 'metalbeacon_speaker_plans_applied_total');
  const heartbeat = async () => {
    const before = await plans();
    beats++;
    const at = new Date(Date.UTC(2024, 0, 1, 0, 0, beats)).toISOString();
    const conditions = [
      {
        type: 'Ready',
        status: 'True',
        reason: 'KubeletReady',
        lastHeartbeatTime: at,
        lastTransitionTime: at,
      },
    ];
    bed.server.applyObjects([{ ...node, status: { ...node.status, conditions } }] as never);
    await waitFor(`the plan after heartbeat ${beats}`, async () =>
      (await plans()) > before ? true : undefined,
    );
  };
  await heartbeat(); // before the window: the first one adds the Ready condition

  const metricsBefore = await scrape();
  const writesBefore = metricValue(metricsBefore, 'metalbeacon_speaker_status_writes_total');
  const plansBefore = metricValue(metricsBefore, 'metalbeacon_speaker_plans_applied_total');
  recording = true;
  await heartbeat();
  // Every watch stream ends (as when an API server replica goes away): each informer resumes
  // from its resourceVersion. The next heartbeat arrives only through the resumed Node watch.
  bed.server.cutWatches();
  await heartbeat();
  // A third plan: the status pass after the second one has run (its 50 ms timer comes before
  // this plan's debounce) and wrote nothing.
  await heartbeat();
  // The watches resumed after the first cut end too, so they are in the record.
  const mark = requests.length;
  bed.server.cutWatches();
  await waitFor('the resumed Node watch ended', async () =>
    requests.slice(mark).some((r) => isWatch(r) && pathOf(r) === '/api/v1/nodes') ? true : undefined,
  );
  recording = false;

  // Requests other than watches, by method, path (object names folded) and status -> count.
  const notWatches: Record<string, number> = {};
  for (const r of requests.filter((r) => !isWatch(r))) {
    const key = `${r.method} ${pathOf(r).replace(/\/(l2|bgp)-[0-9a-f]+(?=\/|$)/, '/{name}')} ${r.status}`;
    notWatches[key] = (notWatches[key] ?? 0) + 1;
  }
  assert.deepEqual(notWatches, {}, 'requests other than watches at rest');
  assert.ok(
    requests.every((r) => r.method === 'GET'),
    'watches are GETs',
  );
  // The first cut ended every watch: one per watched collection, none of a single object.
  assert.deepEqual([...new Set(requests.slice(0, mark).map(pathOf))].sort(), WATCHED);
  assert.ok(
    requests.slice(mark).every((r) => WATCHED.includes(pathOf(r))),
    JSON.stringify(requests.slice(mark)),
  );
  // Resumed, not started over: each watch names the version it continues from.
  const unresumed = requests.filter((r) => !/[?&]resourceVersion=\d+/.test(r.path));
  assert.deepEqual(unresumed, []);

  const metricsAfter = await scrape();
  assert.equal(metricValue(metricsAfter, 'metalbeacon_speaker_status_writes_total'), writesBefore);
  assert.ok(metricValue(metricsAfter, 'metalbeacon_speaker_plans_applied_total') >= plansBefore + 3);
  assert.equal(
    metricValue(metricsAfter, 'metalbeacon_speaker_announced_services', { protocol: 'layer2' }),
    COUNT,
  );
});
