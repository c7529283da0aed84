// Retained heap under Service churn (figures, not a test): `node bench/churn-heap.ts [ROUNDS] [PER_ROUND]`.
// Starts the embedded API server, a controller (no election) and a speaker for node-a (L2 on
// no interface, as bench/footprint.ts), both as children with `--expose-gc` and a preload that,
// on SIGUSR2, runs two full GCs and appends the main thread's heap statistics to a file. Then
// ROUNDS rounds, each creating PER_ROUND LoadBalancer Services with names never used before
// (pool a, one ready endpoint on node-a), waiting for their IPs, moving them to pool b,
// waiting, and deleting them; after each round the heap of both is read after a forced GC.
// What a round leaves behind for Services that no longer exist is what the slope of those
// figures shows. `HEAP_SNAPSHOTS=1` also writes a heap snapshot after the second and the last
// round (in the system's temporary directory) for a diff by constructor. `CHURN_FAULTS=1`
// adds, each round, what a chaos run does besides Services: a pool created, its range changed
// and deleted, the watches cut and the API server restarted (same data, watch history lost).
// `CHILD_FLAGS=shipped` runs both with the V8 flags deploy/ ships (controller
// --optimize-for-size; speaker --lite-mode --max-semi-space-size=1); by default Node's own, as
// the chaos lab runs them. RSS is read from /proc each round too (after the forced GCs).

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApiServer } from '../apiserver/server.ts';
import { metalbeaconEntry } from '../lab/entry.ts';
import { membershipSecretObject, nodeObject, speakerPodObject } from '../lab/objects.ts';
import { SHIPPED_NODE_FLAGS } from '../lab/shipped-flags.ts';
import { API_VERSION, DEFAULT_NAMESPACE } from '../shared/api/names.ts';

const rounds = Number(process.argv[2] ?? 12);
const perRound = Math.min(60, Number(process.argv[3] ?? 40)); // pools a and b have 64 addresses
const snapshots = process.env.HEAP_SNAPSHOTS === '1';
const faults = process.env.CHURN_FAULTS === '1';
const shipped = process.env.CHILD_FLAGS === 'shipped';

const server = await startApiServer({
  dualStack: false,
  apply: [new URL('../config/crd/', import.meta.url).pathname],
});
const node = { name: 'node-a', ipv4: '127.0.0.1', ipv6: '::1' };
const pool = (name: string, cidr: string) => ({
  apiVersion: API_VERSION,
  kind: 'IPAddressPool',
  metadata: { name, namespace: DEFAULT_NAMESPACE },
  spec: { addresses: [cidr], autoAssign: false },
});
server.applyObjects([
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: DEFAULT_NAMESPACE } },
  membershipSecretObject(randomBytes(32)),
  nodeObject(node),
  speakerPodObject(node),
  pool('a', '198.51.100.0/26'),
  pool('b', '198.51.100.64/26'),
  {
    apiVersion: API_VERSION,
    kind: 'L2Advertisement',
    metadata: { name: 'l2', namespace: DEFAULT_NAMESPACE },
    spec: {},
  },
]);

const dir = mkdtempSync(join(tmpdir(), 'mb-churn-heap-'));
server.writeKubeconfig(join(dir, 'kubeconfig'));
const preload = join(dir, 'gc-on-signal.mjs');
writeFileSync(
  preload,
  `import v8 from 'node:v8';
import { appendFileSync } from 'node:fs';
process.on('SIGUSR2', () => {
  globalThis.gc(); globalThis.gc();
  const h = v8.getHeapStatistics();
  appendFileSync(process.env.CHURN_HEAP_OUT, JSON.stringify({ used: h.used_heap_size, total: h.total_heap_size }) + '\\n');
});
`,
);

/** A child with the preload; `role` names its heap file. */
function start(role: 'controller' | 'speaker', args: string[]) {
  const out = join(dir, `${role}.heap`);
  writeFileSync(out, '');
  const child = spawn(
    process.execPath,
    [
      '--expose-gc',
      ...(shipped ? SHIPPED_NODE_FLAGS[role] : []),
      '--import',
      preload,
      ...(snapshots ? ['--heapsnapshot-signal=SIGPWR'] : []),
      metalbeaconEntry(),
      '--log-format',
      'json',
      '--log-level',
      'warn',
      ...args,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, CHURN_HEAP_OUT: out }, cwd: dir },
  );
  return { role, child, out };
}

const port = 17000 + (process.pid % 500);
const kubeconfig = ['--kubeconfig', join(dir, 'kubeconfig')];
const children = [
  start('controller', [
    'controller',
    ...kubeconfig,
    '--no-leader-elect',
    '--metrics-listen',
    `127.0.0.1:${port}`,
  ]),
  start('speaker', [
    'speaker',
    ...kubeconfig,
    ...['--node-name', 'node-a', '--membership-bind-address', '127.0.0.1'],
    ...['--membership-port', String(port + 501), '--metrics-listen', `127.0.0.1:${port + 1}`],
    ...['--exclude-interfaces', '.*', '--bgp-listen-port', '0'],
  ]),
];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const servicesUrl = `${server.url}/api/v1/namespaces/default/services`;

/** Waits until every named Service has an IP from `poolName`'s range. */
async function waitForPool(names: Set<string>, prefix: string): Promise<void> {
  for (let i = 0; ; i++) {
    const list = (await (await fetch(servicesUrl)).json()) as {
      items: { metadata: { name: string }; status?: { loadBalancer?: { ingress?: { ip: string }[] } } }[];
    };
    const done = list.items.filter(
      (s) =>
        names.has(s.metadata.name) && s.status?.loadBalancer?.ingress?.[0]?.ip.startsWith(prefix) === true,
    ).length;
    if (done === names.size) return;
    if (i > 600) throw new Error(`only ${done} of ${names.size} Services got an IP in ${prefix}*`);
    await sleep(100);
  }
}

function ipOfPoolB(ip: string | undefined): boolean {
  const last = Number(ip?.split('.')[3]);
  return last >= 64 && last < 128;
}

async function readHeaps(): Promise<Record<string, number>> {
  const figures: Record<string, number> = {};
  for (const { role, child, out } of children) {
    const before = readFileSync(out, 'utf8').split('\n').filter(Boolean).length;
    child.kill('SIGUSR2');
    for (;;) {
      const lines = readFileSync(out, 'utf8').split('\n').filter(Boolean);
      if (lines.length > before) {
        figures[`${role}Heap`] = JSON.parse(lines.at(-1)!).used / 2 ** 20;
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
        figures[`${role}Rss`] = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) / 1024;
        break;
      }
      await sleep(50);
    }
  }
  return figures;
}

let next = 0;
try {
  await sleep(3000);
  const series: Record<string, number>[] = [];
  for (let round = 0; round < rounds; round++) {
    const names = new Set<string>();
    const objects = [];
    for (let i = 0; i < perRound; i++) {
      const name = `churn-${next++}`;
      names.add(name);
      objects.push(
        {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name, namespace: 'default', annotations: { 'metalbeacon.io/address-pool': 'a' } },
          spec: { type: 'LoadBalancer', ports: [{ port: 80, protocol: 'TCP' }] },
        },
        {
          apiVersion: 'discovery.k8s.io/v1',
          kind: 'EndpointSlice',
          metadata: {
            name: `${name}-a`,
            namespace: 'default',
            labels: { 'kubernetes.io/service-name': name },
          },
          addressType: 'IPv4',
          endpoints: [{ addresses: ['10.244.0.10'], nodeName: node.name, conditions: { ready: true } }],
        },
      );
    }
    server.applyObjects(objects);
    await waitForPool(names, '198.51.100.');
    const moved = objects
      .filter((o) => o.kind === 'Service')
      .map((o) => ({
        ...o,
        metadata: { ...o.metadata, annotations: { 'metalbeacon.io/address-pool': 'b' } },
      }));
    server.applyObjects(moved);
    for (let i = 0; ; i++) {
      const list = (await (await fetch(servicesUrl)).json()) as {
        items: { metadata: { name: string }; status?: { loadBalancer?: { ingress?: { ip: string }[] } } }[];
      };
      if (
        list.items.filter(
          (s) => names.has(s.metadata.name) && ipOfPoolB(s.status?.loadBalancer?.ingress?.[0]?.ip),
        ).length === names.size
      )
        break;
      if (i > 600) throw new Error('Services did not move to pool b');
      await sleep(100);
    }
    await sleep(1500); // the speaker announces, writes its status objects and events
    for (const name of names) {
      server.deleteObject('v1', 'Service', 'default', name);
      server.deleteObject('discovery.k8s.io/v1', 'EndpointSlice', 'default', `${name}-a`);
    }
    if (faults) {
      for (const cidr of ['198.51.100.192/28', '198.51.100.208/28']) {
        server.applyObjects([pool('churn', cidr)]);
        await sleep(500);
      }
      server.deleteObject(API_VERSION, 'IPAddressPool', DEFAULT_NAMESPACE, 'churn');
      server.cutWatches();
      await sleep(1000);
      await server.restart({ downMs: 1000 });
    }
    await sleep(2500);
    const heaps = await readHeaps();
    series.push(heaps);
    console.log(
      JSON.stringify({
        round,
        services: next,
        ...Object.fromEntries(Object.entries(heaps).map(([k, v]) => [`${k}Mb`, Number(v.toFixed(3))])),
      }),
    );
    if (snapshots && (round === 1 || round === rounds - 1)) {
      for (const { child } of children) child.kill('SIGPWR');
      await sleep(8000);
    }
  }
  const first = series[1]!;
  const last = series.at(-1)!;
  for (const role of Object.keys(first)) {
    const kb = ((last[role]! - first[role]!) * 1024) / ((rounds - 2) * perRound);
    console.log(
      `${role} after forced GCs: ${first[role]!.toFixed(2)} -> ${last[role]!.toFixed(2)} MB from round 1 to ${rounds - 1}: ${kb.toFixed(2)} KB per deleted Service`,
    );
  }
  if (snapshots) console.log(`heap snapshots in ${dir}`);
} finally {
  for (const { child } of children) child.kill('SIGTERM');
  await Promise.all(children.map(({ child }) => new Promise((resolve) => child.once('exit', resolve))));
  await server.stop();
  if (!snapshots) rmSync(dir, { recursive: true, force: true });
}
