import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { PendingOutput } from './pending-output.ts';

describe('PendingOutput (ROUTE-REFRESH coalescing and pacing)', () => {
  it('keeps at most one refresh per family pending, however many are asked for', () => {
    const p = new PendingOutput(1000);
    let coalesced = 0;
    for (let i = 0; i < 20_000; i++) if (!p.requestRefresh(i % 3 === 0 ? 'IPv6' : 'IPv4')) coalesced++;
    assert.equal(coalesced, 19_998);
    assert.deepStrictEqual(
      p.take(0),
      { refresh: ['IPv6', 'IPv4'], routesChanged: false },
      'in request order',
    );
    assert.equal(p.take(0), undefined, 'taken once');
    assert.equal(p.requestRefresh('IPv4'), true, 'a new request after the answer is pending again');
  });

  it('resends a family no sooner than the interval after its last answer; other families are not held back', () => {
    const p = new PendingOutput(1000);
    p.requestRefresh('IPv4');
    assert.deepStrictEqual(p.take(5000)?.refresh, ['IPv4'], 'a first request is answered at once');
    p.requestRefresh('IPv4');
    p.requestRefresh('IPv6');
    assert.deepStrictEqual(p.take(5200)?.refresh, ['IPv6']);
    assert.equal(p.nextDueMs(), 6000);
    assert.equal(p.take(5999), undefined);
    assert.deepStrictEqual(p.take(6000)?.refresh, ['IPv4']);
    assert.equal(p.nextDueMs(), undefined);
  });

  it('route changes are never held back by a refresh waiting for its turn', () => {
    const p = new PendingOutput(1000);
    p.requestRefresh('IPv4');
    p.take(0);
    p.requestRefresh('IPv4');
    p.markRoutesChanged();
    assert.deepStrictEqual(p.take(10), { refresh: [], routesChanged: true });
    assert.equal(p.nextDueMs(), 1000);
  });

  it('clear() forgets pending work and past answers', () => {
    const p = new PendingOutput(1000);
    p.requestRefresh('IPv6');
    p.take(0);
    p.requestRefresh('IPv6');
    p.markRoutesChanged();
    p.clear();
    assert.equal(p.take(1), undefined);
    p.requestRefresh('IPv6');
    assert.deepStrictEqual(p.take(1)?.refresh, ['IPv6'], 'a new session answers at once');
  });

  it('property: however requests arrive, a family is answered at most once per interval, and every request is answered or still pending', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.constantFrom('IPv4' as const, 'IPv6' as const), fc.integer({ min: 0, max: 300 })),
          {
            maxLength: 300,
          },
        ),
        (requests) => {
          const p = new PendingOutput(1000);
          const answers: Record<string, number[]> = { IPv4: [], IPv6: [] };
          let now = 0;
          for (const [family, gapMs] of requests) {
            now += gapMs;
            p.requestRefresh(family);
            for (const f of p.take(now)?.refresh ?? []) answers[f]!.push(now);
          }
          for (const times of Object.values(answers)) {
            for (let i = 1; i < times.length; i++) assert.ok(times[i]! - times[i - 1]! >= 1000);
          }
          const last = requests.at(-1);
          if (last) {
            const answeredAfterLast = answers[last[0]]!.at(-1) === now;
            assert.ok(answeredAfterLast || p.nextDueMs() !== undefined, 'the last request is not lost');
          }
        },
      ),
    );
  });
});
