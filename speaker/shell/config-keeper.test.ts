import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_NAMESPACE } from '../../shared/api/names.ts';
import type { ConfigInputs } from '../../shared/config/build-config.ts';
import { pool } from '../../shared/config/test-helpers.ts';
import { ConfigKeeper } from './config-keeper.ts';
import { SpeakerMetrics } from './metrics.ts';
import { capturedLog } from './test-helpers.ts';

const good = pool('lan', { addresses: ['198.51.100.0/24'] });
const bad = pool('lan', { addresses: ['not-an-address'] });

function keeper() {
  const metrics = new SpeakerMetrics();
  const { log, messages } = capturedLog();
  const world: { inputs: ConfigInputs } = { inputs: {} };
  const config = new ConfigKeeper({ namespace: DEFAULT_NAMESPACE, inputs: () => world.inputs, metrics, log });
  const gauges = async () => [
    (await metrics.configLoaded.get()).values[0]?.value,
    (await metrics.configStale.get()).values[0]?.value,
  ];
  return { config, world, messages, gauges };
}

describe('ConfigKeeper', () => {
  it('loads a valid configuration from the caches', async () => {
    const { config, world, gauges } = keeper();
    world.inputs = { pools: [good] };
    config.rebuild();
    assert.deepEqual(
      config.current?.pools.map((p) => p.name),
      ['lan'],
    );
    assert.deepEqual(await gauges(), [1, 0]);
  });

  it('keeps the last good one when an edit is rejected, warns once, and says when it is valid again', async () => {
    const { config, world, messages, gauges } = keeper();
    world.inputs = { pools: [good] };
    config.rebuild();
    const first = config.current;
    world.inputs = { pools: [bad] };
    config.rebuild();
    config.rebuild();
    assert.equal(config.current, first);
    assert.deepEqual(await gauges(), [1, 1]);
    assert.equal(messages().filter((m) => m === 'configuration rejected; the last good one stays').length, 1);
    world.inputs = { pools: [good] };
    config.rebuild();
    assert.deepEqual(await gauges(), [1, 0]);
    assert.ok(messages().includes('configuration valid again'));
  });

  it('with nothing valid yet: no configuration, and it says so', async () => {
    const { config, world, messages, gauges } = keeper();
    world.inputs = { pools: [bad] };
    config.rebuild();
    assert.equal(config.current, undefined);
    assert.deepEqual(await gauges(), [0, 1]);
    assert.ok(messages().includes('configuration rejected; none loaded yet'));
  });

  it('refuses CRs of another namespace', () => {
    const { config, world } = keeper();
    world.inputs = { pools: [{ ...good, metadata: { name: 'lan', namespace: 'default' } }] };
    config.rebuild();
    assert.equal(config.current, undefined);
  });
});
