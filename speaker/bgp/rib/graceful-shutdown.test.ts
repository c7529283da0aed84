import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WellKnownCommunity } from '../codec/index.ts';
import { drainingRoutes } from './graceful-shutdown.ts';
import type { RouteAttributes } from './rib-out.ts';

describe('drainingRoutes: the routes re-advertised before a graceful shutdown (RFC 8326)', () => {
  const shared: RouteAttributes = { communities: [65000 * 65536 + 100] };
  const plain: RouteAttributes = {};
  const desired = new Map([
    ['198.51.100.1/32', shared],
    ['198.51.100.2/32', shared],
    ['2001:db8:100::1/128', plain],
  ]);

  it('eBGP: GRACEFUL_SHUTDOWN added to the communities, LOCAL_PREF untouched', () => {
    const draining = drainingRoutes(desired, false);
    assert.deepStrictEqual(draining.get('198.51.100.1/32'), {
      communities: [65000 * 65536 + 100, WellKnownCommunity.GracefulShutdown],
    });
    assert.deepStrictEqual(draining.get('2001:db8:100::1/128'), {
      communities: [WellKnownCommunity.GracefulShutdown],
    });
    assert.equal(draining.size, 3);
  });

  it('iBGP: LOCAL_PREF 0 as well', () => {
    assert.deepStrictEqual(drainingRoutes(desired, true).get('2001:db8:100::1/128'), {
      communities: [WellKnownCommunity.GracefulShutdown],
      localPref: 0,
    });
  });

  it('routes that shared attributes still share one object; the desired routes are unchanged', () => {
    const draining = drainingRoutes(desired, false);
    assert.equal(draining.get('198.51.100.1/32'), draining.get('198.51.100.2/32'));
    assert.deepStrictEqual(shared, { communities: [65000 * 65536 + 100] });
  });
});
