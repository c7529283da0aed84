import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { ControllerHandle } from '../../controller/shell/controller.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import {
  allIps,
  type Bed,
  createPool,
  createService,
  eventsOf,
  ipsOf,
  startBed,
  withBed,
} from './harness.ts';

const COUNT = 60;

/** Every event as `object/reason/message` with its count, to compare before and after a fault. */
async function eventLedger(bed: Bed): Promise<Map<string, number>> {
  return new Map((await eventsOf(bed)).map((e) => [`${e.object}/${e.reason}/${e.message}`, e.count]));
}

describe('controller under API server faults', () => {
  let bed: Bed;
  let controller: ControllerHandle;
  let snapshot: Map<string, string[]>;
  let ledger: Map<string, number>;
  let extra = 0;

  before(async () => {
    bed = await startBed({ historyLimit: 200 });
    await createPool(bed, 'p', { addresses: ['198.51.100.0/25'] });
    // Some pending Services too (the pool is exhausted for them): their failure event must not repeat.
    await createPool(bed, 'small', { addresses: ['198.51.100.128/32'], autoAssign: false });
    for (let i = 0; i < COUNT; i++) await createService(bed, `svc-${i}`);
    for (let i = 0; i < 3; i++) {
      await createService(bed, `pending-${i}`, {
        annotations: { 'metalbeacon.io/address-pool': 'small' },
        ports: [{ port: 80 + i }],
      });
    }
    controller = await bed.startController({ leaderElect: false });
    snapshot = await waitFor('all assigned', async () => {
      const ips = await allIps(bed);
      const ours = [...ips].filter(([k]) => k.startsWith('default/svc-'));
      return ours.length === COUNT && ours.every(([, v]) => v.length === 1) ? new Map(ips) : undefined;
    });
    await waitFor('pending event', async () =>
      (await eventsOf(bed)).some((e) => e.reason === 'AllocationFailed'),
    );
    await controller.idle();
    ledger = await eventLedger(bed);
  });

  after(() => bed.close());

  async function checkUnchanged(label: string): Promise<void> {
    const name = `extra-${extra++}`;
    await createService(bed, name);
    await waitFor(`${label}: new Service served`, async () => (await ipsOf(bed, name)).length > 0, {
      timeoutMs: 20_000,
    });
    await controller.idle();
    const now = await allIps(bed);
    for (const [key, ips] of snapshot) assert.deepEqual(now.get(key), ips, `${label}: ${key} changed`);
    const events = await eventLedger(bed);
    for (const [event, count] of events) {
      if (event.startsWith('extra-')) continue;
      assert.equal(count, ledger.get(event), `${label}: event repeated or new: ${event}`);
    }
    for (const [key, ips] of now) snapshot.set(key, ips);
    ledger = events;
  }

  it('a cut watch is resumed without changes', async () => {
    bed.server.cutWatches();
    await checkUnchanged('watch cut');
  });

  it('410 Gone forces a relist without changes', async () => {
    bed.server.compactHistory();
    bed.server.cutWatches();
    await checkUnchanged('relist');
  });

  it('an API server restart with the same data changes no IP and repeats no event', async () => {
    await bed.server.restart({ downMs: 1500 });
    await checkUnchanged('restart');
    // A pending Service still gets an IP as soon as one frees up after the outage.
    await bed.core.deleteNamespacedService({ name: 'pending-0', namespace: 'default' });
    await bed.custom.patchNamespacedCustomObject(
      {
        group: 'metalbeacon.io',
        version: 'v1beta1',
        namespace: 'metalbeacon-system',
        plural: 'ipaddresspools',
        name: 'small',
        body: [{ op: 'replace', path: '/spec/addresses', value: ['198.51.100.128/30'] }],
      },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    await waitFor('pending Services served after the pool grows', async () => {
      const [a, b] = [await ipsOf(bed, 'pending-1'), await ipsOf(bed, 'pending-2')];
      return a.length > 0 && b.length > 0;
    });
  });
});

describe('controller leadership across an API server outage longer than the renew deadline', () => {
  it('steps down, leads again after the outage, and changes no IP nor repeats an event', async () => {
    await withBed(async (bed) => {
      await createPool(bed, 'p', { addresses: ['198.51.100.0/28'] });
      for (let i = 0; i < 20; i++) await createService(bed, `svc-${i}`);
      const controller = await bed.startController();
      const before = await waitFor('all assigned', async () => {
        const ips = await allIps(bed);
        return [...ips.values()].filter((v) => v.length === 1).length === 16 && ips;
      });
      await controller.idle();
      const ledger = await eventLedger(bed);
      let steppedDown = false;
      const watcher = setInterval(() => {
        if (!controller.isLeader()) steppedDown = true;
      }, 20);
      await bed.server.restart({ downMs: 3000 });
      await waitFor('leading again', async () => controller.isLeader() && controller.ready(), {
        timeoutMs: 15_000,
      });
      clearInterval(watcher);
      assert.ok(steppedDown, 'the leader kept leading without being able to renew');
      await createService(bed, 'extra');
      await new Promise((r) => setTimeout(r, 500));
      await controller.idle();
      const after = await allIps(bed);
      for (const [key, ips] of before) assert.deepEqual(after.get(key), ips, key);
      for (const [event, count] of await eventLedger(bed)) {
        if (event.startsWith('extra/')) continue;
        assert.equal(count, ledger.get(event), `event repeated or new: ${event}`);
      }
    });
  });
});
