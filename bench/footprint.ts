// Speaker footprint (figures, not a test): `node bench/footprint.ts [SERVICES]`.
// Starts the embedded API server with SERVICES LoadBalancer Services (IPs assigned, one ready
// endpoint each on node-a, one L2Advertisement), runs `metalbeacon speaker` for node-a as a
// child process (L2 on no interface: nothing is sent), and prints the time until every
// ServiceL2Status exists, its main-thread heap 5 s later, then over 30 s at rest the API
// requests it makes and its RSS (median of one sample a second, and the range). V8 flags for the speaker: CHILD_NODE_OPTIONS (through
// NODE_OPTIONS) and CHILD_NODE_ARGS (on its command line, for flags NODE_OPTIONS refuses);
// both default to what deploy/ ships, '' measures Node's defaults.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApiServer } from '../apiserver/server.ts';
import { metalbeaconEntry } from '../lab/entry.ts';
import {
  announcedServiceObjects,
  membershipSecretObject,
  nodeObject,
  speakerPodObject,
} from '../lab/objects.ts';
import { API_VERSION, DEFAULT_NAMESPACE } from '../shared/api/names.ts';

const count = Number(process.argv[2] ?? 1000);
/** What deploy/ sets for the speaker; CHILD_NODE_OPTIONS='' measures Node's defaults. */
const SHIPPED_NODE_OPTIONS = '--max-semi-space-size=1';
const SHIPPED_NODE_ARGS = '--lite-mode';
const nodeArgs = process.env.CHILD_NODE_ARGS ?? SHIPPED_NODE_ARGS;
let requests = 0;
let atRest = false;
/** `METHOD path` -> requests at rest */
const seen = new Map<string, number>();
const server = await startApiServer({
  dualStack: false,
  apply: [new URL('../config/crd/', import.meta.url).pathname],
  onRequest: (method, path) => {
    requests++;
    if (atRest)
      seen.set(`${method} ${path.split('?')[0]}`, (seen.get(`${method} ${path.split('?')[0]}`) ?? 0) + 1);
  },
});
// node-a's speaker Pod has the address the speaker binds membership to (loopback).
const node = { name: 'node-a', ipv4: '127.0.0.1', ipv6: '::1' };
server.applyObjects([
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: DEFAULT_NAMESPACE } },
  membershipSecretObject(randomBytes(32)),
  nodeObject(node),
  speakerPodObject(node),
  {
    apiVersion: API_VERSION,
    kind: 'IPAddressPool',
    metadata: { name: 'pool', namespace: DEFAULT_NAMESPACE },
    spec: { addresses: ['198.51.100.0/24', '2001:db8:100::/120'] },
  },
  {
    apiVersion: API_VERSION,
    kind: 'L2Advertisement',
    metadata: { name: 'l2', namespace: DEFAULT_NAMESPACE },
    spec: {},
  },
  ...announcedServiceObjects(count, node.name),
]);
const statusesUrl = `${server.url}/apis/${API_VERSION}/namespaces/${DEFAULT_NAMESPACE}/servicel2statuses`;
const dir = mkdtempSync(join(tmpdir(), 'mb-footprint-'));
server.writeKubeconfig(join(dir, 'kubeconfig'));
const metricsPort = 17000 + (process.pid % 1000);
const membershipPort = 18000 + (process.pid % 1000);
const started = performance.now();
const child = spawn(
  process.execPath,
  [
    ...nodeArgs.split(' ').filter((a) => a !== ''),
    metalbeaconEntry(),
    ...['--log-format', 'json', '--log-level', 'warn', 'speaker', '--kubeconfig', join(dir, 'kubeconfig')],
    ...['--node-name', 'node-a', '--membership-bind-address', '127.0.0.1'],
    ...['--membership-port', String(membershipPort), '--metrics-listen', `127.0.0.1:${metricsPort}`],
    ...['--exclude-interfaces', '.*', '--bgp-listen-port', '0'],
  ],
  {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, NODE_OPTIONS: process.env.CHILD_NODE_OPTIONS ?? SHIPPED_NODE_OPTIONS },
  },
);
try {
  for (;;) {
    const statuses = (await (await fetch(statusesUrl)).json()) as { items: unknown[] };
    if (statuses.items.length >= count) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const readyMs = performance.now() - started;
  await new Promise((resolve) => setTimeout(resolve, 5000));
  const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const heapMb = Number(/^nodejs_heap_size_used_bytes (\d+)/m.exec(metrics)?.[1]) / 2 ** 20;
  const before = requests;
  atRest = true;
  // At rest for 30 s: the API requests it makes, and its memory sampled every second (a single
  // sample lands on whatever a GC or a trim has just done; the median is the resting size).
  const samples: { rss: number; anon: number; file: number }[] = [];
  for (let s = 0; s < 30; s++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1]) / 1024;
    samples.push({ rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile') });
  }
  const median = (key: 'rss' | 'anon' | 'file') =>
    Math.round(samples.map((x) => x[key]).sort((a, b) => a - b)[samples.length >> 1] as number);
  console.log(
    JSON.stringify({
      services: count,
      allStatusObjectsMs: Math.round(readyMs),
      // Medians at rest; anonymous (heaps, malloc) and file-backed (the node binary's pages) parts.
      rssMb: median('rss'),
      rssAnonMb: median('anon'),
      rssFileMb: median('file'),
      rssRangeAtRestMb: [
        Math.round(Math.min(...samples.map((x) => x.rss))),
        Math.round(Math.max(...samples.map((x) => x.rss))),
      ],
      mainHeapUsedMb: Math.round(heapMb),
      apiRequestsIn30sAtRest: requests - before,
      nodeOptions: process.env.CHILD_NODE_OPTIONS ?? SHIPPED_NODE_OPTIONS,
      nodeArgs,
      atRest: Object.fromEntries(seen),
    }),
  );
} finally {
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
