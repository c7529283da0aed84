import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FloodGuard, OTHER_SOURCES } from './flood-guard.ts';

test('a source over the threshold is sampled for the hold time after its last flooding second', () => {
  const guard = new FloodGuard(500, 10_000);
  assert.deepEqual(guard.flush(1000), { sampled: [], changed: false, rates: new Map() });
  for (let i = 0; i < 600; i++) guard.dropped('192.0.2.12');
  for (let i = 0; i < 400; i++) guard.dropped('192.0.2.13');
  for (let i = 0; i < 9000; i++) guard.dropped(OTHER_SOURCES);
  const first = guard.flush(2000);
  assert.deepEqual(first.sampled, [OTHER_SOURCES, '192.0.2.12']);
  assert.equal(first.changed, true);
  assert.deepEqual(
    [...first.rates],
    [
      ['192.0.2.12', 600],
      [OTHER_SOURCES, 9000],
    ],
  );
  // Quiet seconds: still sampled until 10 s after the last flooding one, then released.
  assert.deepEqual(guard.flush(3000), {
    sampled: [OTHER_SOURCES, '192.0.2.12'],
    changed: false,
    rates: new Map(),
  });
  for (let i = 0; i < 1000; i++) guard.dropped('192.0.2.12');
  guard.flush(4000);
  assert.deepEqual(guard.flush(12_000).sampled, ['192.0.2.12']);
  const released = guard.flush(14_000);
  assert.deepEqual([released.sampled, released.changed], [[], true]);
});

test('the rate is per second of the time since the last flush', () => {
  const guard = new FloodGuard(500, 10_000);
  guard.flush(0);
  for (let i = 0; i < 900; i++) guard.dropped('a');
  assert.deepEqual(guard.flush(2000).sampled, [], '900 in 2 s is 450 a second');
  for (let i = 0; i < 900; i++) guard.dropped('a');
  assert.deepEqual(guard.flush(3000).sampled, ['a']);
});
