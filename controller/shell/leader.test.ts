import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { ManualTimers } from '../../shared/daemon/manual-timers.ts';
import { ApiError, type CallOptions, type KubeClient } from '../../shared/k8s/client.ts';
import type { LeaseObject } from '../election/lease-election.ts';
import { LeaderElector } from './leader.ts';
import { NotLeadingError } from './leader-gate.ts';

// The shell's own timing on manual time: each Lease call is given the time left before the
// renew deadline, and leadership ends at that deadline on the step-down timer, whether a call is
// hanging (one that ignores its own deadline included) or none is in flight at that moment.
// test/controller/leader-election.test.ts shows the same against the API server through a proxy.

const TIMING = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 3_000 };

type Mode = 'answer' | 'hang' | 'fail';

/** One Lease kept in memory, answering as the API server does (404, 409 on a stale version). */
function leaseStore(timers: ManualTimers) {
  let stored: LeaseObject | undefined;
  let version = 0;
  const state = { mode: 'answer' as Mode };
  const calls: { verb: string; atMs: number; timeoutMs: number | undefined }[] = [];
  const answer = <T>(verb: string, options: CallOptions | undefined, run: () => T): Promise<T> => {
    calls.push({ verb, atMs: timers.now(), timeoutMs: options?.timeoutMs });
    if (state.mode === 'hang') return new Promise<T>(() => {}); // not even its deadline ends it
    if (state.mode === 'fail') return Promise.reject(new ApiError(verb, '/leases', 500, 'etcd timeout'));
    try {
      return Promise.resolve(run());
    } catch (error) {
      return Promise.reject(error);
    }
  };
  const store = (body: LeaseObject): LeaseObject => {
    stored = { ...body, metadata: { ...body.metadata, resourceVersion: String(++version) } };
    return stored;
  };
  const client = {
    get: (_path: string, _query: unknown, options?: CallOptions) =>
      answer('get', options, () => {
        if (!stored) throw new ApiError('GET', '/leases', 404, 'not found');
        return stored;
      }),
    create: (_path: string, body: LeaseObject, options?: CallOptions) =>
      answer('create', options, () => {
        if (stored) throw new ApiError('POST', '/leases', 409, 'already exists');
        return store(body);
      }),
    replace: (_path: string, body: LeaseObject, options?: CallOptions) =>
      answer('replace', options, () => {
        if (body.metadata?.resourceVersion !== stored?.metadata?.resourceVersion)
          throw new ApiError('PUT', '/leases', 409, 'the object has been modified');
        return store(body);
      }),
  };
  return { client: client as unknown as KubeClient, state, calls };
}

function elector(timers: ManualTimers) {
  const lease = leaseStore(timers);
  const events: string[] = [];
  const e = new LeaderElector({
    client: lease.client,
    namespace: 'metalbeacon-system',
    name: 'controller',
    identity: 'a',
    timing: TIMING,
    timers,
    wallNow: () => Date.UTC(2026, 11, 7) + timers.now(),
    log: pino({ level: 'silent' }),
    onStartedLeading: () => events.push(`started ${timers.now()}`),
    onStoppedLeading: () => events.push(`stopped ${timers.now()}`),
  });
  return { e, lease, events };
}

describe('LeaderElector timing', () => {
  it('a renewal that hangs forever: leadership ends at the start of the last renewal + renewDeadline, and the writes in flight are aborted then', async () => {
    const timers = new ManualTimers();
    const { e, lease, events } = elector(timers);
    e.start();
    await timers.advance(0);
    assert.deepEqual(events, ['started 0']);
    await timers.advance(3_000); // the renewal started at 3000 succeeds: leading until 13000
    assert.equal(e.isLeader, true);
    const write = e.callOptions();
    lease.state.mode = 'hang';
    await timers.advance(3_000); // the renewal of 6000 hangs
    const hung = lease.calls.at(-1)!;
    assert.deepEqual(hung, { verb: 'replace', atMs: 6_000, timeoutMs: 7_000 }, 'the time left before 13000');
    await timers.advance(6_999);
    assert.equal(e.isLeader, true);
    assert.equal(write.signal?.aborted, false);
    await timers.advance(1);
    assert.equal(e.isLeader, false);
    assert.deepEqual(events, ['started 0', 'stopped 13000']);
    assert.equal(write.signal?.aborted, true, 'a write sent as leader outlived the leadership');
    assert.throws(() => e.callOptions(), NotLeadingError);
    await e.stop(false);
  });

  it('renewals that fail at once: leadership ends at its deadline between two attempts, not at the next attempt', async () => {
    const timers = new ManualTimers();
    const { e, lease, events } = elector(timers);
    e.start();
    await timers.advance(3_000); // created at 0, renewed at 3000: leading until 13000
    lease.state.mode = 'fail';
    await timers.advance(9_999); // failed attempts at 6000, 9000 and 12000; the next is at 15000
    assert.equal(e.isLeader, true);
    assert.deepEqual(
      lease.calls.filter((c) => c.atMs > 3_000).map((c) => [c.atMs, c.timeoutMs]),
      [
        [6_000, 7_000],
        [9_000, 4_000],
        [12_000, 1_000],
      ],
    );
    await timers.advance(1);
    assert.deepEqual(events, ['started 0', 'stopped 13000']);
    assert.equal(e.isLeader, false);
    // A follower's calls get a whole renew deadline: leadership won by them would last that long.
    await timers.advance(2_000);
    assert.deepEqual(lease.calls.at(-1), { verb: 'get', atMs: 15_000, timeoutMs: 10_000 });
    await e.stop(false);
  });
});
