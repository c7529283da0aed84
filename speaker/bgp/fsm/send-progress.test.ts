import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SendProgress } from './send-progress.ts';

describe('SendProgress (RFC 9687 send hold timer)', () => {
  it('a peer acknowledging nothing while output waits in the kernel expires after the send hold time', () => {
    const p = new SendProgress(3000);
    assert.equal(p.observe(0, { handedBytes: 50_000, kernelQueuedBytes: 0, waitingBytes: 0 }), false);
    // 40,000 octets more handed, of which 30,000 stay unacknowledged: 10,000 acknowledged.
    assert.equal(p.observe(1000, { handedBytes: 90_000, kernelQueuedBytes: 30_000, waitingBytes: 0 }), false);
    for (const t of [2000, 3000, 3999]) {
      assert.equal(p.observe(t, { handedBytes: 90_000, kernelQueuedBytes: 30_000, waitingBytes: 0 }), false);
    }
    assert.equal(p.observe(4000, { handedBytes: 90_000, kernelQueuedBytes: 30_000, waitingBytes: 0 }), true);
  });

  it('any acknowledged octet restarts it; nothing waiting stops it', () => {
    const p = new SendProgress(3000);
    p.observe(0, { handedBytes: 10_000, kernelQueuedBytes: 10_000, waitingBytes: 0 });
    assert.equal(p.observe(2900, { handedBytes: 10_000, kernelQueuedBytes: 9_999, waitingBytes: 0 }), false);
    assert.equal(p.observe(5800, { handedBytes: 10_000, kernelQueuedBytes: 9_999, waitingBytes: 0 }), false);
    assert.equal(p.observe(5900, { handedBytes: 10_000, kernelQueuedBytes: 9_999, waitingBytes: 0 }), true);
    const q = new SendProgress(3000);
    q.observe(0, { handedBytes: 10_000, kernelQueuedBytes: 10_000, waitingBytes: 0 });
    q.observe(2000, { handedBytes: 10_000, kernelQueuedBytes: 0, waitingBytes: 0 });
    assert.equal(
      q.observe(9000, { handedBytes: 10_000, kernelQueuedBytes: 0, waitingBytes: 0 }),
      false,
      'idle is fine',
    );
  });

  it('more data handed while nothing is acknowledged is no progress', () => {
    const p = new SendProgress(3000);
    p.observe(0, { handedBytes: 0, kernelQueuedBytes: 0, waitingBytes: 0 });
    p.observe(1000, { handedBytes: 5000, kernelQueuedBytes: 5000, waitingBytes: 0 });
    p.observe(2000, { handedBytes: 9000, kernelQueuedBytes: 9000, waitingBytes: 0 });
    assert.equal(p.observe(4000, { handedBytes: 12_000, kernelQueuedBytes: 12_000, waitingBytes: 0 }), true);
  });

  it('without the kernel counter, output stuck in node for the send hold time expires', () => {
    const p = new SendProgress(3000);
    p.observe(0, { handedBytes: 100_000, kernelQueuedBytes: 0, waitingBytes: 70_000 });
    assert.equal(
      p.observe(2000, { handedBytes: 100_000, kernelQueuedBytes: 0, waitingBytes: 70_000 }),
      false,
    );
    assert.equal(
      p.observe(2500, { handedBytes: 120_000, kernelQueuedBytes: 0, waitingBytes: 50_000 }),
      false,
    );
    assert.equal(
      p.observe(5400, { handedBytes: 120_000, kernelQueuedBytes: 0, waitingBytes: 50_000 }),
      false,
    );
    assert.equal(p.observe(5500, { handedBytes: 120_000, kernelQueuedBytes: 0, waitingBytes: 50_000 }), true);
  });
});
