import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_RATE_LIMIT } from '../../speaker/l2/responder/rate-limiter.ts';
import { roundMsFor } from './answer-rounds.ts';

describe('roundMsFor', () => {
  it('keeps one node answering every IP within 60 % of the per-requester budget', () => {
    for (let ips = 1; ips <= 40; ips++) {
      const roundMs = roundMsFor(ips);
      const answersPerSecond = (ips * 1000) / roundMs;
      assert.ok(
        answersPerSecond <= 0.6 * DEFAULT_RATE_LIMIT.perSecond + 1e-9,
        `${ips} IPs every ${roundMs} ms`,
      );
      assert.equal(roundMs % 10, 0);
      assert.ok(roundMs >= 50);
    }
  });

  it('gives the six IPs of the membership tests 100 ms rounds (every 50 ms was 120 answers a second)', () => {
    // cut-netns: three dual-stack Services, five of their six IPs ranked to node-1: at 50 ms
    // rounds node-1 answered exactly its 100 a second, and every bunched round cost an answer.
    assert.equal(roundMsFor(6), 100);
    assert.equal(roundMsFor(6, { perSecond: 200, burst: 50 }), 50);
  });
});
