import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Allocator } from '../allocator/allocator.ts';
import { makeFacts, makePool } from '../allocator/test-helpers.ts';
import { desiredPoolStatus, errorsByObject, sameStatus } from './pools.ts';

describe('desiredPoolStatus', () => {
  const a = new Allocator([
    makePool('big', ['2001:db8:100::/64', '198.51.100.0/24'], { avoidBuggyIPs: true }),
  ]);
  a.allocate(makeFacts('ns/x'));
  /** The status of pool `big` at generation 3 with a valid config and no earlier status, unless `input` says otherwise. */
  const poolStatus = (input: Partial<Parameters<typeof desiredPoolStatus>[0]>) =>
    desiredPoolStatus({
      allocator: a,
      name: 'big',
      generation: 3,
      errors: [],
      stale: false,
      previous: undefined,
      nowIso: 't',
      ...input,
    });

  it('writes exact counts per family and a True ConfigValid condition', () => {
    const status = poolStatus({ nowIso: '2026-11-22T04:00:00Z' });
    assert.equal(status.assignedIPv4, '1');
    assert.equal(status.availableIPv4, '253');
    assert.equal(status.assignedIPv6, '0');
    assert.equal(status.availableIPv6, '18446744073709551616');
    assert.equal(status.observedGeneration, 3);
    assert.deepEqual(
      status.conditions?.map((c) => [c.type, c.status, c.reason]),
      [['ConfigValid', 'True', 'Loaded']],
    );
  });

  it('reports a config error on the pool, keeping counts of the last good version', () => {
    const previous = poolStatus({ nowIso: 't1' });
    const errors = [
      {
        kind: 'IPAddressPool',
        namespace: 'mb',
        name: 'big',
        field: 'spec.addresses[0]',
        message: 'bad CIDR',
      },
    ];
    const status = poolStatus({ generation: 4, errors, stale: true, previous, nowIso: 't2' });
    const condition = status.conditions?.[0];
    assert.equal(condition?.status, 'False');
    assert.equal(condition?.reason, 'ConfigurationError');
    assert.match(
      condition?.message ?? '',
      /IPAddressPool mb\/big spec\.addresses\[0\]: bad CIDR .*last good version/,
    );
    assert.equal(condition?.lastTransitionTime, 't2');
    assert.equal(status.assignedIPv4, '1');
    // Same condition status later: the transition time stays.
    const later = poolStatus({ generation: 4, errors, stale: true, previous: status, nowIso: 't3' });
    assert.equal(later.conditions?.[0]?.lastTransitionTime, 't2');
    assert.ok(sameStatus(status, later));
    assert.ok(!sameStatus(previous, status));
  });

  it('a pool not in force has no counts and a False condition', () => {
    const status = poolStatus({ name: 'new', generation: 1 });
    assert.equal(status.assignedIPv4, undefined);
    assert.equal(status.conditions?.[0]?.status, 'False');
  });

  it('groups errors by object', () => {
    const grouped = errorsByObject([
      { kind: 'IPAddressPool', namespace: 'mb', name: 'a', field: 'f1', message: 'm1' },
      { kind: 'IPAddressPool', namespace: 'mb', name: 'a', field: 'f2', message: 'm2' },
      { kind: 'BGPPeer', namespace: 'mb', name: 'p', field: 'f', message: 'm' },
    ]);
    assert.deepEqual([...grouped.keys()], ['IPAddressPool/mb/a', 'BGPPeer/mb/p']);
    assert.equal(grouped.get('IPAddressPool/mb/a')?.length, 2);
  });
});
