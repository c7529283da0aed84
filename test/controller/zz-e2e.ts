import { createPool, startBed, waitFor } from './harness.ts';

const N = Number(process.env.N ?? 3000);
const bed = await startBed({ historyLimit: 50000 });
await createPool(bed, 'p', { addresses: ['198.51.100.0/24'] });
let t = performance.now();
const q = Array.from({ length: N }, (_, i) => i);
await Promise.all(
  Array.from({ length: 32 }, async () => {
    for (let i = q.shift(); i !== undefined; i = q.shift()) {
      await bed.core.createNamespacedService({
        namespace: 'default',
        body: {
          metadata: {
            name: `s${i}`,
            annotations: { 'metalbeacon.io/allow-shared-ip': `g${Math.floor(i / 20)}` },
          },
          spec: {
            type: 'LoadBalancer',
            allocateLoadBalancerNodePorts: false,
            ports: [{ port: 1000 + (i % 20), protocol: 'TCP' }],
          },
        },
      });
    }
  }),
);
console.log('created', N, 'in', ((performance.now() - t) / 1000).toFixed(1), 's');
t = performance.now();
const c = await bed.startController({ leaderElect: false });
console.log('started in', ((performance.now() - t) / 1000).toFixed(1), 's');
await waitFor(
  'all',
  async () => {
    const l = await bed.core.listNamespacedService({ namespace: 'default' });
    return l.items.filter((s) => (s.status?.loadBalancer?.ingress ?? []).length > 0).length === N;
  },
  600000,
);
console.log(
  'served in',
  ((performance.now() - t) / 1000).toFixed(1),
  's',
  'rss',
  (process.memoryUsage().rss / 1e6).toFixed(0),
);
await c.idle();
await bed.close();
