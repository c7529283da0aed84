import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HOLD_TIME_ZERO_BOUND_SEC, sendHoldMs, tcpLivenessFor } from './peer-liveness.ts';

describe('peer liveness from the hold time', () => {
  it('TCP keepalive probes from a third of the hold time; send hold = the hold time; the kernel gives up at twice it', () => {
    assert.deepStrictEqual(tcpLivenessFor(90), {
      keepaliveIdleSec: 30,
      keepaliveIntervalSec: 10,
      keepaliveCount: 3,
      userTimeoutMs: 180_000,
    });
    assert.deepStrictEqual(tcpLivenessFor(3), {
      keepaliveIdleSec: 1,
      keepaliveIntervalSec: 1,
      keepaliveCount: 3,
      userTimeoutMs: 6000,
    });
    assert.equal(sendHoldMs(3), 3000);
    assert.ok(sendHoldMs(3) < tcpLivenessFor(3).userTimeoutMs, 'the send hold timer acts before the kernel');
  });

  it('hold time 0 (no KEEPALIVEs) is still bounded: a dead or non-reading peer is noticed', () => {
    assert.equal(tcpLivenessFor(0).userTimeoutMs, 2 * HOLD_TIME_ZERO_BOUND_SEC * 1000);
    assert.equal(sendHoldMs(0), HOLD_TIME_ZERO_BOUND_SEC * 1000);
    assert.ok(tcpLivenessFor(0).keepaliveIdleSec > 0);
  });
});
