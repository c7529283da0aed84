import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import {
  allIps,
  type Bed,
  createPool,
  createService,
  eventsOf,
  FAST_LEASE,
  ipsOf,
  startBed,
} from './harness.ts';

const COUNT = 1000;

/** Creates COUNT Services: half IPv4, half IPv6, sharing IPs in pairs (80 + 81 on one key). */
async function createMany(bed: Bed): Promise<void> {
  const jobs = Array.from({ length: COUNT }, (_, i) => i);
  const worker = async () => {
    for (let i = jobs.shift(); i !== undefined; i = jobs.shift()) {
      const v6 = i >= COUNT / 2;
      await createService(bed, `svc-${i}`, {
        annotations: { 'metalbeacon.io/allow-shared-ip': `pair-${i >> 1}` },
        ports: [{ port: 80 + (i & 1) }],
        spec: v6 ? { ipFamilies: ['IPv6'], ipFamilyPolicy: 'SingleStack' } : {},
      });
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

async function allAssigned(bed: Bed): Promise<Map<string, string[]> | undefined> {
  const ips = await allIps(bed);
  const ours = [...ips].filter(([key]) => key.startsWith('default/svc-'));
  return ours.length === COUNT && ours.every(([, v]) => v.length === 1) ? new Map(ours) : undefined;
}

function assertSame(before: Map<string, string[]>, after: Map<string, string[]>): void {
  let moved = 0;
  for (const [key, ips] of before) if (after.get(key)?.join() !== ips.join()) moved++;
  assert.equal(moved, 0, `${moved} Services changed IPs`);
}

async function allocatedEvents(bed: Bed): Promise<number> {
  return (await eventsOf(bed)).filter((e) => e.reason === 'IPAllocated').reduce((n, e) => n + e.count, 0);
}

describe(`controller HA: ${COUNT} Services keep exactly their IPs`, () => {
  let bed: Bed;
  let snapshot: Map<string, string[]>;

  before(async () => {
    bed = await startBed({ dualStack: true });
    await createPool(bed, 'v4', { addresses: ['198.51.100.0/24'] });
    await createPool(bed, 'v6', { addresses: ['2001:db8:100::/120'] });
    await createMany(bed);
  });

  after(() => bed.close());

  it('allocates all of them, sharing in pairs, with no duplicate IPs across keys', async () => {
    const first = await bed.startController();
    snapshot = await waitFor('all Services assigned', () => allAssigned(bed), { timeoutMs: 60_000 });
    const byIp = new Map<string, string[]>();
    for (const [key, [ip]] of snapshot) byIp.set(ip!, [...(byIp.get(ip!) ?? []), key]);
    assert.equal(byIp.size, COUNT / 2);
    for (const [ip, keys] of byIp) {
      const pairs = new Set(keys.map((k) => Number(k.split('-')[1]) >> 1));
      assert.equal(pairs.size, 1, `${ip} is shared across sharing keys: ${keys.join(', ')}`);
    }
    await first.idle();
    await first.stop();
  });

  it('a controller restart changes no IP and repeats no event', async () => {
    const eventsBefore = await allocatedEvents(bed);
    const second = await bed.startController();
    await waitFor('new leader ready', async () => second.isLeader() && second.ready());
    await createService(bed, 'after-restart');
    const fresh = await waitFor(
      'new Service served',
      async () => (await ipsOf(bed, 'after-restart')).length > 0 && ipsOf(bed, 'after-restart'),
    );
    await second.idle();
    assertSame(snapshot, (await allAssigned(bed))!);
    assert.ok(![...snapshot.values()].some(([ip]) => ip === fresh[0]), 'the new Service got a taken IP');
    assert.equal(await allocatedEvents(bed), eventsBefore + 1);
    assert.equal((await eventsOf(bed)).filter((e) => e.reason === 'ClearAssignment').length, 0);
  });

  it('a leader crash: the follower takes over once the Lease expires and changes no IP', async () => {
    const [leader] = await Promise.all([
      waitFor('current leader', async () => {
        const list = await bed.coordination().listNamespacedLease({ namespace: 'metalbeacon-system' });
        return list.items[0]?.spec?.holderIdentity;
      }),
    ]);
    const follower = await bed.startController();
    await new Promise((r) => setTimeout(r, FAST_LEASE.retryPeriodMs * 3));
    assert.equal(follower.isLeader(), false, 'two leaders');
    // A follower keeps its caches warm but reconciles and writes nothing.
    await createService(bed, 'while-following');
    await waitFor('served by the leader', async () => (await ipsOf(bed, 'while-following')).length > 0);
    const followerReconciles = (await follower.metrics.reconciles.get()).values.reduce(
      (n, v) => n + v.value,
      0,
    );
    assert.equal(followerReconciles, 0, 'the follower reconciled');
    await bed.crash(leader);
    // The Lease expires after leaseDurationSec without renewal; the follower then takes it.
    await waitFor('follower leads', async () => follower.isLeader(), { timeoutMs: 15_000 });
    const lease = (await bed.coordination().listNamespacedLease({ namespace: 'metalbeacon-system' }))
      .items[0];
    assert.notEqual(lease?.spec?.holderIdentity, leader);
    assert.ok((lease?.spec?.leaseTransitions ?? 0) >= 1, 'the takeover is recorded in leaseTransitions');
    await createService(bed, 'after-failover');
    await waitFor('served by the new leader', async () => (await ipsOf(bed, 'after-failover')).length > 0);
    await follower.idle();
    assertSame(snapshot, (await allAssigned(bed))!);
    assert.equal((await eventsOf(bed)).filter((e) => e.reason === 'ClearAssignment').length, 0);
  });
});
