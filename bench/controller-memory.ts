// The controller's private memory under repeated faults (figures, not a test; issue 18 item 4):
// `node bench/controller-memory.ts [--minutes M] [--sample-seconds S] [--fault-seconds F] VARIANT...`.
//
// Each VARIANT runs at the same time as the others, on an embedded API server of its own
// (HTTPS, RBAC as installed) with one `metalbeacon controller` as deploy/ runs it: in-cluster
// with the controller's token, leader election on (it leads alone), the V8 flags of
// lab/shipped-flags.ts. Every F seconds (default 10) a variant's fault loop does the next of its
// fault classes, in turn; every S seconds (default 5) each controller is read: private resident
// memory (RssAnon), RSS, the [heap] mapping (glibc's main arena) from /proc, and V8 heap used,
// heap committed and external memory from its /metrics. After M minutes (default 10) the slopes
// per hour over the last two thirds of the samples are printed, each beside the first variant's
// (the anchor of the same run, on the same machine at the same time).
//
// VARIANT: fault classes joined by `+`, or `none`:
//   restart  the API server stops for 1 s and serves the same data again (watch history lost)
//   cut      every watch is cut (clients resume from their last resourceVersion)
//   churn    5 LoadBalancer Services with new names are created, given IPs, then deleted
//   pool     a pool is created, its range changed, and deleted
// then optionally `@NAME=VALUE` (environment, e.g. `@MALLOC_ARENA_MAX=2`) and `^--flag` (one
// more V8 flag), repeated; `@METALBEACON_ENTRY=FILE` runs another build, e.g. one of the commit
// before a fix (`git archive COMMIT | tar -x -C DIR`, node_modules and build/ linked, `node
// scripts/build.ts` there). Example, the controller at rest as the anchor, then under faults
// as of now and before: `none restart+cut+churn+pool
// restart+cut+churn+pool@METALBEACON_ENTRY=/tmp/before/dist/metalbeacon.mjs`.
// METALBEACON_ENTRY picks the build of the others (`npm run bench:controller-memory` builds and
// runs dist/metalbeacon.mjs, what ships). SERIES_OUT=FILE writes every sample as JSON;
// VERBOSE=1 prints each round of samples.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { readManifests } from '../apiserver/manifests.ts';
import { type ApiServerHandle, startApiServer } from '../apiserver/server.ts';
import { metalbeaconEntry } from '../lab/entry.ts';
import { SHIPPED_NODE_FLAGS } from '../lab/shipped-flags.ts';
import { API_VERSION, DEFAULT_NAMESPACE } from '../shared/api/names.ts';
import { SERVICE_ACCOUNT_DIR_ENV } from '../shared/k8s/connection.ts';
import {
  metricsAddressOf,
  nodeStatsOf,
  statusPrivateRssBytes,
  statusRssBytes,
} from './chaos/process-read.ts';
import { slopePerHour } from './chaos/soak.ts';
import { alignColumns } from './chaos/table.ts';

const { values: args, positionals } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    'sample-seconds': { type: 'string', default: '5' },
    'fault-seconds': { type: 'string', default: '10' },
  },
  allowPositionals: true,
});
const minutes = Number(args.minutes);
const sampleMs = Number(args['sample-seconds']) * 1000;
const faultMs = Number(args['fault-seconds']) * 1000;
const FAULTS = ['restart', 'cut', 'churn', 'pool'] as const;
type Fault = (typeof FAULTS)[number];

interface Variant {
  readonly label: string;
  readonly faults: Fault[];
  readonly env: Record<string, string>;
  readonly flags: string[];
}

function parseVariant(text: string): Variant {
  const [head = '', ...rest] = text.split(/(?=[@^])/);
  const faults = head === 'none' ? [] : (head.split('+') as Fault[]);
  for (const f of faults) if (!FAULTS.includes(f)) throw new Error(`unknown fault class ${f} in ${text}`);
  const env: Record<string, string> = {};
  const flags: string[] = [];
  for (const part of rest) {
    if (part.startsWith('^')) flags.push(part.slice(1));
    else {
      const [name, value = ''] = part.slice(1).split('=');
      env[name!] = value;
    }
  }
  // Another build is named by its directory (`/tmp/before/dist/metalbeacon.mjs`: `build:before`).
  const label = text.replace(/@METALBEACON_ENTRY=([^@^]+)/, (_, file: string) => {
    return `@build:${basename(dirname(dirname(file)))}`;
  });
  return { label, faults, env, flags };
}
const variants = (positionals.length > 0 ? positionals : ['none', 'restart+cut+churn+pool']).map(
  parseVariant,
);

const MB = 1024 * 1024;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const dir = mkdtempSync(join(tmpdir(), 'mb-controller-memory-'));

/** The Rss of the `[heap]` mapping (glibc's main arena, grown by brk) from /proc/PID/smaps. */
function brkHeapBytes(smaps: string): number | undefined {
  const at = smaps.search(/ \[heap\]\n/);
  if (at < 0) return undefined;
  const match = /^Rss:\s+(\d+) kB$/m.exec(smaps.slice(at));
  return match ? Number(match[1]) * 1024 : undefined;
}

interface Sample {
  atMs: number;
  privateMb: number;
  rssMb: number;
  brkMb?: number;
  heapUsedMb?: number;
  heapTotalMb?: number;
  externalMb?: number;
}

interface Running {
  readonly variant: Variant;
  readonly api: ApiServerHandle;
  readonly child: ChildProcess;
  output: string;
  readonly samples: Sample[];
  faults: number;
  nextName: number;
}

async function startVariant(variant: Variant, index: number): Promise<Running> {
  const api = await startApiServer({
    apply: [new URL('../config/crd/', import.meta.url).pathname],
    https: {},
  });
  const saDir = join(dir, `sa-${index}`);
  api.writeServiceAccountMount(saDir, DEFAULT_NAMESPACE, 'controller');
  api.applyObjects([
    ...readManifests([new URL('../config/rbac/', import.meta.url).pathname]),
    pool('a', '198.51.100.0/25'),
  ]);
  const child = spawn(
    process.execPath,
    [
      ...SHIPPED_NODE_FLAGS.controller,
      ...variant.flags,
      // A variant may run another build (`@METALBEACON_ENTRY=/tmp/before/dist/metalbeacon.mjs`).
      variant.env.METALBEACON_ENTRY ?? metalbeaconEntry(),
      ...['--log-format', 'json', 'controller', '--metrics-listen', '127.0.0.1:0'],
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        ...process.env,
        ...variant.env,
        KUBECONFIG: '',
        KUBERNETES_SERVICE_HOST: api.https!.host,
        KUBERNETES_SERVICE_PORT: String(api.https!.port),
        [SERVICE_ACCOUNT_DIR_ENV]: saDir,
      },
    },
  );
  const running: Running = { variant, api, child, output: '', samples: [], faults: 0, nextName: 0 };
  child.stderr!.setEncoding('utf8');
  // The log (on stderr): only the line the bench reads is kept, so this process does not grow.
  let partial = '';
  child.stderr!.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) if (line.includes('serving /metrics')) running.output += `${line}\n`;
  });
  return running;
}

function pool(name: string, cidr: string) {
  return {
    apiVersion: API_VERSION,
    kind: 'IPAddressPool',
    metadata: { name, namespace: DEFAULT_NAMESPACE },
    spec: { addresses: [cidr] },
  };
}

async function sample(r: Running): Promise<void> {
  const pid = r.child.pid!;
  const [status, smaps] = await Promise.all([
    readFile(`/proc/${pid}/status`, 'utf8'),
    readFile(`/proc/${pid}/smaps`, 'utf8'),
  ]);
  const address = metricsAddressOf(r.output);
  let stats = {};
  if (address) {
    try {
      const res = await fetch(`http://${address}/metrics`, { signal: AbortSignal.timeout(3000) });
      stats = nodeStatsOf(await res.text());
    } catch {
      // Busy or restarting its listener: /proc still counts.
    }
  }
  const s = stats as ReturnType<typeof nodeStatsOf>;
  const brk = brkHeapBytes(smaps);
  r.samples.push({
    atMs: Date.now(),
    privateMb: (statusPrivateRssBytes(status) ?? 0) / MB,
    rssMb: (statusRssBytes(status) ?? 0) / MB,
    ...(brk === undefined ? {} : { brkMb: brk / MB }),
    ...(s.heapUsedBytes === undefined ? {} : { heapUsedMb: s.heapUsedBytes / MB }),
    ...(s.heapTotalBytes === undefined ? {} : { heapTotalMb: s.heapTotalBytes / MB }),
    ...(s.externalBytes === undefined ? {} : { externalMb: s.externalBytes / MB }),
  });
}

async function servicesWithIp(api: ApiServerHandle, names: Set<string>): Promise<number> {
  const list = (await (await fetch(`${api.url}/api/v1/namespaces/default/services`)).json()) as {
    items: { metadata: { name: string }; status?: { loadBalancer?: { ingress?: unknown[] } } }[];
  };
  return list.items.filter(
    (s) => names.has(s.metadata.name) && (s.status?.loadBalancer?.ingress?.length ?? 0) > 0,
  ).length;
}

async function fault(r: Running, kind: Fault): Promise<void> {
  const { api } = r;
  if (kind === 'restart') await api.restart({ downMs: 1000 });
  else if (kind === 'cut') api.cutWatches();
  else if (kind === 'pool') {
    for (const cidr of ['198.51.100.192/28', '198.51.100.208/28']) {
      api.applyObjects([pool('churn', cidr)]);
      await sleep(500);
    }
    api.deleteObject(API_VERSION, 'IPAddressPool', DEFAULT_NAMESPACE, 'churn');
  } else {
    const names = new Set<string>();
    for (let i = 0; i < 5; i++) names.add(`churn-${r.nextName++}`);
    api.applyObjects(
      [...names].map((name) => ({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name, namespace: 'default' },
        spec: { type: 'LoadBalancer', ports: [{ port: 80, protocol: 'TCP' }] },
      })),
    );
    for (let i = 0; i < 50 && (await servicesWithIp(api, names)) < names.size; i++) await sleep(100);
    for (const name of names) api.deleteObject('v1', 'Service', 'default', name);
  }
  r.faults++;
}

async function faultLoop(r: Running, until: number): Promise<void> {
  for (let i = 0; r.variant.faults.length > 0 && Date.now() < until; i++) {
    const started = Date.now();
    await fault(r, r.variant.faults[i % r.variant.faults.length]!);
    await sleep(Math.max(0, faultMs - (Date.now() - started)));
  }
}

const runs = await Promise.all(variants.map((v, i) => startVariant(v, i)));
try {
  await sleep(5000); // start-up: the first lists, the Lease, the metrics listener
  const until = Date.now() + minutes * 60_000;
  const loops = runs.map((r) => faultLoop(r, until));
  while (Date.now() < until) {
    await Promise.all(runs.map((r) => sample(r)));
    if (process.env.VERBOSE === '1')
      console.log(JSON.stringify(runs.map((r) => ({ v: r.variant.label, ...r.samples.at(-1) }))));
    await sleep(sampleMs);
  }
  await Promise.all(loops);
  report();
} finally {
  for (const r of runs) r.child.kill('SIGTERM');
  await Promise.all(
    runs.map((r) => (r.child.exitCode === null ? new Promise((res) => r.child.once('exit', res)) : 0)),
  );
  await Promise.all(runs.map((r) => r.api.stop()));
  rmSync(dir, { recursive: true, force: true });
}

function report(): void {
  const slope = (samples: Sample[], read: (s: Sample) => number | undefined) => {
    const points = samples.flatMap((s) => {
      const value = read(s);
      return value === undefined ? [] : [{ atMs: s.atMs, value }];
    });
    return slopePerHour(points);
  };
  const fmt = (v: number | undefined) => (v === undefined ? '-' : v.toFixed(2));
  const rows = runs.map((r) => {
    const fitted = r.samples.slice(Math.floor(r.samples.length / 3));
    const first = fitted[0]!;
    const last = fitted.at(-1)!;
    return {
      r,
      privatePerH: slope(fitted, (s) => s.privateMb),
      cells: [
        `${first.privateMb.toFixed(1)} -> ${last.privateMb.toFixed(1)}`,
        fmt(slope(fitted, (s) => s.rssMb)),
        fmt(slope(fitted, (s) => s.brkMb)),
        fmt(slope(fitted, (s) => s.heapUsedMb)),
        fmt(slope(fitted, (s) => s.heapTotalMb)),
        fmt(slope(fitted, (s) => s.externalMb)),
      ],
    };
  });
  const anchor = rows[0]!.privatePerH ?? 0;
  console.log(
    `controller-memory: ${minutes} min, a sample every ${sampleMs / 1000} s, a fault every ${faultMs / 1000} s per variant; slopes per hour by least squares over the last two thirds of the samples; anchor: ${rows[0]!.r.variant.label}`,
  );
  const header = [
    'variant',
    'faults',
    'private MB',
    'private MB/h',
    'vs anchor',
    'RSS MB/h',
    '[heap] MB/h',
    'heap used MB/h',
    'heap total MB/h',
    'external MB/h',
  ];
  const table = rows.map(({ r, privatePerH, cells }) => [
    r.variant.label,
    String(r.faults),
    cells[0]!,
    fmt(privatePerH),
    privatePerH === undefined
      ? '-'
      : `${(privatePerH - anchor) >= 0 ? '+' : ''}${(privatePerH - anchor).toFixed(2)}`,
    ...cells.slice(1),
  ]);
  for (const line of alignColumns([header, ...table])) console.log(line);
  if (process.env.SERIES_OUT) {
    const out = runs.map((r) => ({ variant: r.variant.label, samples: r.samples }));
    writeFileSync(process.env.SERIES_OUT, JSON.stringify(out));
  }
}
