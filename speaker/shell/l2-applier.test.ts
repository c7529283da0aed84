import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { L2Applier, type L2Port } from './l2-applier.ts';
import { SpeakerMetrics } from './metrics.ts';
import { capturedLog, l2At, planOf } from './test-helpers.ts';

/** An announcer that records its calls and refuses the IPs in `refuse`. */
class RecordingPort implements L2Port {
  readonly calls: string[] = [];
  readonly refuse = new Set<string>();

  async announce(ip: string, interfaces: readonly string[]): Promise<void> {
    this.calls.push(`announce ${ip} ${interfaces.join(',') || 'all'}`);
    if (this.refuse.has(ip)) throw new Error(`cannot announce ${ip}: Operation not permitted\nstack`);
  }
  async withdraw(ip: string): Promise<void> {
    this.calls.push(`withdraw ${ip}`);
  }
  async reassert(): Promise<void> {
    this.calls.push('reassert');
  }
  async close(): Promise<void> {
    this.calls.push('close');
  }
}

function applier() {
  const port = new RecordingPort();
  const metrics = new SpeakerMetrics();
  const { log, messages } = capturedLog();
  return { port, metrics, messages, l2: new L2Applier(port, log, metrics) };
}

describe('L2Applier', () => {
  it('announces each IP once, withdraws what the plan dropped, moves an IP to new interfaces', async () => {
    const { port, l2 } = applier();
    await l2.apply(planOf([l2At('198.51.100.1'), l2At('198.51.100.2', ['default/api'], ['eth0'])]));
    await l2.apply(planOf([l2At('198.51.100.1'), l2At('198.51.100.2', ['default/api'], ['eth0'])]));
    await l2.apply(planOf([l2At('198.51.100.2', ['default/api'], ['eth1'])]));
    assert.deepEqual(port.calls, [
      'announce 198.51.100.1 all',
      'announce 198.51.100.2 eth0',
      'withdraw 198.51.100.1',
      'announce 198.51.100.2 eth1',
    ]);
    assert.deepEqual(l2.announced(), ['198.51.100.2']);
  });

  it('reports a refused IP with the first line of the reason, counts it, and tries it again next plan', async () => {
    const { port, l2, metrics, messages } = applier();
    port.refuse.add('198.51.100.9');
    const plan = planOf([l2At('198.51.100.1'), l2At('198.51.100.9')]);
    const failed = await l2.apply(plan);
    assert.deepEqual(
      [...(failed ?? [])],
      [['198.51.100.9', 'cannot announce 198.51.100.9: Operation not permitted']],
    );
    assert.deepEqual(l2.announced(), ['198.51.100.1']);
    assert.equal((await metrics.announceFailures.get()).values[0]?.value, 1);
    assert.ok(messages().includes('L2: cannot announce; retrying in 5 s'));
    port.refuse.clear();
    assert.equal((await l2.apply(plan))?.size, 0);
    assert.deepEqual(port.calls.slice(2), ['announce 198.51.100.9 all']);
  });

  it('superseded: withdraws what the plan dropped, then stops before the next announce', async () => {
    const { port, l2 } = applier();
    await l2.apply(planOf([l2At('198.51.100.1')]));
    let announces = 0;
    const superseded = () => announces >= 1;
    const counting = port.announce.bind(port);
    port.announce = async (ip, interfaces) => {
      announces++;
      await counting(ip, interfaces);
    };
    const result = await l2.apply(
      planOf([l2At('198.51.100.2'), l2At('198.51.100.3'), l2At('198.51.100.4')]),
      superseded,
    );
    assert.equal(result, undefined);
    assert.deepEqual(port.calls.slice(1), ['withdraw 198.51.100.1', 'announce 198.51.100.2 all']);
    assert.deepEqual(l2.announced(), ['198.51.100.2']);
  });

  it('close withdraws everything through the announcer and forgets what was announced', async () => {
    const { port, l2 } = applier();
    await l2.apply(planOf([l2At('198.51.100.1')]));
    await l2.reassert();
    await l2.close();
    assert.deepEqual(port.calls.slice(1), ['reassert', 'close']);
    assert.deepEqual(l2.announced(), []);
  });
});
