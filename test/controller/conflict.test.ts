import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { ControllerHandle } from '../../controller/shell/controller.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import { type Bed, createPool, createService, eventsOf, startBed } from './harness.ts';
import { type ForwardingProxy, startProxy } from './proxy.ts';

const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const POOL_ANNOTATION = 'metalbeacon.io/ip-allocated-from-pool';

/**
 * The controller's status write is conditional on the resourceVersion it read. Here another
 * client changes the Service exactly between that read and the write (the proxy runs the other
 * writer before forwarding the controller's PATCH), so the real server answers 409 Conflict.
 */
describe('controller status write meets 409 Conflict', () => {
  let bed: Bed;
  let proxy: ForwardingProxy;
  let controller: ControllerHandle;

  before(async () => {
    bed = await startBed();
    proxy = await startProxy(bed.server.url);
    await createPool(bed, 'p', { addresses: ['198.51.100.0/29'] });
    controller = await bed.startController({ client: proxy.client, leaderElect: false });
  });

  after(async () => {
    await bed.close();
    await proxy.close();
  });

  /** Arms the other writer for the first status write of `name`; returns the statuses of its status writes so far. */
  function interceptStatusWrite(name: string, otherWriter: () => Promise<void>): () => number[] {
    const path = `/api/v1/namespaces/default/services/${name}/status`;
    proxy.before((method, p) => method === 'PATCH' && p === path, otherWriter);
    return () =>
      proxy.log.filter((r) => r.method === 'PATCH' && r.path.split('?')[0] === path).map((r) => r.status);
  }

  async function served(name: string) {
    return waitFor(`${name} served with its pool annotation`, async () => {
      const svc = await bed.core.readNamespacedService({ name, namespace: 'default' });
      const ips = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip);
      return ips.length > 0 && svc.metadata?.annotations?.[POOL_ANNOTATION] !== undefined && svc;
    });
  }

  it('retries on the new version: right status and pool annotation, the other writer’s labels, annotations and status condition kept', async () => {
    const statuses = interceptStatusWrite('web', async () => {
      await bed.core.patchNamespacedService(
        {
          name: 'web',
          namespace: 'default',
          body: { metadata: { labels: { team: 'payments' }, annotations: { 'example.com/owner': 'alice' } } },
        },
        MERGE,
      );
      await bed.core.patchNamespacedServiceStatus(
        {
          name: 'web',
          namespace: 'default',
          body: {
            status: {
              conditions: [
                {
                  type: 'example.com/Probed',
                  status: 'True',
                  reason: 'Reachable',
                  message: 'probe answered',
                  lastTransitionTime: new Date('2026-01-01T00:00:00Z'),
                },
              ],
            },
          },
        },
        MERGE,
      );
    });
    await createService(bed, 'web');
    const svc = await served('web');
    assert.deepEqual(statuses().slice(0, 2), [409, 200], 'the first status write must meet a Conflict');
    const ips = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '');
    assert.equal(ips.length, 1);
    assert.match(ips[0]!, /^198\.51\.100\.[0-7]$/);
    assert.equal(svc.metadata?.annotations?.[POOL_ANNOTATION], 'p');
    assert.equal(svc.metadata?.labels?.team, 'payments');
    assert.equal(svc.metadata?.annotations?.['example.com/owner'], 'alice');
    assert.deepEqual(
      svc.status?.conditions?.map((c) => [c.type, c.status, c.reason]),
      [['example.com/Probed', 'True', 'Reachable']],
    );
    await controller.idle();
    const events = (await eventsOf(bed)).filter((e) => e.object === 'web');
    assert.deepEqual(
      events.map((e) => [e.reason, e.message, e.count]),
      [['IPAllocated', `Assigned IP ${ips[0]} from pool p`, 1]],
    );
  });

  it('a change of the requested IP made meanwhile is honoured, not overwritten by the stale decision', async () => {
    const statuses = interceptStatusWrite('pinned', async () => {
      await bed.core.patchNamespacedService(
        {
          name: 'pinned',
          namespace: 'default',
          body: { metadata: { annotations: { 'metalbeacon.io/loadBalancerIPs': '198.51.100.6' } } },
        },
        MERGE,
      );
    });
    await createService(bed, 'pinned', { ports: [{ port: 443 }] });
    await waitFor('pinned gets the requested IP and its pool annotation', async () => {
      const svc = await bed.core.readNamespacedService({ name: 'pinned', namespace: 'default' });
      return (
        svc.status?.loadBalancer?.ingress?.[0]?.ip === '198.51.100.6' &&
        svc.metadata?.annotations?.[POOL_ANNOTATION] !== undefined
      );
    });
    assert.equal(statuses()[0], 409, 'the first status write must meet a Conflict');
    const svc = await bed.core.readNamespacedService({ name: 'pinned', namespace: 'default' });
    assert.deepEqual(
      (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip),
      ['198.51.100.6'],
    );
    assert.equal(svc.metadata?.annotations?.[POOL_ANNOTATION], 'p');
    assert.equal(svc.metadata?.annotations?.['metalbeacon.io/loadBalancerIPs'], '198.51.100.6');
    // One event, for the IP the Service got: nothing about the IP of the stale decision, which
    // nobody ever saw.
    await controller.idle();
    const events = (await eventsOf(bed)).filter((e) => e.object === 'pinned');
    assert.deepEqual(
      events.map((e) => [e.reason, e.message, e.count]),
      [['IPAllocated', 'Assigned IP 198.51.100.6 from pool p', 1]],
    );
  });
});
