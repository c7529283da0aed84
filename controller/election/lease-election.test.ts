import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  callDeadlineMs,
  checkTiming,
  decide,
  type ElectionState,
  type ElectionTiming,
  expire,
  INITIAL_STATE,
  isLeading,
  type LeaseRecord,
  microTime,
  nextAttemptMs,
  observe,
  readLease,
  releasedSpec,
  resign,
  specFor,
  writeDeadlineMs,
  wrote,
} from './lease-election.ts';
import { simulate } from './simulation.ts';

const CLIENT_GO: ElectionTiming = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

function record(holder: string, renewTime: string, extra: Partial<LeaseRecord> = {}): LeaseRecord {
  return {
    holder,
    leaseDurationSec: 15,
    acquireTime: '2026-01-01T00:00:00.000000Z',
    renewTime,
    transitions: 0,
    resourceVersion: '1',
    ...extra,
  };
}

describe('checkTiming', () => {
  it("accepts client-go's defaults and refuses what client-go refuses, naming the field", () => {
    assert.equal(checkTiming(CLIENT_GO), CLIENT_GO);
    const bad: [Partial<ElectionTiming>, RegExp][] = [
      [{ leaseDurationMs: 10_000 }, /lease duration \(10000 ms\) must be longer than the renew deadline/],
      [{ renewDeadlineMs: 2_400 }, /renew deadline \(2400 ms\) must be longer than 1.2 retry periods/],
      [{ retryPeriodMs: 0 }, /retryPeriodMs must be a positive number, not 0/],
      [{ renewDeadlineMs: Number.NaN }, /renewDeadlineMs must be a positive number, not NaN/],
      [{ leaseDurationMs: 15_500 }, /leaseDurationMs must be whole seconds/],
    ];
    for (const [change, message] of bad) {
      assert.throws(() => checkTiming({ ...CLIENT_GO, ...change }), { name: 'RangeError', message });
    }
  });
});

describe('readLease (an untrusted object)', () => {
  it('reads the fields of a well-formed Lease', () => {
    const lease = {
      metadata: { resourceVersion: '42' },
      spec: {
        holderIdentity: 'a',
        leaseDurationSeconds: 15,
        acquireTime: 'T0',
        renewTime: 'T1',
        leaseTransitions: 3,
      },
    };
    assert.deepEqual(readLease(lease), {
      holder: 'a',
      leaseDurationSec: 15,
      acquireTime: 'T0',
      renewTime: 'T1',
      transitions: 3,
      resourceVersion: '42',
    });
  });

  it('reads wrongly typed or out-of-range fields as absent, never throwing', () => {
    const empty = {
      holder: '',
      leaseDurationSec: undefined,
      acquireTime: undefined,
      renewTime: undefined,
      transitions: 0,
      resourceVersion: '',
    };
    for (const lease of [null, 7, 'x', [], {}, { spec: null }, { spec: 'x', metadata: 5 }]) {
      assert.deepEqual(readLease(lease), empty, JSON.stringify(lease));
    }
    const odd = {
      metadata: { resourceVersion: 9 },
      spec: { holderIdentity: 5, leaseDurationSeconds: -1, renewTime: {}, leaseTransitions: 1.5 },
    };
    assert.deepEqual(readLease(odd), empty);
    for (const seconds of [0, 1.5, '15', Number.POSITIVE_INFINITY, 2 ** 60]) {
      assert.equal(readLease({ spec: { leaseDurationSeconds: seconds } }).leaseDurationSec, undefined);
    }
  });
});

describe('observe and decide (a candidate)', () => {
  const me = 'me';

  it('creates a missing Lease, renews its own, acquires an unheld one', () => {
    assert.deepEqual(decide(observe(INITIAL_STATE, undefined, 0), me, 0, CLIENT_GO), { kind: 'create' });
    assert.deepEqual(decide(observe(INITIAL_STATE, record(me, 'T1'), 0), me, 0, CLIENT_GO), {
      kind: 'renew',
    });
    assert.deepEqual(decide(observe(INITIAL_STATE, record('', 'T1'), 0), me, 0, CLIENT_GO), {
      kind: 'acquire',
    });
  });

  it("waits the record's duration from when it was first seen unchanged, on its own clock", () => {
    // The record's own times say nothing: a holder's clock may be anywhere.
    let state = observe(INITIAL_STATE, record('other', '1999-01-01T00:00:00.000000Z'), 1_000);
    assert.deepEqual(decide(state, me, 15_999, CLIENT_GO), {
      kind: 'wait',
      holder: 'other',
      untilMs: 16_000,
    });
    // Read again, unchanged (even with another resourceVersion): the wait still counts from 1 s.
    state = observe(state, record('other', '1999-01-01T00:00:00.000000Z', { resourceVersion: '7' }), 9_000);
    assert.deepEqual(decide(state, me, 16_000, CLIENT_GO), { kind: 'acquire' });
    // A renewal seen at 12 s starts the wait again.
    state = observe(state, record('other', '1999-01-01T00:00:02.000000Z'), 12_000);
    assert.deepEqual(decide(state, me, 16_000, CLIENT_GO), {
      kind: 'wait',
      holder: 'other',
      untilMs: 27_000,
    });
  });

  it("uses the record's duration (a released Lease: 1 s), and its own when the record's is malformed", () => {
    const short = observe(INITIAL_STATE, record('other', 'T', { leaseDurationSec: 1 }), 0);
    assert.equal(decide(short, me, 999, CLIENT_GO).kind, 'wait');
    assert.equal(decide(short, me, 1_000, CLIENT_GO).kind, 'acquire');
    const malformed = observe(INITIAL_STATE, record('other', 'T', { leaseDurationSec: undefined }), 0);
    assert.deepEqual(decide(malformed, me, 0, CLIENT_GO), { kind: 'wait', holder: 'other', untilMs: 15_000 });
  });
});

describe('leadership from a write (a leader)', () => {
  it('lasts until the start of the attempt plus the renew deadline, however late the answer', () => {
    const state = wrote(record('me', 'T'), 5_000, 9_000, CLIENT_GO);
    assert.equal(state.leaderUntilMs, 15_000);
    assert.equal(isLeading(state, 14_999), true);
    assert.equal(isLeading(state, 15_000), false);
    // An answer that comes after that leads to nothing.
    assert.equal(wrote(record('me', 'T'), 5_000, 15_000, CLIENT_GO).leaderUntilMs, undefined);
  });

  it("gives every Lease call and write the leadership's end as deadline", () => {
    const leading = wrote(record('me', 'T'), 0, 100, CLIENT_GO);
    assert.equal(callDeadlineMs(leading, 2_100, CLIENT_GO), 10_000);
    assert.equal(writeDeadlineMs(leading, 9_999), 10_000);
    assert.equal(writeDeadlineMs(leading, 10_000), undefined);
    // A candidate's calls end when leadership won by them would.
    assert.equal(callDeadlineMs(INITIAL_STATE, 2_100, CLIENT_GO), 12_100);
    assert.equal(writeDeadlineMs(INITIAL_STATE, 0), undefined);
    assert.equal(nextAttemptMs(2_100, CLIENT_GO), 4_100);
  });

  it('ends at the step-down time or on resigning, and not before', () => {
    const leading: ElectionState = wrote(record('me', 'T'), 0, 100, CLIENT_GO);
    assert.equal(expire(leading, 9_999), leading);
    assert.equal(expire(leading, 10_000).leaderUntilMs, undefined);
    assert.equal(resign(leading).leaderUntilMs, undefined);
    assert.deepEqual(resign(leading).observed, leading.observed);
  });
});

describe('the Lease written', () => {
  const timing = CLIENT_GO;
  const previous = { holderIdentity: 'old', acquireTime: 'A0', renewTime: 'R0', leaseTransitions: 4 };
  const rec = readLease({ spec: previous });

  it('renew keeps the term; acquire starts one and counts it; create starts at 0', () => {
    assert.deepEqual(specFor('renew', { ...previous, holderIdentity: 'me' }, rec, 'me', timing, 'NOW'), {
      holderIdentity: 'me',
      acquireTime: 'A0',
      renewTime: 'NOW',
      leaseTransitions: 4,
      leaseDurationSeconds: 15,
    });
    assert.deepEqual(specFor('acquire', previous, rec, 'me', timing, 'NOW'), {
      holderIdentity: 'me',
      acquireTime: 'NOW',
      renewTime: 'NOW',
      leaseTransitions: 5,
      leaseDurationSeconds: 15,
    });
    assert.equal(specFor('create', undefined, undefined, 'me', timing, 'NOW').leaseTransitions, 0);
  });

  it('release leaves no holder and a 1 s duration; times are MicroTime text', () => {
    assert.deepEqual(releasedSpec(previous, 'NOW'), {
      ...previous,
      holderIdentity: undefined,
      leaseDurationSeconds: 1,
      renewTime: 'NOW',
    });
    assert.equal(microTime(Date.UTC(2026, 0, 2, 3, 4, 5, 678)), '2026-01-02T03:04:05.678000Z');
  });
});

describe('two leaders never overlap (simulated replicas, API server and network)', () => {
  const latency = fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 0, max: 300 }) },
    { weight: 2, arbitrary: fc.integer({ min: 300, max: 20_000 }) },
    { weight: 1, arbitrary: fc.constant(Number.POSITIVE_INFINITY) },
  );
  const scenario = fc.record({
    replicas: fc.integer({ min: 2, max: 3 }),
    latencies: fc.array(latency, { minLength: 1, maxLength: 200 }),
    crashMs: fc.option(fc.integer({ min: 0, max: 60_000 }), { nil: undefined }),
  });

  for (const timing of [CLIENT_GO, { leaseDurationMs: 2_000, renewDeadlineMs: 1_500, retryPeriodMs: 250 }]) {
    it(`leadership intervals are apart by at least leaseDuration - renewDeadline (${timing.leaseDurationMs} / ${timing.renewDeadlineMs} / ${timing.retryPeriodMs} ms)`, () => {
      fc.assert(
        fc.property(scenario, ({ replicas, latencies, crashMs }) => {
          const { terms } = simulate({ timing, replicas, latencies, crashMs, endMs: 120_000 });
          const margin = timing.leaseDurationMs - timing.renewDeadlineMs;
          for (const a of terms) {
            for (const b of terms) {
              if (a.replica === b.replica || a.fromMs > b.fromMs) continue;
              assert.ok(
                b.fromMs >= a.untilMs + margin,
                `${a.replica} led [${a.fromMs}, ${a.untilMs}) and ${b.replica} from ${b.fromMs}`,
              );
            }
          }
        }),
        { numRuns: 400 },
      );
    });
  }

  it('a healthy network elects one leader at once; after it crashes another leads within leaseDuration + renewDeadline + retryPeriod', () => {
    const timing = CLIENT_GO;
    const { terms } = simulate({ timing, replicas: 3, latencies: [5], crashMs: 30_000, endMs: 90_000 });
    const [first, second, ...rest] = terms;
    assert.equal(rest.length, 0, JSON.stringify(terms));
    assert.ok(first && second);
    assert.equal(first.fromMs, 20, 'a GET and a create, two legs of 5 ms each');
    assert.equal(first.untilMs, 30_000, 'it led until it crashed');
    assert.notEqual(second.replica, first.replica);
    assert.ok(second.untilMs >= 90_000, 'the second leader keeps leading');
    assert.ok(
      second.fromMs - 30_000 <= timing.leaseDurationMs + timing.renewDeadlineMs + timing.retryPeriodMs,
    );
  });
});
