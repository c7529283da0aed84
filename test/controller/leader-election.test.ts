import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { isWriteVerb, type RequestRecord } from '../../apiserver/request-record.ts';
import type { ControllerHandle } from '../../controller/shell/controller.ts';
import { KubeClient } from '../../shared/k8s/client.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import { allIps, type Bed, createPool, createService, FAST_LEASE, startBed } from './harness.ts';
import { type ForwardingProxy, startProxy } from './proxy.ts';

// Issue 17 item 6: two controller replicas; the leader talks to the API server through a proxy
// that stalls or slows its requests. From the API server's own record of requests (its request
// hook) the two never write in the same interval, and the follower takes over only once the
// Lease has gone unrenewed for its duration.

const LEASES = '/apis/coordination.k8s.io/v1/namespaces/metalbeacon-system/leases';
const LEASE_DURATION_MS = FAST_LEASE.durationSec * 1000;

/** The programs' client, announcing itself as `agent` (the request record's userAgent). */
function clientAs(url: string, agent: string): KubeClient {
  return new KubeClient({
    server: new URL(url),
    tls: { rejectUnauthorized: true },
    headers: async () => ({ 'user-agent': agent }),
  });
}

/** Write requests that reached the server from `agent`; `applied`: only those it applied (2xx). */
function writesOf(audit: readonly RequestRecord[], agent: string, applied = true): RequestRecord[] {
  return audit.filter(
    (e) => e.userAgent === agent && isWriteVerb(e.verb) && (!applied || (e.code >= 200 && e.code < 300)),
  );
}

const isLeaseWrite = (e: RequestRecord): boolean => e.requestURI.startsWith(LEASES);

/** Creates a Service every 50 ms, so that a leader always has status and Events to write. */
function churn(bed: Bed): { created: () => number; stop: () => Promise<void> } {
  let n = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      await createService(bed, `churn-${n++}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return {
    created: () => n,
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

/** Every Service has one IP, none taken twice. */
async function assertAllAssignedOnce(bed: Bed): Promise<void> {
  const ips = await waitFor('every Service assigned', async () => {
    const all = await allIps(bed);
    return [...all.values()].every((v) => v.length === 1) && all;
  });
  const owners = new Map<string, string>();
  for (const [key, [ip]] of ips) {
    assert.equal(owners.get(ip!), undefined, `${ip} is held by ${owners.get(ip!)} and ${key}`);
    owners.set(ip!, key);
  }
}

interface Replicas {
  readonly bed: Bed;
  readonly proxy: ForwardingProxy;
  readonly audit: RequestRecord[];
  /** The leader, talking through the proxy. */
  readonly a: ControllerHandle;
  /** The follower, talking to the API server directly. */
  readonly b: ControllerHandle;
  readonly load: ReturnType<typeof churn>;
}

/** A leads (through the proxy), B follows with warm caches, and Services keep being created. */
async function startReplicas(): Promise<Replicas> {
  const audit: RequestRecord[] = [];
  const bed = await startBed({ onRequestRecord: (event) => audit.push(event) });
  const proxy = await startProxy(bed.server.url);
  await createPool(bed, 'p', { addresses: ['198.51.100.0/24'] });
  for (let i = 0; i < 10; i++) await createService(bed, `svc-${i}`);
  const a = await bed.startController({ identity: 'a', client: clientAs(proxy.url, 'replica-a') });
  await waitFor('a leads', async () => a.isLeader() && a.ready());
  const b = await bed.startController({ identity: 'b', client: clientAs(bed.server.url, 'replica-b') });
  await waitFor('b synced, following', async () => b.ready() && !b.isLeader());
  const load = churn(bed);
  await waitFor('a serves new Services', async () => {
    const ips = await allIps(bed);
    return [...ips].filter(([key, v]) => key.startsWith('default/churn-') && v.length === 1).length >= 3;
  });
  return { bed, proxy, audit, a, b, load };
}

/**
 * From the request record: every write A's requests made the server apply comes before B's first,
 * and B took the Lease no sooner than a lease duration after A's last renewal. Returns the figures.
 */
function assertApart(audit: readonly RequestRecord[], faultMs: number, t: TestContext) {
  const a = writesOf(audit, 'replica-a');
  const b = writesOf(audit, 'replica-b');
  assert.ok(a.length > 0 && b.length > 0, 'both replicas wrote');
  const lastA = Math.max(...a.map((e) => e.completedMs));
  const firstB = Math.min(...b.map((e) => e.completedMs));
  const lateA = a.filter((e) => e.completedMs >= firstB);
  assert.deepEqual(
    lateA.map((e) => `${e.verb} ${e.requestURI} ${e.code}`),
    [],
    'replica a wrote after replica b had started writing',
  );
  const first = b.find((e) => e.completedMs === firstB)!;
  assert.ok(isLeaseWrite(first), `b's first write is not its Lease: ${first.verb} ${first.requestURI}`);
  const lastRenewal = Math.max(...a.filter(isLeaseWrite).map((e) => e.completedMs));
  assert.ok(
    firstB - lastRenewal >= LEASE_DURATION_MS,
    `b took the Lease ${Math.round(firstB - lastRenewal)} ms after a's last renewal (lease duration ${LEASE_DURATION_MS} ms)`,
  );
  const figures = {
    lastWriteOfA: Math.round(lastA - faultMs),
    lastNonLeaseWriteOfA: Math.round(
      Math.max(...a.filter((e) => !isLeaseWrite(e)).map((e) => e.completedMs)) - faultMs,
    ),
    firstWriteOfB: Math.round(firstB - faultMs),
    gapMs: Math.round(firstB - lastA),
    takeoverAfterLastRenewalMs: Math.round(firstB - lastRenewal),
  };
  t.diagnostic(`ms after the fault: ${JSON.stringify(figures)}`);
  return figures;
}

describe('leader election: the leader stalls, the follower takes over, never two writers', () => {
  it('a leader whose every request stalls: its writes end at its renew deadline and none lands later; the follower takes over after the lease duration', async (t) => {
    const r = await startReplicas();
    try {
      const faultMs = performance.now();
      const stall = r.proxy.stall(() => true);
      await waitFor('b leads', async () => r.b.isLeader(), { timeoutMs: 15_000 });
      const createdWhenBLed = r.load.created();
      await waitFor('b serves new Services', async () => {
        const ips = await allIps(r.bed);
        return (ips.get(`default/churn-${createdWhenBLed + 2}`)?.length ?? 0) === 1;
      });
      assert.equal(r.a.isLeader(), false, 'a still leads');
      assert.ok(stall.held > 0, 'the stall held none of the leader requests');
      // The network comes back: what a's client gave up on must not reach the server now.
      stall.release();
      await r.load.stop();
      await assertAllAssignedOnce(r.bed);
      await r.b.idle();
      const figures = assertApart(r.audit, faultMs, t);
      // Stricter than "applied": not one write request of a reached the server in b's term.
      const tried = writesOf(r.audit, 'replica-a', false).filter(
        (e) => e.completedMs >= figures.firstWriteOfB + faultMs,
      );
      assert.deepEqual(
        tried.map((e) => `${e.verb} ${e.requestURI} ${e.code}`),
        [],
      );
      assert.ok(
        r.proxy.log.some((e) => e.status === 0),
        'the proxy dropped nothing: no write was abandoned',
      );
      assert.equal(r.a.isLeader(), false, 'a leads again beside b');
    } finally {
      await r.load.stop();
      await r.proxy.close();
      await r.bed.close();
    }
  });

  for (const [what, ms] of [
    ['never', Number.POSITIVE_INFINITY],
    ['3 s late', 3000],
  ] as const) {
    it(`the API server answers the leader's Lease calls ${what}, its other calls at once: the leader stops writing at its renew deadline`, async (t) => {
      const r = await startReplicas();
      try {
        const faultMs = performance.now();
        const slow = r.proxy.delay((_method, path) => path.startsWith(LEASES), ms);
        await waitFor('b leads', async () => r.b.isLeader(), { timeoutMs: 15_000 });
        const createdWhenBLed = r.load.created();
        await waitFor('b serves new Services', async () => {
          const ips = await allIps(r.bed);
          return (ips.get(`default/churn-${createdWhenBLed + 2}`)?.length ?? 0) === 1;
        });
        // The Lease calls of a still hang or crawl, its Service and Event calls get through: a
        // leader that kept writing would show up in the record now.
        await new Promise((resolve) => setTimeout(resolve, 2 * LEASE_DURATION_MS));
        slow.end();
        await r.load.stop();
        await assertAllAssignedOnce(r.bed);
        await r.b.idle();
        assertApart(r.audit, faultMs, t);
        assert.equal(r.a.isLeader(), false, 'a leads again beside b');
        assert.equal(r.b.isLeader(), true);
      } finally {
        await r.load.stop();
        await r.proxy.close();
        await r.bed.close();
      }
    });
  }
});
