/**
 * `node bench/apiserver.ts [SERVICES]`: figures for the embedded API server, asserts
 * nothing. Through @kubernetes/client-node over loopback HTTP:
 * 1. creates of LoadBalancer Services (each allocates a clusterIP; no node ports, as 30000-32767
 *    holds only 2768 of them): per second;
 * 2. a full list of them, and pages of 500;
 * 3. watch fan-out: 5 watchers, each receiving every status update (updates/s until all saw all);
 * 4. deletes per second.
 */
import { CoreV1Api, KubeConfig, Watch } from '@kubernetes/client-node';
import { startApiServer } from '../apiserver/server.ts';

const SERVICES = Number(process.argv[2] ?? 5000);
const CONCURRENCY = 32;

async function inParallel(n: number, work: (i: number) => Promise<unknown>): Promise<number> {
  const start = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) await work(next++);
    }),
  );
  return (performance.now() - start) / 1000;
}

const server = await startApiServer({ historyLimit: 4 * SERVICES });
const kc = new KubeConfig();
kc.loadFromString(server.kubeconfigText);
const core = kc.makeApiClient(CoreV1Api);
const namespace = 'default';
const rss0 = process.memoryUsage().rss / 1e6;

const createSec = await inParallel(SERVICES, (i) =>
  core.createNamespacedService({
    namespace,
    body: {
      metadata: { name: `svc-${i}` },
      spec: {
        type: 'LoadBalancer',
        allocateLoadBalancerNodePorts: false,
        ports: [
          { name: 'http', port: 80 },
          { name: 'https', port: 443 },
        ],
      },
    },
  }),
);
console.log(
  `create: ${SERVICES} LoadBalancer Services in ${createSec.toFixed(2)} s = ${(SERVICES / createSec).toFixed(0)}/s`,
);

let start = performance.now();
const all = await core.listNamespacedService({ namespace });
console.log(`list: ${all.items.length} Services in ${(performance.now() - start).toFixed(0)} ms`);
start = performance.now();
let pages = 0;
let token: string | undefined;
do {
  const page = await core.listNamespacedService({
    namespace,
    limit: 500,
    ...(token ? { _continue: token } : {}),
  });
  token = page.metadata?._continue || undefined;
  pages++;
} while (token);
console.log(`list in pages of 500: ${pages} pages in ${(performance.now() - start).toFixed(0)} ms`);

const WATCHERS = 5;
const counts = new Array<number>(WATCHERS).fill(0);
const watch = new Watch(kc);
const rv = String(server.resourceVersion());
const controllers = await Promise.all(
  counts.map((_, w) =>
    watch.watch(
      `/api/v1/namespaces/${namespace}/services`,
      { resourceVersion: rv },
      (type) => {
        if (type === 'MODIFIED') counts[w]!++;
      },
      () => {},
    ),
  ),
);
start = performance.now();
await inParallel(SERVICES, (i) =>
  core.replaceNamespacedServiceStatus({
    name: `svc-${i}`,
    namespace,
    body: { metadata: { name: `svc-${i}` }, status: { loadBalancer: { ingress: [{ ip: '198.51.100.1' }] } } },
  }),
);
while (counts.some((c) => c < SERVICES)) await new Promise((r) => setTimeout(r, 5));
const fanSec = (performance.now() - start) / 1000;
console.log(
  `watch fan-out: ${SERVICES} status updates seen by ${WATCHERS} watchers in ${fanSec.toFixed(2)} s = ${(SERVICES / fanSec).toFixed(0)} updates/s (${((SERVICES * WATCHERS) / fanSec).toFixed(0)} events/s)`,
);
for (const c of controllers) c.abort();

const deleteSec = await inParallel(SERVICES, (i) =>
  core.deleteNamespacedService({ name: `svc-${i}`, namespace }),
);
console.log(`delete: ${SERVICES} in ${deleteSec.toFixed(2)} s = ${(SERVICES / deleteSec).toFixed(0)}/s`);
console.log(`server+client RSS growth: ${(process.memoryUsage().rss / 1e6 - rss0).toFixed(0)} MB`);
await server.stop();
