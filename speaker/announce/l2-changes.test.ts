import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { interfacesKey, l2Changes } from './l2-changes.ts';
import type { L2Announcement } from './types.ts';

const at = (ip: string, interfaces: string[] = []): L2Announcement => ({
  ip,
  interfaces,
  services: ['default/web'],
  advertisements: ['l2'],
});

describe('l2Changes', () => {
  it('announces everything at first, nothing when the same plan comes again', () => {
    const plan = [at('198.51.100.1'), at('2001:db8:100::1', ['eth0'])];
    const first = l2Changes(new Map(), plan);
    assert.deepEqual(first, { withdraw: [], announce: plan });
    const announced = new Map(plan.map((a) => [a.ip, interfacesKey(a.interfaces)]));
    assert.deepEqual(l2Changes(announced, plan), { withdraw: [], announce: [] });
  });

  it('withdraws what the plan dropped and announces again an IP whose interfaces changed', () => {
    const announced = new Map([
      ['198.51.100.1', ''],
      ['198.51.100.2', 'eth0'],
      ['198.51.100.3', 'eth0,eth1'],
    ]);
    const changes = l2Changes(announced, [at('198.51.100.3', ['eth1']), at('198.51.100.2', ['eth0'])]);
    assert.deepEqual(changes.withdraw, ['198.51.100.1']);
    assert.deepEqual(
      changes.announce.map((a) => [a.ip, interfacesKey(a.interfaces)]),
      [['198.51.100.3', 'eth1']],
    );
  });

  it('an IP on every interface (no list) differs from the same IP on one', () => {
    const changes = l2Changes(new Map([['198.51.100.1', 'eth0']]), [at('198.51.100.1')]);
    assert.deepEqual(
      changes.announce.map((a) => a.ip),
      ['198.51.100.1'],
    );
    assert.deepEqual(changes.withdraw, []);
  });
});
