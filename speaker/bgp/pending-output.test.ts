import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PendingOutput } from './pending-output.ts';

describe('PendingOutput (ROUTE-REFRESH coalescing)', () => {
  it('keeps at most one refresh per family pending, however many are asked for', () => {
    const p = new PendingOutput();
    let coalesced = 0;
    for (let i = 0; i < 20_000; i++) if (!p.requestRefresh(i % 3 === 0 ? 'IPv6' : 'IPv4')) coalesced++;
    assert.equal(coalesced, 19_998);
    assert.deepStrictEqual(p.take(), { refresh: ['IPv6', 'IPv4'], routesChanged: false }, 'in request order');
    assert.equal(p.take(), undefined, 'taken once');
    assert.equal(p.requestRefresh('IPv4'), true, 'a new request after the answer is pending again');
  });

  it('route changes coalesce into one flag; clear() forgets everything', () => {
    const p = new PendingOutput();
    p.markRoutesChanged();
    p.markRoutesChanged();
    p.requestRefresh('IPv6');
    assert.equal(p.hasWork, true);
    p.clear();
    assert.equal(p.hasWork, false);
    p.markRoutesChanged();
    assert.deepStrictEqual(p.take(), { refresh: [], routesChanged: true });
  });
});
