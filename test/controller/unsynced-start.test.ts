import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { allIps, createPool, createService, eventsOf, startBed, waitFor } from './harness.ts';
import { startProxy } from './proxy.ts';

const REFUSED_LISTS = 3;

/** A TCP port on loopback that was free a moment ago (the endpoints must be asked before start-up ends). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/**
 * The API server fails the controller's first LISTs of Services (issue 17 item 5). A controller
 * that took the failed LIST for an empty cache would restore no assignment and then hand the
 * only IP, which another Service shows in its status, to a pending Service. It must instead wait
 * until the LIST succeeds (shared/daemon/informer-set.ts) and restore first.
 */
describe('controller start while the API server fails the first LISTs', () => {
  it('waits for a real LIST: the held IP stays, nothing is handed out twice', async () => {
    const bed = await startBed();
    const proxy = await startProxy(bed.server.url);
    try {
      await createPool(bed, 'p', { addresses: ['198.51.100.10/32'] });
      // The pending Service sorts first, so taking an empty cache for the truth would give it the IP.
      await createService(bed, 'a-pending');
      await createService(bed, 'z-held', { ports: [{ port: 81 }] });
      await bed.core.patchNamespacedServiceStatus(
        {
          name: 'z-held',
          namespace: 'default',
          body: { status: { loadBalancer: { ingress: [{ ip: '198.51.100.10' }] } } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );

      const isServiceList = (method: string, path: string) => method === 'GET' && path === '/api/v1/services';
      proxy.refuse(isServiceList, 500, REFUSED_LISTS);
      const refused = () =>
        proxy.log.filter((r) => r.status === 500 && r.path.startsWith('/api/v1/services'));
      const endpoints = `http://127.0.0.1:${await freePort()}`;
      let started = false;
      const starting = bed
        .startController({ client: proxy.client, leaderElect: false, metricsListen: endpoints.slice(7) })
        .then((controller) => {
          started = true;
          return controller;
        });
      await waitFor('two refused LISTs', async () => refused().length >= 2);
      assert.equal(started, false, 'the controller must not run on a cache whose LIST failed');
      assert.equal((await fetch(`${endpoints}/healthz`)).status, 200, 'alive meanwhile');
      assert.equal((await fetch(`${endpoints}/readyz`)).status, 503, 'and not ready');
      const controller = await starting;
      assert.equal(refused().length, REFUSED_LISTS, 'every refused LIST was retried until one succeeded');
      assert.ok(controller.ready());
      assert.equal((await fetch(`${endpoints}/readyz`)).status, 200);

      // Decided either way: IPAllocated (the bug) or AllocationFailed (pool exhausted).
      await waitFor('an event on a-pending', async () =>
        (await eventsOf(bed)).some((e) => e.object === 'a-pending'),
      );
      await controller.idle();
      const ips = await allIps(bed);
      assert.deepEqual(ips.get('default/z-held'), ['198.51.100.10'], 'the held IP stays with its Service');
      assert.deepEqual(ips.get('default/a-pending') ?? [], [], 'and is not handed out again');
    } finally {
      await bed.close();
      await proxy.close();
    }
  });
});
