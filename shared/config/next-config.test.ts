import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextConfig } from './next-config.ts';
import { bgpAd, build, expectConfig, pool } from './test-helpers.ts';

describe('nextConfig (keep last good)', () => {
  const good = expectConfig({ pools: [pool('a', { addresses: ['198.51.100.0/26'] })] });

  it('takes a valid new config and clears the stale flag', () => {
    const fresh = build({ pools: [pool('b', { addresses: ['198.51.100.64/26'] })] });
    const next = nextConfig(good, fresh);
    assert.equal(next.config?.pools[0]?.name, 'b');
    assert.deepEqual(next.errors, []);
    assert.equal(next.stale, false);
  });

  it('keeps the previous config on errors, reports them and marks it stale', () => {
    const bad = build({ pools: [pool('a', { addresses: ['198.51.100.0/33'] })] });
    const next = nextConfig(good, bad);
    assert.equal(next.config, good);
    assert.equal(next.stale, true);
    assert.equal(next.transientOnly, false);
    assert.deepEqual(
      next.errors.map((e) => e.field),
      ['spec.addresses[0]'],
    );
  });

  it('flags a rejection caused only by objects that may still appear', () => {
    const waiting = build({
      pools: [pool('a', { addresses: ['198.51.100.0/26'] })],
      bgpAdvertisements: [bgpAd('b', { communities: ['later'] })],
    });
    const next = nextConfig(good, waiting);
    assert.equal(next.config, good);
    assert.equal(next.transientOnly, true);
  });

  it('has no config at all when the first build fails', () => {
    const next = nextConfig(undefined, build({ pools: [pool('a', { addresses: [] })] }));
    assert.equal(next.config, undefined);
    assert.equal(next.stale, true);
    assert.equal(next.errors.length, 1);
  });
});
