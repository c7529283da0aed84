/**
 * `npm run bench:controller`: prints figures, asserts nothing.
 * 1. The allocator alone: 100k allocate + release cycles from a /12 IPv4 and a /64 IPv6 pool
 *    (ops/s, heap with 1k and with 50k Services holding an IP).
 * 2. End to end: 10,000 Services created against the embedded API server, served by
 *    `metalbeacon controller` running as its own process: time until all have status,
 *    create -> status latency p50 / p99, controller RSS.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  makeInformer,
  type V1Service,
} from '@kubernetes/client-node';
import { readManifests } from '../apiserver/manifests.ts';
import { startApiServer } from '../apiserver/server.ts';
import { Allocator } from '../controller/allocator/allocator.ts';
import { makeFacts, makePool } from '../controller/allocator/test-helpers.ts';
import { reuseConnections } from '../lab/connection-reuse.ts';
import { metalbeaconEntry } from '../lab/entry.ts';

const gc = (globalThis as { gc?: () => void }).gc;

function heapMb(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed / 1e6;
}

function allocatorBench(label: string, poolAddresses: string, family: 'IPv4' | 'IPv6'): void {
  const CYCLES = 100_000;
  for (const workingSet of [1_000, 50_000]) {
    const base = heapMb();
    const allocator = new Allocator([makePool('p', [poolAddresses])]);
    const facts = (i: number) => makeFacts(`ns/s${i}`, { families: [family] });
    for (let i = 0; i < workingSet; i++) allocator.allocate(facts(i));
    const start = performance.now();
    for (let i = 0; i < CYCLES; i++) {
      const result = allocator.allocate(facts(workingSet + i));
      if (!result.ok) throw new Error(`allocation failed at cycle ${i}`);
      allocator.release(`ns/s${i}`);
    }
    const seconds = (performance.now() - start) / 1000;
    const heap = heapMb() - base;
    const counts = allocator.counts('p')!;
    console.log(
      `allocator ${label.padEnd(22)} held ${String(workingSet).padStart(6)}: ` +
        `${Math.round(CYCLES / seconds).toLocaleString('en-US')} cycles/s = ` +
        `${Math.round((2 * CYCLES) / seconds).toLocaleString('en-US')} ops/s (allocate+release), ` +
        `heap +${heap.toFixed(1)} MB (${((heap * 1e6) / workingSet).toFixed(0)} B per held IP), ` +
        `available ${counts.available[family]}`,
    );
  }
}

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  const port = (probe.address() as { port: number }).port;
  await new Promise((r) => probe.close(r));
  return port;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

async function endToEnd(total: number): Promise<void> {
  const server = await startApiServer({ dualStack: true, historyLimit: 50_000 });
  server.applyObjects(readManifests([new URL('../config/crd/', import.meta.url).pathname]));
  server.applyObjects([
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'metalbeacon-system' } },
    ...['198.51.100.0/24', '2001:db8:100::/120'].map((addresses, i) => ({
      apiVersion: 'metalbeacon.io/v1beta1',
      kind: 'IPAddressPool',
      metadata: { name: `pool-${i}`, namespace: 'metalbeacon-system' },
      spec: { addresses: [addresses] },
    })),
  ] as never);
  const dir = mkdtempSync(join(tmpdir(), 'mb-bench-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    `apiVersion: v1\nkind: Config\nclusters:\n- name: b\n  cluster:\n    server: ${server.url}\n    insecure-skip-tls-verify: true\nusers:\n- name: b\n  user: {}\ncontexts:\n- name: b\n  context: {cluster: b, user: b}\ncurrent-context: b\n`,
  );
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  reuseConnections(kc);
  const core = kc.makeApiClient(CoreV1Api);
  kc.makeApiClient(CustomObjectsApi);

  const created = new Map<string, number>();
  const served = new Map<string, number>();
  let resolveAll: () => void = () => {};
  const allServed = new Promise<void>((r) => {
    resolveAll = r;
  });
  const informer = makeInformer<V1Service>(kc, '/api/v1/namespaces/default/services', () =>
    core.listNamespacedService({ namespace: 'default' }),
  );
  const seen = (svc: V1Service) => {
    const name = svc.metadata?.name ?? '';
    if ((svc.status?.loadBalancer?.ingress ?? []).length > 0 && !served.has(name)) {
      served.set(name, performance.now());
      if (served.size === total) resolveAll();
    }
  };
  informer.on('add', seen);
  informer.on('update', seen);
  await informer.start();

  const metricsPort = await freePort();
  // As deploy/ runs it; CONTROLLER_NODE_ARGS='' measures Node's defaults.
  const nodeArgs = process.env.CONTROLLER_NODE_ARGS ?? '--optimize-for-size';
  const controller = spawn(
    process.execPath,
    [
      ...nodeArgs.split(' ').filter((a) => a !== ''),
      metalbeaconEntry(),
      '--kubeconfig',
      kubeconfig,
      '--log-level',
      'warn',
      'controller',
      '--no-leader-elect',
      '--metrics-listen',
      `127.0.0.1:${metricsPort}`,
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  const exited = new Promise((r) => controller.once('exit', r));
  let peakRssMb = 0;
  const sampler = setInterval(() => {
    try {
      const status = readFileSync(`/proc/${controller.pid}/status`, 'utf8');
      const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
      peakRssMb = Math.max(peakRssMb, rss);
    } catch {
      // not started yet or gone
    }
  }, 100);
  try {
    await new Promise((r) => setTimeout(r, 1500)); // controller start-up (not part of the figure)
    const start = performance.now();
    const queue = Array.from({ length: total }, (_, i) => i);
    const worker = async () => {
      for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
        const name = `svc-${i}`;
        created.set(name, performance.now());
        // 20 Services share each IP (distinct ports), so 10k fit the documentation pools.
        await core.createNamespacedService({
          namespace: 'default',
          body: {
            metadata: {
              name,
              annotations: { 'metalbeacon.io/allow-shared-ip': `group-${Math.floor(i / 20)}` },
            },
            spec: {
              type: 'LoadBalancer',
              // 10k Services would exhaust the 2768 NodePorts, as on a real cluster.
              allocateLoadBalancerNodePorts: false,
              ports: [{ port: 1000 + (i % 20), protocol: 'TCP' }],
              selector: { app: name },
              ...(i >= total / 2 ? { ipFamilies: ['IPv6'], ipFamilyPolicy: 'SingleStack' } : {}),
            },
          },
        });
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    const createdSeconds = (performance.now() - start) / 1000;
    // Unref'd: once all are served, the bench must not wait out the 5 minute guard.
    await Promise.race([allServed, new Promise((r) => setTimeout(r, 300_000).unref())]);
    const seconds = (performance.now() - start) / 1000;
    const scraped = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const metric = (name: string) =>
      Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(scraped)?.[1] ?? Number.NaN) / 1e6;
    console.log(
      `controller memory at the end: RSS ${metric('process_resident_memory_bytes').toFixed(0)} MB, heap used ${metric('nodejs_heap_size_used_bytes').toFixed(0)} MB of ${metric('nodejs_heap_size_total_bytes').toFixed(0)} MB, external ${metric('nodejs_external_memory_bytes').toFixed(0)} MB`,
    );
    const latencies = [...served].map(([name, at]) => at - (created.get(name) ?? at)).sort((a, b) => a - b);
    console.log(
      `end to end ${total} Services: created in ${createdSeconds.toFixed(1)} s, all with status after ${seconds.toFixed(1)} s ` +
        `(${Math.round(served.size / seconds)} Services/s); served ${served.size}/${total}; ` +
        `create->status p50 ${quantile(latencies, 0.5).toFixed(0)} ms, p99 ${quantile(latencies, 0.99).toFixed(0)} ms; ` +
        `controller peak RSS ${peakRssMb.toFixed(0)} MB (node ${nodeArgs || 'defaults'})`,
    );
  } finally {
    clearInterval(sampler);
    controller.kill('SIGTERM');
    await exited;
    await informer.stop();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`node ${process.version}; gc ${gc ? 'exposed' : 'not exposed (heap figures are rough)'}`);
allocatorBench('IPv4 10.0.0.0/12', '10.0.0.0/12', 'IPv4');
allocatorBench('IPv6 2001:db8:100::/64', '2001:db8:100::/64', 'IPv6');
const services = Number(process.env.BENCH_SERVICES ?? 10_000);
if (services > 0) await endToEnd(services);
