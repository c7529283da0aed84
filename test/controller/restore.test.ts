import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import { freePort } from '../support/free-port.ts';
import { allIps, createPool, createService, eventsOf, getPool, startBed, withBed } from './harness.ts';
import { startProxy } from './proxy.ts';

const POOL_ANNOTATION = 'metalbeacon.io/ip-allocated-from-pool';

/**
 * A controller starting against Services a previous controller already served (their IPs in
 * status) and Services still pending, in a pool too small for all: every status IP is restored
 * before any pending Service is served (MetalLB lost or duplicated IPs here: #1774, #2443).
 */
describe('controller start: restore before serve', () => {
  it('held IPs stay with their Services, pending ones get only the free IP, the rest fail as exhausted', async () => {
    await withBed(async (bed) => {
      // Four addresses: .10-.13. A previous controller left .13, .10 and .11 in status; .12 is free.
      await createPool(bed, 'p', { addresses: ['198.51.100.10-198.51.100.13'] });
      // The pending Services are created first and sort first by name, so neither list order
      // nor key order would let a restore-later controller get this right by luck.
      for (let i = 0; i < 3; i++) await createService(bed, `a-pending-${i}`, { ports: [{ port: 80 + i }] });
      const held: Record<string, string> = {
        'z-held-0': '198.51.100.13',
        'z-held-1': '198.51.100.10',
        'z-held-2': '198.51.100.11',
      };
      for (const [name, ip] of Object.entries(held)) {
        await createService(bed, name, { annotations: { [POOL_ANNOTATION]: 'p' } });
        await bed.core.patchNamespacedServiceStatus(
          {
            name,
            namespace: 'default',
            body: { status: { loadBalancer: { ingress: [{ ip }] } } },
          },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
      }

      const controller = await bed.startController({ leaderElect: false });
      const failedFor = (events: Awaited<ReturnType<typeof eventsOf>>) =>
        new Set(events.filter((e) => e.reason === 'AllocationFailed').map((e) => e.object));
      // Two refusals happen whether the restore works or not (then for two held Services):
      // wait for them, then for the queue to drain, and judge the outcome.
      await waitFor('two AllocationFailed events', async () => failedFor(await eventsOf(bed)).size >= 2);
      await controller.idle();

      const ips = await allIps(bed);
      for (const [name, ip] of Object.entries(held)) {
        assert.deepEqual(ips.get(`default/${name}`), [ip], `${name} lost or changed its IP`);
      }
      const pendingIps = [0, 1, 2].map((i) => ips.get(`default/a-pending-${i}`) ?? []);
      assert.deepEqual(
        pendingIps.flat(),
        ['198.51.100.12'],
        'the pending Services must share out exactly the one free IP',
      );
      const all = [...ips.values()].flat();
      assert.equal(new Set(all).size, all.length, `an IP is duplicated: ${all.join(', ')}`);

      const events = await eventsOf(bed);
      const servedName = `a-pending-${pendingIps.findIndex((v) => v.length > 0)}`;
      const refused = failedFor(events);
      assert.deepEqual(
        [...refused].sort(),
        ['a-pending-0', 'a-pending-1', 'a-pending-2'].filter((n) => n !== servedName),
      );
      for (const e of events.filter((x) => x.reason === 'AllocationFailed'))
        assert.match(e.message, /pool p: Exhausted/, `${e.object}: ${e.message}`);
      // Restored Services get no event at all: nothing was allocated or cleared for them.
      assert.deepEqual(
        events.filter((e) => e.object.startsWith('z-held-')),
        [],
        'a restored Service got an event',
      );
      assert.deepEqual(
        events.filter((e) => e.reason === 'IPAllocated').map((e) => [e.object, e.message]),
        [[servedName, 'Assigned IP 198.51.100.12 from pool p']],
      );
      assert.equal(events.filter((e) => e.reason === 'ClearAssignment').length, 0);

      const served = await bed.core.readNamespacedService({ name: servedName, namespace: 'default' });
      assert.equal(served.metadata?.annotations?.[POOL_ANNOTATION], 'p');
      const status = await waitFor('pool status', async () => {
        const s = (await getPool(bed, 'p')).status as Record<string, string> | undefined;
        return s?.assignedIPv4 === '4' && s;
      });
      assert.equal(status.availableIPv4, '0');
    });
  });

  it('a shared IP whose co-holder dropped its sharing key while no controller ran stays with the unchanged one', async () => {
    await withBed(async (bed) => {
      await createPool(bed, 'p', { addresses: ['198.51.100.20/30'] });
      const shared = { 'metalbeacon.io/allow-shared-ip': 'dns' };
      // "a-changed" sorts first by name: name order alone would give it the IP.
      await createService(bed, 'a-changed', { annotations: shared, ports: [{ port: 53 }] });
      await createService(bed, 'b-kept', { annotations: shared, ports: [{ port: 54 }] });
      const first = await bed.startController({ leaderElect: false });
      const ip = await waitFor('both on one IP', async () => {
        const ips = await allIps(bed);
        const [a, b] = [ips.get('default/a-changed') ?? [], ips.get('default/b-kept') ?? []];
        return a.length === 1 && a[0] === b[0] && a[0];
      });
      await first.idle();
      await first.stop();
      await bed.core.patchNamespacedService(
        {
          name: 'a-changed',
          namespace: 'default',
          body: { metadata: { annotations: { 'metalbeacon.io/allow-shared-ip': null } } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      const second = await bed.startController({ leaderElect: false });
      await waitFor('the two no longer share', async () => {
        const ips = await allIps(bed);
        const [a, b] = [ips.get('default/a-changed') ?? [], ips.get('default/b-kept') ?? []];
        return a.length === 1 && b.length === 1 && a[0] !== b[0];
      });
      await second.idle();
      const ips = await allIps(bed);
      assert.deepEqual(ips.get('default/b-kept'), [ip], 'the unchanged Service lost its IP');
      const cleared = (await eventsOf(bed)).filter((e) => e.reason === 'ClearAssignment');
      assert.deepEqual(
        cleared.map((e) => e.object),
        ['a-changed'],
      );
    });
  });
});

const REFUSED_LISTS = 3;

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
